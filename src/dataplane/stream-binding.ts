// Node's native stream binding, which both ends of a socket's handle use:
// direct writes (direct-write.ts) and reads handed over in place
// (read-in-place.ts). Not a public API: everything here is checked as it is
// loaded, and a Node without it leaves sockets to their public methods.

import { Buffer } from 'node:buffer';
import { Socket } from 'node:net';

/** A write request as the native stream methods take it. */
export interface WriteRequest {
  handle: unknown;
  oncomplete: (this: WriteRequest, status: number) => void;
  /** Keeps bytes the kernel has not taken yet alive until they have gone. */
  buffer: Uint8Array | null;
  socket: Socket | null;
}

export interface StreamBinding {
  WriteWrap: new () => WriteRequest;
  /** Where the native side leaves a read's length and a write's outcome. */
  streamBaseState: Int32Array;
  kReadBytesOrError: number;
  kLastWriteWasAsync: number;
}

/** Undefined where this Node does not expose its stream binding. */
export const streamBinding = loadBinding();

function loadBinding(): StreamBinding | undefined {
  try {
    const found = (process as unknown as { binding(name: string): Partial<StreamBinding> }).binding('stream_wrap');
    return typeof found.WriteWrap === 'function' && found.streamBaseState instanceof Int32Array &&
      typeof found.kLastWriteWasAsync === 'number' && typeof found.kReadBytesOrError === 'number'
      ? (found as StreamBinding)
      : undefined;
  } catch {
    return undefined;
  }
}

/**
 * net's own symbol keys on a socket, found by their descriptions on one
 * probe. It is made with the `onread` option, which gives a socket the slots
 * reading in place uses (read-in-place.ts).
 */
const SOCKET_SYMBOLS = probeSocketSymbols();

function probeSocketSymbols(): symbol[] {
  // The option is typed for connect() only; the constructor takes it too.
  const probe = new Socket({ onread: { buffer: Buffer.alloc(1), callback: () => true } } as ConstructorParameters<typeof Socket>[0]);
  const symbols = Object.getOwnPropertySymbols(probe);
  probe.destroy();
  return symbols;
}

/** The symbol net keys a socket's `description` slot by, where this Node has one. */
export function netSymbol(description: string): symbol | undefined {
  return SOCKET_SYMBOLS.find((s) => s.description === description);
}

/**
 * The key a socket keeps its handle under. `socket._handle` is a getter on
 * net.Socket's prototype that reads it: every socket class shares that
 * getter's one load, which goes megamorphic and costs a stub call on every
 * read of it. Read under its own key, at each caller, it is a field load.
 */
const HANDLE_KEY: string | symbol = netSymbol('kHandle') ?? '_handle';

/** The socket's stream handle: null once destroyed, or before it has one. */
export function handleOf<T>(socket: Socket): T | null {
  return ((socket as unknown as Record<string | symbol, T | null | undefined>)[HANDLE_KEY]) ?? null;
}
