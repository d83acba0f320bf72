import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { DataPlane } from '../../src/dataplane/index.js';
import { silentLogger } from '../../src/util/log.js';
import {
  closedPort,
  config,
  direct,
  forwardTo,
  httpServer,
  route,
  send,
  sendJson,
  startH2cUpstream,
  startUpstream,
  type H2Upstream,
  type Upstream,
} from './helpers.js';

describe('h2c clusters', () => {
  const dp = new DataPlane({ logger: silentLogger });
  let h2: H2Upstream;
  let port = 0;

  before(async () => {
    h2 = await startH2cUpstream('h2');
    const dead = await closedPort();
    await dp.apply(
      config(
        [
          httpServer('h2c', [
            {
              hostname: '*',
              routes: [
                route('dead', { path: { type: 'PathPrefix', value: '/dead' } }, forwardTo('dead')),
                route('rewrite', { path: { type: 'PathPrefix', value: '/rewrite' } }, forwardTo('h2'), { urlRewrite: { hostname: 'backend.example' } }),
                route('h2', {}, forwardTo('h2')),
              ],
            },
          ]),
        ],
        { h2: [h2.port], dead: [dead] },
        { h2: 'h2c', dead: 'h2c' },
      ),
    );
    port = dp.boundPort('h2c')!;
  });
  after(async () => {
    await dp.shutdown(1000);
    await h2.close();
  });

  it('forwards over HTTP/2 with :authority from Host and without hop-by-hop fields', async () => {
    const r = await send(port, '/x?y=1', { host: 'site.example:81', headers: { connection: 'keep-alive, x-hop', 'x-hop': '1', 'x-kept': 'k' } });
    assert.equal(r.status, 200);
    assert.equal(r.headers['x-upstream'], 'h2');
    const e = JSON.parse(r.body) as { httpVersion: string; url: string; method: string; headers: Record<string, string> };
    assert.equal(e.httpVersion, '2.0');
    assert.equal(e.method, 'GET');
    assert.equal(e.url, '/x?y=1');
    assert.equal(e.headers[':authority'], 'site.example:81');
    assert.equal(e.headers['x-kept'], 'k');
    assert.equal(e.headers['x-hop'], undefined);
    assert.equal(e.headers['x-forwarded-proto'], 'http');
    assert.equal(e.headers.host, undefined);
  });

  it('sends a rewritten hostname as :authority', async () => {
    const e = await sendJson(port, '/rewrite', { host: 'site.example' });
    assert.equal(e.headers[':authority'], 'backend.example');
  });

  it('streams request bodies', async () => {
    const body = randomBytes(3 * 1024 * 1024);
    assert.equal((await sendJson(port, '/upload', { method: 'POST', body })).bodyLength, body.length);
  });

  it('multiplexes requests over one session per endpoint and reconnects after GOAWAY', async () => {
    const before = h2.sessions();
    await Promise.all(Array.from({ length: 20 }, () => sendJson(port, '/many')));
    assert.equal(h2.sessions(), before);
    await h2.goaway();
    assert.equal((await sendJson(port, '/after-goaway')).name, 'h2');
    assert.equal((await sendJson(port, '/again')).name, 'h2');
    assert.equal(h2.sessions(), before + 1);
  });

  it('answers 503 when the endpoint refuses the connection', async () => {
    assert.equal((await send(port, '/dead')).status, 503);
  });
});

