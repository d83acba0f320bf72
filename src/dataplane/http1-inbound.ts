// The fast path for client HTTP/1.1 on cleartext listeners. node:http's server
// costs an IncomingMessage and a ServerResponse (both streams), a parser
// round trip into C++ and back, and several listener registrations per
// request; most requests a gateway carries are simple keep-alive GETs, so
// those are parsed here and answered through a small response object that
// writes the head and a small body in one call.
//
// Only what is plainly valid and simple stays here: HTTP/1.1, no body or one
// framed by a plain Content-Length or as chunked (with Expect: 100-continue or
// not), no duplicate fields, no Upgrade, a Host field. Such a body is handed
// on as it is read, in the shared read buffer, so an upload costs no
// allocation per read unless it has to wait; chunked framing is decoded
// strictly on the way (see chunked.ts), and a body it refuses fails its
// request with a 400 and closes the connection. Anything else is handed, at
// that request boundary and with its bytes put back, to node:http, which
// serves the rest of the connection as before (and answers malformed input
// with its usual 400s). So the fast path never has to be lenient.

// Buffer and the timer functions as imports: the globals are read through a call (an accessor) or an
// unfoldable global load on every use on the request path.
import { Buffer } from 'node:buffer';
import { setImmediate, setTimeout } from 'node:timers';
import { EventEmitter } from 'node:events';
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import { ChunkedDecoder, ChunkedSyntaxError, chunkSizeLine } from './chunked.js';
import { writeDirect } from './direct-write.js';
import { NOT_FORWARDED } from './headers.js';
import { bytesAt, COMMON_FIELD_NAMES, commonFieldIndex, decimalValue, fieldList, fieldScan, fieldValue, HEAD_INCOMPLETE, HEAD_INVALID, headEndArrived, isTokenByte, latin1Text, owsSkipped, owsTrimmed, textIs, tokenEnd } from './http-syntax.js';
import { IDLE_UNSEEN, idleTooLong, type IdleSweep } from './idle-sweep.js';
import type { FieldBytes } from './upstream.js';
import { copyInto, owned, ownCopy, readByNode, readInPlace, span } from './read-in-place.js';

/** Node's default maxHeaderSize: a longer head goes to node:http, which answers 431. */
const MAX_HEAD_BYTES = 16 * 1024;

/** An idle keep-alive connection is closed after this long (node:http's default keepAliveTimeout). */
export const KEEP_ALIVE_TIMEOUT_MS = 5_000;

/** A request head must arrive whole within this long of its first byte (node:http's default headersTimeout). */
const HEADERS_TIMEOUT_MS = 60_000;

/** A request's body must have arrived whole within this long of its head (node:http's default requestTimeout). */
export const REQUEST_TIMEOUT_MS = 300_000;

/** A head and a body up to this size are copied into one buffer and written at once. */
const SINGLE_WRITE_MAX = 16 * 1024;

/** Pipelined bytes, or body bytes nobody reads yet, buffered while a response is in progress before reading pauses. */
const MAX_PIPELINED_BYTES = 64 * 1024;

/**
 * Request body bytes still read, and thrown away, after the response has
 * ended without taking the whole body (an early 413, a 404): up to this many,
 * so that an HTTP/1.1 client connection stays usable. Past it the connection
 * is closed after the response instead, as nginx's discard/lingering close
 * does: reading a large upload nobody wants costs more than a new connection.
 */
export const DISCARD_LIMIT = 4 * 1024 * 1024;

/** How long a closed HTTP/1.1 connection may keep sending before it is destroyed; see lingeringClose. */
const LINGER_MS = 2_000;

/** How a head ends on a connection that stays open. */
const KEEP_ALIVE_END = `Connection: keep-alive\r\nKeep-Alive: timeout=${KEEP_ALIVE_TIMEOUT_MS / 1000}\r\n\r\n`;

/** How a head ends on a connection that closes after it. */
const CLOSE_END = 'Connection: close\r\n\r\n';
const CHUNKED_LINE = 'Transfer-Encoding: chunked\r\n';
/** The interim response to Expect: 100-continue, sent at once as node:http does. */
const CONTINUE = 'HTTP/1.1 100 Continue\r\n\r\n';
/** The answer to a body whose framing is malformed, as node:http gives it to a request it cannot parse. */
const BAD_REQUEST = 'HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n';

const KEEP_ALIVE_END_BYTES = Buffer.from(KEEP_ALIVE_END, 'latin1');
const CLOSE_END_BYTES = Buffer.from(CLOSE_END, 'latin1');
const CHUNKED_LINE_BYTES = Buffer.from(CHUNKED_LINE, 'latin1');

let cachedDate = '';
let cachedDateLine: Buffer | undefined;
let cachedDateSecond = -1;

/** The Date field, recomputed at most once a second. */
function httpDate(): string {
  const now = Date.now();
  const second = Math.floor(now / 1000);
  if (second !== cachedDateSecond) {
    cachedDateSecond = second;
    cachedDate = new Date(now).toUTCString();
    cachedDateLine = undefined;
  }
  return cachedDate;
}

/** The Date field line, as bytes. */
function dateLineBytes(): Buffer {
  const date = httpDate();
  return (cachedDateLine ??= Buffer.from(`Date: ${date}\r\n`, 'latin1'));
}

/** Status lines with node's reason phrase for their code, by code. */
const STATUS_LINES: Buffer[] = [];

