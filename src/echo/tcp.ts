import net, { type AddressInfo } from 'node:net';
import tls from 'node:tls';
import { podContext, type PodContext, type PodIdentity } from './context.js';
import { goJsonEscape } from './go-compat.js';
import { listen } from './listen.js';

/**
 * A port of echo-basic's TCP mode (TCP_ECHO_SERVER): the TCPRoute and
 * TLSRoute conformance tests greet it, ask whether the connection arrived
 * over TLS and read back which pod answered.
 */
export interface TCPEchoOptions extends PodIdentity {
  /** Upstream's TCP_PORT listener: plain TCP. */
  port: number;
  host?: string;
  /** Upstream's TLS_PORT listener (TLS_SERVER_CERT, TLS_SERVER_PRIV_KEY): PEM contents. */
  tls?: { port: number; cert: string | Buffer; key: string | Buffer };
  log?: (line: string) => void;
}

export interface TCPEchoServer {
  port: number;
  tlsPort?: number;
  close(): Promise<void>;
}

/** The first line the server sends on every connection (after the handshake on TLS). */
export const TCP_WELCOME_MESSAGE = 'Gateway API Test TCP Server\n';

// bufio.Scanner's default limit: a longer line ends the connection.
const MAX_LINE_BYTES = 64 * 1024;

export async function startTCPEchoServer(opts: TCPEchoOptions): Promise<TCPEchoServer> {
  const host = opts.host ?? '0.0.0.0';
  const log = opts.log ?? (() => {});
  const closers: (() => Promise<void>)[] = [];
  const close = () => Promise.all(closers.map((c) => c())).then(() => undefined);
  try {
    // Both listeners report both ports, as upstream's context does; they are known once both are bound.
    const ports = { tcpport: '', tlsport: '' };
    const context = podContext(opts);
    // Half-open: a client may send its last command and shut down its side before reading the answer.
    const plain = net.createServer({ allowHalfOpen: true }, (socket) => serveConnection(socket, context, ports, undefined));
    closers.push(await listen(plain, opts.port, host));
    ports.tcpport = String((plain.address() as AddressInfo).port);
    const result: TCPEchoServer = { port: Number(ports.tcpport), close };
    if (opts.tls) {
      const secure = tls.createServer({ cert: opts.tls.cert, key: opts.tls.key, minVersion: 'TLSv1.2', allowHalfOpen: true },
        (socket) => serveConnection(socket, context, ports, tlsAssertions(socket)));
      secure.on('tlsClientError', (err) => log(`TLS Handshake failed: ${err.message}`));
      closers.push(await listen(secure, opts.tls.port, host));
      ports.tlsport = String((secure.address() as AddressInfo).port);
      result.tlsPort = Number(ports.tlsport);
    }
    return result;
  } catch (err) {
    await close();
    throw err;
  }
}

interface TLSAssertions {
  version: string;
  serverName: string;
  // Upstream also reports the key-exchange group ("curves"); a Node server cannot see it, and it is omitted when empty.
  cipherSuite: string;
}

/** Go's tls.VersionName spelling ("TLS 1.3"), the SNI the client sent, the suite's IANA name. */
function tlsAssertions(socket: tls.TLSSocket): TLSAssertions {
  return {
    version: (socket.getProtocol() ?? '').replace(/^TLSv(\d)/, 'TLS $1').replace(/^TLS 1$/, 'TLS 1.0'),
    serverName: typeof socket.servername === 'string' ? socket.servername : '',
    cipherSuite: socket.getCipher()?.standardName ?? '',
  };
}

/**
 * The welcome line, then one answer per command line: TEST (the pod context
 * as JSON), IS_TLS (true/false) and PING (PONG); other lines are ignored.
 */
function serveConnection(socket: net.Socket, context: PodContext, ports: { tcpport: string; tlsport: string }, tlsState: TLSAssertions | undefined): void {
  socket.on('error', () => socket.destroy());
  const isTLS = tlsState !== undefined;
  // Upstream omits an empty tlsport; here it is empty only when no TLS listener runs.
  const payload = goJsonEscape(JSON.stringify({
    ...context, tcpport: ports.tcpport, ...(ports.tlsport ? { tlsport: ports.tlsport } : {}),
    isTLS, ...(tlsState ? { tls: tlsState } : {}),
  }));
  const answer = (line: string) => {
    if (line === 'TEST') socket.write(`${payload}\n`);
    else if (line === 'IS_TLS') socket.write(`${isTLS}\n`);
    else if (line === 'PING') socket.write('PONG\n');
  };
  // bufio.ScanLines: lines end at \n, a trailing \r is dropped.
  const token = (bytes: Buffer) => bytes.toString('latin1').replace(/\r$/, '');
  socket.write(TCP_WELCOME_MESSAGE);
  let pending = Buffer.alloc(0);
  socket.on('data', (chunk: Buffer) => {
    pending = Buffer.concat([pending, chunk]);
    for (let nl = pending.indexOf(0x0a); nl >= 0; nl = pending.indexOf(0x0a)) {
      answer(token(pending.subarray(0, nl)));
      pending = pending.subarray(nl + 1);
    }
    if (pending.length >= MAX_LINE_BYTES) socket.destroy();
  });
  socket.on('end', () => {
    // The scanner also returns a last line that has no newline.
    if (pending.length > 0) answer(token(pending));
    socket.end();
  });
}
