// Port of upstream conformance/utils/tcp/tcp.go: talks to echo-basic's TCP
// mode (welcome line, then PING, IS_TLS and TEST commands) through the gateway.
import { connect, type Socket } from 'node:net';
import type { TimeoutConfig } from './config.js';
import { splitHostPort } from './http.js';
import { poll, type T } from './t.js';
import { dialTLS } from './tls.js';

/** echo-basic's tcpserver.WelcomeMessage, the first line of every connection. */
const tcpWelcomeMessage = 'Gateway API Test TCP Server\n';

export interface TCPExpectedResponse {
  backendIsTLS?: boolean;
  /** Prefix (before "-") of the pod name that must have answered. */
  backend: string;
  namespace: string;
  /** When set, the SNI the backend saw on its TLS connection. */
  hostname?: string;
}

/** The part of echo-basic's TCPAssertions JSON the suite reads. */
interface TCPAssertions {
  namespace?: string;
  pod?: string;
  tls?: { serverName?: string };
}

interface TCPContext {
  timeouts: TimeoutConfig;
}

/** The lines of a connection, like bufio.Reader.ReadString('\n'): each with its newline, EOF an error. */
class LineReader {
  private buffered = '';
  private ended: Error | undefined;
  private wake: (() => void) | undefined;

  constructor(socket: Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      this.buffered += chunk;
      this.wake?.();
    });
    const end = (err?: Error) => {
      this.ended ??= err ?? new Error('EOF');
      this.wake?.();
    };
    socket.on('end', () => end());
    socket.on('close', () => end());
    socket.on('error', end);
  }

  async readLine(): Promise<string> {
    for (;;) {
      const nl = this.buffered.indexOf('\n');
      if (nl >= 0) {
        const line = this.buffered.slice(0, nl + 1);
        this.buffered = this.buffered.slice(nl + 1);
        return line;
      }
      if (this.ended) throw this.ended;
      await new Promise<void>((resolve) => (this.wake = resolve));
      this.wake = undefined;
    }
  }
}

function dialTCP(addr: string, timeoutMs: number): Promise<Socket> {
  const hp = splitHostPort(addr);
  if (!hp) return Promise.reject(new Error(`address ${addr}: missing port in address`));
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hp.host, port: Number(hp.port) });
    const timer = setTimeout(() => socket.destroy(new Error(`dial tcp ${addr}: i/o timeout`)), timeoutMs);
    const fail = (err: Error) => {
      clearTimeout(timer);
      socket.destroy();
      reject(err);
    };
    socket.once('error', fail);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.off('error', fail);
      resolve(socket);
    });
  });
}

/** Bounds a whole exchange on one connection; upstream relies on the test's context instead. */
async function withDeadline<R>(socket: Socket, timeoutMs: number, exchange: (lines: LineReader) => Promise<R>): Promise<R> {
  const lines = new LineReader(socket);
  const timer = setTimeout(() => socket.destroy(new Error(`i/o timeout after ${timeoutMs}ms`)), timeoutMs);
  try {
    return await exchange(lines);
  } finally {
    clearTimeout(timer);
    socket.destroy();
  }
}

/**
 * Upstream's MakeTCPRequestAndExpectEventuallyValidResponse: with useTLS the
 * client speaks TLS with the given SNI and trusts serverCertificate (the
 * system roots when empty). Dials until one connection gives the welcome
 * line; its PING, IS_TLS and TEST answers are then checked (mismatches are
 * errors, not retries, as upstream asserts inside its Eventually).
 */