/** The status line for `status` and `reason`, a shared buffer when the reason is the usual one (parsers hand on that very string). */
function statusLineOf(status: number, reason: string): Buffer {
  if (reason === STATUS_CODES[status]) return (STATUS_LINES[status] ??= Buffer.from(`HTTP/1.1 ${status} ${reason}\r\n`, 'latin1'));
  return Buffer.from(`HTTP/1.1 ${status} ${reason}\r\n`, 'latin1');
}

/**
 * Takes a fast-path request's body. A chunk given as `transient` is in the
 * shared read buffer, valid only during the call: what is kept is copied.
 */
export interface FastBodyReader {
  onRequestData(chunk: Buffer, transient: boolean): void;
  /**
   * Whether onRequestParts may be given several transient chunks at once
   * now; when not, or when the reader has no such method, they come one by
   * one through onRequestData.
   */
  takesParts?(): boolean;
  /** Transient chunks read together, in order (the data of a read's chunks of a chunked body). */
  onRequestParts?(chunks: readonly Buffer[]): void;
  onRequestEnd(): void;
}

/**
 * At most this many chunks of a chunked body are gathered before they are
 * handed on: each becomes three parts of one writev, which takes 1,024.
 */
const MAX_GATHERED_CHUNKS = 256;

/**
 * An HTTP/1.1 request, shaped like the parts of IncomingMessage the data
 * plane reads. Its body, if any, goes to one reader (readBody) from the first
 * resume(), with pause() and resume() as a stream's.
 */
export class FastRequest {
  /** Body bytes not yet read from the connection: Infinity for a chunked body until its end has been read. */
  bodyLeft: number;
  private reader: FastBodyReader | undefined;
  private flowing = false;
  /** Body bytes read while the reader was not flowing, copied, and how many. */
  private held: Buffer[] | undefined;
  private heldBytes = 0;
  private endTold = false;
  /** The response is over: the connection drops the rest of the body. */
  private detached = false;
  /**
   * A chunked body's data in the read being decoded, gathered while the
   * reader flows and handed on together when the read is done (see
   * handOnGathered): one upstream write per read rather than per chunk.
   */
  private readonly gathered: Buffer[] | undefined;

  constructor(
    readonly method: string,
    readonly url: string,
    /** Lower-case names; every name appears once (requests with repeats take the node:http path). */
    readonly headers: Record<string, string>,
    readonly socket: Socket,
    /** The client's address, as socket.remoteAddress gives it: read once per connection, since every read of it goes through several getters, one of them megamorphic. */
    readonly remoteAddress: string | undefined,
    /**
     * The field lines as read (each ending CRLF), less those a proxy does not
     * pass on as they are: hop-by-hop ones and the X-Forwarded ones it sets.
     */
    readonly forwardLines: string,
    /** The head as read, without its final empty line, and where its field lines start: rawHeaders is made from them when asked for. */
    private readonly head: string,
    private readonly fieldsAt: number,
    bodyLength: number,
    /** A chunked body's framing, as read so far. */
    readonly chunks: ChunkedDecoder | undefined,
  ) {
    this.bodyLeft = bodyLength;
    this.gathered = chunks === undefined ? undefined : [];
  }

  /** The fast path serves HTTP/1.1 alone; a getter, since a field would cost every request 8 bytes. */
  get httpVersion(): '1.1' {
    return '1.1';
  }

  /** How many bytes the head took, its final CRLFCRLF included. */
  get headSize(): number {
    return this.head.length + 2;
  }

  get rawHeaders(): string[] {
    return fieldList(this.head, this.fieldsAt);
  }

  get headersDistinct(): NodeJS.Dict<string[]> {
    const out: NodeJS.Dict<string[]> = {};
    for (const name in this.headers) out[name] = [this.headers[name]!];
    return out;
  }

  /** Hands the body to `reader` once resume() is called. */
  readBody(reader: FastBodyReader): void {
    this.reader = reader;
  }

  pause(): this {
    if (!this.flowing) return this;
    this.flowing = false;
    if (this.bodyLeft > 0 && !this.detached) this.socket.pause();
    return this;
  }

  resume(): this {
    const reader = this.reader;
    if (this.flowing || reader === undefined || this.detached) return this;
    this.flowing = true;
    const held = this.held;
    if (held !== undefined) {
      // Copies already: the reader may keep them.
      while (held.length > 0 && this.flowing) {
        const chunk = held.shift()!;
        this.heldBytes -= chunk.length;
        reader.onRequestData(chunk, false);
      }
      // Paused again, or detached (which stops the flow), by the reader.
      if (!this.flowing) return this;
      this.held = undefined;
    }
    if (this.bodyLeft === 0) this.endBody();
    else this.socket.resume();
    return this;
  }

  /** Body bytes read, buf[from, to): handed on, kept while nobody reads, or dropped once the response is over. */
  bodyRead(buf: Buffer, from: number, to: number): void {
    this.bodyLeft -= to - from;
    if (this.detached) return;
    if (!this.flowing) this.hold(buf, from, to);
    else if (this.gathered === undefined) this.reader!.onRequestData(span(buf, from, to), true);
    else if (this.gathered.push(span(buf, from, to)) === MAX_GATHERED_CHUNKS) this.handOnGathered();
    this.endIfHandedOn();
  }

