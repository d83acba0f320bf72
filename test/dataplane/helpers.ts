// Shared fixtures for data-plane tests: echo upstreams, IR builders and small
// HTTP/1.1 and HTTP/2 clients that can set any Host or :authority.

import { createHash } from 'node:crypto';
import { Agent, createServer, request, type IncomingHttpHeaders, type IncomingMessage, type RequestListener, type Server, type ServerResponse } from 'node:http';
import {
  createServer as createH2Server,
  type ClientHttp2Session,
  type Http2Server,
  type IncomingHttpHeaders as H2IncomingHeaders,
  type OutgoingHttpHeaders as H2OutgoingHeaders,
} from 'node:http2';
import { once } from 'node:events';
import { connect, createServer as createTcpServer, type AddressInfo, type Socket } from 'node:net';
import {
  IR_VERSION,
  type IRAction,
  type IRCluster,
  type IRConfig,
  type IRRoute,
  type IRServer,
  type IRVirtualHost,
} from '../../src/ir/types.js';

export interface Upstream {
  server: Server;
  port: number;
  close(): Promise<void>;
}

export interface Echo {
  name: string;
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  bodyLength: number;
}

/** Replies with an Echo of what it received, after reading the whole body. */
export function echoHandler(name: string): RequestListener {
  return (req, res) => {
    let bodyLength = 0;
    req.on('data', (chunk: Buffer) => (bodyLength += chunk.length));
    req.on('end', () => {
      const echo: Echo = { name, method: req.method!, url: req.url!, headers: req.headers, bodyLength };
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(echo));
    });
  };
}

/** What answerDigest answers for a body: its length and SHA-256. */
export function digestOf(body: Buffer): string {
  return `${body.length} ${createHash('sha256').update(body).digest('hex')}`;
}

/** Reads the whole body, after `delayMs` with reading paused, and answers its digest (see digestOf). */
export function answerDigest(req: IncomingMessage, res: ServerResponse, delayMs: number): void {
  const hash = createHash('sha256');
  let length = 0;
  req.pause();
  setTimeout(() => {
    req.on('data', (chunk: Buffer) => {
      hash.update(chunk);
      length += chunk.length;
    });
    req.on('end', () => {
      const digest = `${length} ${hash.digest('hex')}`;
      res.writeHead(200, { 'content-length': String(digest.length) });
      res.end(digest);
    });
    req.resume();
  }, delayMs);
}

