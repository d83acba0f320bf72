// One request to one cluster endpoint, over HTTP/1.1 (our own client, see
// http1.ts) or HTTP/2 prior knowledge (the endpoint's shared session), behind
// one shape so that attempts, retries and mirrors do not care which.

import type { OutgoingHttpHeaders } from 'node:http';
import { constants as h2, type ClientHttp2Stream, type IncomingHttpHeaders as H2Headers, type OutgoingHttpHeaders as H2OutHeaders } from 'node:http2';
import type { Socket } from 'node:net';
import type { Writable } from 'node:stream';
import type { IREndpoint } from '../ir/types.js';
import type { ClusterPool } from './clusters.js';

export interface UpstreamResponse {
  statusCode: number;
  statusMessage: string | undefined;
  /** Flat name/value list as received; hop-by-hop fields may still be in it (an HTTP/1.1 head's are already out). */
  readonly rawHeaders: string[];
  /**
   * HTTP/1.1: the head's field lines as received (each ending CRLF), the
   * hop-by-hop ones left out, for a client connection that can write them
   * through as they are; and whether Date and Content-Length fields are
   * among them.
   */
  fieldLines?: string;
  /** HTTP/1.1: the same lines as bytes, while they may be read (during onUpstreamResponse). */
  readonly fieldBytes?: FieldBytes;
  hasDate?: boolean;
  hasLength?: boolean;
  /** The body's length when the head gave one (Content-Length). */
  readonly bodyLength?: number;
  /** The Connection header, naming further hop-by-hop fields. */
  connection: string | undefined;
  /** The Upgrade header of a 101. */
  upgrade: string | undefined;
  /** The head ended the response (HTTP/2 HEADERS with END_STREAM): gRPC's trailers-only form, or an empty body. */
  headOnly?: boolean;
}

/** Field lines in the bytes they were read as, copied out without being made text. */
export interface FieldBytes {
  readonly byteLength: number;
  /** Copies the lines to out[at...]; returns where they end there. */
  copyTo(out: Uint8Array, at: number): number;
}

/** Where a response body goes: written in order, with backpressure, then ended. */
export interface BodyDestination {
  write(chunk: Buffer): boolean;
  end(): unknown;
  end(chunk: Buffer): unknown;
  once(event: 'drain', listener: () => void): unknown;
  /** Sent after the body, for those that can send trailer fields. */
  addTrailers?(fields: OutgoingHttpHeaders): void;
  /**
   * Whether the chunks last given to write() or end() may still be referenced
   * once the call returned. A destination without this method is taken to
   * keep them; one that has sent or copied them answers false, and may then be
   * handed bytes whose memory is reused right after.
   */
  holdsChunks?(): boolean;
  /**
   * Whether write() or end() given a chunk of `length` bytes now would copy
   * it before returning, whatever the socket does: then the chunk may be the
   * reused read buffer itself, and need not be copied first.
   */
  copiesChunk?(length: number): boolean;
}

export interface UpstreamListener {
  /**
   * The response head. Before returning, the listener calls exactly one of
   * the call's pipe(), discard() or abort(): the body follows at once.
   */
  onUpstreamResponse(call: UpstreamCall, res: UpstreamResponse): void;
  /** A piped body has ended, whole or cut short by the upstream. */
  onUpstreamBodyEnd(call: UpstreamCall, complete: boolean): void;
  /** Failure before any response head: connect error, reset, malformed response. */
  onUpstreamError(call: UpstreamCall, err: NodeJS.ErrnoException): void;
  /** Only for calls opened with `upgrade`: the upstream answered 101 and its socket is the listener's now. */
  onUpstreamUpgrade(call: UpstreamCall, res: UpstreamResponse, socket: Socket, head: Buffer): void;
}

export interface UpstreamCall {
  /** Where the request body goes; already ended for bodyless calls. */
  readonly body: Writable;
  /** Streams the response body to `dest`, which is ended with it; onUpstreamBodyEnd follows. */
  pipe(dest: BodyDestination): void;
  /** Reads the response body and drops it, keeping the connection when it can. */
  discard(): void;
  /** Cancels the call; its connection (HTTP/1.1) or stream (HTTP/2) is destroyed, never reused. */
  abort(): void;
  /** Sent on a kept-alive connection, so a reset may only mean the upstream had closed it while idle. */
  reused(): boolean;
}

export interface UpstreamRequest {
  method: string;
  /** Origin-form target. */
  path: string;
  /** Lower-case names, hop-by-hop fields already removed (except for upgrades). */
  headers: OutgoingHttpHeaders;
  /**
   * HTTP/1.1 backends only: the head's field lines, each ending CRLF, ready
   * to send in place of `headers`, which is then empty; in parts (latin1
   * text, or bytes for the constant ones), sent one after another, so that
   * they are never joined in memory.
   */
  fieldLines?: readonly (string | Uint8Array)[];
  bodyless: boolean;
  /** HTTP/1.1 only: the body's length is not announced, so it goes chunked (its head says so). */
  chunked: boolean;
  /** HTTP/1.1 only: pass an Upgrade handshake through, on a connection of its own. */
  upgrade: boolean;
}

/** A request body that takes bytes valid only during the call, copying just what it cannot send at once. */
export interface TransientSink {
  writeTransient(chunk: Buffer): boolean;
  /** Several chunks, in order, as writeTransient would take them one after another. */
  writeTransientParts?(chunks: readonly Buffer[]): boolean;
}

/**
 * Writes request body bytes valid only during this call (a shared read
 * buffer's) to `sink`, as write() would: a sink that cannot send them at once
 * is given a copy.
 */