  /** Hands on the chunk data gathered from the read just decoded: at once when the reader takes parts, else one by one. */
  handOnGathered(): void {
    const chunks = this.gathered;
    if (chunks === undefined || chunks.length === 0) return;
    const reader = this.reader!;
    if (chunks.length > 1 && reader.takesParts?.() === true) reader.onRequestParts!(chunks);
    else {
      for (let i = 0; i < chunks.length && !this.detached; i++) {
        const chunk = chunks[i]!;
        // The reader may pause at any chunk: the rest wait, copied, until it resumes.
        if (this.flowing) reader.onRequestData(chunk, true);
        else this.hold(chunk, 0, chunk.length);
      }
    }
    chunks.length = 0;
  }

  private hold(buf: Buffer, from: number, to: number): void {
    (this.held ??= []).push(Buffer.copyBytesFrom(buf, from, to - from));
    this.heldBytes += to - from;
    if (this.heldBytes > MAX_PIPELINED_BYTES) this.socket.pause();
  }

  /** A chunked body's end has been read. */
  chunkedBodyEnded(): void {
    this.bodyLeft = 0;
    this.endIfHandedOn();
  }

  /** The response is over: nothing more reaches the reader. */
  detach(): void {
    this.detached = true;
    this.flowing = false;
    this.held = undefined;
  }

  /** Tells the end once the whole body has been read and handed on. */
  private endIfHandedOn(): void {
    if (this.bodyLeft === 0 && this.flowing && this.held === undefined) this.endBody();
  }

  private endBody(): void {
    if (this.endTold) return;
    this.endTold = true;
    this.reader!.onRequestEnd();
  }
}

/**
 * The response to a FastRequest, shaped like the parts of ServerResponse the
 * data plane uses. Emits 'finish' and then 'close' from within end(), or
 * 'close' alone when the connection is lost first.
 *
 * An EventEmitter whose constructor is never run: its methods create the
 * listener table on the first registration, and most responses have none
 * besides their exchange's 'close', which onClose keeps in a field. A table
 * per response is a dictionary-mode object, a sizeable share of what a
 * request allocates.
 */
export interface FastResponse extends EventEmitter {}
export class FastResponse {
  statusCode = 200;
  headersSent = false;
  destroyed = false;
  writableEnded = false;
  writableFinished = false;
  /**
   * The head waiting for the first body bytes, so that both go out in one
   * write: text, or bytes ending at headLength with room after them for a
   * body of known length.
   */
  private head: string | Buffer | undefined;
  private headLength = 0;
  private chunked = false;
  private bodyless: boolean;
  /** The first 'close' listener; see onClose. */
  private closeListener: (() => void) | undefined;

  constructor(
    readonly req: FastRequest,
    private readonly conn: FastConnection,
  ) {
    this.bodyless = req.method === 'HEAD';
  }

  /** Listens for 'close' (called with the response as `this`, as by emit); the first listener takes no listener table. */
  onClose(listener: () => void): void {
    if (this.closeListener === undefined) this.closeListener = listener;
    else this.on('close', listener);
  }

  private closed(): void {
    this.conn.responseClosed(this);
    this.closeListener?.call(this);
    this.emitIfListened('close');
  }

  /**
   * Emits `event` when anything has registered through EventEmitter's
   * methods. The table is looked for here, where responses have one shape,
   * rather than by emit(), whose load of it every kind of emitter shares and
   * has made megamorphic.
   */
  emitIfListened(event: 'finish' | 'close' | 'drain'): void {
    if ((this as { _events?: object })._events !== undefined) this.emit(event);
  }

  get socket(): Socket {
    return this.conn.socket;
  }

  /** `headers` is a flat name/value list, already valid (upstream heads are parsed strictly; filters are checked when compiled). */
  writeHead(status: number, reason: string | undefined, headers: readonly string[]): this {
    let lines = '';
    let date = false;
    let length = false;
    let connection = false;
    for (let i = 0; i < headers.length; i += 2) {
      const name = headers[i]!;
      const value = headers[i + 1]!;
      lines += `${name}: ${value}\r\n`;
      switch (name.length) {
        case 4:
          if (name.toLowerCase() === 'date') date = true;
          break;
        case 10:
          if (name.toLowerCase() === 'connection') {
            connection = true;
            if (value.toLowerCase().includes('close')) this.conn.keepAlive = false;
          }
          break;
        case 14:
          if (name.toLowerCase() === 'content-length') length = true;
          break;
      }
    }
    return this.writeFieldLines(status, reason, lines, date, length, connection);
  }

  /**
   * Writes a head from field lines already serialised (each ending CRLF)
   * and already valid, adding Date, framing and Connection fields where they
   * do not say: `date`, `length` and `connection` tell whether they have
   * their own Date, Content-Length and Connection lines.
   */
  writeFieldLines(status: number, reason: string | undefined, lines: string, date: boolean, length: boolean, connection: boolean): this {
    this.frame(status, length);
    let head = `HTTP/1.1 ${status} ${reason ?? STATUS_CODES[status] ?? 'Unknown'}\r\n${lines}`;
    if (!date) head += `Date: ${httpDate()}\r\n`;
    if (this.chunked) head += CHUNKED_LINE;
    if (this.conn.keepAlive) head += KEEP_ALIVE_END;
    else head += connection ? '\r\n' : CLOSE_END;
    this.head = head;
    this.headersSent = true;
    return this;
  }

