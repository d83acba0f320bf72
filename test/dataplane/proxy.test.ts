import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { Agent, request } from 'node:http';
import { connect } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { DataPlane } from '../../src/dataplane/index.js';
import { silentLogger } from '../../src/util/log.js';
import {
  closedPort,
  config,
  forwardTo,
  httpServer,
  route,
  send,
  sendJson,
  startUpstream,
  type Upstream,
} from './helpers.js';

describe('proxying', () => {
  const dp = new DataPlane({ logger: silentLogger });
  const upstreams: Upstream[] = [];
  let port = 0;
  let resetHits = 0;

  before(async () => {
    const [a, b, c] = await Promise.all([startUpstream('a'), startUpstream('b'), startUpstream('c')]);
    const stream = await startUpstream((req, res) => {
      // Echo the upload back chunk by chunk, with its own framing.
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      req.pipe(res);
    });
    const hop = await startUpstream((_req, res) => {
      res.writeHead(200, { connection: 'x-secret, keep-alive', 'x-secret': '1', 'keep-alive': 'timeout=5', 'x-kept': '1' });
      res.end('ok');
    });
    const reset = await startUpstream((_req, res) => {
      resetHits++;
      res.writeHead(200, { 'content-length': '1000' });
      res.write('partial', () => res.socket?.destroy());
    });
    upstreams.push(a, b, c, stream, hop, reset);
    const dead = await closedPort();
    const ir = config(
      [
        httpServer('proxy', [
          {
            hostname: '*',
            routes: [
              route('echo', { path: { type: 'PathPrefix', value: '/echo' } }, forwardTo('a')),
              route('invalid', { path: { type: 'Exact', value: '/invalid' } }, { type: 'forward', backends: [{ weight: 1 }] }),
              route(
                'invalid-custom',
                { path: { type: 'Exact', value: '/invalid-custom' } },
                { type: 'forward', backends: [{ weight: 1, invalidStatus: 502 }] },
              ),
              route('zero', { path: { type: 'Exact', value: '/zero' } }, forwardTo(['a', 0])),
              route('empty', { path: { type: 'Exact', value: '/empty' } }, forwardTo('empty')),
              route('unknown', { path: { type: 'Exact', value: '/unknown' } }, forwardTo('not-in-ir')),
              route('refused', { path: { type: 'Exact', value: '/refused' } }, forwardTo('dead')),
              route('one-zero', { path: { type: 'Exact', value: '/one-zero' } }, forwardTo(['a', 1], ['b', 0])),
              route('split', { path: { type: 'Exact', value: '/split' } }, forwardTo(['a', 50], ['b', 50])),
              route('rr', { path: { type: 'Exact', value: '/rr' } }, forwardTo('bc')),
              route(
                'mutate',
                { path: { type: 'Exact', value: '/mutate' } },
                forwardTo('a'),
                {
                  requestHeaders: {
                    set: [{ name: 'x-set', value: 'new' }],
                    add: [
                      { name: 'x-add', value: 'two' },
                      { name: 'x-fresh', value: 'only' },
                    ],
                    remove: ['x-remove'],
                  },
                },
              ),
              route('stream', { path: { type: 'Exact', value: '/stream' } }, forwardTo('stream')),
              route('hop', { path: { type: 'Exact', value: '/hop' } }, forwardTo('hop')),
              route('reset', { path: { type: 'Exact', value: '/reset' } }, forwardTo('reset')),
            ],
          },
        ]),
      ],
      {
        a: [a.port],
        b: [b.port],
        bc: [b.port, c.port],
        empty: [],
        dead: [dead],
        stream: [stream.port],
        hop: [hop.port],
        reset: [reset.port],
      },
    );
    assert.deepEqual((await dp.apply(ir)).failures, []);
    port = dp.boundPort('proxy')!;
  });
  after(async () => {
    await dp.shutdown(1000);
    await Promise.all(upstreams.map((u) => u.close()));
  });

  it('forwards method, target and the client Host', async () => {
    const e = await sendJson(port, '/echo/x?y=1', { method: 'PUT', host: 'Site.Example:81', body: 'hello' });
    assert.equal(e.name, 'a');
    assert.equal(e.method, 'PUT');
    assert.equal(e.url, '/echo/x?y=1');
    assert.equal(e.headers.host, 'Site.Example:81');
    assert.equal(e.bodyLength, 5);
  });

  it('sets X-Forwarded-For, -Proto and -Host', async () => {
    const e = await sendJson(port, '/echo', { host: 'h.example', headers: { 'x-forwarded-for': '10.0.0.1' } });
    assert.equal(e.headers['x-forwarded-for'], '10.0.0.1, 127.0.0.1');
    assert.equal(e.headers['x-forwarded-proto'], 'http');
    assert.equal(e.headers['x-forwarded-host'], 'h.example');
    const plain = await sendJson(port, '/echo');
    assert.equal(plain.headers['x-forwarded-for'], '127.0.0.1');
  });

  it('passes a plain request\'s fields on as sent, less hop-by-hop ones and the X-Forwarded ones it sets', async () => {
    const e = await sendJson(port, '/echo', {
      host: 'h.example',
      headers: { 'keep-alive': 'timeout=1', 'proxy-connection': 'close', te: 'trailers', 'x-forwarded-proto': 'https', 'x-forwarded-host': 'elsewhere', 'X-Bar': ' two  words' },
    });
    for (const h of ['keep-alive', 'proxy-connection', 'te']) assert.equal(e.headers[h], undefined, h);
    assert.equal(e.headers['x-forwarded-proto'], 'http');
    assert.equal(e.headers['x-forwarded-host'], 'h.example');
    assert.equal(e.headers['x-bar'], 'two  words');
    assert.equal(e.headers.host, 'h.example');
  });

  it('answers invalidStatus (default 500) for an invalid backend and 500 when all weights are zero', async () => {
    assert.equal((await send(port, '/invalid')).status, 500);
    assert.equal((await send(port, '/invalid-custom')).status, 502);
    assert.equal((await send(port, '/zero')).status, 500);
  });

  it('answers 503 for a cluster without endpoints, an unknown cluster and a refused connection', async () => {
    assert.equal((await send(port, '/empty')).status, 503);
    assert.equal((await send(port, '/unknown')).status, 503);
    assert.equal((await send(port, '/refused')).status, 503);
    assert.ok(dp.stats().upstreamErrors >= 1);
  });

  it('never picks a zero-weight backend and splits 50/50 between both', async () => {
    for (let i = 0; i < 50; i++) assert.equal((await sendJson(port, '/one-zero')).name, 'a');
    const agent = new Agent({ keepAlive: true });
    const seen = { a: 0, b: 0 } as Record<string, number>;
    for (let i = 0; i < 200; i++) seen[(await sendJson(port, '/split', { agent })).name]!++;
    agent.destroy();
    assert.ok(seen.a! > 0 && seen.b! > 0, JSON.stringify(seen));
    assert.equal(seen.a! + seen.b!, 200);
  });

  it('round-robins across the endpoints of a cluster', async () => {
    const names: string[] = [];
    for (let i = 0; i < 6; i++) names.push((await sendJson(port, '/rr')).name);
    for (let i = 1; i < names.length; i++) assert.notEqual(names[i], names[i - 1], names.join());
  });

  it('applies set, add and remove to request headers', async () => {
    const e = await sendJson(port, '/mutate', { headers: { 'x-set': 'old', 'x-add': 'one', 'x-remove': 'gone', 'x-other': 'kept' } });
    assert.equal(e.headers['x-set'], 'new');
    assert.equal(e.headers['x-add'], 'one,two');
    assert.equal(e.headers['x-fresh'], 'only');
    assert.equal(e.headers['x-remove'], undefined);
    assert.equal(e.headers['x-other'], 'kept');
  });

  it('removes hop-by-hop headers in both directions', async () => {
    const e = await sendJson(port, '/echo', {
      headers: { connection: 'x-foo, keep-alive', 'x-foo': '1', 'keep-alive': 'timeout=1', 'proxy-connection': 'close', te: 'trailers', 'x-bar': '2' },
    });
    for (const h of ['x-foo', 'keep-alive', 'proxy-connection', 'te']) assert.equal(e.headers[h], undefined, h);
    assert.equal(e.headers['x-bar'], '2');
    const r = await send(port, '/hop');
    assert.equal(r.body, 'ok');
    assert.equal(r.headers['x-secret'], undefined);
    assert.equal(r.headers['keep-alive'], undefined);
    assert.equal(r.headers['x-kept'], '1');
  });

  it('streams an 8 MiB body up and back', async () => {
    const body = randomBytes(8 * 1024 * 1024);
    const digest = createHash('sha256').update(body).digest('hex');
    const received = await new Promise<{ length: number; digest: string; te?: string }>((resolve, reject) => {
      const req = request(
        { host: '127.0.0.1', port, path: '/stream', method: 'POST', headers: { host: 'example.com' }, agent: false },
        (res) => {
          const hash = createHash('sha256');
          let length = 0;
          res.on('data', (c: Buffer) => {
            length += c.length;
            hash.update(c);
          });
          res.on('end', () => resolve({ length, digest: hash.digest('hex'), te: res.headers['transfer-encoding'] }));
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      // Chunked upload in pieces, so the proxy must re-frame rather than copy a Content-Length.
      for (let off = 0; off < body.length; off += 1 << 20) req.write(body.subarray(off, off + (1 << 20)));
      req.end();
    });
    assert.equal(received.length, body.length);
    assert.equal(received.digest, digest);
  });

  it('resets the client when the upstream resets mid-response, and keeps serving', async () => {
    const before = resetHits;
    await assert.rejects(send(port, '/reset'));
    assert.equal(resetHits, before + 1);
    assert.equal((await sendJson(port, '/echo')).name, 'a');
  });

  it('answers 400 to a malformed request', async () => {
    const raw = await new Promise<string>((resolve, reject) => {
      const s = connect(port, '127.0.0.1', () => s.write('GET / HTTP/1.1\r\nHost: example.com\r\nBad Header\r\n\r\n'));
      let data = '';
      s.on('data', (d) => (data += d.toString()));
      s.on('end', () => resolve(data));
      s.on('error', reject);
    });
    assert.match(raw, /^HTTP\/1\.1 400 /);
  });

  it('counts responses by status class', () => {
    const s = dp.stats();
    assert.ok(s.responses['2xx'] > 200);
    assert.ok(s.responses['5xx'] >= 6);
    assert.equal(s.active, 0);
  });
});

describe('stale upstream connections', () => {
  it('replays a bodyless request when a reused upstream socket turns out dead', async () => {
    // The upstream drops each connection on its second request, as if its idle timer fired just then.
    const served = new WeakMap<object, number>();
    const flaky = await startUpstream((req, res) => {
      const n = (served.get(req.socket) ?? 0) + 1;
      served.set(req.socket, n);
      if (n > 1) req.socket.destroy();
      else res.end('fresh');
    });
    const dp = new DataPlane({ logger: silentLogger });
    await dp.apply(config([httpServer('flaky', [{ hostname: '*', routes: [route('r', {}, forwardTo('flaky'))] }])], { flaky: [flaky.port] }));
    const port = dp.boundPort('flaky')!;
    for (let i = 0; i < 5; i++) assert.equal((await send(port, '/')).body, 'fresh');
    await dp.shutdown(1000);
    await flaky.close();
  });
});

describe('client abort', () => {
  it('aborts the upstream request when the client goes away', async () => {
    let upstreamClosed!: () => void;
    const closed = new Promise<void>((r) => (upstreamClosed = r));
    let arrived!: () => void;
    const arrival = new Promise<void>((r) => (arrived = r));
    const slow = await startUpstream((req, res) => {
      res.on('close', () => upstreamClosed());
      arrived();
      void req;
    });
    const dp = new DataPlane({ logger: silentLogger });
    await dp.apply(config([httpServer('abort', [{ hostname: '*', routes: [route('slow', {}, forwardTo('slow'))] }])], { slow: [slow.port] }));
    const req = request({ host: '127.0.0.1', port: dp.boundPort('abort'), path: '/', agent: false });
    req.on('error', () => undefined);
    req.end();
    await arrival;
    req.destroy();
    await closed;
    await dp.shutdown(1000);
    await slow.close();
  });
});
