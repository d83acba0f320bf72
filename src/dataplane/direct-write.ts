// Writing to a connected socket's stream handle directly, as net.Socket's
// write does in the end, without the Writable state machine, a new request
// object per write and its completion bookkeeping in between. A proxied
// request makes two small writes, and that machinery cost about a tenth of
// the data plane's user time (bench/profile.mjs --perf).
//
// Only a socket with nothing queued in its Writable side is written this way,
// so its bytes keep their order; what the kernel cannot take at once libuv
// queues, in order with any later write, and the socket emits 'drain' when it
// has gone out, as after a Writable write that returned false.

import { writeSync, writevSync } from 'node:fs';
import type { Socket } from 'node:net';
import { getSystemErrorName } from 'node:util';
import { handleOf, streamBinding, type StreamBinding, type WriteRequest } from './stream-binding.js';

interface StreamHandle {
  writeBuffer(req: WriteRequest, data: Uint8Array): number;
  writeLatin1String(req: WriteRequest, data: string): number;
  /** Bytes libuv holds queued for writing. */
  readonly writeQueueSize: number;
  /** The socket's descriptor, or -1 where there is none (Windows). */
  readonly fd: number;
}

/** Undefined where this Node does not expose its stream binding: every write then goes through Writable. */
const binding = streamBinding;
// Read once: the binding is a large object whose property loads are slow on a per-write path.
const streamState = binding?.streamBaseState;
const lastWriteWasAsync = binding?.kLastWriteWasAsync ?? 0;

/**
 * A request object for the next write: one that completed at once never got
 * native state attached, so it serves again; one left in flight is the
 * kernel's until it completes.
 */
let spare: WriteRequest | undefined;

/**
 * Writes `data` (a string as latin1) to `socket`. Returns whether it all
 * went out; when not, 'drain' follows, as for socket.write(). A failed write
 * destroys the socket with the error.
 */
export function writeDirect(socket: Socket, data: Uint8Array | string): boolean {
  if (!writesDirect(socket)) return typeof data === 'string' ? socket.write(data, 'latin1') : socket.write(data);
  return writeToHandle(socket, data);
}

/**
 * writeDirect's write, for a caller that has just seen writesDirect(socket)
 * hold: returns whether it all went out, as writeDirect does.
 */
export function writeToHandle(socket: Socket, data: Uint8Array | string): boolean {
  const handle = handleOf<StreamHandle>(socket)!;
  let req = spare;
  if (req === undefined) req = newRequest(binding!, handle);
  else req.handle = handle;
  const err = typeof data === 'string' ? handle.writeLatin1String(req, data) : handle.writeBuffer(req, data);
  if (err !== 0) {
    // Not reused: a write that failed once queued has had native state attached and released.
    spare = undefined;
    socket.destroy(writeError(err));
    return false;
  }
  if (streamState![lastWriteWasAsync] === 0) {
    spare = req;
    return true;
  }
  spare = undefined;
  req.socket = socket;
  if (typeof data !== 'string') req.buffer = data;
  return false;
}

/**
 * Writes what the kernel takes of `data` (bytes, or parts sent in order as
 * one write) now, without waiting or queueing anything, and returns how many
 * bytes that was: 0 when the socket cannot be written this way, or its send
 * buffer is full. For bytes valid only until the caller returns (a shared
 * read buffer): a write libuv queued would read them later, so only the rest
 * is copied, by the caller. A failed write destroys the socket with the error
 * and counts the bytes as taken.
 */
export function tryWrite(socket: Socket, data: Uint8Array | Uint8Array[]): number {
  if (!writesDirect(socket)) return 0;
  const handle = handleOf<StreamHandle>(socket)!;
  // Bytes libuv still has queued (a head written through writeToHandle) go first.
  if (handle.writeQueueSize !== 0 || handle.fd < 0) return 0;
  try {
    // The descriptor is non-blocking (libuv's), so this is the try-write libuv itself would make.
    return data instanceof Uint8Array ? writeSync(handle.fd, data) : writevSync(handle.fd, data);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EAGAIN') return 0;
    socket.destroy(err as Error);
    return data instanceof Uint8Array ? data.length : data.reduce((n, part) => n + part.length, 0);
  }
}

/**
 * Whether writeDirect would write to `socket`'s handle now, rather than
 * through socket.write(), which may keep the bytes it is given queued.
 */
export function writesDirect(socket: Socket): boolean {
  return (
    binding !== undefined && handleOf(socket) !== null && !socket.connecting &&
    socket.writableLength === 0 && !socket.writableEnded && !socket.destroyed &&
    // A TLS socket's handle encrypts what it is given, and completes its writes in its own way.
    (socket as { encrypted?: boolean }).encrypted !== true
  );
}

function newRequest(b: StreamBinding, handle: StreamHandle): WriteRequest {
  const req = new b.WriteWrap();
  // Every field set at once, so that every request object has one shape.
  req.handle = handle;
  req.oncomplete = onWriteComplete;
  req.buffer = null;
  req.socket = null;
  return req;
}

function onWriteComplete(this: WriteRequest, status: number): void {
  const socket = this.socket!;
  this.socket = null;
  this.buffer = null;
  if (socket.destroyed) return;
  if (status < 0) socket.destroy(writeError(status));
  else socket.emit('drain');
}

function writeError(status: number): NodeJS.ErrnoException {
  const code = getSystemErrorName(status);
  const err: NodeJS.ErrnoException = new Error(`write ${code}`);
  err.code = code;
  err.errno = status;
  err.syscall = 'write';
  return err;
}
