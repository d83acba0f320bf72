// A purpose-built HTTP/1.1 client for upstream requests. node:http's client
// costs several objects, listener registrations and agent bookkeeping per
// request; here a connection owns its socket listeners for life, a request is
// one head string written in one call, and the response is parsed in place and
// its body handed on as slices of what the socket read, so a small response
// goes from the upstream's read buffer to the client in one write.
//
// One request per connection at a time (no pipelining); connections to an
// endpoint are reused last-in first-out so the pool stays as small as the load.

// Buffer and the timer functions as imports: the globals are read through a call (an accessor) or an
// unfoldable global load on every use on the request path.
import { Buffer } from 'node:buffer';
import { clearTimeout, setTimeout } from 'node:timers';
import { STATUS_CODES } from 'node:http';
import { connect, type Socket } from 'node:net';
import { Writable } from 'node:stream';
import type { ConnectionOptions } from 'node:tls';
import { ChunkedDecoder, chunkSizeLine } from './chunked.js';
import { tryWrite, writesDirect, writeToHandle } from './direct-write.js';
import { fieldLinesOf } from './headers.js';
import { bytesAt, decimalValue, fieldList, fieldScan, HEAD_INCOMPLETE, HEAD_INVALID, headEndArrived, isToken, nameIs, owsSkipped, owsTrimmed, scanLineEnd, textIs, valueAt } from './http-syntax.js';
import { IDLE_UNSEEN, idleTooLong, IdleSweep } from './idle-sweep.js';
import { bufferOver, copyInto, ownCopy, readInPlace, span } from './read-in-place.js';
import { connectTls, endpointTlsOptions, type UpstreamTls } from './upstream-tls.js';
import type { BodyDestination, FieldBytes, TransientSink, UpstreamCall, UpstreamListener, UpstreamRequest, UpstreamResponse } from './upstream.js';

/** A response head larger than this is refused (Node's own default limit is 16 KiB). */
const MAX_HEAD_BYTES = 64 * 1024;


/**
 * Every upstream connection, its idle timeout checked four times a second: an
 * idle one closes at most 500 ms late (see idleTooLong), before a backend's
 * own keep-alive timeout when ours is set a second short of it.
 */
const connections = new IdleSweep<Connection>(250);

/** One endpoint's connections: over TLS when `tls` is given, with ALPN http/1.1. */
export class Http1Endpoint {
  /** Idle connections, most recently used last. */
  private readonly idle: Connection[] = [];
  private readonly all = new Set<Connection>();
  private closed = false;
  private readonly tlsOptions: ConnectionOptions | undefined;

  constructor(
    readonly address: string,
    readonly port: number,
    private readonly timeouts: { connectTimeoutMs: number; idleTimeoutMs: number },
    tls?: UpstreamTls,
  ) {
    this.tlsOptions = tls && endpointTlsOptions(tls, address, port, 'http/1.1');
  }

  /**
   * Sends a request on an idle connection, or a new one. Throws (before
   * anything is sent) on a method or target that cannot be written as-is.
   */
  request(r: UpstreamRequest, listener: UpstreamListener): UpstreamCall {
    if (!isToken(r.method, 0, r.method.length)) throw Object.assign(new Error(`invalid method ${JSON.stringify(r.method)}`), { code: 'ERR_INVALID_HTTP_TOKEN' });
    const head = serializeHead(r);
    // An upgraded socket leaves the pool for good, so it is never taken from it.
    const conn = (!r.upgrade && this.idle.pop()) || this.open(r.upgrade);
    const exchange = new Http1Exchange(conn, listener, r);
    conn.begin(exchange, head);
    return exchange;
  }

  /** Closes idle connections now and busy ones as they finish; no new ones are opened after. */
  close(): void {
    this.closed = true;
    for (const c of this.idle) c.socket.destroy();
    this.idle.length = 0;
  }

  /** Ends every connection, busy or not. */
  destroy(): void {
    this.close();
    for (const c of this.all) c.socket.destroy();
  }

  release(conn: Connection): void {
    if (this.closed) conn.socket.destroy();
    else {
      conn.idleSince = IDLE_UNSEEN;
      this.idle.push(conn);
    }
  }

  forget(conn: Connection): void {
    this.all.delete(conn);
    const i = this.idle.lastIndexOf(conn);
    if (i >= 0) this.idle.splice(i, 1);
  }

  private open(upgrade: boolean): Connection {
    const conn = new Connection(this, this.timeouts, this.tlsOptions, upgrade);
    this.all.add(conn);
    return conn;
  }
}

// Response parser states.
const HEAD = 0;
const BODY_LENGTH = 1;
const CHUNKED = 2;
const BODY_UNTIL_CLOSE = 3;
const DONE = 4;

/**
 * A cleartext connection reads into a buffer of its own, reused read after
 * read, rather than into a fresh 64 KiB allocation per read as a socket's
 * 'data' events do: that churn, tracked by V8 as external memory, sets off
 * full garbage collections under large responses.
 */
const READ_BUFFER_BYTES = 64 * 1024;

