// An upstream that answers before reading the request body (a 413, or a
// handler that ignores uploads) must not stall the exchange: the early
// response reaches the client at once, the rest of the body is not sent
// upstream, and that upstream connection is not reused.

import assert from 'node:assert/strict';
import { Agent, request } from 'node:http';
import type { Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { DataPlane } from '../../src/dataplane/index.js';
import type { IRRoute } from '../../src/ir/types.js';
import { silentLogger } from '../../src/util/log.js';
import { config, forwardTo, httpServer, route, startUpstream, type Upstream } from './helpers.js';

const prefix = (p: string): Partial<IRRoute['match']> => ({ path: { type: 'PathPrefix', value: p } });

const MiB = 1 << 20;

interface Result {
  status: number;
  body: string;
  connection: string | undefined;
  /** The client connection it came on (postAfterResponse). */
  socket?: Socket;
}

function post(port: number, path: string, body: Buffer, agent: Agent | false): Promise<Result> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path, method: 'POST', agent, headers: { host: 'example.com', 'content-length': String(body.length) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode!, body: Buffer.concat(chunks).toString(), connection: res.headers.connection }));
        res.on('error', reject);
      },
    );
    // The early response may come while the body is still going out; a client that then sees the connection close gets EPIPE/ECONNRESET on its write.
    req.on('error', reject);
    req.end(body);
  });
}

/** Sends `head`, waits until the whole response has arrived, then sends `tail`: the upstream surely answered early. */
function postAfterResponse(port: number, path: string, head: Buffer, tail: Buffer, agent: Agent | false): Promise<Result> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path, method: 'POST', agent, headers: { host: 'example.com', 'content-length': String(head.length + tail.length) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          req.end(tail);
          resolve({ status: res.statusCode!, body: Buffer.concat(chunks).toString(), connection: res.headers.connection, socket: res.socket });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    // The gateway may close the connection while the tail is still being written: that is the behaviour under
    // test, so the socket's EPIPE or ECONNRESET after the response is expected, even once the socket has left `req`.
    req.on('socket', (socket) => socket.on('error', () => {}));
    req.write(head);
  });
}

