// Responses the data plane writes itself (404, 5xx, redirects, direct responses).

import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';

/**
 * `closing` asks the client to drop the connection after this response, so a
 * listener that is being removed or shut down drains its keep-alive clients.
 */
export function sendLocal(
  res: ServerResponse,
  status: number,
  closing: boolean,
  location?: string,
  body?: Buffer,
): void {
  if (res.headersSent || res.destroyed) {
    // Too late for a status line: the only honest signal left is a reset.
    res.destroy();
    return;
  }
  const headers: OutgoingHttpHeaders = { 'content-length': body?.length ?? 0 };
  if (location !== undefined) headers.location = location;
  if (body !== undefined && body.length > 0) headers['content-type'] = 'text/plain; charset=utf-8';
  if (closing) headers.connection = 'close';
  res.writeHead(status, headers);
  res.end(body);
}
