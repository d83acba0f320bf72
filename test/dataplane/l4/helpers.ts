// Fixtures for the L4 tests: TCP, TLS and UDP backends, IR builders, real
// ClientHellos captured from node:tls, and small socket clients.

import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { connect as tlsConnect, createServer as createTlsServer, type PeerCertificate, type Server as TlsServer } from 'node:tls';
import { generate } from 'selfsigned';
import { ClusterPool } from '../../../src/dataplane/clusters.js';
import type { ClusterLookup } from '../../../src/dataplane/l4/routes.js';
import type { IRCertificate, IRServer, IRStreamBackend, IRTLSRoute } from '../../../src/ir/types.js';

export async function certificate(hostname: string, cn: string): Promise<IRCertificate> {
  const pems = await generate([{ name: 'commonName', value: cn }], {
    keyType: 'ec',
    algorithm: 'sha256',
    extensions: [{ name: 'subjectAltName', altNames: [{ type: 2, value: cn }] }],
  });
  return { hostname, certPem: pems.cert, keyPem: pems.private };
}

/** Cluster pools over 127.0.0.1 ports, as the DataPlane's registry would hold them. */
export function clusters(spec: Record<string, number[]>): ClusterLookup {
  const pools = new Map<string, ClusterPool>();
  for (const [name, ports] of Object.entries(spec)) {
    pools.set(name, new ClusterPool({ name, protocol: 'http1', endpoints: ports.map((port) => ({ address: '127.0.0.1', port })) }));
  }
  return (name) => pools.get(name);
}

export function backends(...spec: (string | [string | undefined, number])[]): IRStreamBackend[] {
  return spec.map((b) => (typeof b === 'string' ? { weight: 1, cluster: b } : b[0] === undefined ? { weight: b[1] } : { weight: b[1], cluster: b[0] }));
}

export function tcpServer(streamBackends: IRStreamBackend[] | undefined, protocol: 'TCP' | 'UDP' = 'TCP'): IRServer {
  return {
    id: `127.0.0.1:0/${protocol}`,
    address: '127.0.0.1',
    port: 0,
    protocol,
    owner: 'default/gw',
    virtualHosts: [],
    streamRoute: streamBackends && { name: `${protocol.toLowerCase()}route/default/r`, backends: streamBackends },
  };
}

export function tlsServer(tlsRoutes: IRTLSRoute[]): IRServer {
  return { id: '127.0.0.1:0/TLS', address: '127.0.0.1', port: 0, protocol: 'TLS', owner: 'default/gw', virtualHosts: [], tlsRoutes };
}

export function tlsRoute(hostname: string, streamBackends: IRStreamBackend[], terminate?: IRCertificate[]): IRTLSRoute {
  return { hostname, name: `tlsroute/default/${hostname}`, backends: streamBackends, ...(terminate ? { terminate: { certificates: terminate } } : {}) };
}

export interface Backend {
  port: number;
  /** Connections accepted so far. */
  accepted(): number;
  close(): Promise<void>;
}

async function listening(server: Server): Promise<Backend> {
  const sockets = new Set<Socket>();
  let accepted = 0;
  server.on('connection', (s: Socket) => {
    accepted++;
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    accepted: () => accepted,
    close: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/**
 * Echoes every byte prefixed by nothing; when the client half-closes, writes
 * `bye:<name>` and ends, so a test sees its FIN reached the backend while the
 * other direction was still open.
 */
export function tcpEcho(name: string): Promise<Backend> {
  return listening(
    createServer({ allowHalfOpen: true }, (s) => {
      s.on('error', () => s.destroy());
      s.on('data', (d) => s.write(d));
      s.on('end', () => s.end(`bye:${name}`));
    }),
  );
}

/** Writes its name and ends at once. */
export function tcpNamer(name: string): Promise<Backend> {
  return listening(
    createServer((s) => {
      s.on('error', () => s.destroy());
      s.end(name);
    }),
  );
}

/** Records every byte each connection sends; the recordings are the connections in order of arrival. */
export async function tcpRecorder(): Promise<Backend & { received: Buffer[][] }> {
  const received: Buffer[][] = [];
  const backend = await listening(
    createServer((s) => {
      const chunks: Buffer[] = [];
      received.push(chunks);
      s.on('error', () => s.destroy());
      s.on('data', (d: Buffer) => chunks.push(d));
    }),
  );
  return { ...backend, received };
}

/** A TLS server presenting `cert` that echoes every byte prefixed by its name. */
export function tlsEcho(name: string, cert: IRCertificate): Promise<Backend> {
  const server: TlsServer = createTlsServer({ cert: cert.certPem, key: cert.keyPem }, (s) => {
    s.on('error', () => s.destroy());
    s.on('data', (d: Buffer) => s.write(`${name}:${d.toString()}`));
    s.on('end', () => s.end());
  });
  return listening(server);
}

export interface Exchange {
  /** Everything the client read until the connection ended. */
  data: string;
  /** Whether the connection ended with an error (reset) rather than a FIN. */
  error: boolean;
}

/** Connects, writes `send` (if any), half-closes, and collects what comes back until the socket closes. */
export function tcpExchange(port: number, send?: string | Buffer, opts: { end?: boolean } = {}): Promise<Exchange> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port, allowHalfOpen: true });
    const chunks: Buffer[] = [];
    let error = false;
    s.on('data', (d: Buffer) => chunks.push(d));
    s.on('end', () => s.end());
    s.on('error', () => (error = true));
    s.on('close', () => resolve({ data: Buffer.concat(chunks).toString(), error }));
    if (send !== undefined) s.write(send);
    if (opts.end ?? true) s.end();
  });
}

