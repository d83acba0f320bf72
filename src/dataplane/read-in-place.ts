// Reading a socket the way a socket connected with Node's `onread` option
// reads: into one reused buffer, each read handed on at once. By default Node
// allocates 64 KiB per read, wraps it in a new ArrayBuffer (which every
// scavenge must then sweep) and passes it through the Readable machinery
// ('data' events, a nextTick per read). net.Server offers no `onread` for the
// sockets it accepts, so the mode is switched on through the same slots a
// socket made with `onread` keeps it in, found by name on such a socket.
//
// Node's own read callback (onStreamRead) would then still look up the
// socket, refresh its timeout, check it is not destroyed and call the slot's
// callback through a closure, on every read: the native side is given a
// callback of ours that goes to the reader at once, and leaves ends of stream
// and errors to Node's. A socket read this way has no timeout of its own
// (setTimeout); the idle sweeps time connections out.

// Buffer as an import: the global is an accessor, read through a call on every use on the request path.
import { Buffer } from 'node:buffer';
import type { Socket } from 'node:net';
import { handleOf, netSymbol, streamBinding } from './stream-binding.js';

const READ_BUFFER_BYTES = 64 * 1024;

/** What a socket read in place hands its reads to. */
export interface InPlaceReader {
  /**
   * buffer[0, length) was read; the bytes are valid only during the call.
   * Returns the buffer for the next read when this one must not be read into
   * again (its bytes were given away), else nothing.
   */
  onRead(buffer: Buffer, length: number): Buffer | void;
}

interface ReadSlots {
  readonly buffer: symbol;
  readonly callback: symbol;
  readonly generator: symbol;
}

/** Undefined where this Node keeps `onread` some other way: sockets then keep their 'data' events. */
const SLOTS = findSlots();

function findSlots(): ReadSlots | undefined {
  const buffer = netSymbol('kBuffer');
  const callback = netSymbol('kBufferCb');
  const generator = netSymbol('kBufferGen');
  return buffer && callback && generator ? { buffer, callback, generator } : undefined;
}

const readState = streamBinding?.streamBaseState;
const readBytesOrError = streamBinding?.kReadBytesOrError ?? 0;

/** The one buffer every reader that has none of its own reads into: a read's bytes are used, or copied, before any other socket can read. */
let shared: Buffer | undefined;

/** Who a handle's reads go to, and into what. */
class InPlaceRead {
  constructor(
    readonly socket: Socket,
    readonly reader: InPlaceReader,
    public buffer: Buffer,
  ) {}
}

const kInPlace = Symbol('inPlaceRead');

interface ReadingHandle {
  useUserBuffer?: (buffer: Buffer) => void;
  /** What the native side calls after each read, the handle as `this`. */
  onread: (this: ReadingHandle, arrayBuffer: ArrayBuffer | undefined) => unknown;
  [kInPlace]?: InPlaceRead;
}

/** Node's own read callback, the same for every stream handle; found on the first handle switched. */
let nodeOnRead: ReadingHandle['onread'] | undefined;

function onReadInPlace(this: ReadingHandle, arrayBuffer: ArrayBuffer | undefined): unknown {
  const length = readState![readBytesOrError]!;
  if (length <= 0) return nodeOnRead!.call(this, arrayBuffer);
  const read = this[kInPlace]!;
  const next = read.reader.onRead(read.buffer, length);
  if (next === undefined) return undefined;
  read.buffer = next;
  (read.socket as unknown as Record<symbol, unknown>)[SLOTS!.buffer] = next;
  // The native side reads into what it is given back.
  return next;
}

/**
 * Switches `socket` to reading into `buffer` (by default the shared one),
 * each read handed to `reader` (pause() and resume() stop and restart
 * reading). No view of the read is made: most reads are parsed where they
 * lie and never kept. Bytes already read stay in the socket's readable side,
 * for its 'data' listeners. Returns false, changing nothing, where this Node
 * does not allow it.
 */
export function readInPlace(socket: Socket, reader: InPlaceReader, buffer?: Buffer): boolean {
  const handle = handleOf<ReadingHandle>(socket);
  if (SLOTS === undefined || readState === undefined || typeof handle?.useUserBuffer !== 'function') return false;
  nodeOnRead ??= handle.onread;
  buffer ??= shared ??= Buffer.allocUnsafeSlow(READ_BUFFER_BYTES);
  const slots = socket as unknown as Record<symbol, unknown>;
  slots[SLOTS.buffer] = buffer;
  // Null, not absent: Node calls a generator it finds after every read.
  slots[SLOTS.generator] = null;
  handle.useUserBuffer(buffer);
  handle[kInPlace] = new InPlaceRead(socket, reader, buffer);
  handle.onread = onReadInPlace;
  return true;
}

/**
 * Gives the reads of a socket switched by readInPlace back to Node's callback,
 * which refreshes the socket's timeout (setTimeout) on each; they still reach
 * the reader, in the same buffer, which must not change from here on.
 */
export function readByNode(socket: Socket): void {
  const handle = handleOf<ReadingHandle>(socket);
  const read = handle?.[kInPlace];
  if (handle === null || read === undefined || nodeOnRead === undefined) return;
  // Node's callback reaches the reader through this slot.
  (socket as unknown as Record<symbol, unknown>)[SLOTS!.callback] = (length: number, buffer: Buffer): boolean => {
    read.reader.onRead(buffer, length);
    return true;
  };
  handle.onread = nodeOnRead;
}

type BufferClass = new (bytes: ArrayBufferLike, offset: number, length: number) => Buffer;
/**
 * The class of Node's Buffers, which Buffer names as its species. Made
 * directly, a view costs about a third of what subarray does (10 against
 * 28 ns on Node 20): subarray looks the species up through the receiver's
 * constructor on every call.
 */
const BufferClass = (Buffer as unknown as Record<symbol, BufferClass | undefined>)[Symbol.species];

/** A Buffer over bytes[offset, offset + length). */
export function bufferOver(bytes: ArrayBuffer, offset: number, length: number): Buffer {
  return BufferClass === undefined ? Buffer.from(bytes, offset, length) : new BufferClass(bytes, offset, length);
}

const typedArraySet = Uint8Array.prototype.set;

/**
 * Copies all of `bytes` to out[at...], as out.set(bytes, at) does. Called
 * through a reference to the method: looked up on a Buffer, `set` is found
 * past Buffer's prototype, which holds too many methods for V8 to keep it
 * fast, and each lookup was a call to V8's generic property load.
 */
export function copyInto(out: Uint8Array, bytes: Uint8Array, at: number): void {
  typedArraySet.call(out, bytes, at);
}

/** buf[start, end): buf itself when that is all of it, else a view of it. */
export function span(buf: Buffer, start: number, end: number): Buffer {
  return start === 0 && end === buf.length ? buf : buf.subarray(start, end);
}

/** `bytes` itself, or a copy when they are in the shared read buffer and must outlive the read. */
export function owned(bytes: Buffer): Buffer {
  return bytes.buffer === shared?.buffer ? ownCopy(bytes) : bytes;
}

/**
 * `parts` joined in memory of their own. Bytes a connection keeps while it
 * waits for more would otherwise be a slice of one of Node's shared Buffer
 * pools, and keep all of it alive (64 KiB in the data plane, see DataPlane) for as
 * long as the client cares to wait.
 */
export function ownCopy(...parts: Buffer[]): Buffer {
  let length = 0;
  for (const p of parts) length += p.length;
  const copy = Buffer.allocUnsafeSlow(length);
  let offset = 0;
  for (const p of parts) offset += p.copy(copy, offset);
  return copy;
}