/**
 * Bytes of the read buffer fewer than this are passed on as copies, which
 * Node's Buffer pool serves from a shared slab: cheaper than giving up the
 * read buffer to a destination that holds them (a TLS socket does, until its
 * write completes).
 */
const POOLED_COPY_BELOW = 4096;

const kConnection = Symbol('connection');
type TaggedSocket = Socket & { [kConnection]: Connection };

/** The body of a request that has none: already ended, so every "is the body sent" check passes. */
const NO_BODY = new Writable({ write: (_chunk, _encoding, callback) => callback() });
NO_BODY.end();

/** One request and its response, as the proxy sees it. */
class Http1Exchange implements UpstreamCall {
  readonly body: Writable;
  /** Set by pipe(): where the response body goes. */
  destination: BodyDestination | undefined;
  /** discard() was called: the body is read and dropped. */
  discarding = false;
  /** The response has ended (or the exchange was aborted); no more events reach the listener. */
  finished = false;
  /** Every request byte has been written. */
  requestDone: boolean;
  /** The connection went back to its pool: it is no longer this exchange's to destroy. */
  released = false;
  private readonly wasReused: boolean;

  constructor(
    readonly conn: Connection,
    readonly listener: UpstreamListener,
    readonly request: UpstreamRequest,
  ) {
    this.wasReused = conn.served > 0;
    this.requestDone = request.bodyless;
    this.body = request.bodyless ? NO_BODY : new RequestBody(this, announcedLength(request.headers), request.chunked);
  }

  pipe(dest: BodyDestination): void {
    this.destination = dest;
  }

  discard(): void {
    this.discarding = true;
  }

  abort(): void {
    if (this.released) return;
    this.finished = true;
    this.conn.socket.destroy();
  }

  reused(): boolean {
    return this.wasReused;
  }
}

/**
 * The request body, framed as the request head announced: passed through
 * under Content-Length (never more than announced: an HTTP/2 client's DATA
 * frames need not add up to its content-length, and extra bytes would be read
 * by the upstream as a new request), or chunked.
 */
class RequestBody extends Writable implements TransientSink {
  private remaining: number;
  /** The next chunk written is framed already: what the kernel left of a chunk writeTransient framed. */
  private nextFramed = false;

  constructor(
    private readonly exchange: Http1Exchange,
    contentLength: number | undefined,
    private readonly chunked: boolean,
  ) {
    super({ highWaterMark: 64 * 1024 });
    this.remaining = chunked || contentLength === undefined ? Infinity : contentLength;
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (err?: Error) => void): void {
    const socket = this.exchange.conn.socket;
    if (socket.destroyed) {
      callback();
      return;
    }
    let flushed: boolean;
    if (this.nextFramed) {
      this.nextFramed = false;
      flushed = socket.write(chunk);
    } else if (this.chunked) {
      if (chunk.length === 0) {
        callback();
        return;
      }
      socket.cork();
      socket.write(chunkSizeLine(chunk.length), 'latin1');
      socket.write(chunk);
      flushed = socket.write('\r\n', 'latin1');
      socket.uncork();
    } else {
      if (chunk.length > this.remaining) {
        this.exchange.abort();
        callback();
        return;
      }
      this.remaining -= chunk.length;
      flushed = socket.write(chunk);
    }
    if (flushed) callback();
    else socket.once('drain', () => callback());
  }

  /**
   * Writes bytes valid only during this call: what the kernel takes at once
   * goes straight from them, and only the rest is copied and queued.
   */
  writeTransient(chunk: Buffer): boolean {
    // Behind queued bytes, or past what was announced (which _write refuses): a copy waits its turn.
    if (this.writableLength !== 0 || this.writableEnded || chunk.length === 0 || chunk.length > this.remaining) return this.write(Buffer.copyBytesFrom(chunk));
    const socket = this.exchange.conn.socket;
    if (!this.chunked) {
      const sent = tryWrite(socket, chunk);
      this.remaining -= sent;
      return sent === chunk.length || this.write(Buffer.copyBytesFrom(chunk, sent));
    }
    return this.writeFramed(socket, [chunk]);
  }

  /** Chunks of a chunked body, valid only during this call, as writeTransient would take them one after another. */
  writeTransientParts(chunks: readonly Buffer[]): boolean {
    if (!this.chunked || this.writableLength !== 0 || this.writableEnded) {
      let flushed = true;
      for (let i = 0; i < chunks.length; i++) flushed = this.writeTransient(chunks[i]!) && flushed;
      return flushed;
    }
    return this.writeFramed(this.exchange.conn.socket, chunks);
  }

  /**
   * Each chunk's size line, its data where it lies and its CRLF, all in one
   * write; what the kernel leaves is copied, framed, and queued. Only when
   * nothing is queued already (the callers see to it).
   */
  private writeFramed(socket: Socket, chunks: readonly Buffer[]): boolean {
    const parts: Buffer[] = [];
    let total = 0;
    for (let i = 0; i < chunks.length; i++) {
      const chunk = chunks[i]!;
      if (chunk.length === 0) continue;
      const sizeLine = Buffer.from(chunkSizeLine(chunk.length), 'latin1');
      parts.push(sizeLine, chunk, CHUNK_END);
      total += sizeLine.length + chunk.length + CHUNK_END.length;
    }
    if (total === 0) return true;
    const sent = tryWrite(socket, parts);
    if (sent === total) return true;
    // Nothing is queued here, so this write is the next to reach the socket.
    this.nextFramed = true;
    return this.write(unsentCopy(parts, sent));
  }

