// Forwarding to a cluster: one Exchange per client request, driving one or
// more upstream attempts (retries), fire-and-forget mirrors, timeouts, and
// WebSocket upgrades. Bodies stream in both directions so backpressure reaches
// the slower side and nothing is buffered whole.

// Buffer and the timer functions as imports: the globals are read through a call (an accessor) or an
// unfoldable global load on every use on the request path.
import { Buffer } from 'node:buffer';
import { clearTimeout, setTimeout } from 'node:timers';
import type { OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Writable } from 'node:stream';
import type { Logger } from '../util/log.js';
import type { ClusterPool } from './clusters.js';
import { droppedAfter, appendEdits, fieldLinesOf, HOP_BY_HOP, mutateRequest, withoutFields, type CompiledHeaderMutation, type ResponseEdits } from './headers.js';
import {
  abortResponse, authority, bodyStream, closeAfterResponse, hasBody, onResponseEvent, relayHead, respondHeadersOnly, responseComplete, responseGone, writeHead,
  type InboundRequest, type InboundResponse,
} from './inbound.js';
import { DISCARD_LIMIT, FastRequest, type FastBodyReader } from './http1-inbound.js';
import { feedMirrors, startMirrors } from './mirror.js';
import { sendLocal } from './respond.js';
import type { CompiledBackend, CompiledRoute } from './router.js';
import type { Counters } from './stats.js';
import { openUpstream, takesTransientParts, writeTransient, writeTransientParts, type UpstreamCall, type UpstreamListener, type UpstreamRequest, type UpstreamResponse } from './upstream.js';

/**
 * Request bodies up to this size are kept while an attempt is in flight so a
 * retry can replay them; see Exchange.replayable.
 */
const RETRY_BUFFER_LIMIT = 64 * 1024;

/** An upgraded (WebSocket) tunnel with no traffic either way for this long is closed. */
const TUNNEL_IDLE_TIMEOUT_MS = 60 * 60 * 1000;

/** What the proxy needs to know about the listener a request came in on. */
export interface ProxySite {
  readonly scheme: 'http' | 'https';
  /** True once the listener is closing; HTTP/1.1 responses then carry `Connection: close`. */
  readonly closing: boolean;
  readonly logger: Logger;
  readonly counters: Counters;
}

/** The client socket of an `upgrade` event, when the request asks for a WebSocket. */
export interface UpgradeRequest {
  socket: Socket;
  head: Buffer;
}

/**
 * Sends `req` to `backend`'s pool (`pool`) and its response to `res`.
 * `target` is the origin-form target (path and query) to send, already
 * rewritten. Told in arguments rather than an object: one made per request
 * only to be read here was 88 of the ~2 KB each request allocates.
 */
export function forward(
  req: InboundRequest, res: InboundResponse, route: CompiledRoute, backend: CompiledBackend, pool: ClusterPool,
  target: string, edits: ResponseEdits, upgrade: UpgradeRequest | undefined, site: ProxySite,
): void {
  new Exchange(req, res, route, backend, pool, target, edits, upgrade, site).start();
}

/** The field object of a request whose fields go as lines (UpstreamRequest.fieldLines): shared, so frozen. */
const NO_FIELDS: OutgoingHttpHeaders = Object.freeze({});

const kExchange = Symbol('exchange');
type Tagged<T> = T & { [kExchange]?: Exchange };

class Exchange implements UpstreamListener, FastBodyReader {
  private readonly req: Tagged<InboundRequest>;
  private readonly res: Tagged<InboundResponse>;
  private readonly route: CompiledRoute;
  private readonly pool: ClusterPool;
  private readonly edits: ResponseEdits;
  private readonly upgrade: UpgradeRequest | undefined;
  private readonly site: ProxySite;
  private readonly upstreamRequest: UpstreamRequest;
  /** Headers before backend-level filters: what mirrors receive. */
  private readonly routeHeaders: OutgoingHttpHeaders;

