// One request to one cluster endpoint, over HTTP/1.1 (keep-alive agent) or
// HTTP/2 prior knowledge (the endpoint's shared session), behind one shape so
// that attempts, retries and mirrors do not care which.

import {
  request,
  type ClientRequest,
  type IncomingMessage,
  type OutgoingHttpHeaders,
} from 'node:http';
import { constants as h2, type ClientHttp2Stream, type IncomingHttpHeaders as H2Headers, type OutgoingHttpHeaders as H2OutHeaders } from 'node:http2';
import type { Socket } from 'node:net';
import type { Readable, Writable } from 'node:stream';
import type { IREndpoint } from '../ir/types.js';
import { CONNECT_TIMEOUT_MS, type ClusterPool } from './clusters.js';

export interface UpstreamResponse {
  statusCode: number;
  statusMessage: string | undefined;
  /** Flat name/value list as received; hop-by-hop fields still present. */
  rawHeaders: string[];
  /** The Connection header, naming further hop-by-hop fields. */
  connection: string | undefined;
  body: Readable;
  /** Whether the whole body arrived; meaningful once `body` has closed. */
  complete(): boolean;
}

export interface UpstreamListener {
  onUpstreamResponse(call: UpstreamCall, res: UpstreamResponse): void;
  onUpstreamError(call: UpstreamCall, err: NodeJS.ErrnoException): void;
  /** Only called for calls opened with `upgrade`: the upstream answered 101. */
  onUpstreamUpgrade(call: UpstreamCall, res: IncomingMessage, socket: Socket, head: Buffer): void;
}

export interface UpstreamCall {
  /** Where the request body goes; already ended for bodyless calls. */
  readonly body: Writable;
  /** Cancels the call; an HTTP/1.1 socket is destroyed rather than returned to the pool. */
  abort(): void;
  /** Sent on a kept-alive socket, so a reset may only mean the upstream had closed it while idle. */
  reused(): boolean;
}

export interface UpstreamRequest {
  method: string;
  /** Origin-form target. */
  path: string;
  /** Lower-case names, hop-by-hop fields already removed (except for upgrades). */
  headers: OutgoingHttpHeaders;
  bodyless: boolean;
  /** HTTP/1.1 only: pass an Upgrade handshake through, on a connection of its own. */
  upgrade: boolean;
}

/** Throws when Node rejects the request target or a header. */
export function openUpstream(pool: ClusterPool, ep: IREndpoint, r: UpstreamRequest, listener: UpstreamListener): UpstreamCall {
  return pool.protocol === 'h2c' ? new H2Call(pool, ep, r, listener) : new Http1Call(pool, ep, r, listener);
}

const kCall = Symbol('call');
type Tagged<T> = T & { [kCall]?: Http1Call | H2Call };

class Http1Call implements UpstreamCall {
  readonly body: Tagged<ClientRequest>;

  constructor(
    pool: ClusterPool,
    ep: IREndpoint,
    r: UpstreamRequest,
    readonly listener: UpstreamListener,
  ) {
    // An upgraded socket leaves the pool for good, so it is not taken from it.
    const agent = r.upgrade ? false : pool.agent;
    const up: Tagged<ClientRequest> = request({ host: ep.address, port: ep.port, method: r.method, path: r.path, headers: r.headers, agent });
    this.body = up;
    up[kCall] = this;
    up.on('socket', onHttp1Socket);
    up.on('response', onHttp1Response);
    up.on('error', onHttp1Error);
    if (r.upgrade) up.on('upgrade', onHttp1Upgrade);
    if (r.bodyless) up.end();
  }

  abort(): void {
    this.body.destroy();
  }

  reused(): boolean {
    return this.body.reusedSocket;
  }
}

function onHttp1Socket(this: ClientRequest, socket: Socket): void {
  if (!socket.connecting) return;
  const timer = setTimeout(connectTimedOut, CONNECT_TIMEOUT_MS, this);
  const clear = (): void => clearTimeout(timer);
  socket.once('connect', clear);
  this.once('close', clear);
}