  override _final(callback: (err?: Error) => void): void {
    const exchange = this.exchange;
    const socket = exchange.conn.socket;
    if (!socket.destroyed) {
      if (this.chunked) socket.write('0\r\n\r\n', 'latin1');
      // Fewer bytes than announced: the upstream still waits for the rest, so the connection is unusable.
      else if (this.remaining !== Infinity && this.remaining > 0) exchange.abort();
    }
    callback();
    exchange.requestDone = true;
    exchange.conn.requestSent(exchange);
  }
}

const CHUNK_END = Buffer.from('\r\n', 'latin1');

/** A copy of what follows the first `sent` bytes of `parts`, taken as one run. */
function unsentCopy(parts: readonly Buffer[], sent: number): Buffer {
  let total = 0;
  for (const part of parts) total += part.length;
  const out = Buffer.allocUnsafe(total - sent);
  let at = 0;
  let skip = sent;
  for (const part of parts) {
    if (skip >= part.length) skip -= part.length;
    else {
      at += part.copy(out, at, skip);
      skip = 0;
    }
  }
  return out;
}

function announcedLength(headers: UpstreamRequest['headers']): number | undefined {
  const v = headers['content-length'];
  if (v === undefined || Array.isArray(v)) return undefined;
  const n = Number(v);
  return Number.isSafeInteger(n) && n >= 0 ? n : undefined;
}

/**
 * Where request heads are written, as bytes, to be sent: a write the kernel
 * takes whole before returning leaves it free for the next head (see
 * Connection.begin). Writing the head's parts straight in costs less than
 * joining them as strings, which Node then flattens and copies once more.
 */
let headScratch = Buffer.allocUnsafeSlow(8 * 1024);
/** headScratch's memory, read once: a Buffer's `buffer` is read through V8's runtime. */
let headScratchBytes = headScratch.buffer;

const REQUEST_LINE_END = Buffer.from(' HTTP/1.1\r\n', 'latin1');
/**
 * Strings this long or longer are copied by Node's native write: a call to it
 * costs about as much as a JS loop copying 24 characters (~36 ns against
 * ~1.5 ns a character, measured on Node 20).
 */
const NATIVE_COPY_FROM = 24;
/**
 * Buffer's native latin1 writer, which Buffer#write reaches through a JS
 * wrapper that validates its arguments and looks the encoding up (about 8
 * of the 42 ns of a 58-character copy, Node 20). Undocumented, hence the
 * fallback where a Node has none.
 */
const latin1Write = (Buffer.prototype as unknown as { latin1Write?: (this: Buffer, text: string, at: number, length: number) => number }).latin1Write;
/**
 * Bytes (a head's constant parts, a relayed head's field runs) are copied
 * natively from this many on: a native copy costs about 10 ns, and making a
 * view for it (where there is none) about 12 more, at any length a head has;
 * a JS loop about 1.5 ns a byte (measured on Node 20).
 */
const NATIVE_SET_FROM = 16;

/**
 * The request head as bytes: in headScratch when it fits, else in a buffer of
 * its own. Throws, as Node's own client does, on a request target with a
 * character outside visible ISO-8859-1.
 */
function serializeHead(r: UpstreamRequest): Uint8Array {
  const { method, path } = r;
  const lines = r.fieldLines ?? [fieldLinesOf(r.headers)];
  let length = method.length + 1 + path.length + REQUEST_LINE_END.length + 2;
  for (let i = 0; i < lines.length; i++) length += lines[i]!.length;
  const inScratch = fitsHeadScratch(length);
  const out = inScratch ? headScratch : Buffer.allocUnsafeSlow(length);
  let at = copyLatin1(method, out, 0);
  out[at++] = 0x20;
  for (let i = 0; i < path.length; i++) {
    const c = path.charCodeAt(i);
    if (c < 0x21 || c > 0xff) throw Object.assign(new Error('request target contains invalid characters'), { code: 'ERR_UNESCAPED_CHARACTERS' });
    out[at++] = c;
  }
  at = copyBytes(REQUEST_LINE_END, out, at);
  for (let i = 0; i < lines.length; i++) {
    const part = lines[i]!;
    at = typeof part === 'string' ? copyLatin1(part, out, at) : copyBytes(part, out, at);
  }
  out[at++] = 0x0d;
  out[at++] = 0x0a;
  // A buffer of its own is the head's size; a view of the scratch is made without Buffer's subarray, which looks up a species.
  return inScratch ? new Uint8Array(headScratchBytes, 0, at) : out;
}

/**
 * Whether a head of `length` bytes is written in headScratch: true of the
 * heads serializeHead returns that are no longer than it. Told by length
 * because a view's `buffer`, which would say it outright, is read through
 * V8's runtime, at a cost that showed in profiles.
 */
function fitsHeadScratch(length: number): boolean {
  return length <= headScratch.length;
}

