// Responses the data plane writes itself (404, 5xx, redirects, direct
// responses, CORS preflights).

import { appendEdits, droppedAfter, NO_EDITS, type ResponseEdits } from './headers.js';
import { abortResponse, endResponse, responseGone, writeHead, type InboundResponse } from './inbound.js';

/**
 * `closing` asks an HTTP/1.1 client to drop the connection after this
 * response, so a listener that is being removed or shut down drains its
 * keep-alive clients (see writeHead).
 * `headers` is a flat name/value list (e.g. Location); `edits` are the matched
 * route's response filters, which apply to local responses too.
 */
export function sendLocal(
  res: InboundResponse,
  status: number,
  closing: boolean,
  edits: ResponseEdits = NO_EDITS,
  headers?: readonly string[],
  body?: Buffer,
): void {
  if (res.headersSent || responseGone(res)) {
    // Too late for a status line: the only honest signal left is a reset.
    abortResponse(res);
    return;
  }
  const out: string[] = ['content-length', String(body?.length ?? 0)];
  if (body !== undefined && body.length > 0) out.push('content-type', 'text/plain; charset=utf-8');
  if (headers !== undefined) {
    for (let i = 0; i < headers.length; i += 2) {
      if (!droppedAfter(edits, 0, headers[i]!)) out.push(headers[i]!, headers[i + 1]!);
    }
  }
  appendEdits(out, edits);
  writeHead(res, status, out, closing);
  endResponse(res, body);
}