  private call: UpstreamCall | undefined;
  /** The current call's body while it still takes request bytes. */
  private sink: Tagged<Writable> | undefined;
  private mirrors: UpstreamCall[] | undefined;
  private attempts = 0;
  private staleReplayed = false;
  private responded = false;
  /** Between attempts: request bytes wait (paused) for the next one. */
  private waiting = false;
  private bodyEnded: boolean;
  /** Every request byte so far, while they fit RETRY_BUFFER_LIMIT and a retry could need them. */
  private replay: Buffer[] | undefined;
  private replayBytes = 0;
  /** Bytes dropped since the upstream answered without taking the rest of the body; see cutShort. */
  private discarded: number | undefined;
  private requestTimer: NodeJS.Timeout | undefined;
  private attemptTimer: NodeJS.Timeout | undefined;
  private backoffTimer: NodeJS.Timeout | undefined;

  constructor(
    req: InboundRequest, res: InboundResponse, route: CompiledRoute, backend: CompiledBackend, pool: ClusterPool,
    target: string, edits: ResponseEdits, upgrade: UpgradeRequest | undefined, site: ProxySite,
  ) {
    this.req = req;
    this.res = res;
    this.route = route;
    this.pool = pool;
    this.edits = edits;
    this.upgrade = upgrade;
    this.site = site;
    // An upgrade request's body, if any, is not parsed by Node: the tunnel carries it.
    const bodyless = upgrade !== undefined || !hasBody(req);
    this.bodyEnded = bodyless;
    // A body of unannounced length (HTTP/1.1 chunked, decoded on the way in, or HTTP/2 DATA frames) goes on chunked.
    const chunked = !bodyless && req.headers['content-length'] === undefined;
    // A request going to one HTTP/1.1 backend alone passes its field lines on as they were read, less those its filters edit.
    const fieldLines =
      req instanceof FastRequest && upgrade === undefined && pool.protocol !== 'h2c' && route.mirrors.length === 0 &&
      editsInPlace(route.requestHeaders) && editsInPlace(backend.requestHeaders) && route.rewriteHost === undefined
        ? forwardedFieldLines(req, site.scheme, route.requestHeaders, backend.requestHeaders, chunked)
        : undefined;
    this.routeHeaders = fieldLines === undefined ? upstreamHeaders(req, site.scheme, route, upgrade !== undefined, chunked) : NO_FIELDS;
    let headers = this.routeHeaders;
    if (backend.requestHeaders && fieldLines === undefined) {
      headers = { ...headers };
      mutateRequest(headers, backend.requestHeaders);
    }
    this.upstreamRequest = {
      method: req.method ?? 'GET',
      path: target,
      headers,
      fieldLines,
      bodyless,
      chunked,
      // An h2c backend cannot take an HTTP/1.1 upgrade; it gets the plain request.
      upgrade: upgrade !== undefined && pool.protocol !== 'h2c',
    };
    // The one TE HTTP/2 allows, which gRPC servers expect: an h2c backend's trailers are relayed, so it is true of this path too.
    if (pool.protocol === 'h2c' && req.headers.te === 'trailers') this.upstreamRequest.headers = { ...this.upstreamRequest.headers, te: 'trailers' };
    this.pool.acquire();
    this.res[kExchange] = this;
    onResponseEvent(this.res, 'close', onClientClose);
  }

  start(): void {
    const route = this.route;
    const timeoutMs = earlier(route.requestTimeoutMs, grpcTimeoutMs(this.req.headers['grpc-timeout']));
    if (timeoutMs > 0) this.requestTimer = setTimeout(onRequestTimeout, timeoutMs, this);
    if (route.mirrors.length > 0 && this.upgrade === undefined) {
      this.mirrors = startMirrors(route.mirrors, { ...this.upstreamRequest, headers: this.routeHeaders }, this.site.logger);
    }
    if (!this.bodyEnded) {
      if (route.retry) this.replay = [];
      if (this.req instanceof FastRequest) this.req.readBody(this);
      else {
        this.req[kExchange] = this;
        const body = bodyStream(this.req);
        body.on('data', onRequestData);
        body.on('end', onRequestEnd);
      }
    }
    this.attempt();
  }