/** Writes `text` as latin1 at out[at...], which has room for it; returns where it ends. */
function copyLatin1(text: string, out: Buffer, at: number): number {
  const n = text.length;
  if (n >= NATIVE_COPY_FROM) return at + (latin1Write === undefined ? out.write(text, at, n, 'latin1') : latin1Write.call(out, text, at, n));
  for (let i = 0; i < n; i++) out[at + i] = text.charCodeAt(i);
  return at + n;
}

/** Writes `bytes` at out[at...], which has room for them; returns where they end. */
function copyBytes(bytes: Uint8Array, out: Buffer, at: number): number {
  const n = bytes.length;
  if (n >= NATIVE_SET_FROM) copyInto(out, bytes, at);
  else for (let i = 0; i < n; i++) out[at + i] = bytes[i]!;
  return at + n;
}

/** One upstream socket and its response parser. */
class Connection {
  readonly socket: TaggedSocket;
  /** Requests completed on this connection. */
  served = 0;
  /** When a sweep first saw it idle since it was opened or last went back to the pool; see idleTooLong. */
  idleSince = IDLE_UNSEEN;
  private exchange: Http1Exchange | undefined;
  private state = HEAD;
  /** Head bytes seen so far when a head spans reads. */
  private partial: Buffer | undefined;
  private remaining = 0;
  /** The framing of a chunked response body, reused response after response. */
  private readonly chunks = new ChunkedDecoder();
  /** Whether the response in progress allows the connection to be reused after it. */
  private keepAlive = false;
  private sawBytes = false;
  private error: NodeJS.ErrnoException | undefined;
  private connectTimer: NodeJS.Timeout | undefined;
  /** Reading paused while a slow client holds the body back; resume restarts it. */
  private paused = false;
  private readonly resume: () => void;
  /**
   * Whether bytes come from the reused read buffer (cleartext, never
   * upgraded): valid only until the next read, so whatever keeps them longer
   * gets a copy, or the buffer is given up to it (see pass).
   */
  private readonly reusesReads: boolean;
  private readBuffer: Buffer | undefined;
  /** readBuffer's memory, which it starts: read once, since a Buffer's `buffer` is read through V8's runtime. */
  private readBytes: ArrayBuffer | undefined;

  constructor(
    private readonly endpoint: Http1Endpoint,
    private readonly timeouts: { connectTimeoutMs: number; idleTimeoutMs: number },
    tls: ConnectionOptions | undefined,
    upgrade: boolean,
  ) {
    const secure = tls !== undefined;
    const socket = secure ? connectTls(tls) : connect({ host: endpoint.address, port: endpoint.port, noDelay: true });
    // An upgraded socket becomes a tunnel piped by 'data' events, which a socket reading into its own buffer does
    // not emit. The handle exists from connect() on; reading starts once connected.
    this.reusesReads = !secure && !upgrade && readInPlace(socket, this, this.newReadBuffer()!);
    this.socket = socket as TaggedSocket;
    this.socket[kConnection] = this;
    this.resume = () => {
      this.paused = false;
      this.socket.resume();
    };
    if (!this.reusesReads) socket.on('data', onSocketData);
    socket.on('error', onSocketError);
    socket.on('close', onSocketClose);
    connections.add(this);
    this.connectTimer = setTimeout(onConnectTimeout, timeouts.connectTimeoutMs, this);
    // Over TLS, connected means handshaken: a backend that never finishes its handshake times out like one that never answers.
    socket.once(secure ? 'secureConnect' : 'connect', onSocketConnect);
  }

  begin(exchange: Http1Exchange, head: Uint8Array): void {
    this.exchange = exchange;
    this.state = HEAD;
    this.sawBytes = false;
    const inScratch = fitsHeadScratch(head.length);
    // A socket still connecting, or with writes queued, keeps what it is given: the scratch buffer is the next head's.
    if (!writesDirect(this.socket)) this.socket.write(inScratch ? Buffer.from(head) : head);
    // Written in part, the rest queued by libuv from the scratch buffer itself: it is the write's now.
    else if (!writeToHandle(this.socket, head) && inScratch) {
      headScratch = Buffer.allocUnsafeSlow(headScratch.length);
      headScratchBytes = headScratch.buffer;
    }
  }

  connected(): void {
    clearTimeout(this.connectTimer);
    this.connectTimer = undefined;
  }

  connectTimedOut(): void {
    this.socket.destroy(Object.assign(new Error('upstream connect timeout'), { code: 'ETIMEDOUT' }));
  }

  closeIfIdle(now: number): void {
    // A busy connection's upstream may just be slow: route timeouts decide that, not the idle timeout.
    if (this.exchange === undefined && idleTooLong(this, now, this.timeouts.idleTimeoutMs)) this.socket.destroy();
  }

  onError(err: NodeJS.ErrnoException): void {
    this.error ??= err;
  }

