import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Agent } from 'node:http';
import { connect as connectH2, constants as h2, type ClientHttp2Session } from 'node:http2';
import { connect, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { DataPlane } from '../../src/dataplane/index.js';
import { silentLogger } from '../../src/util/log.js';
import {
  config,
  direct,
  eventually,
  forwardTo,
  httpServer,
  route,
  send,
  sendH2,
  sendH2Json,
  sendJson,
  startH2cUpstream,
  startUpstream,
  type H2Upstream,
  type Upstream,
  slowUpstream,
} from './helpers.js';

function session(port: number): ClientHttp2Session {
  const s = connectH2(`http://127.0.0.1:${port}`);
  // Failures surface through the streams the tests await.
  s.on('error', () => undefined);
  return s;
}

function closeSession(s: ClientHttp2Session): Promise<void> {
  return new Promise((resolve) => s.close(() => resolve()));
}

/** Writes raw bytes on a fresh connection; resolves with everything received once the server has closed it. */
function rawExchange(port: number, bytes: string | Buffer): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket: Socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', reject);
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('latin1')));
    socket.write(bytes);
  });
}

describe('HTTP/2 with prior knowledge on an HTTP listener', () => {
  const dp = new DataPlane({ logger: silentLogger });
  const upstreams: Upstream[] = [];
  let h2up: H2Upstream;
  let port = 0;
  let client: ClientHttp2Session;

  before(async () => {
    const h1 = await startUpstream('h1');
    const variant = await startUpstream('variant');
    // Relays a fixed status and headers, including connection-specific ones HTTP/2 must not carry.
    const custom = await startUpstream((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(201, 'Made It', [
          'X-Custom', 'yes',
          'Set-Cookie', 'a=1',
          'Set-Cookie', 'b=2',
          'Keep-Alive', 'timeout=5',
          'Connection', 'keep-alive, X-Hop',
          'X-Hop', 'dropped',
          'Content-Type', 'text/plain',
        ]);
        res.end('created');
      });
    });
    // Sends headers and part of a body, then resets the connection.
    const breaking = await startUpstream((_req, res) => {
      res.writeHead(200, { 'content-length': '100' });
      res.write('partial', () => res.socket?.destroy());
    });
    // Answers what HTTP/1.1 lets through but HTTP/2 cannot carry as sent: repeated singleton fields, a status above 599.
    const odd = await startUpstream((req, res) => {
      res.writeHead(req.url === '/odd/600' ? 600 : 200, ['Content-Type', 'text/plain', 'Content-Type', 'text/html', 'Location', '/a', 'Location', '/b']);
      res.end('odd');
    });
    upstreams.push(h1, variant, custom, breaking, odd);
    h2up = await startH2cUpstream('h2c');
    await dp.apply(
      config(
        [
          httpServer('s', [
            {
              hostname: 'h2c.example',
              routes: [route('h2c', {}, forwardTo('h2c'))],
            },
            {
              hostname: 'site.example',
              routes: [
                route('variant', { headers: [{ name: 'x-variant', type: 'Exact', value: 'b' }] }, forwardTo('variant')),
                route('custom', { path: { type: 'PathPrefix', value: '/custom' } }, forwardTo('custom'), {
                  responseHeaders: { add: [{ name: 'x-route', value: 'custom' }] },
                }),
                route('breaking', { path: { type: 'PathPrefix', value: '/breaking' } }, forwardTo('breaking')),
                route('odd', { path: { type: 'PathPrefix', value: '/odd' } }, forwardTo('odd'), {
                  responseHeaders: { add: [{ name: 'content-type', value: 'text/extra' }] },
                }),
                route('direct', { path: { type: 'Exact', value: '/direct' } }, direct('direct answer')),
                route(
                  'redirect',
                  { path: { type: 'Exact', value: '/old' } },
                  { type: 'redirect', statusCode: 302, path: { type: 'ReplaceFullPath', value: '/new' } },
                ),
                route('h1', { path: { type: 'PathPrefix', value: '/app' } }, forwardTo('h1')),
              ],
            },
          ]),
        ],
        { h1: [h1.port], variant: [variant.port], custom: [custom.port], breaking: [breaking.port], odd: [odd.port], h2c: [h2up.port] },
        { h2c: 'h2c' },
      ),
    );
    port = dp.boundPort('s')!;
    client = session(port);
  });
  after(async () => {
    await closeSession(client);
    await dp.shutdown(1000);
    await Promise.all([...upstreams.map((u) => u.close()), h2up.close()]);
  });

  it('routes by :authority and path to an HTTP/1.1 upstream, which gets Host and no pseudo-headers', async () => {
    const e = await sendH2Json(client, '/app/x?y=1', { authority: 'site.example:8080', headers: { 'x-kept': 'k' } });
    assert.equal(e.name, 'h1');
    assert.equal(e.method, 'GET');
    assert.equal(e.url, '/app/x?y=1');
    assert.equal(e.headers.host, 'site.example:8080');
    assert.equal(e.headers['x-forwarded-host'], 'site.example:8080');
    assert.equal(e.headers['x-forwarded-proto'], 'http');
    assert.equal(e.headers['x-kept'], 'k');
    assert.deepEqual(
      Object.keys(e.headers).filter((n) => n.startsWith(':')),
      [],
    );
    assert.equal(e.bodyLength, 0);
  });

  it('falls back to Host when the client sends no :authority', async () => {
    const r = await new Promise<string>((resolve, reject) => {
      const s = client.request({ ':path': '/app/host', ':method': 'GET', ':scheme': 'http', host: 'site.example' });
      let body = '';
      s.setEncoding('utf8');
      s.on('data', (c: string) => (body += c));
      s.on('end', () => resolve(body));
      s.on('error', reject);
    });
    assert.equal(JSON.parse(r).name, 'h1');
  });

  it('matches headers on their first value', async () => {
    assert.equal((await sendH2Json(client, '/app', { authority: 'site.example', headers: { 'x-variant': 'b' } })).name, 'variant');
    assert.equal((await sendH2Json(client, '/app', { authority: 'site.example', headers: { 'x-variant': ['b', 'a'] } })).name, 'variant');
    assert.equal((await sendH2Json(client, '/app', { authority: 'site.example', headers: { 'x-variant': ['a', 'b'] } })).name, 'h1');
  });

  it('forwards to an h2c upstream', async () => {
    const e = await sendH2Json(client, '/any', { authority: 'h2c.example' });
    assert.equal(e.name, 'h2c');
    assert.equal(e.httpVersion, '2.0');
    assert.equal(e.headers[':authority'], 'h2c.example');
  });

  it('streams request bodies with and without content-length', async () => {
    const body = randomBytes(3 * 1024 * 1024);
    const chunked = await sendH2Json(client, '/app/upload', { authority: 'site.example', method: 'POST', body });
    assert.equal(chunked.bodyLength, body.length);
    assert.equal(chunked.headers['transfer-encoding'], 'chunked');
    const sized = await sendH2Json(client, '/app/upload', {
      authority: 'site.example',
      method: 'PUT',
      headers: { 'content-length': String(body.length) },
      body,
    });
    assert.equal(sized.bodyLength, body.length);
    assert.equal(sized.headers['content-length'], String(body.length));
    assert.equal((await sendH2Json(client, '/up', { authority: 'h2c.example', method: 'POST', body })).bodyLength, body.length);
    // An HTTP/1.1 chunked body, decoded on Archway's own path, goes on as DATA frames.
    const fromH1 = await sendJson(port, '/up', { host: 'h2c.example', method: 'POST', headers: { 'transfer-encoding': 'chunked' }, body });
    assert.equal(fromH1.bodyLength, body.length);
    assert.equal(fromH1.headers['transfer-encoding'], undefined);
  });

  it('relays status and headers without connection-specific fields', async () => {
    const r = await sendH2(client, '/custom', { authority: 'site.example' });
    assert.equal(r.status, 201);
    assert.equal(r.body, 'created');
    assert.equal(r.headers['x-custom'], 'yes');
    assert.deepEqual(r.headers['set-cookie'], ['a=1', 'b=2']);
    assert.equal(r.headers['x-route'], 'custom');
    assert.equal(r.headers['content-type'], 'text/plain');
    for (const name of ['connection', 'keep-alive', 'x-hop', 'transfer-encoding']) assert.equal(r.headers[name], undefined, name);
  });

  it('joins repeated fields and maps statuses HTTP/2 cannot carry to 502', async () => {
    const r = await sendH2(client, '/odd', { authority: 'site.example' });
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-type'], 'text/plain, text/html, text/extra');
    assert.equal(r.headers.location, '/a, /b');
    assert.equal((await sendH2(client, '/odd/600', { authority: 'site.example' })).status, 502);
    // HTTP/1.1 clients get what the upstream sent.
    assert.equal((await send(port, '/odd/600', { host: 'site.example' })).status, 600);
  });

  it('answers locally: 404 without a route, direct responses and redirects', async () => {
    assert.equal((await sendH2(client, '/nothing', { authority: 'unknown.example' })).status, 404);
    assert.equal((await sendH2(client, '/nothing', { authority: 'site.example' })).status, 404);
    const d = await sendH2(client, '/direct', { authority: 'site.example' });
    assert.equal(d.status, 200);
    assert.equal(d.body, 'direct answer');
    const r = await sendH2(client, '/old?q=1', { authority: 'site.example:8080' });
    assert.equal(r.status, 302);
    assert.equal(r.headers.location, 'http://site.example/new?q=1');
  });

  it('resets the stream when the upstream breaks off mid-body', async () => {
    await assert.rejects(sendH2(client, '/breaking', { authority: 'site.example' }), { code: 'ERR_HTTP2_STREAM_ERROR' });
    // The session survives the reset of one stream.
    assert.equal((await sendH2Json(client, '/app', { authority: 'site.example' })).name, 'h1');
  });

  it('serves many concurrent streams on one session, and advertises its limits', async () => {
    assert.equal(client.remoteSettings.maxConcurrentStreams, 100);
    const replies = await Promise.all(Array.from({ length: 150 }, (_, i) => sendH2Json(client, `/app/${i}`, { authority: 'site.example' })));
    assert.deepEqual(
      replies.map((e) => e.url),
      Array.from({ length: 150 }, (_, i) => `/app/${i}`),
    );
  });

  it('serves HTTP/1.1 on the same port, alongside open HTTP/2 sessions', async () => {
    const agent = new Agent({ keepAlive: true });
    const [a, b, c] = await Promise.all([
      sendJson(port, '/app/one', { host: 'site.example', agent }),
      sendH2Json(client, '/app/two', { authority: 'site.example' }),
      // POST starts with the preface's first letter and departs from it at the second.
      sendJson(port, '/app/three', { host: 'site.example', method: 'POST', body: 'xyz', agent }),
    ]);
    assert.equal(a.name, 'h1');
    assert.equal(b.name, 'h1');
    assert.equal(c.bodyLength, 3);
    assert.equal((await send(port, '/nothing', { host: 'site.example', agent })).status, 404);
    agent.destroy();
  });

  it('survives rapid resets', async () => {
    const s = session(port);
    for (let i = 0; i < 300; i++) {
      s.request({ ':path': '/app/cancelled', ':authority': 'site.example' }).close(h2.NGHTTP2_CANCEL);
    }
    // Node may end a session that resets too fast; either way the process and other sessions carry on.
    await new Promise<void>((resolve) => {
      const probe = s.request({ ':path': '/app', ':authority': 'site.example' });
      probe.on('close', () => resolve());
      probe.on('error', () => undefined);
      probe.resume();
    });
    s.destroy();
    assert.equal((await sendH2Json(client, '/app', { authority: 'site.example' })).name, 'h1');
    const fresh = session(port);
    assert.equal((await sendH2Json(fresh, '/app', { authority: 'site.example' })).name, 'h1');
    await closeSession(fresh);
    await eventually(() => dp.stats().active === 0, 'every request to close');
  });
});

