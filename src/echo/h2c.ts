import type http from 'node:http';
import type http2 from 'node:http2';
import type net from 'node:net';

const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');
// Go's h2c server has a 1s ReadHeaderTimeout; a connection that stays silent is dropped in the same spirit.
const SNIFF_TIMEOUT_MS = 5_000;

/**
 * A connection listener serving HTTP/2 with prior knowledge and HTTP/1.1 on
 * one cleartext port, like a Go server with Protocols{HTTP1, UnencryptedHTTP2}.
 * Node's http2.createServer cannot fall back to HTTP/1, so the first bytes are
 * compared with the client preface and the socket handed to whichever server
 * should parse it.
 */
export function sniffH2c(http1: http.Server, h2: http2.Http2Server): (socket: net.Socket) => void {
  return (socket) => {
    socket.on('error', () => socket.destroy());
    socket.setTimeout(SNIFF_TIMEOUT_MS, () => socket.destroy());
    let seen = Buffer.alloc(0);
    const onData = (chunk: Buffer) => {
      seen = Buffer.concat([seen, chunk]);
      const n = Math.min(seen.length, PREFACE.length);
      const isH2 = seen.subarray(0, n).equals(PREFACE.subarray(0, n));
      if (isH2 && seen.length < PREFACE.length) return;
      socket.off('data', onData);
      socket.setTimeout(0);
      socket.pause();
      socket.unshift(seen);
      if (isH2) {
        h2.emit('connection', socket);
      } else {
        http1.emit('connection', socket);
        // The HTTP/1 server only attaches a 'data' listener, which does not undo an explicit pause.
        socket.resume();
      }
    };
    socket.on('data', onData);
  };
}