  /** Takes `status` and how the body is framed: not at all, by the head's own Content-Length (`length`), or chunked. */
  private frame(status: number, length: boolean): void {
    this.statusCode = status;
    // Answered with more of the body still to come than is worth reading and dropping: say the connection ends.
    if (this.req.bodyLeft > DISCARD_LIMIT) this.conn.keepAlive = false;
    if (status === 204 || status === 304 || status < 200) this.bodyless = true;
    else if (!length && !this.bodyless) this.chunked = true;
  }

  /**
   * Writes a head whose field lines are an upstream's, copied as bytes
   * (already checked, hop-by-hop ones left out) into the buffer its body
   * will join when `bodyLength` says that body is small enough.
   */
  relayFieldBytes(status: number, reason: string, fields: FieldBytes, date: boolean, bodyLength: number | undefined): this {
    this.frame(status, bodyLength !== undefined);
    const statusLine = statusLineOf(status, reason);
    const dateLine = date ? undefined : dateLineBytes();
    const end = this.conn.keepAlive ? KEEP_ALIVE_END_BYTES : CLOSE_END_BYTES;
    const size = statusLine.length + fields.byteLength + (dateLine?.length ?? 0) + (this.chunked ? CHUNKED_LINE_BYTES.length : 0) + end.length;
    const room = bodyLength !== undefined && !this.bodyless && bodyLength <= SINGLE_WRITE_MAX ? bodyLength : 0;
    const head = Buffer.allocUnsafe(size + room);
    copyInto(head, statusLine, 0);
    let at = fields.copyTo(head, statusLine.length);
    if (dateLine !== undefined) {
      copyInto(head, dateLine, at);
      at += dateLine.length;
    }
    if (this.chunked) {
      copyInto(head, CHUNKED_LINE_BYTES, at);
      at += CHUNKED_LINE_BYTES.length;
    }
    copyInto(head, end, at);
    this.head = head;
    this.headLength = size;
    this.headersSent = true;
    return this;
  }

  /** The connection ends after this response. */
  closeAfter(): void {
    this.conn.keepAlive = false;
  }

  write(chunk: Buffer): boolean {
    if (this.destroyed || this.writableEnded) return false;
    if (!this.headersSent) this.writeHead(this.statusCode, undefined, []);
    return this.send(chunk, false);
  }

  end(chunk?: Buffer): this {
    if (this.writableEnded || this.destroyed) return this;
    if (!this.headersSent) this.writeHead(this.statusCode, undefined, []);
    this.writableEnded = true;
    this.send(chunk, true);
    this.writableFinished = true;
    this.conn.responseEnded(this);
    // At once rather than on a tick: a tick per response costs node a queue entry and a pass over its
    // promise-rejection bookkeeping. Everything that listens is registered before the response can end.
    this.emitIfListened('finish');
    this.closed();
    return this;
  }

  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.conn.socket.destroy();
  }

  /** Whether what write() and end() were given may still be referenced: they are once the socket has had to queue it. */
  holdsChunks(): boolean {
    return this.conn.socket.writableLength > 0;
  }

  /** A chunk is copied when it goes out with the head (see send) or is not sent at all. */
  copiesChunk(length: number): boolean {
    return this.bodyless || this.sendsWithHead(length);
  }

  /** Whether a body chunk of `length` bytes sent now goes out in one buffer with the head. */
  private sendsWithHead(length: number): boolean {
    const head = this.head;
    if (head === undefined || this.chunked) return false;
    return typeof head === 'string' ? length <= SINGLE_WRITE_MAX : length <= head.length - this.headLength;
  }

  /** The head alone, as written when no body goes with it. */
  private headOnly(head: string | Buffer): string | Buffer {
    return typeof head === 'string' ? head : span(head, 0, this.headLength);
  }

  /** The connection is gone; a response not yet ended never will be. */
  lost(): void {
    if (this.writableEnded) return;
    this.destroyed = true;
    this.closed();
  }

  private send(chunk: Buffer | undefined, last: boolean): boolean {
    const socket = this.conn.socket;
    const body = this.bodyless || chunk === undefined || chunk.length === 0 ? undefined : chunk;
    const withHead = body !== undefined && this.sendsWithHead(body.length);
    const head = this.head;
    this.head = undefined;
    if (body === undefined && !(last && this.chunked)) return head === undefined ? true : writeDirect(socket, this.headOnly(head));
    if (withHead) {
      // One buffer, one plain write: cheaper than the writev a corked head and body become.
      if (typeof head !== 'string') {
        copyInto(head!, body!, this.headLength);
        return writeDirect(socket, span(head!, 0, this.headLength + body!.length));
      }
      const out = Buffer.allocUnsafe(head.length + body!.length);
      out.write(head, 0, 'latin1');
      body!.copy(out, head.length);
      return writeDirect(socket, out);
    }
    socket.cork();
    if (head !== undefined) socket.write(this.headOnly(head), 'latin1');
    if (this.chunked) {
      if (body !== undefined) {
        socket.write(chunkSizeLine(body.length), 'latin1');
        socket.write(body);
        socket.write(last ? '\r\n0\r\n\r\n' : '\r\n', 'latin1');
      } else {
        socket.write('0\r\n\r\n', 'latin1');
      }
    } else {
      socket.write(body!);
    }
    socket.uncork();
    return socket.writableLength < socket.writableHighWaterMark;
  }
}

