// Reading an accepted socket the way a socket connected with Node's `onread`
// option reads: into one reused buffer, each read handed to a callback. By
// default Node allocates 64 KiB per read, wraps it in a new ArrayBuffer (which
// every scavenge must then sweep) and passes it through the Readable machinery
// ('data' events, a nextTick per read). net.Server offers no `onread` for the
// sockets it accepts, so the mode is switched on through the same slots a
// socket made with `onread` keeps it in, found by name on such a socket.

import { Socket } from 'node:net';

const READ_BUFFER_BYTES = 64 * 1024;

interface ReadSlots {
  readonly buffer: symbol;
  readonly callback: symbol;
  readonly generator: symbol;
}

/** Undefined where this Node keeps `onread` some other way: sockets then keep their 'data' events. */
const SLOTS = findSlots();

function findSlots(): ReadSlots | undefined {
  // The option is typed for connect() only; the constructor takes it too.
  const probe = new Socket({ onread: { buffer: Buffer.alloc(1), callback: () => true } } as ConstructorParameters<typeof Socket>[0]);
  const symbols = Object.getOwnPropertySymbols(probe);
  probe.destroy();
  const named = (description: string): symbol | undefined => symbols.find((s) => s.description === description);
  const buffer = named('kBuffer');
  const callback = named('kBufferCb');
  const generator = named('kBufferGen');
  return buffer && callback && generator ? { buffer, callback, generator } : undefined;
}

/**
 * The one buffer every socket switched here reads into: a read's bytes are
 * used, or copied, within its callback, before any other socket can read.
 */
let shared: Buffer | undefined;

type UserBufferHandle = { useUserBuffer?: (buffer: Buffer) => void };

/**
 * Switches `socket` to reading into the shared buffer, each read handed to
 * `onRead` as the buffer and the length read into it, from its start (its
 * bytes valid only during the call; pause() and resume() stop and restart
 * reading). No view of the read is made: most reads are parsed where they
 * lie and never kept. Bytes already read stay in the socket's readable side,
 * for its 'data' listeners. Returns false, changing nothing, where this Node
 * does not allow it.
 */
export function readInPlace(socket: Socket, onRead: (buffer: Buffer, length: number) => void): boolean {
  const handle = (socket as unknown as { _handle?: UserBufferHandle })._handle;
  if (SLOTS === undefined || typeof handle?.useUserBuffer !== 'function') return false;
  shared ??= Buffer.allocUnsafeSlow(READ_BUFFER_BYTES);
  const slots = socket as unknown as Record<symbol, unknown>;
  slots[SLOTS.buffer] = shared;
  slots[SLOTS.callback] = (length: number, buffer: Buffer): boolean => {
    onRead(buffer, length);
    return true;
  };
  // Null, not absent: Node calls a generator it finds after every read.
  slots[SLOTS.generator] = null;
  handle.useUserBuffer(shared);
  return true;
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