export async function makeTCPRequestAndExpectEventuallyValidResponse(
  t: T, s: TCPContext, gwAddr: string, serverCertificate: string | undefined, serverName: string, useTLS: boolean, expected: TCPExpectedResponse,
): Promise<void> {
  const dial = (): Promise<Socket> => (useTLS
    ? dialTLS(gwAddr, serverName, serverCertificate || undefined, s.timeouts.requestTimeout)
    : dialTCP(gwAddr, s.timeouts.requestTimeout));
  let last = '';
  const ok = await poll(s.timeouts.convergenceRetryDelay, s.timeouts.maxTimeToConsistency, async () => {
    let socket: Socket;
    try {
      socket = await dial();
    } catch (err) {
      last = `client could not connect: ${(err as Error).message}`;
      t.log(`${last}; retrying`);
      return false;
    }
    t.log('tcp client connected');
    try {
      return await withDeadline(socket, s.timeouts.requestTimeout, async (lines) => {
        const welcome = await lines.readLine();
        if (welcome !== tcpWelcomeMessage) t.error(`TCPServer welcome message does not match: expected ${JSON.stringify(tcpWelcomeMessage)}, got ${JSON.stringify(welcome)}`);
        socket.write('PING\n');
        const pong = await lines.readLine();
        if (pong !== 'PONG\n') t.error(`expected "PONG\\n" in answer to PING, got ${JSON.stringify(pong)}`);
        socket.write('IS_TLS\n');
        const isTLS = (await lines.readLine()).replace(/\n$/, '');
        if (isTLS !== String(expected.backendIsTLS ?? false)) t.error(`IS_TLS: expected ${expected.backendIsTLS ?? false}, got ${JSON.stringify(isTLS)}`);
        socket.write('TEST\n');
        assertTestMessage(t, JSON.parse(await lines.readLine()) as TCPAssertions, expected);
        return true;
      });
    } catch (err) {
      last = `an error occurred during assertion: ${(err as Error).message}`;
      t.log(`${last}, will retry`);
      return false;
    }
  });
  if (ok) t.log('Request passed');
  else t.error(`no TCP response from ${gwAddr} within ${s.timeouts.maxTimeToConsistency}ms: ${last}`);
}

function assertTestMessage(t: T, payload: TCPAssertions, expected: TCPExpectedResponse): void {
  if (payload.namespace !== expected.namespace) t.error(`namespace does not match: expected ${expected.namespace}, got ${payload.namespace ?? ''}`);
  if (!(payload.pod ?? '').startsWith(`${expected.backend}-`)) {
    t.error(`backend name does not match with pod prefix. pod=${payload.pod ?? ''} and backend=${expected.backend}`);
  }
  if (expected.hostname && payload.tls?.serverName !== expected.hostname) {
    t.error(`expected the backend to see SNI ${expected.hostname}, got ${payload.tls ? JSON.stringify(payload.tls.serverName ?? '') : 'no TLS'}`);
  }
}

/** Upstream's EchoSendOnce: one plain connection, the TEST handshake, the answering pod's name. */
export async function echoSendOnce(gwAddr: string, timeoutMs: number): Promise<string> {
  const socket = await dialTCP(gwAddr, timeoutMs).catch((err: Error) => {
    throw new Error(`dialing TCP ${gwAddr}: ${err.message}`);
  });
  return withDeadline(socket, timeoutMs, async (lines) => {
    const welcome = await lines.readLine().catch((err: Error) => {
      throw new Error(`reading TCP welcome message: ${err.message}`);
    });
    if (welcome !== tcpWelcomeMessage) throw new Error(`unexpected TCP welcome message: ${JSON.stringify(welcome)}`);
    socket.write('TEST\n');
    const line = await lines.readLine().catch((err: Error) => {
      throw new Error(`reading TEST response: ${err.message}`);
    });
    let resp: TCPAssertions;
    try {
      resp = JSON.parse(line) as TCPAssertions;
    } catch (err) {
      throw new Error(`decoding TCP echo response ${JSON.stringify(line)}: ${(err as Error).message}`);
    }
    if (!resp.pod) throw new Error(`TCP echo response missing pod name: ${JSON.stringify(line)}`);
    return resp.pod;
  });
}

/** Upstream's ExpectAddressBeAvailable: a TCP connection to the address can be established. */
export async function expectAddressBeAvailable(t: T, intervalMs: number, timeoutMs: number, address: string): Promise<void> {
  t.log(`performing TCP connection probe on ${address}`);
  let last = '';
  const ok = await poll(intervalMs, timeoutMs, async () => {
    try {
      (await dialTCP(address, timeoutMs)).destroy();
      t.log(`established TCP connection to ${address}`);
      return true;
    } catch (err) {
      last = (err as Error).message;
      t.log(`failed to establish TCP connection to ${address}; retrying: ${last}`);
      return false;
    }
  });
  if (!ok) t.fatal(`failed waiting for TCP connection to ${address} after ${timeoutMs}ms: ${last}`);
}