Object.setPrototypeOf(FastResponse.prototype, EventEmitter.prototype);

export type FastHandler = (req: FastRequest, res: FastResponse) => void;

/**
 * Told of every response as it closes, ended or lost, just before its
 * 'close' event: the server counts responses through this rather than a
 * listener on each one.
 */
export type FastCloseHook = (res: FastResponse) => void;

/** Takes over a connection that node:http should serve from here on, its unread bytes put back. */
export type Handoff = (socket: Socket) => void;

const kConnection = Symbol('fastConnection');
type TaggedSocket = Socket & { [kConnection]: FastConnection };

/** One client connection on the fast path. */
export class FastConnection {
  readonly socket: TaggedSocket;
  /** See FastRequest.remoteAddress. */
  private readonly remoteAddress: string | undefined;
  keepAlive = true;
  private response: FastResponse | undefined;
  /** The request whose body is still arriving: the next bytes read are its. */
  private body: FastRequest | undefined;
  /** When that request's head was parsed. */
  private bodyStartedAt = 0;
  /** Bytes read and not yet parsed: a partial head, or requests pipelined behind the one in progress. */
  private buffered: Buffer | undefined;
  private headStartedAt = 0;
  /** How many bytes of a head seen incomplete are known to hold no end; see headEndArrived. */
  private headSearched = 0;
  private handedOff = false;
  /** When a sweep first saw the connection idle since it was opened, a response ended or part of a head arrived; see idleTooLong. */
  idleSince = IDLE_UNSEEN;

  constructor(
    socket: Socket,
    private readonly handler: FastHandler,
    private readonly handoff: Handoff,
    private readonly tracked: IdleSweep<FastConnection>,
    readonly responseClosed: FastCloseHook,
  ) {
    this.socket = socket as TaggedSocket;
    this.socket[kConnection] = this;
    this.remoteAddress = socket.remoteAddress;
    tracked.add(this);
    socket.setNoDelay(true);
    // 'data' still brings what was read before the switch (and put back by protocol detection).
    readInPlace(socket, this);
    for (const [event, listener] of SOCKET_LISTENERS) socket.on(event, listener);
  }

  /** Not in the middle of a response: closing it now loses nothing the server has read. */
  get idle(): boolean {
    return this.response === undefined && this.buffered === undefined && this.body === undefined;
  }

  /**
   * A read into the shared buffer, buffer[0, length): what is kept past it is
   * copied; after a hand-off node:http reads a copy from the socket.
   */
  onRead(buffer: Buffer, length: number): void {
    if (this.handedOff) {
      if (!this.socket.push(Buffer.copyBytesFrom(buffer, 0, length))) this.socket.pause();
      return;
    }
    this.onData(buffer, length);
    if (this.buffered !== undefined) this.buffered = owned(this.buffered);
  }

  /** Bytes read: data[0, length). */
  onData(data: Buffer, length = data.length): void {
    if (this.body !== undefined) {
      const bodyEnd = this.feedBody(data, 0, length);
      if (bodyEnd === length) return;
      // A request pipelined behind a body: rare enough for a view of its own.
      data = data.subarray(bodyEnd, length);
      length = data.length;
    }
    // Closing after a response: whatever else the client sends is not read as a request.
    if (!this.keepAlive && this.response === undefined) return;
    if (this.buffered === undefined && this.response === undefined) {
      // Usually a read holds whole requests and nothing waits from before: they are parsed where they lie.
      if (!this.socket.destroyed) this.parseIn(data, length);
      return;
    }
    const bytes = span(data, 0, length);
    this.buffered = this.buffered === undefined ? bytes : ownCopy(this.buffered, bytes);
    if (this.response !== undefined) {
      // Pipelined: parsed once the response in progress ends.
      if (this.buffered.length > MAX_PIPELINED_BYTES) this.socket.pause();
      return;
    }
    this.parseNext();
  }

  closeIfIdle(now: number): void {
    // A request in progress is bounded by its route's timeouts, not by this one; its body is bounded by the request timeout.
    if (this.response === undefined ? idleTooLong(this, now, KEEP_ALIVE_TIMEOUT_MS) : this.body !== undefined && now - this.bodyStartedAt > REQUEST_TIMEOUT_MS) {
      this.socket.destroy();
    }
  }

  onDrain(): void {
    this.response?.emitIfListened('drain');
  }

  onClose(): void {
    this.tracked.delete(this);
    const res = this.response;
    this.response = undefined;
    res?.lost();
  }

  /**
   * Body bytes read, data[from, to), for the request whose body is arriving;
   * returns where its body ends in them (to, when it goes on past them).
   */
  private feedBody(data: Buffer, from: number, to: number): number {
    const req = this.body!;
    const chunks = req.chunks;
    let end: number;
    if (chunks === undefined) {
      end = Math.min(to, from + req.bodyLeft);
      req.bodyRead(data, from, end);
    } else {
      try {
        end = chunks.decode(data, from, to, req);
      } catch (err) {
        if (!(err instanceof ChunkedSyntaxError)) throw err;
        req.handOnGathered();
        this.refuseBody();
        return to;
      }
      req.handOnGathered();
      if (chunks.done) req.chunkedBodyEnded();
    }
    if (req.bodyLeft === 0) this.body = undefined;
    // A body arriving, however slowly, keeps the connection from idling out while it is being dropped.
    this.idleSince = IDLE_UNSEEN;
    return end;
  }