describe('early upstream responses', () => {
  const dp = new DataPlane({ logger: silentLogger });
  const upstreams: Upstream[] = [];
  /** Connections each upstream accepted. */
  const connections = { early: 0, reject: 0, echo: 0 };
  /** The `early` upstream's connection for each request path. */
  const earlySockets = new Map<string, Socket>();
  let port = 0;

  before(async () => {
    // Answers at once and never reads the body (Node's server still drains it in the background).
    const early = await startUpstream((req, res) => {
      earlySockets.set(req.url!, req.socket);
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end(`early ${req.url}`);
    });
    early.server.on('connection', () => connections.early++);
    // Answers 413 at once without reading. (Not with Connection: close: Node would then close with the body
    // unread, so the kernel resets the connection and may discard the 413 before any proxy reads it.)
    const reject = await startUpstream((_req, res) => {
      res.writeHead(413, { 'content-type': 'text/plain' });
      res.end('too large');
    });
    reject.server.on('connection', () => connections.reject++);
    const echo = await startUpstream('echo');
    echo.server.on('connection', () => connections.echo++);
    upstreams.push(early, reject, echo);
    await dp.apply(
      config(
        [
          httpServer('early', [
            {
              hostname: '*',
              routes: [
                route('early', prefix('/early'), forwardTo('early')),
                route('reject', prefix('/reject'), forwardTo('reject')),
                route('retry', prefix('/retry'), forwardTo('early'), { retry: { codes: [500], attempts: 3, backoffMs: 1 } }),
                route('mirror', prefix('/mirror'), forwardTo('early'), { mirrors: [{ cluster: 'echo', fraction: 1 }] }),
                route('echo', prefix('/echo'), forwardTo('echo')),
              ],
            },
          ]),
        ],
        { early: [early.port], reject: [reject.port], echo: [echo.port] },
      ),
    );
    port = dp.boundPort('early')!;
  });
  after(async () => {
    await dp.shutdown(1000);
    await Promise.all(upstreams.map((u) => u.close()));
  });

  it('relays 200s sent before the body was read, 20 x 1 MiB over keep-alive, without stalling', { timeout: 20_000 }, async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const body = Buffer.alloc(MiB, 0x61);
    try {
      for (let i = 0; i < 20; i++) {
        const r = await post(port, `/early/${i}`, body, agent);
        assert.equal(r.status, 200);
        assert.equal(r.body, `early /early/${i}`);
      }
    } finally {
      agent.destroy();
    }
  });

  it('relays a 413 sent before the body was read, and keeps serving', { timeout: 20_000 }, async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const body = Buffer.alloc(MiB, 0x62);
    try {
      for (let i = 0; i < 5; i++) {
        const r = await post(port, `/reject/${i}`, body, agent);
        assert.equal(r.status, 413);
        assert.equal(r.body, 'too large');
      }
      const r = await post(port, '/echo/after', Buffer.alloc(10), agent);
      assert.equal(r.status, 200);
      assert.equal(JSON.parse(r.body).bodyLength, 10);
    } finally {
      agent.destroy();
    }
  });

  it('does not put an upstream connection whose request body was cut short back in the pool', { timeout: 20_000 }, async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const r1 = await postAfterResponse(port, '/early/a', Buffer.alloc(64 * 1024), Buffer.alloc(MiB), agent);
    assert.equal(r1.status, 200);
    // On the same client connection: the rest of the first body was read and dropped.
    const r2 = await post(port, '/early/b', Buffer.alloc(10), agent);
    agent.destroy();
    assert.equal(r2.status, 200);
    assert.equal(r2.body, 'early /early/b');
    // The first request was cut short, so its connection was closed and the second needed another.
    const a = earlySockets.get('/early/a')!;
    assert.notEqual(earlySockets.get('/early/b'), a);
    await new Promise<void>((resolve) => (a.destroyed ? resolve() : a.once('close', () => resolve())));
    // Sequential small requests after it share one pooled connection again.
    const before = connections.early;
    for (const p of ['/early/c', '/early/d', '/early/e']) assert.equal((await post(port, p, Buffer.alloc(10), false)).status, 200);
    assert.ok(connections.early - before <= 1);
  });

  it('closes the client connection after the response rather than read an unwanted body past the discard limit', { timeout: 20_000 }, async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const r = await postAfterResponse(port, '/early/big', Buffer.alloc(64 * 1024), Buffer.alloc(8 * MiB), agent).catch((e: Error) => e);
    // The response came whole before the upload was cut off.
    assert.ok(!(r instanceof Error), String(r));
    assert.equal(r.status, 200);
    // The gateway closes that connection itself, without waiting for the client.
    const socket = r.socket!;
    await new Promise<void>((resolve, reject) => {
      if (socket.destroyed) resolve();
      socket.once('close', () => resolve());
      setTimeout(() => reject(new Error('the client connection is still open')), 5_000).unref();
    });
    // The agent may hand out the connection the gateway is closing: that request was never accepted, and a
    // client resends it (RFC 9112 §9.3.1).
    const next = await post(port, '/early/next', Buffer.alloc(10), agent).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ECONNRESET' && err.code !== 'EPIPE') throw err;
      return post(port, '/early/next', Buffer.alloc(10), agent);
    });
    assert.equal(next.status, 200);
    agent.destroy();
  });

  it('does not retry (replay) a body that was cut short, and mirrors still get the whole body', { timeout: 20_000 }, async () => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const r = await post(port, '/retry/x', Buffer.alloc(MiB, 0x64), agent);
      assert.equal(r.status, 200);
      assert.equal(r.body, 'early /retry/x');
      const m = await post(port, '/mirror/x', Buffer.alloc(MiB, 0x65), agent);
      assert.equal(m.status, 200);
      assert.equal(m.body, 'early /mirror/x');
      const again = await post(port, '/echo/x', Buffer.alloc(100), agent);
      assert.equal(JSON.parse(again.body).bodyLength, 100);
    } finally {
      agent.destroy();
    }
  });
});