  onClose(): void {
    clearTimeout(this.connectTimer);
    connections.delete(this);
    this.endpoint.forget(this);
    const ex = this.exchange;
    this.exchange = undefined;
    if (ex === undefined || ex.finished) return;
    if (this.state === BODY_UNTIL_CLOSE && this.error === undefined) {
      this.finishBody(ex, true);
      return;
    }
    ex.finished = true;
    if (this.state === HEAD) {
      const err = this.error ?? Object.assign(new Error(this.sawBytes ? 'upstream closed mid-response' : 'upstream closed the connection'), { code: 'ECONNRESET' });
      ex.listener.onUpstreamError(ex, err);
    } else if (ex.destination !== undefined) {
      ex.listener.onUpstreamBodyEnd(ex, false);
    }
  }

  /** The request body has been written in full; the connection may now go back to the pool. */
  requestSent(ex: Http1Exchange): void {
    if (ex.finished && this.state === DONE && this.keepAlive) this.releaseIfSent(ex);
  }

  private releaseIfSent(ex: Http1Exchange): void {
    if (!ex.requestDone || ex.released || this.socket.destroyed) return;
    ex.released = true;
    this.endpoint.release(this);
  }

  /** A buffer for the next read when there is none (the first read, or the last buffer was given up); else undefined. */
  private newReadBuffer(): Buffer | undefined {
    if (this.readBuffer !== undefined) return undefined;
    this.readBuffer = Buffer.allocUnsafeSlow(READ_BUFFER_BYTES);
    this.readBytes = this.readBuffer.buffer as ArrayBuffer;
    return this.readBuffer;
  }

  /** A read into the connection's read buffer; reading stops on its own only through pause() (see deliver). */
  onRead(buf: Buffer, length: number): Buffer | undefined {
    this.onData(buf, length);
    return this.newReadBuffer();
  }

  /** Bytes read: data[0, end). */
  onData(data: Buffer, end = data.length): void {
    const ex = this.exchange;
    if (ex === undefined || ex.finished) {
      // Bytes nobody asked for: the upstream is out of step with us.
      this.socket.destroy();
      return;
    }
    this.sawBytes = true;
    try {
      this.parse(ex, data, end);
    } catch (err) {
      this.fail(err as NodeJS.ErrnoException);
    }
  }

  /** A malformed response: the exchange fails as a reset would make it (see onClose). */
  private fail(err: NodeJS.ErrnoException): void {
    err.code ??= 'HPE_INVALID_RESPONSE';
    this.error ??= err;
    this.socket.destroy();
  }

  /** Parses data[0, end): a view of no more than that is made only where bytes are kept or passed on. */
  private parse(ex: Http1Exchange, data: Buffer, end: number): void {
    let offset = 0;
    while (offset < end && !ex.finished) {
      switch (this.state) {
        case HEAD: {
          const used = this.parseHead(ex, data, offset, end);
          if (used < 0) return;
          offset = used;
          break;
        }
        case BODY_LENGTH: {
          const chunk = this.takeBody(data, offset, end);
          offset += chunk.length;
          if (this.remaining === 0) this.finishBody(ex, true, chunk);
          else this.deliver(ex, chunk);
          break;
        }
        case CHUNKED:
          offset = this.chunks.decode(data, offset, end, this);
          // Trailer fields are dropped, as node:http's pipe drops them. A destination that gave up on the way has
          // aborted the exchange already.
          if (this.chunks.done && !ex.finished) this.finishBody(ex, true);
          break;
        case BODY_UNTIL_CLOSE:
          this.deliver(ex, span(data, offset, end));
          return;
        default:
          throw new Error('upstream sent bytes after its response');
      }
    }
    // Bytes after a complete response: whatever they are, the connection is out of step.
    if (offset < end) this.socket.destroy();
  }

  /** Up to `remaining` body bytes of data[offset, end), counted off. */
  private takeBody(data: Buffer, offset: number, end: number): Buffer {
    const n = Math.min(this.remaining, end - offset);
    this.remaining -= n;
    return this.viewOf(data, offset, offset + n);
  }

  /** data[from, to), made from the read buffer's memory when data is that buffer. */
  private viewOf(data: Buffer, from: number, to: number): Buffer {
    return data === this.readBuffer ? bufferOver(this.readBytes!, from, to - from) : data.subarray(from, to);
  }

  /**
   * Keeps buf[start, to), a head not all read, for the next read: a copy
   * when it is still in the reused read buffer. Throws past MAX_HEAD_BYTES.
   */
  private keepPartialHead(buf: Buffer, start: number, to: number): void {
    if (to - start > MAX_HEAD_BYTES) throw new Error('upstream response head too long');
    this.partial = this.partial === undefined && this.reusesReads ? ownCopy(buf.subarray(start, to)) : buf.subarray(start, to);
  }