describe('connections that are neither', () => {
  const dp = new DataPlane({ logger: silentLogger });
  let port = 0;

  before(async () => {
    await dp.apply(config([httpServer('s', [{ hostname: '*', routes: [route('r', {}, direct('ok'))] }])]));
    port = dp.boundPort('s')!;
  });
  after(() => dp.shutdown(1000));

  it('answers 400 to garbage and to a damaged preface, without disturbing other connections', async () => {
    const good = session(port);
    assert.equal((await sendH2(good, '/')).body, 'ok');
    const [garbage, tls, damaged] = await Promise.all([
      rawExchange(port, 'GARBAGE\r\n\r\n'),
      rawExchange(port, Buffer.from([0x16, 0x03, 0x01, 0x00, 0xa5, 0x01, 0x00, 0x00])),
      rawExchange(port, 'PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n'),
    ]);
    for (const reply of [garbage, tls, damaged]) assert.match(reply, /^HTTP\/1\.1 400 /);
    assert.equal((await sendH2(good, '/')).body, 'ok');
    assert.equal((await send(port, '/')).body, 'ok');
    await closeSession(good);
  });

  it('closes an HTTP/2 connection whose first frame is garbage', async () => {
    const reply = await rawExchange(port, Buffer.concat([Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n'), randomBytes(64)]));
    // Whatever Node answers (SETTINGS, GOAWAY), it is HTTP/2 framing, not an HTTP/1.1 status line, and the connection ends.
    assert.doesNotMatch(reply, /^HTTP\/1\.1/);
    assert.equal((await send(port, '/')).body, 'ok');
  });

  it('takes a preface delivered a byte at a time', async () => {
    const socket = connect(port, '127.0.0.1');
    const firstFrame = new Promise<Buffer>((r) => socket.once('data', (d: Buffer) => r(d)));
    for (const byte of Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n')) {
      await new Promise<void>((r) => socket.write(Buffer.from([byte]), () => r()));
    }
    // The server's side of the connection preface is a SETTINGS frame (type 4 in the fourth byte of its header).
    assert.equal((await firstFrame)[3], 0x04);
    socket.destroy();
  });
});

describe('apply and shutdown with HTTP/2 clients', () => {
  it('serves continuous HTTP/2 traffic without a failure across 20 applies', async () => {
    const a = await startUpstream('a');
    const h2up = await startH2cUpstream('b');
    const dp = new DataPlane({ logger: silentLogger });
    const irFor = (i: number) =>
      config(
        [
          httpServer('hot', [
            { hostname: `extra-${i}.example.com`, routes: [route(`extra-${i}`, {}, direct('extra'))] },
            {
              hostname: '*',
              routes: [
                route(`changing-${i}`, { path: { type: 'Exact', value: `/changing-${i}` } }, forwardTo('h2')),
                route('h2', { path: { type: 'PathPrefix', value: '/h2' } }, forwardTo('h2')),
                route('stable', { path: { type: 'PathPrefix', value: '/stable' } }, forwardTo('stable')),
              ],
            },
          ]),
        ],
        { stable: [a.port], h2: [h2up.port] },
        { h2: 'h2c' },
      );
    await dp.apply(irFor(0));
    const port = dp.boundPort('hot')!;
    const sessions = [session(port), session(port)];
    let stop = false;
    const statuses: number[] = [];
    const worker = async (s: ClientHttp2Session, path: string): Promise<void> => {
      while (!stop) statuses.push((await sendH2(s, path, { method: 'POST', body: 'payload' })).status);
    };
    const workers = sessions.flatMap((s) => Array.from({ length: 8 }, (_, i) => worker(s, i % 2 === 0 ? '/stable' : '/h2')));
    // Stopped however the applies end: running loops would keep the test process alive.
    try {
      for (let i = 1; i <= 20; i++) {
        assert.deepEqual((await dp.apply(irFor(i))).failures, []);
        assert.equal(dp.boundPort('hot'), port);
        await sendH2(sessions[0]!, '/stable');
      }
    } finally {
      stop = true;
      await Promise.all(workers);
    }
    assert.ok(statuses.length > 20);
    assert.deepEqual(
      statuses.filter((s) => s !== 200),
      [],
    );
    await Promise.all(sessions.map(closeSession));
    await dp.shutdown(1000);
    await Promise.all([a.close(), h2up.close()]);
  });

  it('sends GOAWAY on shutdown and lets streams in flight finish', async () => {
    const { upstream, release, arrival } = await slowUpstream();
    const dp = new DataPlane({ logger: silentLogger });
    await dp.apply(config([httpServer('s', [{ hostname: '*', routes: [route('r', {}, forwardTo('slow'))] }])], { slow: [upstream.port] }));
    const port = dp.boundPort('s')!;
    const idle = session(port);
    assert.equal((await sendH2(idle, '/')).body, 'fast');
    const busy = session(port);
    const inFlight = sendH2(busy, '/slow');
    await arrival;
    const goaway = new Promise<number>((r) => busy.once('goaway', (code: number) => r(code)));
    const idleClosed = new Promise<void>((r) => idle.once('close', () => r()));
    let shutDown = false;
    const stopping = dp.shutdown(10_000).then(() => (shutDown = true));
    assert.equal(await goaway, h2.NGHTTP2_NO_ERROR);
    // A session with no streams ends at once; new connections are refused.
    await idleClosed;
    await assert.rejects(send(port, '/'), { code: 'ECONNREFUSED' });
    assert.equal(shutDown, false);
    release();
    const reply = await inFlight;
    assert.equal(reply.status, 200);
    assert.equal(reply.body, 'done');
    assert.equal(reply.headers.connection, undefined);
    await stopping;
    assert.equal(dp.stats().active, 0);
    busy.destroy();
    await upstream.close();
  });

  it('resets streams still running when the shutdown timeout expires', async () => {
    const { upstream, release, arrival } = await slowUpstream();
    const dp = new DataPlane({ logger: silentLogger });
    await dp.apply(config([httpServer('s', [{ hostname: '*', routes: [route('r', {}, forwardTo('slow'))] }])], { slow: [upstream.port] }));
    const s = session(dp.boundPort('s')!);
    const stuck = assert.rejects(sendH2(s, '/slow'), { code: 'ERR_HTTP2_SESSION_ERROR' });
    await arrival;
    await dp.shutdown(50);
    await stuck;
    release();
    s.destroy();
    await upstream.close();
  });
});