  /**
   * The body arriving is malformed: its request fails, with a 400 when
   * nothing was answered yet, and the connection closes, since where the
   * next request would start is unknown.
   */
  private refuseBody(): void {
    this.body!.detach();
    this.body = undefined;
    this.buffered = undefined;
    this.keepAlive = false;
    const res = this.response;
    this.response = undefined;
    const answered = res === undefined || res.headersSent;
    res?.lost();
    if (answered) this.socket.destroy();
    else {
      writeDirect(this.socket, BAD_REQUEST);
      lingeringClose(this.socket);
    }
  }

  responseEnded(res: FastResponse): void {
    if (res !== this.response) return;
    this.response = undefined;
    const body = this.body;
    // Answered before the whole body came: the rest is read and dropped, or, past the limit, the head said
    // the connection closes (see frame).
    body?.detach();
    if (!this.keepAlive) {
      if (body === undefined) this.socket.end();
      else lingeringClose(this.socket);
      return;
    }
    this.idleSince = IDLE_UNSEEN;
    if (body !== undefined) {
      // Paused while a reader held the body back; what follows the body is parsed as it arrives.
      this.socket.resume();
      return;
    }
    if (this.buffered !== undefined) {
      this.socket.resume();
      // After this response's events, so the next request does not start inside its handler.
      setImmediate(parseNextOf, this);
    }
  }

  parseNext(): void {
    const buf = this.buffered;
    if (buf === undefined || this.response !== undefined || this.handedOff || this.socket.destroyed) return;
    this.parseIn(buf, buf.length);
  }

  /** Serves the request at buf[0], the bytes so far running to `to`; what is not served yet is left in `buffered`. */
  private parseIn(buf: Buffer, to: number): void {
    const req = this.headStartedAt !== 0 && !headEndArrived(buf, this.headSearched) ? HEAD_INCOMPLETE : parseRequestHead(buf, to, this.socket, this.remoteAddress);
    if (req === HEAD_INCOMPLETE) {
      const kept = span(buf, 0, to);
      this.buffered = kept;
      const now = Date.now();
      // Bytes arriving, however slowly, keep the connection from idling out; the headers timeout bounds that.
      this.idleSince = IDLE_UNSEEN;
      if (this.headStartedAt === 0) this.headStartedAt = now;
      this.headSearched = to;
      // Not a request line's start (a TLS hello, say): node:http answers 400 at once rather than wait for a head.
      if (to > MAX_HEAD_BYTES || now - this.headStartedAt > HEADERS_TIMEOUT_MS || !startsLikeRequest(kept)) this.handOff();
      return;
    }
    this.headStartedAt = 0;
    if (req === undefined || req.headSize > MAX_HEAD_BYTES) {
      this.buffered = span(buf, 0, to);
      this.handOff();
      return;
    }
    // Body bytes that came with the head go to its reader once the handler has given it one. A chunked
    // body runs to the end of the read until its framing says where it ends.
    const bodyEnd = Math.min(to, req.headSize + req.bodyLeft);
    this.buffered = bodyEnd === to ? undefined : buf.subarray(bodyEnd, to);
    if (req.bodyLeft > 0) {
      this.body = req;
      this.bodyStartedAt = Date.now();
      // A client that sent some of its body already is not waiting to be asked.
      if (req.headers.expect !== undefined && bodyEnd === req.headSize) writeDirect(this.socket, CONTINUE);
    }
    if (req.headers.connection?.toLowerCase() === 'close') this.keepAlive = false;
    const res = new FastResponse(req, this);
    this.response = res;
    this.handler(req, res);
    if (bodyEnd === req.headSize || this.body !== req) return;
    const end = this.feedBody(buf, req.headSize, bodyEnd);
    if (end < bodyEnd) this.buffered = buf.subarray(end, bodyEnd);
    // The body came whole after a response that did not wait for it: the requests behind it are next.
    if (this.body === undefined && this.response === undefined && this.keepAlive && this.buffered !== undefined) setImmediate(parseNextOf, this);
  }

  /** Puts back what has not been served and lets node:http take the connection from this request on. */
  private handOff(): void {
    this.handedOff = true;
    const socket = this.socket;
    this.tracked.delete(this);
    socket.pause();
    for (const [event, listener] of SOCKET_LISTENERS) socket.off(event, listener);
    // node:http times its connections out with socket timeouts, which Node's read callback keeps up to date.
    readByNode(socket);
    if (this.buffered !== undefined) socket.unshift(owned(this.buffered));
    this.buffered = undefined;
    this.handoff(socket);
  }
}

/**
 * Ends a connection whose client may still be sending (a body nobody reads):
 * half-closed first, so the response is not lost to a reset while the client
 * writes, and destroyed after LINGER_MS if the client has not closed by then.
 */
export function lingeringClose(socket: Socket): void {
  if (socket.destroyed) return;
  socket.end();
  setTimeout(destroySocket, LINGER_MS, socket).unref();
}

function destroySocket(socket: Socket): void {
  socket.destroy();
}

const SP = 0x20;
const HTTP11_CRLF = Buffer.from(' HTTP/1.1\r\n');