export async function startUpstream(handler: RequestListener | string): Promise<Upstream> {
  const server = createServer(typeof handler === 'string' ? echoHandler(handler) : handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    server,
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface H2Upstream {
  server: Http2Server;
  port: number;
  /** Sessions (client connections) accepted so far. */
  sessions(): number;
  /** Sends GOAWAY on every open session, as an upstream shutting down gracefully does; resolves once they have closed. */
  goaway(): Promise<void>;
  close(): Promise<void>;
}

/** An HTTP/2 prior-knowledge (h2c) server replying with an Echo plus the HTTP version it saw. */
export async function startH2cUpstream(name: string): Promise<H2Upstream> {
  const server = createH2Server();
  let sessions = 0;
  const open = new Set<import('node:http2').ServerHttp2Session>();
  server.on('session', (s) => {
    sessions++;
    open.add(s);
    s.on('close', () => open.delete(s));
  });
  server.on('request', (req, res) => {
    let bodyLength = 0;
    req.on('data', (chunk: Buffer) => (bodyLength += chunk.length));
    req.on('end', () => {
      const headers: IncomingHttpHeaders = {};
      for (const [k, v] of Object.entries(req.headers)) if (!k.startsWith(':')) headers[k] = v as string;
      headers[':authority'] = req.headers[':authority'];
      const echo: Echo & { httpVersion: string } = {
        name,
        method: req.method,
        url: req.url,
        headers,
        bodyLength,
        httpVersion: req.httpVersion,
      };
      res.writeHead(200, { 'content-type': 'application/json', 'x-upstream': name });
      res.end(JSON.stringify(echo));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    server,
    port: (server.address() as AddressInfo).port,
    sessions: () => sessions,
    goaway: () =>
      Promise.all(
        [...open].map(
          (s) =>
            new Promise<void>((resolve) => {
              s.once('close', () => resolve());
              s.close();
            }),
        ),
      ).then(() => undefined),
    close: () =>
      new Promise((resolve) => {
        for (const s of open) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** A connected client and the server's socket for it, which reads nothing until resumed. */
export async function socketPair(): Promise<{ accepted: Socket; client: Socket; close: () => void }> {
  const server = createTcpServer({ pauseOnConnect: true });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const client = connect((server.address() as AddressInfo).port, '127.0.0.1');
  const [[accepted]] = await Promise.all([once(server, 'connection') as Promise<[Socket]>, once(client, 'connect')]);
  return { accepted, client, close: () => { client.destroy(); accepted.destroy(); server.close(); } };
}

/** A port nothing listens on (bound then released). */
export async function closedPort(): Promise<number> {
  const u = await startUpstream('closed');
  await u.close();
  return u.port;
}

export function direct(body: string, status = 200): IRAction {
  return { type: 'directResponse', status, body };
}

export function forwardTo(...clusters: (string | [string, number])[]): IRAction {
  return {
    type: 'forward',
    backends: clusters.map((c) => (typeof c === 'string' ? { weight: 1, cluster: c } : { weight: c[1], cluster: c[0] })),
  };
}

export function route(name: string, match: Partial<IRRoute['match']>, action: IRAction, extra: Partial<IRRoute> = {}): IRRoute {
  return { name, match: { path: { type: 'PathPrefix', value: '/' }, ...match }, action, ...extra };
}

export function httpServer(id: string, virtualHosts: IRVirtualHost[], port = 0): IRServer {
  return { id, address: '127.0.0.1', port, protocol: 'HTTP', owner: 'default/gw', virtualHosts };
}

export function config(
  servers: IRServer[],
  upstreams: Record<string, number[]> = {},
  protocols: Record<string, IRCluster['protocol']> = {},
): IRConfig {
  const clusters: IRConfig['clusters'] = {};
  for (const [name, ports] of Object.entries(upstreams)) {
    clusters[name] = { name, protocol: protocols[name] ?? 'http1', endpoints: ports.map((port) => ({ address: '127.0.0.1', port })) };
  }
  return { irVersion: IR_VERSION, servers, clusters };
}

export interface Reply {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

export interface SendOptions {
  host?: string;
  method?: string;
  headers?: Record<string, string | string[]>;
  body?: string | Buffer;
  agent?: Agent | false;
}

export function send(port: number, path: string, opts: SendOptions = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path,
        method: opts.method ?? 'GET',
        headers: { host: opts.host ?? 'example.com', ...opts.headers },
        agent: opts.agent ?? false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString() }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}

export async function sendJson(port: number, path: string, opts: SendOptions = {}): Promise<Echo> {
  const r = await send(port, path, opts);
  if (r.status !== 200) throw new Error(`expected 200, got ${r.status}: ${r.body}`);
  return JSON.parse(r.body) as Echo;
}

export interface H2Reply {
  status: number;
  headers: H2IncomingHeaders;
  body: string;
}

export interface H2SendOptions {
  authority?: string;
  method?: string;
  headers?: H2OutgoingHeaders;
  /** Sent in DATA frames, without content-length unless `headers` has one. */
  body?: string | Buffer;
}

/** One request on an HTTP/2 client session; rejects when the stream is reset or the session fails. */
export function sendH2(session: ClientHttp2Session, path: string, opts: H2SendOptions = {}): Promise<H2Reply> {
  return new Promise((resolve, reject) => {
    const stream = session.request(
      { ':path': path, ':method': opts.method ?? 'GET', ':authority': opts.authority ?? 'example.com', ...opts.headers },
      { endStream: opts.body === undefined },
    );
    let headers: H2IncomingHeaders = {};
    const chunks: Buffer[] = [];
    stream.on('response', (h) => (headers = h));
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => {
      // Node ends the stream of a session torn down before it answered, too.
      if (headers[':status'] === undefined) reject(new Error('stream ended without a response'));
      else resolve({ status: Number(headers[':status']), headers, body: Buffer.concat(chunks).toString() });
    });
    stream.on('error', reject);
    // A stream closed by RST_STREAM(NO_ERROR) or GOAWAY before a response ends without 'end' or 'error'.
    stream.on('close', () => reject(Object.assign(new Error(`stream closed (code ${stream.rstCode})`), { code: stream.rstCode })));
    if (opts.body !== undefined) stream.end(opts.body);
  });
}

export async function sendH2Json(session: ClientHttp2Session, path: string, opts: H2SendOptions = {}): Promise<Echo & { httpVersion?: string }> {
  const r = await sendH2(session, path, opts);
  if (r.status !== 200) throw new Error(`expected 200, got ${r.status}: ${r.body}`);
  return JSON.parse(r.body) as Echo;
}

/**
 * An upstream that answers `/slow` only when released (and reports its
 * arrival), and everything else at once: for drain and shutdown tests.
 */
export async function slowUpstream() {
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));
  let arrived!: () => void;
  const arrival = new Promise<void>((r) => (arrived = r));
  const upstream = await startUpstream((req, res) => {
    if (req.url !== '/slow') {
      res.end('fast');
      return;
    }
    arrived();
    void released.then(() => res.end('done'));
  });
  return { upstream, release, arrival };
}

/** Resolves once `check` holds, polling every few milliseconds; fails naming `what` after `timeoutMs`. */
export async function eventually(check: () => boolean, what: string, timeoutMs = 3_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