  /**
   * A request can be sent again when none of its body has been lost: it has
   * none, or all of it is still in the replay buffer. The buffer is only kept
   * for routes with a retry policy and is dropped for good once the body
   * outgrows RETRY_BUFFER_LIMIT, after which the request is never retried
   * (the attempt in flight carries on unaffected).
   */
  private replayable(): boolean {
    return this.upstreamRequest.bodyless || this.replay !== undefined;
  }

  private canRetry(): boolean {
    const retry = this.route.retry;
    return retry !== undefined && this.attempts < retry.attempts && this.replayable() && !responseGone(this.res);
  }

  private attempt(): void {
    this.waiting = false;
    this.attempts++;
    const ep = this.pool.pick();
    if (ep === undefined) {
      this.fail(503);
      return;
    }
    let call: UpstreamCall;
    try {
      call = openUpstream(this.pool, ep, this.upstreamRequest, this);
    } catch (err) {
      // Node rejects some request targets its own parser let through.
      this.site.logger.debug({ err, target: this.upstreamRequest.path }, 'cannot build upstream request');
      this.fail(400);
      return;
    }
    this.call = call;
    if (this.route.backendTimeoutMs > 0) this.attemptTimer = setTimeout(onAttemptTimeout, this.route.backendTimeoutMs, this);
    if (this.upstreamRequest.bodyless) return;
    if (this.replay !== undefined) for (const chunk of this.replay) call.body.write(chunk);
    if (this.bodyEnded) {
      call.body.end();
    } else {
      this.sink = call.body;
      this.sink[kExchange] = this;
      this.req.resume();
    }
  }

  /** A chunk of the request body; a `transient` one is valid only during the call, and copied where it is kept. */
  onRequestData(chunk: Buffer, transient: boolean): void {
    // At most one copy, made when something keeps the chunk.
    let kept = transient ? undefined : chunk;
    if (this.replay !== undefined) {
      this.replayBytes += chunk.length;
      if (this.replayBytes > RETRY_BUFFER_LIMIT) this.replay = undefined;
      else this.replay.push((kept ??= Buffer.copyBytesFrom(chunk)));
    }
    if (this.mirrors !== undefined) feedMirrors(this.mirrors, (kept ??= Buffer.copyBytesFrom(chunk)));
    if (this.discarded !== undefined) {
      this.discarded += chunk.length;
      if (this.discarded > DISCARD_LIMIT) {
        this.discarded = undefined;
        this.req.pause();
        closeAfterResponse(this.req, this.res);
      }
      return;
    }
    const sink = this.sink;
    if (sink !== undefined) {
      if (!(kept === undefined ? writeTransient(sink, chunk) : sink.write(kept))) this.pauseUntilDrained(sink);
    } else if (this.waiting) {
      this.req.pause();
    }
  }

  /** Several chunks go on in one call only when nothing else keeps or counts them and the sink can take them so. */
  takesParts(): boolean {
    return this.replay === undefined && this.mirrors === undefined && this.discarded === undefined && this.sink !== undefined && takesTransientParts(this.sink);
  }

  onRequestParts(chunks: readonly Buffer[]): void {
    const sink = this.sink!;
    if (!writeTransientParts(sink, chunks)) this.pauseUntilDrained(sink);
  }

  /** The sink holds as much as it should: the client's body waits until it drains. */
  private pauseUntilDrained(sink: Tagged<Writable>): void {
    this.req.pause();
    sink.once('drain', onSinkDrain);
  }