export function writeTransient(sink: Writable, chunk: Buffer): boolean {
  const direct = (sink as Partial<TransientSink>).writeTransient;
  return direct === undefined ? sink.write(Buffer.copyBytesFrom(chunk)) : direct.call(sink, chunk);
}

/** Whether `sink` takes several transient chunks in one call (writeTransientParts). */
export function takesTransientParts(sink: Writable): boolean {
  return (sink as Partial<TransientSink>).writeTransientParts !== undefined;
}

/** Writes several transient chunks to a sink that takesTransientParts, as writeTransient would one by one. */
export function writeTransientParts(sink: Writable, chunks: readonly Buffer[]): boolean {
  return (sink as unknown as Required<TransientSink>).writeTransientParts(chunks);
}

/** Throws when the request target or method cannot be sent as they are. */
export function openUpstream(pool: ClusterPool, ep: IREndpoint, r: UpstreamRequest, listener: UpstreamListener): UpstreamCall {
  return pool.protocol === 'h2c' ? new H2Call(pool, ep, r, listener) : pool.http1(ep).request(r, listener);
}

const kCall = Symbol('call');
type Tagged<T> = T & { [kCall]?: H2Call };

/** Connection-specific fields HTTP/2 forbids (RFC 9113 §8.2.2), beyond the hop-by-hop ones already gone. */
const H2_FORBIDDEN = new Set(['host', 'transfer-encoding', 'http2-settings', 'connection', 'keep-alive', 'proxy-connection', 'upgrade']);

class H2Call implements UpstreamCall {
  readonly body: Tagged<ClientHttp2Stream>;
  responded = false;
  failed = false;
  piped = false;
  /** Where the upstream's trailer fields go. */
  trailersTo: BodyDestination | undefined;

  constructor(
    pool: ClusterPool,
    ep: IREndpoint,
    r: UpstreamRequest,
    readonly listener: UpstreamListener,
  ) {
    const headers: H2OutHeaders = {
      [h2.HTTP2_HEADER_METHOD]: r.method,
      [h2.HTTP2_HEADER_PATH]: r.path,
      [h2.HTTP2_HEADER_SCHEME]: pool.tls ? 'https' : 'http',
    };
    const host = r.headers.host;
    if (host !== undefined) headers[h2.HTTP2_HEADER_AUTHORITY] = String(host);
    for (const name in r.headers) {
      // HTTP/2 allows TE only as "trailers" (RFC 9113 §8.2.2).
      if (!H2_FORBIDDEN.has(name) && (name !== 'te' || r.headers.te === 'trailers')) headers[name] = r.headers[name];
    }
    const stream: Tagged<ClientHttp2Stream> = pool.session(ep).request(headers, { endStream: r.bodyless });
    this.body = stream;
    stream[kCall] = this;
    stream.on('response', onH2Response);
    stream.on('error', onH2Error);
    stream.on('close', onH2Close);
  }

  pipe(dest: BodyDestination): void {
    this.piped = true;
    // gRPC sends its status in trailers: without them every call fails.
    if (dest.addTrailers) {
      this.trailersTo = dest;
      this.body.on('trailers', onH2Trailers);
    }
    this.body.pipe(dest as unknown as NodeJS.WritableStream);
  }

  discard(): void {
    this.body.resume();
  }

  abort(): void {
    this.body.close(h2.NGHTTP2_CANCEL);
  }

  reused(): boolean {
    return false;
  }
}

function onH2Response(this: Tagged<ClientHttp2Stream>, headers: H2Headers, flags: number): void {
  const call = this[kCall] as H2Call;
  call.responded = true;
  const raw: string[] = [];
  for (const name in headers) {
    if (name.charCodeAt(0) === 0x3a /* : */) continue;
    const value = headers[name];
    if (Array.isArray(value)) for (const v of value) raw.push(name, v);
    else if (value !== undefined) raw.push(name, String(value));
  }
  call.listener.onUpstreamResponse(call, {
    statusCode: Number(headers[h2.HTTP2_HEADER_STATUS] ?? 502),
    statusMessage: undefined,
    rawHeaders: raw,
    connection: undefined,
    upgrade: undefined,
    headOnly: (flags & h2.NGHTTP2_FLAG_END_STREAM) !== 0,
  });
}

/** Trailers arrive before the body's end, so the destination has them when pipe() ends it. */
function onH2Trailers(this: Tagged<ClientHttp2Stream>, trailers: H2Headers): void {
  const call = this[kCall] as H2Call;
  const fields: OutgoingHttpHeaders = {};
  for (const name in trailers) if (name.charCodeAt(0) !== 0x3a /* : */) fields[name] = trailers[name];
  try {
    call.trailersTo?.addTrailers?.(fields);
  } catch {
    // A field the client's protocol cannot carry: the response still ends, only without its trailers.
  }
}

function onH2Error(this: Tagged<ClientHttp2Stream>, err: NodeJS.ErrnoException): void {
  const call = this[kCall] as H2Call;
  call.failed = true;
  call.listener.onUpstreamError(call, err);
}

/** Ends a piped body; a stream refused or reset without an error code would otherwise leave the exchange waiting. */
function onH2Close(this: Tagged<ClientHttp2Stream>): void {
  const call = this[kCall] as H2Call;
  if (call.piped) {
    call.listener.onUpstreamBodyEnd(call, this.readableEnded);
    return;
  }
  if (call.responded || call.failed) return;
  call.failed = true;
  call.listener.onUpstreamError(call, Object.assign(new Error('upstream stream closed without a response'), { code: 'ECONNRESET' }));
}
