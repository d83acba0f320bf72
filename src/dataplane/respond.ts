// Responses the data plane writes itself (404, 5xx, redirects, direct
// responses, CORS preflights).

import { appendEdits, droppedAfter, NO_EDITS, type ResponseEdits } from './headers.js';
import { abortResponse, endResponse, respondHeadersOnly, responseGone, writeHead, type InboundResponse } from './inbound.js';

/**
 * gRPC status codes for the gateway's own error statuses. A gRPC client reads
 * the grpc-status of a response, so an error goes out as a "trailers-only"
 * response (HTTP 200, status in the headers). 500 is what an invalid backend
 * gets, for which GRPCRoute asks UNAVAILABLE.
 */
const GRPC_STATUS: Readonly<Record<number, number>> = {
  400: 13, // INTERNAL
  401: 16, // UNAUTHENTICATED
  403: 7, // PERMISSION_DENIED
  404: 12, // UNIMPLEMENTED: no route for this service or method
  421: 14, // UNAVAILABLE: try another connection
  429: 14,
  500: 14,
  502: 14,
  503: 14,
  504: 4, // DEADLINE_EXCEEDED
};
const GRPC_UNKNOWN = 2;

function isGrpc(res: InboundResponse): boolean {
  const type = res.req.headers['content-type'];
  return typeof type === 'string' && type.startsWith('application/grpc');
}

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
  if (status >= 400 && isGrpc(res)) {
    const out = ['content-type', 'application/grpc', 'grpc-status', String(GRPC_STATUS[status] ?? GRPC_UNKNOWN), 'grpc-message', `gateway answered HTTP ${status}`];
    appendEdits(out, edits);
    respondHeadersOnly(res, 200, out, closing);
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