/**
 * Whether a field's line is left out of the lines passed on as read: one
 * hop-by-hop or of the proxy's own, or an expectation, which is the proxy's
 * to meet (it answers 100 itself), not the upstream's.
 */
function leftOut(name: string): boolean {
  return NOT_FORWARDED.has(name) || name === 'expect';
}

/** leftOut for each common field name, by its index. */
const COMMON_LEFT_OUT = COMMON_FIELD_NAMES.map(leftOut);

/**
 * The number of the last head parsed, and for each common field name that of
 * the last head it was in: a repeated common field is told by these rather
 * than by looking its name up in the header object, a keyed load which every
 * shape that object takes shares (megamorphic).
 */
let headsParsed = 0;
const commonFieldSeenIn = new Float64Array(COMMON_FIELD_NAMES.length);

const FIELD_HOST = COMMON_FIELD_NAMES.indexOf('host');
const FIELD_USER_AGENT = COMMON_FIELD_NAMES.indexOf('user-agent');
const FIELD_ACCEPT = COMMON_FIELD_NAMES.indexOf('accept');
const FIELD_ACCEPT_ENCODING = COMMON_FIELD_NAMES.indexOf('accept-encoding');
const FIELD_ACCEPT_LANGUAGE = COMMON_FIELD_NAMES.indexOf('accept-language');
const FIELD_CONNECTION = COMMON_FIELD_NAMES.indexOf('connection');
const FIELD_CONTENT_TYPE = COMMON_FIELD_NAMES.indexOf('content-type');
const FIELD_CONTENT_LENGTH = COMMON_FIELD_NAMES.indexOf('content-length');
const FIELD_COOKIE = COMMON_FIELD_NAMES.indexOf('cookie');

/**
 * headers[name] = value, with a store site of its own for each of the fields
 * most requests have (`common` is the name's index in COMMON_FIELD_NAMES, or
 * -1). One keyed store site, seeing every name and every shape the header
 * object takes as fields arrive in different orders, is megamorphic: about
 * 500 instructions a field, where a named store that sees a few shapes is
 * inlined.
 */
function storeField(headers: Record<string, string>, common: number, name: string, value: string): void {
  switch (common) {
    case FIELD_HOST: headers.host = value; return;
    case FIELD_USER_AGENT: headers['user-agent'] = value; return;
    case FIELD_ACCEPT: headers.accept = value; return;
    case FIELD_ACCEPT_ENCODING: headers['accept-encoding'] = value; return;
    case FIELD_ACCEPT_LANGUAGE: headers['accept-language'] = value; return;
    case FIELD_CONNECTION: headers.connection = value; return;
    case FIELD_CONTENT_TYPE: headers['content-type'] = value; return;
    case FIELD_CONTENT_LENGTH: headers['content-length'] = value; return;
    case FIELD_COOKIE: headers.cookie = value; return;
    default: headers[name] = value;
  }
}

/**
 * The registered methods requests mostly use, by length. A method read as
 * one of these is this table's string: no string is made for it, and the
 * checks of req.method against constants compare by identity.
 */
const COMMON_METHODS: (string[] | undefined)[] = [];
for (const method of ['GET', 'PUT', 'HEAD', 'POST', 'PATCH', 'TRACE', 'DELETE', 'OPTIONS', 'CONNECT']) (COMMON_METHODS[method.length] ??= []).push(method);

/** The method buf[0, end) (text[0, end) as a string), a shared string when it is a common one. */
function methodAt(buf: Buffer, text: string, end: number): string {
  const methods = COMMON_METHODS[end];
  if (methods !== undefined) for (let i = 0; i < methods.length; i++) if (textIs(buf, 0, end, methods[i]!)) return methods[i]!;
  return text.slice(0, end);
}

/**
 * The last Host value read, and its bytes: consecutive requests mostly name
 * the same host, and passing the same string on lets the router's host cache
 * compare by identity. Two equal strings sliced from different heads compare
 * through a call into V8's runtime.
 */
let lastHost = '';
const lastHostBytes = new Uint8Array(256);
let lastHostLength = -1;

/** The value of a Host field line, text(colon, end) and the same bytes in buf: lastHost when it is the same. */
function hostValue(buf: Buffer, text: string, afterColon: number, end: number): string {
  const start = owsSkipped(buf, afterColon, end);
  const stop = owsTrimmed(buf, start, end);
  const n = stop - start;
  if (n === lastHostLength) {
    let i = 0;
    while (i < n && buf[start + i] === lastHostBytes[i]) i++;
    if (i === n) return lastHost;
  }
  lastHost = text.slice(start, stop);
  if (n > lastHostBytes.length) lastHostLength = -1;
  else {
    for (let i = 0; i < n; i++) lastHostBytes[i] = buf[start + i]!;
    lastHostLength = n;
  }
  return lastHost;
}

/**
 * Parses the request head at the start of buf, the bytes read so far
 * running to `to`, when it is one the fast path serves: HEAD_INCOMPLETE when
 * it has not all arrived, undefined to send it to node:http. Bytes are
 * checked in place, in one pass that also finds where the head ends;
 * strings are made of the parts kept.
 */