  /** Parses the head at data[offset], the bytes read running to `end`; returns the offset after it, or -1 when it is not all here yet. */
  private parseHead(ex: Http1Exchange, data: Buffer, offset: number, end: number): number {
    const partial = this.partial;
    let buf = data;
    let start = offset;
    let to = end;
    if (partial !== undefined) {
      buf = ownCopy(partial, data.subarray(offset, end));
      start = 0;
      to = buf.length;
    }
    const head = partial !== undefined && !headEndArrived(buf, partial.length) ? undefined : parseResponseHead(buf, start, to, buf === this.readBuffer ? this.readBytes : undefined);
    if (head === undefined) {
      this.keepPartialHead(buf, start, to);
      return -1;
    }
    if (head.size > MAX_HEAD_BYTES) throw new Error('upstream response head too long');
    this.partial = undefined;
    const consumed = partial === undefined ? start + head.size : offset + head.size - partial.length;
    const status = head.statusCode;
    if (status < 200 && status !== 101) {
      // Interim responses (100 Continue, 103 Early Hints) are not passed on; the final one follows.
      return consumed;
    }
    const request = ex.request;
    if (status === 101) {
      if (!request.upgrade) throw new Error('upstream switched protocols unasked');
      this.upgrade(ex, head, buf.subarray(start + head.size, to));
      return -1;
    }
    this.keepAlive = head.keepAlive && !request.upgrade;
    const framing = head.framing;
    if (request.method === 'HEAD' || status === 204 || status === 304) {
      this.state = DONE;
    } else if (framing === 'chunked') {
      this.chunks.reset();
      this.state = CHUNKED;
    } else if (framing === 'close') {
      this.keepAlive = false;
      this.state = BODY_UNTIL_CLOSE;
    } else {
      this.remaining = framing;
      this.state = framing === 0 ? DONE : BODY_LENGTH;
    }
    ex.listener.onUpstreamResponse(ex, head);
    head.release();
    if (ex.destination === undefined && !ex.discarding) ex.abort();
    if (this.state === DONE && !ex.finished) this.finishBody(ex, true);
    return consumed;
  }

  /** Chunk data of the response in progress, data[from, to). */
  bodyRead(data: Buffer, from: number, to: number): void {
    const ex = this.exchange;
    // A destination that gave up (the client left) aborts the exchange; the rest of the read is not for anyone.
    if (ex !== undefined && !ex.finished) this.deliver(ex, this.viewOf(data, from, to));
  }

  private deliver(ex: Http1Exchange, chunk: Buffer): void {
    const dest = ex.destination;
    if (dest === undefined || chunk.length === 0) return;
    if (!this.pass(dest, chunk, false)) {
      this.paused = true;
      this.socket.pause();
      dest.once('drain', this.resume);
    }
  }

  private finishBody(ex: Http1Exchange, complete: boolean, last?: Buffer): void {
    this.state = DONE;
    ex.finished = true;
    this.served++;
    this.exchange = undefined;
    const dest = ex.destination;
    if (!this.keepAlive) this.socket.destroy();
    else {
      // Paused if a slow client held the body back; idle reads must still see a close or stray bytes.
      if (this.paused) this.resume();
      this.releaseIfSent(ex);
    }
    if (dest !== undefined) {
      if (last !== undefined && last.length > 0) this.pass(dest, last, true);
      else dest.end();
      ex.listener.onUpstreamBodyEnd(ex, complete);
    }
  }

  /**
   * Writes `chunk` to `dest`, or ends `dest` with it. Bytes of the reused
   * read buffer go as they are when `dest` copies them anyway; otherwise
   * they are copied when small or when `dest` may keep what it is given, or
   * else lent, and if `dest` still holds them after the call, that buffer is
   * left to it and the next read gets a new one.
   */
  private pass(dest: BodyDestination, chunk: Buffer, end: boolean): boolean {
    const copied = !this.reusesReads || dest.copiesChunk?.(chunk.length) === true;
    const lend = !copied && chunk.length >= POOLED_COPY_BELOW && dest.holdsChunks !== undefined;
    const given = copied || lend ? chunk : Buffer.from(chunk);
    let flushed = true;
    if (end) dest.end(given);
    else flushed = dest.write(given);
    if (lend && dest.holdsChunks!()) this.readBuffer = undefined;
    return flushed;
  }

  private upgrade(ex: Http1Exchange, head: ResponseHead, rest: Buffer): void {
    ex.finished = true;
    this.exchange = undefined;
    const socket = this.socket;
    // Paused first: with its data listener gone a flowing socket would drop what it reads next.
    socket.pause();
    socket.off('data', onSocketData);
    socket.off('error', onSocketError);
    socket.off('close', onSocketClose);
    connections.delete(this);
    this.endpoint.forget(this);
    ex.listener.onUpstreamUpgrade(ex, head, socket, rest);
    head.release();
  }
}

/**
 * A parsed response head. Its field lines stay in the bytes they came in,
 * runs between the hop-by-hop lines left out, until something asks for them
 * as text: relaying them to an HTTP/1.1 client copies bytes (see FieldBytes).
 */
class ResponseHead implements UpstreamResponse, FieldBytes {
  private lines: string | undefined;
  private fields: string[] | undefined;
  readonly byteLength: number;

  constructor(
    readonly statusCode: number,
    readonly statusMessage: string,
    readonly connection: string | undefined,
    readonly upgrade: string | undefined,
    readonly keepAlive: boolean,
    /** Content length, 'chunked', or 'close' (the body runs until the connection closes). */
    readonly framing: number | 'chunked' | 'close',
    readonly hasDate: boolean,
    readonly hasLength: boolean,
    /** How many bytes the head took, its final CRLFCRLF included. */
    readonly size: number,
    /** Where the field lines are: source[fieldsAt, fieldsEnd), less the [start, end) pairs in `cuts`. */
    private source: Buffer | undefined,
    private readonly fieldsAt: number,
    private readonly fieldsEnd: number,
    private readonly cuts: number[] | undefined,
    /** source's memory when source starts it and the caller knew it (see parseResponseHead). */
    private readonly sourceBytes: ArrayBuffer | undefined,
  ) {
    let length = fieldsEnd - fieldsAt;
    if (cuts !== undefined) for (let i = 0; i < cuts.length; i += 2) length -= cuts[i + 1]! - cuts[i]!;
    this.byteLength = length;
  }