  onRequestEnd(): void {
    this.bodyEnded = true;
    this.sink?.end();
    this.sink = undefined;
    if (this.mirrors !== undefined) for (const m of this.mirrors) m.body.end();
    this.mirrors = undefined;
  }

  onSinkDrain(sink: Writable): void {
    if (sink === this.sink) this.req.resume();
  }

  onUpstreamResponse(call: UpstreamCall, up: UpstreamResponse): void {
    if (call !== this.call || responseGone(this.res)) {
      call.abort();
      return;
    }
    const status = up.statusCode;
    if (this.route.retry?.codes.has(status) && this.canRetry()) {
      this.endAttempt();
      // A call that has its whole body can drain and keep its connection; one cut short cannot.
      if (call.body.writableEnded) call.discard();
      else call.abort();
      this.retryLater();
      return;
    }
    this.responded = true;
    try {
      if (connectionTokens(up.connection) === undefined && relayHead(this.res, status, up, this.edits, this.site.closing)) {
        call.pipe(this.res);
        return;
      }
      const headers = this.responseHeaders(up.rawHeaders, up.connection);
      if (up.headOnly) {
        // One header block that ends the stream, passed on as one: a gRPC client reads a trailers-only
        // status from it, and would find none in a head followed by an empty end of stream.
        clearTimeout(this.attemptTimer);
        call.discard();
        respondHeadersOnly(this.res, status, headers, this.site.closing);
        return;
      }
      writeHead(this.res, status, headers, this.site.closing, up.statusMessage);
    } catch (err) {
      // A field Node will not send (an invalid name or value from the upstream).
      this.site.logger.debug({ err, cluster: this.pool.name }, 'upstream response head cannot be relayed');
      call.abort();
      this.endAttempt();
      this.site.counters.upstreamError();
      sendLocal(this.res, 502, this.site.closing, this.edits);
      return;
    }
    call.pipe(this.res);
  }

  onUpstreamBodyEnd(call: UpstreamCall, complete: boolean): void {
    clearTimeout(this.attemptTimer);
    if (!complete) {
      // The upstream reset mid-body: the client must not mistake a truncated body for a whole one.
      this.site.counters.upstreamError();
      abortResponse(this.res);
    } else if (!call.body.writableEnded && call === this.call) {
      this.cutShort(call);
    }
  }

  onUpstreamError(call: UpstreamCall, err: NodeJS.ErrnoException): void {
    if (call !== this.call || responseGone(this.res)) return;
    // Once the response has started, the close handler of its body resets the client if that body was cut
    // short; an error that leaves it whole (EPIPE on a request body the upstream stopped reading, having
    // answered and closed) is no failure of the response.
    if (this.responded) return;
    this.endAttempt();
    // A reused keep-alive socket the upstream had just closed is not the backend failing: replay once, for free.
    if (!this.staleReplayed && call.reused() && err.code === 'ECONNRESET' && this.replayable()) {
      this.staleReplayed = true;
      this.attempts--;
      this.attempt();
      return;
    }
    this.site.counters.upstreamError();
    this.site.logger.debug({ err, cluster: this.pool.name }, 'upstream request failed');
    if (this.canRetry()) this.retryLater();
    else this.fail(503);
  }

  onUpstreamUpgrade(call: UpstreamCall, up: UpstreamResponse, upSocket: Socket, upHead: Buffer): void {
    const client = this.upgrade;
    // Only HTTP/1.1 requests come with an upgrade, so the response is a ServerResponse.
    const res = this.res as ServerResponse;
    if (call !== this.call || res.destroyed || client === undefined) {
      upSocket.destroy();
      return;
    }
    this.responded = true;
    this.endAttempt();
    clearTimeout(this.requestTimer);
    const headers = this.responseHeaders(up.rawHeaders, up.connection);
    headers.push('connection', 'Upgrade', 'upgrade', up.upgrade ?? 'websocket');
    // Written through the response so it is counted like any other; the listener leaves the socket open after a 101.
    res.writeHead(101, up.statusMessage, headers);
    res.end();
    if (upHead.length > 0) client.socket.write(upHead);
    if (client.head.length > 0) upSocket.write(client.head);
    tunnel(client.socket, upSocket);
  }