export function parseRequestHead(buf: Buffer, to: number, socket: Socket, remoteAddress = socket.remoteAddress): FastRequest | typeof HEAD_INCOMPLETE | undefined {
  // method SP request-target SP "HTTP/1.1" CRLF
  const sp1 = tokenEnd(buf, 0, to);
  if (sp1 === to) return HEAD_INCOMPLETE;
  if (sp1 === 0 || buf[sp1] !== SP) return undefined;
  const sp2 = visibleEnd(buf, sp1 + 1, to);
  if (sp2 + HTTP11_CRLF.length > to) return HEAD_INCOMPLETE;
  if (sp2 === sp1 + 1 || !bytesAt(buf, sp2, HTTP11_CRLF)) return undefined;
  const fieldsAt = sp2 + HTTP11_CRLF.length;
  const headEnd = fieldScan.scan(buf, fieldsAt, to);
  if (headEnd === HEAD_INCOMPLETE) return HEAD_INCOMPLETE;
  if (headEnd === HEAD_INVALID) return undefined;
  const text = latin1Text(buf, 0, headEnd);
  const headNumber = ++headsParsed;
  // A plain object: its property writes are far cheaper than a null-prototype one's, and a field named like an
  // Object.prototype member reads as already present below, so such a request goes to node:http.
  const headers: Record<string, string> = {};
  let forwardLines = '';
  let runStart = fieldsAt;
  let bodyLength = 0;
  let chunked = false;
  for (let i = 0; i < fieldScan.count; i++) {
    const start = fieldScan.nameAt(i);
    const colon = fieldScan.colonAt(i);
    const lineStop = fieldScan.endAt(i);
    const common = commonFieldIndex(buf, start, colon);
    const name = common >= 0 ? COMMON_FIELD_NAMES[common]! : text.slice(start, colon).toLowerCase();
    const value = name === 'host' ? hostValue(buf, text, colon + 1, lineStop) : fieldValue(text, colon + 1, lineStop);
    if (common >= 0 ? COMMON_LEFT_OUT[common]! : leftOut(name)) {
      if (start > runStart) forwardLines += text.slice(runStart, start);
      runStart = lineStop + 2;
    }
    // A repeated field goes to node:http, as does (see above) one named like an Object.prototype member.
    if (common < 0) {
      if (headers[name] !== undefined) return undefined;
    } else {
      if (commonFieldSeenIn[common] === headNumber) return undefined;
      commonFieldSeenIn[common] = headNumber;
    }
    switch (name) {
      case 'transfer-encoding':
        // Chunked alone; other codings, lists of them, and chunked with a Content-Length go to node:http.
        if (value.toLowerCase() !== 'chunked') return undefined;
        chunked = true;
        break;
      case 'upgrade':
        return undefined;
      case 'expect':
        // Any other expectation gets node:http's 417.
        if (value.toLowerCase() !== '100-continue') return undefined;
        break;
      case 'content-length':
        // Digits alone and no leading zero: a list, a sign or 05 goes to node:http.
        bodyLength = value.length > 1 && value.charCodeAt(0) === 0x30 ? -1 : decimalValue(buf, colon, lineStop);
        if (bodyLength < 0) return undefined;
        break;
      case 'connection': {
        // Other tokens name further hop-by-hop fields: node:http's path handles those.
        const token = value.toLowerCase();
        if (token !== 'keep-alive' && token !== 'close') return undefined;
        break;
      }
    }
    storeField(headers, common, name, value);
  }
  if (headers.host === undefined || (chunked && headers['content-length'] !== undefined)) return undefined;
  if (runStart < headEnd) forwardLines += text.slice(runStart);
  const chunks = chunked ? new ChunkedDecoder() : undefined;
  return new FastRequest(methodAt(buf, text, sp1), text.slice(sp1 + 1, sp2), headers, socket, remoteAddress, forwardLines, text, fieldsAt, chunked ? Infinity : bodyLength, chunks);
}

/** Where a run of visible ASCII (a request target's characters) starting at buf[start] ends. */
function visibleEnd(buf: Buffer, start: number, end: number): number {
  let i = start;
  while (i < end) {
    const c = buf[i]!;
    if (c <= 0x20 || c >= 0x7f) break;
    i++;
  }
  return i;
}

/** Whether the bytes so far could begin a request line: a method token, then a space or nothing yet. */
function startsLikeRequest(buf: Buffer): boolean {
  const n = Math.min(buf.length, 32);
  for (let i = 0; i < n; i++) {
    const c = buf[i]!;
    if (c === 0x20) return i > 0;
    if (!isTokenByte(c)) return false;
  }
  return true;
}

function parseNextOf(conn: FastConnection): void {
  conn.parseNext();
}

function onData(this: TaggedSocket, data: Buffer): void {
  this[kConnection].onData(data);
}

function onDrain(this: TaggedSocket): void {
  this[kConnection].onDrain();
}

function onError(): void {
  // 'close' follows and ends whatever was in progress.
}

/**
 * The client finished sending. The listening server allows half-open
 * sockets (node:http's own connections need it), but like node:http's
 * default the exchange is then over: a response in progress is abandoned.
 */
function onEnd(this: TaggedSocket): void {
  this.destroy();
}

function onClose(this: TaggedSocket): void {
  this[kConnection].onClose();
}

/** What a fast connection listens to on its socket, for life or until it hands the socket off. */
const SOCKET_LISTENERS: readonly (readonly [string, (this: TaggedSocket, ...args: any[]) => void])[] = [
  ['data', onData], ['drain', onDrain], ['error', onError], ['end', onEnd], ['close', onClose],
];