  get bodyLength(): number | undefined {
    return typeof this.framing === 'number' ? this.framing : undefined;
  }

  get fieldBytes(): FieldBytes | undefined {
    return this.source === undefined ? undefined : this;
  }

  copyTo(out: Uint8Array, at: number): number {
    const src = this.source!;
    // Read at most once per head: each is a call into V8's runtime.
    const bytes = this.sourceBytes ?? src.buffer;
    const base = this.sourceBytes !== undefined ? 0 : src.byteOffset;
    const cuts = this.cuts;
    let from = this.fieldsAt;
    if (cuts !== undefined) {
      for (let i = 0; i < cuts.length; i += 2) {
        at = copyRun(src, bytes, base, from, cuts[i]!, out, at);
        from = cuts[i + 1]!;
      }
    }
    return copyRun(src, bytes, base, from, this.fieldsEnd, out, at);
  }

  /** The field lines as received (each ending CRLF), hop-by-hop ones left out. */
  get fieldLines(): string {
    if (this.lines !== undefined) return this.lines;
    if (this.source === undefined) throw new Error('response head read after its bytes were released');
    const bytes = Buffer.allocUnsafe(this.byteLength);
    this.copyTo(bytes, 0);
    return (this.lines = bytes.toString('latin1'));
  }

  /** Built from fieldLines: the hop-by-hop fields are not in it, which every user of it drops anyway. */
  get rawHeaders(): string[] {
    return (this.fields ??= fieldList(this.fieldLines));
  }

  /** The bytes are about to be read over: what was not taken as text by now never will be. */
  release(): void {
    this.source = undefined;
  }
}

/**
 * Copies src[from, to) to out[at...]; returns where the copy ends in `out`.
 * `bytes` and `base` are src's ArrayBuffer and byteOffset.
 */
function copyRun(src: Buffer, bytes: ArrayBufferLike, base: number, from: number, to: number, out: Uint8Array, at: number): number {
  const n = to - from;
  if (n >= NATIVE_SET_FROM) {
    copyInto(out, new Uint8Array(bytes, base + from, n), at);
    return at + n;
  }
  while (from < to) out[at++] = src[from++]!;
  return at;
}

const SP = 0x20;

/**
 * Parses the response head at buf[from], the bytes read so far running to
 * `to`; undefined when it has not all arrived, and throws on anything
 * malformed. Bytes are checked in place, in one pass that also finds where
 * the head ends: a loop over a Buffer costs far less per character than one
 * over a string, and strings are made only of the values read here.
 * `bufBytes`, when given, is buf's memory, which buf starts.
 */