  onAttemptTimeout(): void {
    const call = this.call;
    if (call === undefined) return;
    this.call = undefined;
    this.sink = undefined;
    call.abort();
    if (this.responded) {
      abortResponse(this.res);
      return;
    }
    this.site.counters.upstreamError();
    if (this.canRetry()) this.retryLater();
    else this.fail(504);
  }

  onRequestTimeout(): void {
    this.requestTimer = undefined;
    clearTimeout(this.backoffTimer);
    const call = this.call;
    this.endAttempt();
    call?.abort();
    // Too late for a status line once the response has started: fail() then resets the client.
    this.fail(504);
  }

  onClientClose(): void {
    this.pool.release();
    clearTimeout(this.requestTimer);
    clearTimeout(this.attemptTimer);
    clearTimeout(this.backoffTimer);
    if (!responseComplete(this.res)) this.call?.abort();
    // A mirror must not see a truncated body as a whole one.
    if (!this.bodyEnded && this.mirrors !== undefined) for (const m of this.mirrors) m.abort();
  }

  onBackoffDone(): void {
    this.backoffTimer = undefined;
    this.attempt();
  }

  /**
   * The upstream sent its whole response before taking the whole request
   * body (it answered early and will not read the rest, or drains it slowly).
   * Nothing more is sent: Node's ClientRequest no longer emits 'drain' once
   * its response has ended, so the body would stall here, and with it the
   * client connection, until the upstream's keep-alive timeout. The upstream
   * connection has a request on it that was never finished, so it is
   * destroyed rather than returned to the pool; the rest of the client's body
   * is read and dropped (bounded by DISCARD_LIMIT), still feeding mirrors;
   * a fast-path connection drops it itself once the response has ended. No
   * retry can follow: the response is out.
   */
  private cutShort(call: UpstreamCall): void {
    this.endAttempt();
    call.abort();
    this.replay = undefined;
    if (this.bodyEnded) return;
    this.discarded = 0;
    this.req.resume();
  }

  private endAttempt(): void {
    clearTimeout(this.attemptTimer);
    this.call = undefined;
    this.sink = undefined;
  }

  private retryLater(): void {
    this.waiting = true;
    this.backoffTimer = setTimeout(onBackoffDone, this.route.retry!.backoffMs, this);
  }

  private fail(status: number): void {
    this.responded = true;
    sendLocal(this.res, status, this.site.closing, this.edits);
  }

  /** Raw headers keep the upstream's duplicates (e.g. several Set-Cookie) and casing. */
  private responseHeaders(raw: string[], connection: string | undefined): string[] {
    const named = connectionTokens(connection);
    const edits = this.edits;
    const out: string[] = [];
    for (let i = 0; i < raw.length; i += 2) {
      const name = raw[i]!.toLowerCase();
      if (HOP_BY_HOP.has(name) || named?.includes(name) || droppedAfter(edits, 0, name)) continue;
      out.push(raw[i]!, raw[i + 1]!);
    }
    appendEdits(out, edits);
    return out;
  }
}

/** The sooner of two timeouts, where 0 means none. */
function earlier(a: number, b: number): number {
  return a === 0 ? b : b === 0 ? a : Math.min(a, b);
}

const GRPC_TIMEOUT_UNIT_MS: Readonly<Record<string, number>> = { H: 3_600_000, M: 60_000, S: 1000, m: 1, u: 1e-3, n: 1e-6 };

/**
 * A gRPC client's deadline (`grpc-timeout`: up to 8 digits and a unit), in
 * whole milliseconds, at least 1; 0 when absent or malformed, which gRPC
 * servers ignore too.
 */
