// The client side of an exchange. HTTP/1.1 requests arrive as node:http
// messages and HTTP/2 ones (cleartext, prior knowledge) as node:http2
// compatibility objects; both go through the same dispatch and proxy code, and
// the few places where the two protocols differ are kept here.

import type { EventEmitter } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { constants as h2, Http2ServerRequest, Http2ServerResponse, type OutgoingHttpHeaders } from 'node:http2';
import type { TLSSocket } from 'node:tls';
import { editedResponseLines, NO_EDITS, type ResponseEdits } from './headers.js';
import { FastRequest, FastResponse, lingeringClose } from './http1-inbound.js';
import type { UpstreamResponse } from './upstream.js';

export type InboundRequest = IncomingMessage | Http2ServerRequest | FastRequest;
export type InboundResponse = ServerResponse | Http2ServerResponse | FastResponse;

/**
 * Listens for a response's 'close' or 'finish', each of which fires at most
 * once, so a plain listener does (once() would cost a wrapper per call).
 * All three response kinds are EventEmitters whose overloaded signatures
 * TypeScript cannot call as a union. An HTTP/2 response's 'close' is its
 * stream's: node:http2 emits none on the response of a HEAD request whose
 * stream was reset before it was answered.
 */
export function onResponseEvent(res: InboundResponse, event: 'close' | 'finish', listener: (this: never) => void): void {
  if (event === 'close' && res instanceof FastResponse) res.onClose(listener as () => void);
  else if (event === 'close' && res instanceof Http2ServerResponse) res.stream.once('close', (listener as () => void).bind(res));
  else (res as EventEmitter).on(event, listener as () => void);
}

/** Ends a response, with a last chunk or none (see onResponseEvent for why this exists). */
export function endResponse(res: InboundResponse, body?: Buffer): void {
  if (body === undefined) (res as { end(): unknown }).end();
  else (res as { end(chunk: Buffer): unknown }).end(body);
}

/**
 * A response that is one header block ending the stream: gRPC's
 * "trailers-only" form, whose status fields a gRPC client reads as trailers.
 * Node's compatibility API would send an empty DATA frame after the headers.
 */
export function respondHeadersOnly(res: InboundResponse, status: number, headers: string[], closing: boolean): void {
  if (res instanceof Http2ServerResponse) {
    res.stream.respond({ ':status': status, ...h2Fields(headers) }, { endStream: true });
    return;
  }
  writeHead(res, status, headers, closing);
  endResponse(res);
}

/**
 * Whether the whole response reached the client. node:http2 reports a stream
 * the client reset as finished all the same; only its reset code tells.
 */
export function responseComplete(res: InboundResponse): boolean {
  if (res instanceof Http2ServerResponse) return res.writableFinished && res.stream.rstCode === h2.NGHTTP2_NO_ERROR;
  return res.writableFinished;
}

/**
 * The request's authority: `:authority`, else Host (an HTTP/2 client may send
 * either, RFC 9113 §8.3.1). No HTTP/1.1 request has a `:authority` field, as
 * Node's parser rejects `:` in field names.
 */
export function authority(req: InboundRequest): string | undefined {
  return (req.headers[':authority'] as string | undefined) ?? req.headers.host;
}

/**
 * The server name the client sent in its TLS handshake (SNI), if any. An
 * HTTP/2 request's own socket is a proxy made per stream; its session's is
 * made once per connection.
 */
export function serverName(req: InboundRequest): string | undefined {
  const socket = req instanceof Http2ServerRequest ? req.stream.session?.socket : req.socket;
  return (socket as TLSSocket | undefined)?.servername || undefined;
}

/** A request with a body (see hasBody) as the stream that carries it; a fast-path request's is read through FastRequest.readBody. */
export function bodyStream(req: InboundRequest): IncomingMessage | Http2ServerRequest {
  if (req instanceof FastRequest) throw new Error('a fast-path request body is read through readBody');
  return req;
}

/** HTTP/1.1 announces a body with framing fields; HTTP/2 by not ending the stream with the HEADERS frame. */
export function hasBody(req: InboundRequest): boolean {
  if (req instanceof Http2ServerRequest) return !req.stream.endAfterHeaders;
  const h = req.headers;
  return h['transfer-encoding'] !== undefined || (h['content-length'] !== undefined && h['content-length'] !== '0');
}