describe('WebSocket upgrades', () => {
  const dp = new DataPlane({ logger: silentLogger });
  const upstreams: Upstream[] = [];
  const upstreamSockets: Socket[] = [];
  let port = 0;

  before(async () => {
    // Completes the handshake, then echoes raw bytes back (the tunnel is byte-transparent, so framing is irrelevant).
    const ws = await startUpstream((req, res) => {
      res.end(`plain ${req.headers.upgrade ?? 'none'}`);
    });
    ws.server.on('upgrade', (req, socket: Socket, head: Buffer) => {
      upstreamSockets.push(socket);
      const accept = createHash('sha1').update(`${req.headers['sec-websocket-key']}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
      socket.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\nX-Path: ${req.url}\r\n\r\n`);
      if (head.length > 0) socket.write(head);
      socket.pipe(socket);
    });
    // No upgrade listener: Node serves the handshake as a plain request.
    const refusing = await startUpstream((req, res) => {
      res.writeHead(426, { 'x-seen-upgrade': String(req.headers.upgrade) });
      res.end('upgrade required');
    });
    upstreams.push(ws, refusing);
    await dp.apply(
      config(
        [
          httpServer('ws', [
            {
              hostname: '*',
              routes: [
                route('refusing', { path: { type: 'PathPrefix', value: '/refusing' } }, forwardTo('refusing')),
                route('direct', { path: { type: 'PathPrefix', value: '/direct' } }, direct('not a socket')),
                route('ws', {}, forwardTo('ws'), { responseHeaders: { add: [{ name: 'x-route', value: 'ws' }] } }),
              ],
            },
          ]),
        ],
        { ws: [ws.port], refusing: [refusing.port] },
        { ws: 'ws' },
      ),
    );
    port = dp.boundPort('ws')!;
  });
  after(async () => {
    await dp.shutdown(1000);
    await Promise.all(upstreams.map((u) => u.close()));
  });

  it('tunnels a WebSocket both ways after a 101', async () => {
    const c = await handshake(port, '/chat?room=1', 'GET', 'websocket', 'early');
    assert.match(c.head, /^HTTP\/1\.1 101 /);
    assert.match(c.head, /\r\nupgrade: websocket\r\n/i);
    assert.match(c.head, /\r\nconnection: upgrade\r\n/i);
    assert.match(c.head, /\r\nsec-websocket-accept: /i);
    assert.match(c.head, /\r\nx-path: \/chat\?room=1\r\n/i);
    assert.match(c.head, /\r\nx-route: ws\r\n/i);
    // Bytes sent with the handshake arrive too.
    assert.equal(await c.read(5), 'early');
    c.socket.write('hello, tunnel');
    assert.equal(await c.read(13), 'hello, tunnel');
    const upstream = upstreamSockets.at(-1)!;
    const upstreamClosed = new Promise<void>((r) => upstream.once('close', () => r()));
    c.socket.destroy();
    await upstreamClosed;
  });

  it('closes the client side when the upstream goes away', async () => {
    const c = await handshake(port, '/bye', 'GET', 'websocket');
    const clientClosed = new Promise<void>((r) => c.socket.once('close', () => r()));
    upstreamSockets.at(-1)!.destroy();
    await clientClosed;
  });

  it('relays a non-101 answer and ends the connection', async () => {
    const c = await handshake(port, '/refusing', 'GET', 'websocket');
    assert.match(c.head, /^HTTP\/1\.1 426 /);
    assert.match(c.head, /\r\nx-seen-upgrade: websocket\r\n/i);
    assert.match(c.head, /\r\nconnection: close\r\n/i);
    await new Promise<void>((r) => c.socket.once('close', () => r()));
  });

  it('serves other upgrades and non-forward routes as plain requests', async () => {
    const h2c = await handshake(port, '/refusing', 'GET', 'h2c');
    assert.match(h2c.head, /\r\nx-seen-upgrade: undefined\r\n/i);
    const d = await handshake(port, '/direct', 'GET', 'websocket');
    assert.match(d.head, /^HTTP\/1\.1 200 /);
    assert.equal(await d.read(12), 'not a socket');
  });

  it('destroys open tunnels on shutdown', async () => {
    const other = new DataPlane({ logger: silentLogger });
    await other.apply(config([httpServer('s', [{ hostname: '*', routes: [route('ws', {}, forwardTo('ws'))] }])], { ws: [upstreams[0]!.port] }));
    const c = await handshake(other.boundPort('s')!, '/', 'GET', 'websocket');
    const clientClosed = new Promise<void>((r) => c.socket.once('close', () => r()));
    await other.shutdown(10);
    await clientClosed;
  });

  it('keeps plain requests working on the same listener', async () => {
    assert.equal((await send(port, '/plain')).body, 'plain none');
  });
});

interface RawClient {
  socket: Socket;
  /** Status line and headers, up to the blank line. */
  head: string;
  /** Resolves with the next `n` bytes after the head. */
  read(n: number): Promise<string>;
}

function handshake(port: number, path: string, method: string, upgrade: string, early = ''): Promise<RawClient> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let buf = Buffer.alloc(0);
    let waiter: (() => void) | undefined;
    const client: RawClient = {
      socket,
      head: '',
      read: (n) =>
        new Promise((res) => {
          const check = (): void => {
            if (buf.length < n) return;
            waiter = undefined;
            const out = buf.subarray(0, n).toString();
            buf = buf.subarray(n);
            res(out);
          };
          waiter = check;
          check();
        }),
    };
    socket.on('data', (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (client.head === '') {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        client.head = buf.subarray(0, end + 4).toString();
        buf = buf.subarray(end + 4);
        resolve(client);
      }
      waiter?.();
    });
    socket.on('error', reject);
    socket.write(
      `${method} ${path} HTTP/1.1\r\nHost: example.com\r\nConnection: Upgrade\r\nUpgrade: ${upgrade}\r\n` +
        `Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\n\r\n${early}`,
    );
  });
}
