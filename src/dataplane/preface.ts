// Telling HTTP/2 prior-knowledge connections from HTTP/1.1 ones on a cleartext
// port: an HTTP/2 client opens with a fixed 24-byte preface (RFC 9113 §3.4)
// that no HTTP/1.1 request line begins with.

import type { Socket } from 'node:net';

const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

/**
 * Reads the start of a new connection until it either departs from the
 * preface (HTTP/1.1) or completes it (HTTP/2), then calls `done` with the
 * socket paused and the bytes read put back, for the protocol's server to
 * read first. Usually the first read decides. At most one read beyond 23
 * bytes is held. A client that sends nothing, or trickles a prefix of the
 * preface, is handed to HTTP/1.1 after `timeoutMs`, whose own header timeout
 * then applies; one that ends, fails or closes first gets `undefined` and is
 * destroyed.
 */
export function detectProtocol(socket: Socket, timeoutMs: number, done: (http2: boolean | undefined) => void): void {
  let held: Buffer | undefined;
  const finish = (http2: boolean | undefined): void => {
    clearTimeout(timer);
    socket.off('data', onData);
    socket.off('end', onGone);
    socket.off('error', onGone);
    socket.off('close', onGone);
    if (http2 === undefined) {
      socket.destroy();
    } else {
      socket.pause();
      if (held !== undefined) socket.unshift(held);
    }
    done(http2);
  };
  const onData = (chunk: Buffer): void => {
    held = held === undefined ? chunk : Buffer.concat([held, chunk]);
    const n = Math.min(held.length, PREFACE.length);
    if (held.compare(PREFACE, 0, n, 0, n) !== 0) finish(false);
    else if (n === PREFACE.length) finish(true);
  };
  const onGone = (): void => finish(undefined);
  const timer = setTimeout(finish, timeoutMs, false);
  socket.on('data', onData);
  socket.on('end', onGone);
  socket.on('error', onGone);
  socket.on('close', onGone);
}