/**
 * Every value of each field, in arrival order (for "first value" matching).
 * node:http2 has no headersDistinct; its raw names are lower-case already
 * (RFC 9113 §8.2.1), so they key the result as they are.
 */
export function headersDistinct(req: InboundRequest): NodeJS.Dict<string[]> {
  if (!(req instanceof Http2ServerRequest)) return req.headersDistinct;
  const out: NodeJS.Dict<string[]> = {};
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) (out[raw[i]!] ??= []).push(raw[i + 1]!);
  return out;
}

/** Whether the client is gone, so nothing more can be written. */
export function responseGone(res: InboundResponse): boolean {
  return res instanceof Http2ServerResponse ? res.stream.destroyed : res.destroyed;
}

/**
 * Ends a response that cannot be completed so the client sees a failure and
 * not a short body: HTTP/1.1 loses the connection, HTTP/2 just the stream.
 */
export function abortResponse(res: InboundResponse): void {
  if (res instanceof Http2ServerResponse) res.stream.close(h2.NGHTTP2_INTERNAL_ERROR);
  else res.destroy();
}

/**
 * Writes the status and a flat header list (which it may extend). `closing`
 * asks an HTTP/1.1 client to drop the connection after this response; an
 * HTTP/2 session is drained by GOAWAY instead, and takes neither Connection
 * (RFC 9113 §8.2.2) nor a reason phrase (node:http2 warns about either).
 */
export function writeHead(res: InboundResponse, status: number, headers: string[], closing: boolean, reason?: string): void {
  if (res instanceof Http2ServerResponse) {
    // node:http2 throws on other codes, which an HTTP/1.1 upstream can send (RFC 9110 §15 defines none).
    res.writeHead(status >= 200 && status <= 599 ? status : 502, h2Fields(headers));
    return;
  }
  if (closing) headers.push('connection', 'close');
  res.writeHead(status, reason, headers);
}

/**
 * Writes the head of a proxied response whose Connection field names no
 * others straight from the upstream's field lines, edited in place by its
 * filters (copied as bytes when there are none), when both ends speak
 * HTTP/1.1; false when that cannot be done, and the caller writes the head
 * from parsed fields.
 */
export function relayHead(res: InboundResponse, status: number, up: UpstreamResponse, edits: ResponseEdits, closing: boolean): boolean {
  if (!(res instanceof FastResponse)) return false;
  const bytes = up.fieldBytes;
  if (edits === NO_EDITS && bytes !== undefined && up.statusMessage !== undefined) {
    if (closing) res.closeAfter();
    res.relayFieldBytes(status, up.statusMessage, bytes, up.hasDate === true, up.bodyLength);
    return true;
  }
  if (up.fieldLines === undefined) return false;
  const lines = edits === NO_EDITS ? up.fieldLines : editedResponseLines(up.fieldLines, edits);
  if (lines === undefined) return false;
  if (closing) res.closeAfter();
  res.writeFieldLines(status, up.statusMessage, lines, up.hasDate === true, up.hasLength === true, false);
  return true;
}

/**
 * Repeated fields become one comma-joined line, which means the same (RFC 9110
 * §5.3), Set-Cookie excepted: node:http2 throws on a repeat of any field it
 * takes for a singleton (Content-Type, Location, ...), and both an upstream
 * and a filter's `add` can produce one.
 */
function h2Fields(flat: string[]): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (let i = 0; i < flat.length; i += 2) {
    const name = flat[i]!.toLowerCase();
    const value = flat[i + 1]!;
    const prior = out[name];
    if (prior === undefined) out[name] = value;
    else if (name !== 'set-cookie') out[name] = `${prior}, ${value}`;
    else if (Array.isArray(prior)) prior.push(value);
    else out[name] = [prior as string, value];
  }
  return out;
}

/**
 * Ends the exchange's connection (HTTP/1.1) or stream (HTTP/2, with
 * RST_STREAM NO_ERROR: the response is complete, the client should stop
 * sending, RFC 9113 §8.1) once the response has been written, for a client
 * still uploading a body nobody will read; see lingeringClose.
 */
export function closeAfterResponse(req: InboundRequest, res: InboundResponse): void {
  const close =
    res instanceof Http2ServerResponse
      ? (): void => {
          if (!res.stream.destroyed) res.stream.close(h2.NGHTTP2_NO_ERROR);
        }
      : (): void => lingeringClose(req.socket);
  if (res.writableFinished || responseGone(res)) close();
  else onResponseEvent(res, 'finish', close);
}