export function parseResponseHead(buf: Buffer, from: number, to: number, bufBytes?: ArrayBuffer): ResponseHead | undefined {
  // HTTP-version SP 3DIGIT SP [reason] CRLF
  const eol = scanLineEnd(buf, from, to);
  if (eol === HEAD_INCOMPLETE) return undefined;
  const minor = buf[from + 7]! - 0x30;
  const statusCode = threeDigits(buf, from + 9);
  if (eol - from < 12 || !bytesAt(buf, from, HTTP1) || !(minor === 0 || minor === 1) || buf[from + 8] !== SP || statusCode < 100 || (eol > from + 12 && buf[from + 12] !== SP)) {
    throw new Error('upstream sent an invalid status line');
  }
  const fieldsAt = eol + 2;
  const headEnd = fieldScan.scan(buf, fieldsAt, to);
  if (headEnd === HEAD_INCOMPLETE) return undefined;
  if (headEnd === HEAD_INVALID) throw new Error('upstream sent an invalid header line');
  let connection: string | undefined;
  let upgrade: string | undefined;
  let contentLength: number | undefined;
  let transferEncoding: string | undefined;
  let hasDate = false;
  // The hop-by-hop lines, as [start, end) pairs: the rest is relayed as received.
  let cuts: number[] | undefined;
  for (let i = 0; i < fieldScan.count; i++) {
    const start = fieldScan.nameAt(i);
    const colon = fieldScan.colonAt(i);
    const end = fieldScan.endAt(i);
    let hopByHop = false;
    // Names are told apart by length, then compared in place: most fields are none of these.
    switch (colon - start) {
      case 2:
        hopByHop = nameIs(buf, start, 'te');
        break;
      case 4:
        if (nameIs(buf, start, 'date')) hasDate = true;
        break;
      case 7:
        if (nameIs(buf, start, 'upgrade')) {
          upgrade = valueAt(buf, colon + 1, end);
          hopByHop = true;
        } else hopByHop = nameIs(buf, start, 'trailer');
        break;
      case 10:
        if (nameIs(buf, start, 'connection')) {
          // The usual value is recognised in place, as the shared string the checks below compare by identity.
          const value = valueIs(buf, colon, end, KEEP_ALIVE) ? KEEP_ALIVE : valueAt(buf, colon + 1, end);
          connection = connection === undefined ? value : `${connection}, ${value}`;
          hopByHop = true;
        } else hopByHop = nameIs(buf, start, 'keep-alive');
        break;
      case 14:
        if (nameIs(buf, start, 'content-length')) {
          const n = contentLengthValue(buf, colon, end);
          if (contentLength !== undefined && contentLength !== n) throw new Error('upstream sent conflicting Content-Length fields');
          contentLength = n;
        } else hopByHop = nameIs(buf, start, 'http2-settings');
        break;
      case 16:
        hopByHop = nameIs(buf, start, 'proxy-connection');
        break;
      case 17:
        if (nameIs(buf, start, 'transfer-encoding')) {
          const value = valueAt(buf, colon + 1, end);
          transferEncoding = transferEncoding === undefined ? value : `${transferEncoding}, ${value}`;
          hopByHop = true;
        }
        break;
    }
    if (hopByHop) {
      // Made to its size: most heads have one such line (Connection), and a growing array would reserve room for
      // sixteen. Lines next to each other (Node sends Connection and Keep-Alive so) make one cut.
      if (cuts === undefined) cuts = [start, end + 2];
      else if (cuts[cuts.length - 1] === start) cuts[cuts.length - 1] = end + 2;
      else cuts.push(start, end + 2);
    }
  }
  const keepAlive = minor === 1 && (connection === undefined || connection === KEEP_ALIVE || !hasToken(connection.toLowerCase(), 'close'));
  let framing: ResponseHead['framing'];
  if (transferEncoding !== undefined) {
    // Both framings at once is how response smuggling starts; RFC 9112 §6.3 lets us treat it as an error.
    if (contentLength !== undefined) throw new Error('upstream sent both Transfer-Encoding and Content-Length');
    framing = /(?:^|,)\s*chunked\s*$/i.test(transferEncoding) ? 'chunked' : 'close';
  } else {
    framing = contentLength ?? 'close';
  }
  const statusMessage = eol > from + 13 ? reasonPhrase(buf, statusCode, from + 13, eol) : '';
  return new ResponseHead(statusCode, statusMessage, connection, upgrade, keepAlive, framing, hasDate, contentLength !== undefined, headEnd + 2 - from, buf, fieldsAt, headEnd, cuts, bufBytes);
}

/** The reason phrase buf[start, end): node's own string for the code when it is that one, which makes none. */
function reasonPhrase(buf: Buffer, status: number, start: number, end: number): string {
  const usual = STATUS_CODES[status];
  return usual !== undefined && textIs(buf, start, end, usual) ? usual : buf.toString('latin1', start, end);
}

const KEEP_ALIVE = 'keep-alive';

/** Whether the value of the field line buf[colon, end) (its colon to its CR) is exactly `expected`, whitespace around it aside. */
function valueIs(buf: Buffer, colon: number, end: number, expected: string): boolean {
  const start = owsSkipped(buf, colon + 1, end);
  return textIs(buf, start, owsTrimmed(buf, start, end), expected);
}

const HTTP1 = Buffer.from('HTTP/1.');

/** The Content-Length value of the field line buf[colon, end) (its colon to its CR): `1*DIGIT`, or a list of identical ones (RFC 9110 §8.6). */
function contentLengthValue(buf: Buffer, colon: number, end: number): number {
  let n = -1;
  // Each item runs from after a colon or comma to the next comma or the line's end.
  for (let at = colon; at < end; ) {
    // Searched for within the line: past it come the other fields and perhaps a body.
    let comma = at + 1;
    while (comma < end && buf[comma] !== 0x2c /* , */) comma++;
    const v = decimalValue(buf, at, comma);
    if (v < 0) throw new Error('upstream sent an invalid Content-Length');
    if (n >= 0 && n !== v) throw new Error('upstream sent conflicting Content-Length values');
    n = v;
    at = comma;
  }
  return n;
}

/** The status code at buf[at, at + 3), or -1 when those are not three digits. */
function threeDigits(buf: Buffer, at: number): number {
  let n = 0;
  for (let i = at; i < at + 3; i++) {
    const d = buf[i]! - 0x30;
    if (!(d >= 0 && d <= 9)) return -1;
    n = n * 10 + d;
  }
  return n;
}

function hasToken(list: string, token: string): boolean {
  if (list === token) return true;
  if (!list.includes(token)) return false;
  for (const t of list.split(',')) if (t.trim() === token) return true;
  return false;
}

function onSocketData(this: TaggedSocket, data: Buffer): void {
  this[kConnection].onData(data);
}

function onSocketError(this: TaggedSocket, err: Error): void {
  this[kConnection].onError(err);
}

function onSocketClose(this: TaggedSocket): void {
  this[kConnection].onClose();
}

function onSocketConnect(this: TaggedSocket): void {
  this[kConnection].connected();
}

function onConnectTimeout(conn: Connection): void {
  conn.connectTimedOut();
}