function grpcTimeoutMs(value: string | string[] | undefined): number {
  if (typeof value !== 'string' || value.length < 2 || value.length > 9) return 0;
  const unit = GRPC_TIMEOUT_UNIT_MS[value[value.length - 1]!];
  let n = 0;
  for (let i = 0; i < value.length - 1; i++) {
    const d = value.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return 0;
    n = n * 10 + d;
  }
  return unit === undefined ? 0 : Math.max(1, Math.ceil(n * unit));
}

function onClientClose(this: Tagged<InboundResponse>): void {
  this[kExchange]!.onClientClose();
}

function onRequestData(this: Tagged<InboundRequest>, chunk: Buffer): void {
  this[kExchange]!.onRequestData(chunk, false);
}

function onRequestEnd(this: Tagged<InboundRequest>): void {
  this[kExchange]!.onRequestEnd();
}

function onSinkDrain(this: Tagged<Writable>): void {
  this[kExchange]!.onSinkDrain(this);
}

function onRequestTimeout(ex: Exchange): void {
  ex.onRequestTimeout();
}

function onAttemptTimeout(ex: Exchange): void {
  ex.onAttemptTimeout();
}

function onBackoffDone(ex: Exchange): void {
  ex.onBackoffDone();
}

/** Pipes an upgraded connection both ways until either side ends, errs or idles out; then both go. */
function tunnel(client: Socket, upstream: Socket): void {
  const destroyBoth = (): void => {
    client.destroy();
    upstream.destroy();
  };
  for (const s of [client, upstream]) {
    s.setTimeout(TUNNEL_IDLE_TIMEOUT_MS, destroyBoth);
    s.on('error', destroyBoth);
    s.on('close', destroyBoth);
  }
  client.pipe(upstream);
  upstream.pipe(client);
}

function connectionTokens(value: string | undefined): string[] | undefined {
  // The usual values name no field beyond the hop-by-hop ones already dropped. Compared as sent first: the
  // response head parser passes the commonest on as a shared string, which compares by identity.
  if (value === undefined || value === 'keep-alive' || value === 'close') return undefined;
  const lower = value.toLowerCase();
  if (lower === 'keep-alive' || lower === 'close') return undefined;
  return lower.split(',').map((t) => t.trim());
}

function upstreamHeaders(req: InboundRequest, scheme: 'http' | 'https', route: CompiledRoute, upgrade: boolean, chunked: boolean): OutgoingHttpHeaders {
  const src = req.headers;
  const named = connectionTokens(src.connection);
  const out: OutgoingHttpHeaders = {};
  for (const name in src) {
    // HTTP/2 pseudo-headers are not fields; Expect is dropped because the client has had its 100 Continue (from node:http or the fast path).
    if (name.charCodeAt(0) === 0x3a /* : */ || HOP_BY_HOP.has(name) || name === 'expect' || named?.includes(name)) continue;
    out[name] = src[name];
  }
  if (upgrade) {
    out.connection = 'Upgrade';
    out.upgrade = src.upgrade;
  } else if (chunked) {
    out['transfer-encoding'] = 'chunked';
  }

  const forwardedFor = forwardedForOf(req);
  if (forwardedFor !== undefined) out['x-forwarded-for'] = forwardedFor;
  out['x-forwarded-proto'] = scheme;
  const host = authority(req);
  if (host !== undefined) {
    out['x-forwarded-host'] = host;
    // An HTTP/2 client names the host in :authority, which the upstream receives as Host (or its own :authority).
    out.host = host;
  }
  if (route.rewriteHost !== undefined) out.host = route.rewriteHost;
  if (route.requestHeaders) mutateRequest(out, route.requestHeaders);
  return out;
}

function editsInPlace(m: CompiledHeaderMutation | undefined): boolean {
  return m === undefined || m.inPlace;
}

/**
 * The head's field lines for the upstream: what upstreamHeaders makes of a
 * request, written out, for filters that touch no field the proxy owns.
 */