function connectTimedOut(up: ClientRequest): void {
  up.destroy(Object.assign(new Error('upstream connect timeout'), { code: 'ETIMEDOUT' }));
}

function onHttp1Response(this: Tagged<ClientRequest>, res: IncomingMessage): void {
  const call = this[kCall] as Http1Call;
  call.listener.onUpstreamResponse(call, {
    statusCode: res.statusCode ?? 502,
    statusMessage: res.statusMessage,
    rawHeaders: res.rawHeaders,
    connection: res.headers.connection,
    body: res,
    complete: () => res.complete,
  });
}

function onHttp1Error(this: Tagged<ClientRequest>, err: NodeJS.ErrnoException): void {
  const call = this[kCall]!;
  call.listener.onUpstreamError(call, err);
}

function onHttp1Upgrade(this: Tagged<ClientRequest>, res: IncomingMessage, socket: Socket, head: Buffer): void {
  const call = this[kCall]!;
  call.listener.onUpstreamUpgrade(call, res, socket, head);
}

/** Connection-specific fields HTTP/2 forbids (RFC 9113 §8.2.2), beyond the hop-by-hop ones already gone. */
const H2_FORBIDDEN = new Set(['host', 'transfer-encoding', 'http2-settings', 'connection', 'keep-alive', 'proxy-connection', 'upgrade', 'te']);

class H2Call implements UpstreamCall {
  readonly body: Tagged<ClientHttp2Stream>;
  responded = false;
  failed = false;

  constructor(
    pool: ClusterPool,
    ep: IREndpoint,
    r: UpstreamRequest,
    readonly listener: UpstreamListener,
  ) {
    const headers: H2OutHeaders = {
      [h2.HTTP2_HEADER_METHOD]: r.method,
      [h2.HTTP2_HEADER_PATH]: r.path,
      [h2.HTTP2_HEADER_SCHEME]: 'http',
    };
    const host = r.headers.host;
    if (host !== undefined) headers[h2.HTTP2_HEADER_AUTHORITY] = String(host);
    for (const name in r.headers) {
      if (!H2_FORBIDDEN.has(name)) headers[name] = r.headers[name];
    }
    const stream: Tagged<ClientHttp2Stream> = pool.session(ep).request(headers, { endStream: r.bodyless });
    this.body = stream;
    stream[kCall] = this;
    stream.on('response', onH2Response);
    stream.on('error', onH2Error);
    stream.on('close', onH2Close);
  }

  abort(): void {
    this.body.close(h2.NGHTTP2_CANCEL);
  }

  reused(): boolean {
    return false;
  }
}

function onH2Response(this: Tagged<ClientHttp2Stream>, headers: H2Headers): void {
  const call = this[kCall] as H2Call;
  call.responded = true;
  const raw: string[] = [];
  for (const name in headers) {
    if (name.charCodeAt(0) === 0x3a /* : */) continue;
    const value = headers[name];
    if (Array.isArray(value)) for (const v of value) raw.push(name, v);
    else if (value !== undefined) raw.push(name, String(value));
  }
  const stream = this;
  call.listener.onUpstreamResponse(call, {
    statusCode: Number(headers[h2.HTTP2_HEADER_STATUS] ?? 502),
    statusMessage: undefined,
    rawHeaders: raw,
    connection: undefined,
    body: stream,
    complete: () => stream.readableEnded,
  });
}

function onH2Error(this: Tagged<ClientHttp2Stream>, err: NodeJS.ErrnoException): void {
  const call = this[kCall] as H2Call;
  call.failed = true;
  call.listener.onUpstreamError(call, err);
}

/** A stream refused or reset without an error code would otherwise leave the exchange waiting. */
function onH2Close(this: Tagged<ClientHttp2Stream>): void {
  const call = this[kCall] as H2Call;
  if (call.responded || call.failed) return;
  call.failed = true;
  call.listener.onUpstreamError(call, Object.assign(new Error('upstream stream closed without a response'), { code: 'ECONNRESET' }));
}