/** Resolves once `socket` has read `text` in total. */
export function readUntil(socket: Socket, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let got = '';
    const onData = (d: Buffer): void => {
      got += d.toString();
      if (got.length >= text.length) {
        socket.off('data', onData);
        if (got === text) resolve(got);
        else reject(new Error(`expected ${JSON.stringify(text)}, got ${JSON.stringify(got)}`));
      }
    };
    socket.on('data', onData);
    socket.once('close', () => reject(new Error(`closed after ${JSON.stringify(got)}`)));
  });
}

export interface TlsResult {
  cn: string;
  alpn: string | false | null;
  reply: string;
}

/** A TLS client: handshakes with `servername`, sends `send`, and reads `expect.length` bytes. */
export function tlsExchange(port: number, servername: string | undefined, send: string, expect: string, alpn?: string[]): Promise<TlsResult> {
  return new Promise((resolve, reject) => {
    const s = tlsConnect({ host: '127.0.0.1', port, servername, rejectUnauthorized: false, ALPNProtocols: alpn }, () => {
      const cert: PeerCertificate = s.getPeerCertificate();
      s.write(send);
      readUntil(s, expect).then(
        (reply) => {
          resolve({ cn: cert.subject.CN as string, alpn: s.alpnProtocol, reply });
          s.end();
        },
        reject,
      );
    });
    s.on('error', reject);
  });
}

/** Resolves with the error (or 'closed') when a TLS client is turned away before its handshake completes. */
export function tlsRefused(port: number, servername: string | undefined): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = tlsConnect({ host: '127.0.0.1', port, servername, rejectUnauthorized: false }, () => {
      s.destroy();
      reject(new Error('handshake completed'));
    });
    s.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
    s.on('close', () => resolve('closed'));
  });
}

/**
 * The first flight node:tls sends for these options: the ClientHello record(s),
 * read by a server that never answers.
 */
export async function captureHello(opts: { servername?: string; alpn?: string[] }): Promise<Buffer> {
  let done!: (b: Buffer) => void;
  const captured = new Promise<Buffer>((r) => (done = r));
  const server = createServer((s) => {
    let held = Buffer.alloc(0);
    s.on('data', (d: Buffer) => {
      held = Buffer.concat([held, d]);
      // One record is a whole hello for node:tls.
      if (held.length >= 5 && held.length >= 5 + held.readUInt16BE(3)) {
        done(held.subarray(0, 5 + held.readUInt16BE(3)));
        s.destroy();
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const client = tlsConnect({
    host: '127.0.0.1',
    port: (server.address() as AddressInfo).port,
    servername: opts.servername,
    ALPNProtocols: opts.alpn,
    rejectUnauthorized: false,
  });
  client.on('error', () => undefined);
  const hello = await captured;
  client.destroy();
  await new Promise<void>((r) => server.close(() => r()));
  return hello;
}

/** The handshake message of a one-record hello, re-framed as records of the given payload sizes (the last takes the rest). */
export function refragment(hello: Buffer, sizes: number[]): Buffer {
  const message = hello.subarray(5);
  const out: Buffer[] = [];
  let off = 0;
  for (let i = 0; off < message.length; i++) {
    const n = i < sizes.length ? Math.min(sizes[i]!, message.length - off) : message.length - off;
    const header = Buffer.from([0x16, hello[1]!, hello[2]!, 0, 0]);
    header.writeUInt16BE(n, 3);
    out.push(header, message.subarray(off, off + n));
    off += n;
  }
  return Buffer.concat(out);
}

export interface UdpBackend {
  port: number;
  /** Distinct source ports (sessions, as the backend sees them) so far. */
  peers(): number;
  close(): Promise<void>;
}

/** Replies to every datagram with `<name>:<datagram>`. */
export async function udpEcho(name: string): Promise<UdpBackend> {
  const socket = createSocket('udp4');
  const peers = new Set<number>();
  socket.on('message', (msg, from) => {
    peers.add(from.port);
    socket.send(`${name}:${msg.toString()}`, from.port, from.address);
  });
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', r));
  return {
    port: socket.address().port,
    peers: () => peers.size,
    close: () => new Promise((r) => socket.close(() => r())),
  };
}

export interface UdpClient {
  socket: UdpSocket;
  /** Sends `text` to the listener and resolves with the next reply, or undefined after `waitMs`. */
  ask(text: string, waitMs?: number): Promise<string | undefined>;
  close(): Promise<void>;
}

export async function udpClient(port: number): Promise<UdpClient> {
  const socket = createSocket('udp4');
  await new Promise<void>((r) => socket.bind(0, '127.0.0.1', r));
  const replies: string[] = [];
  let waiter: (() => void) | undefined;
  socket.on('message', (msg) => {
    replies.push(msg.toString());
    waiter?.();
  });
  return {
    socket,
    ask: (text, waitMs = 2_000) =>
      new Promise((resolve) => {
        replies.length = 0;
        const timer = setTimeout(() => {
          waiter = undefined;
          resolve(undefined);
        }, waitMs);
        waiter = () => {
          clearTimeout(timer);
          waiter = undefined;
          resolve(replies.shift());
        };
        socket.send(text, port, '127.0.0.1');
      }),
    close: () => new Promise((r) => socket.close(() => r())),
  };
}

export { eventually } from '../helpers.js';