function forwardedFieldLines(req: FastRequest, scheme: 'http' | 'https', route: CompiledHeaderMutation | undefined, backend: CompiledHeaderMutation | undefined, chunked: boolean): (string | Uint8Array)[] {
  const lines = route === undefined && backend === undefined ? req.forwardLines : editedRequestLines(req, route, backend);
  const proto = scheme === 'https' ? FORWARDED_HTTPS : FORWARDED_HTTP;
  const host = req.headers.host!;
  const client = clientAddress(req);
  const prior = req.headers['x-forwarded-for'];
  const out =
    client === undefined
      ? [lines, proto.first, host, CRLF]
      : prior
        ? [lines, FORWARDED_FOR, prior, LIST_SEPARATOR, client, proto.afterValue, host, CRLF]
        : [lines, FORWARDED_FOR, client, proto.afterValue, host, CRLF];
  // The client's Transfer-Encoding is hop-by-hop, left out of forwardLines; the body is framed afresh.
  if (chunked) out.push(CHUNKED_FIELD);
  return out;
}

// The constant parts of forwardedFieldLines, as bytes: copied from these costs less than from strings.
const latin1 = (text: string): Uint8Array => Buffer.from(text, 'latin1');
const CRLF = latin1('\r\n');
const CHUNKED_FIELD = latin1('transfer-encoding: chunked\r\n');
const FORWARDED_FOR = latin1('x-forwarded-for: ');
const LIST_SEPARATOR = latin1(', ');
/**
 * What forwardedFieldLines writes up to the host's name, per scheme: `first`
 * right after the request's own fields, `afterValue` after X-Forwarded-For's
 * value, ending its line. Chosen by a comparison: an object keyed by scheme
 * costs a keyed lookup per request.
 */
const FORWARDED_HTTP = forwardedProto('http');
const FORWARDED_HTTPS = forwardedProto('https');

function forwardedProto(scheme: string): { first: Uint8Array; afterValue: Uint8Array } {
  const text = `x-forwarded-proto: ${scheme}\r\nx-forwarded-host: `;
  return { first: latin1(text), afterValue: latin1(`\r\n${text}`) };
}

/**
 * The request's forwarded fields with the filters applied: those they touch
 * (none the proxy owns, see editsInPlace) are edited as a field object and
 * written last.
 */
function editedRequestLines(req: FastRequest, route: CompiledHeaderMutation | undefined, backend: CompiledHeaderMutation | undefined): string {
  const touched: OutgoingHttpHeaders = {};
  takeFields(touched, req.headers, route);
  takeFields(touched, req.headers, backend);
  if (route !== undefined) mutateRequest(touched, route);
  if (backend !== undefined) mutateRequest(touched, backend);
  return withoutFields(req.forwardLines, (name) => route?.names.has(name) || backend?.names.has(name)) + fieldLinesOf(touched);
}

/** Copies into `out` the fields of `headers` that `m` touches. */
function takeFields(out: OutgoingHttpHeaders, headers: Record<string, string>, m: CompiledHeaderMutation | undefined): void {
  if (m === undefined) return;
  // Own fields only, as mutateRequest reads them: a filter may name a field "constructor".
  for (const name of m.names) if (Object.hasOwn(headers, name)) out[name] = headers[name];
}

/** X-Forwarded-For with the client's address appended. */
function forwardedForOf(req: InboundRequest): string | undefined {
  const client = clientAddress(req);
  if (client === undefined) return undefined;
  const prior = req.headers['x-forwarded-for'];
  return prior ? `${prior}, ${client}` : client;
}

/** The client's address, an IPv4 one without its IPv6 mapping prefix. */
function clientAddress(req: InboundRequest): string | undefined {
  const addr = req instanceof FastRequest ? req.remoteAddress : req.socket.remoteAddress;
  return addr?.startsWith('::ffff:') ? addr.slice(7) : addr;
}
