import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { request, type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { DataPlane } from '../../src/dataplane/index.js';
import type { IRRoute } from '../../src/ir/types.js';
import { silentLogger } from '../../src/util/log.js';
import { closedPort, config, forwardTo, httpServer, route, send, sendJson, startUpstream, type Echo, type Upstream } from './helpers.js';

const prefix = (p: string): Partial<IRRoute['match']> => ({ path: { type: 'PathPrefix', value: p } });

/** Resolves once `socket` has closed. */
const closed = (socket: Socket): Promise<void> => new Promise((r) => (socket.destroyed ? r() : socket.once('close', () => r())));

describe('timeouts', () => {
  const dp = new DataPlane({ logger: silentLogger });
  const upstreams: Upstream[] = [];
  /** Upstream sockets of requests that were never answered. */
  const hung: Socket[] = [];
  let arrivedHung!: () => void;
  let port = 0;

  before(async () => {
    const silent = await startUpstream((req) => {
      hung.push(req.socket);
      arrivedHung();
    });
    const headersOnly = await startUpstream((_req, res) => {
      res.writeHead(200, { 'content-length': '100' });
      res.write('partial');
    });
    const echo = await startUpstream('echo');
    upstreams.push(silent, headersOnly, echo);
    await dp.apply(
      config(
        [
          httpServer('timeouts', [
            {
              hostname: '*',
              routes: [
                route('backend', prefix('/backend'), forwardTo('silent'), { timeouts: { backendRequestMs: 50 } }),
                route('request', prefix('/request'), forwardTo('silent'), { timeouts: { requestMs: 50 } }),
                route('after-headers', prefix('/after-headers'), forwardTo('headers-only'), { timeouts: { requestMs: 50 } }),
                route('fast', prefix('/fast'), forwardTo('echo'), { timeouts: { requestMs: 60_000, backendRequestMs: 60_000 } }),
              ],
            },
          ]),
        ],
        { silent: [silent.port], 'headers-only': [headersOnly.port], echo: [echo.port] },
      ),
    );
    port = dp.boundPort('timeouts')!;
  });
  after(async () => {
    await dp.shutdown(1000);
    await Promise.all(upstreams.map((u) => u.close()));
  });

  for (const path of ['/backend', '/request']) {
    it(`answers 504 and drops the upstream connection when ${path} times out before headers`, async () => {
      const arrival = new Promise<void>((r) => (arrivedHung = r));
      const reply = await send(port, path);
      await arrival;
      assert.equal(reply.status, 504);
      // The upstream socket is destroyed, not parked in the pool for another request.
      await closed(hung.at(-1)!);
    });
  }

  it('resets the client when the request times out after the headers', async () => {
    const outcome = await new Promise<string>((resolve) => {
      const req = request({ host: '127.0.0.1', port, path: '/after-headers', headers: { host: 'example.com' }, agent: false }, (res) => {
        res.resume();
        res.on('end', () => resolve('complete'));
        res.on('error', () => resolve(`reset after ${res.statusCode}`));
        res.on('aborted', () => resolve(`reset after ${res.statusCode}`));
      });
      req.on('error', () => resolve('reset before headers'));
      req.end();
    });
    assert.equal(outcome, 'reset after 200');
  });

  it('leaves requests alone that finish in time', async () => {
    assert.equal((await sendJson(port, '/fast')).name, 'echo');
  });
});

describe('retries', () => {
  const dp = new DataPlane({ logger: silentLogger });
  const upstreams: Upstream[] = [];
  /** Attempts seen per `id` query parameter, and the body length of each. */
  const seen = new Map<string, number[]>();
  let port = 0;

  /**
   * Like the conformance retry simulator: fails the first `fail` attempts of
   * each `id`, with `code`, or by resetting the connection when code is `reset`,
   * or by never answering when it is `hang`.
   */
  const simulator = (req: IncomingMessage, res: import('node:http').ServerResponse): void => {
    const q = new URL(req.url!, 'http://x').searchParams;
    const id = q.get('id')!;
    let length = 0;
    req.on('data', (c: Buffer) => (length += c.length));
    req.on('end', () => {
      const lengths = seen.get(id) ?? [];
      lengths.push(length);
      seen.set(id, lengths);
      if (lengths.length > Number(q.get('fail'))) {
        res.end(`ok after ${lengths.length}`);
        return;
      }
      const code = q.get('code')!;
      if (code === 'reset') req.socket.destroy();
      else if (code !== 'hang') {
        res.statusCode = Number(code);
        res.end('failed attempt');
      }
    });
  };

  before(async () => {
    const sim = await startUpstream(simulator);
    upstreams.push(sim);
    const dead = await closedPort();
    await dp.apply(
      config(
        [
          httpServer('retries', [
            {
              hostname: '*',
              routes: [
                route('codes', prefix('/code-500-attempts-3'), forwardTo('sim'), { retry: { codes: [500], attempts: 3, backoffMs: 1 } }),
                route('all', prefix('/code-all-attempts-2'), forwardTo('sim'), { retry: { codes: [500, 502, 503, 504], attempts: 2, backoffMs: 0 } }),
                route('timeouts', prefix('/timeout'), forwardTo('sim'), {
                  retry: { codes: [], attempts: 2, backoffMs: 1 },
                  timeouts: { backendRequestMs: 50 },
                }),
                route('dead', prefix('/dead'), forwardTo('dead'), { retry: { codes: [], attempts: 3, backoffMs: 1 } }),
                route('none', prefix('/none'), forwardTo('sim')),
              ],
            },
          ]),
        ],
        { sim: [sim.port], dead: [dead] },
      ),
    );
    port = dp.boundPort('retries')!;
  });
  after(async () => {
    await dp.shutdown(1000);
    await Promise.all(upstreams.map((u) => u.close()));
  });

  let n = 0;
  const attempt = async (path: string, fail: number, code: string, body?: Buffer): Promise<[number, number[]]> => {
    const id = String(++n);
    const r = await send(port, `${path}?id=${id}&fail=${fail}&code=${code}`, body ? { method: 'POST', body } : {});
    return [r.status, seen.get(id) ?? []];
  };

  it('retries a listed status up to the total number of attempts', async () => {
    assert.deepEqual(await attempt('/code-500-attempts-3', 2, '500'), [200, [0, 0, 0]]);
    assert.deepEqual(await attempt('/code-500-attempts-3', 4, '500'), [500, [0, 0, 0]]);
    assert.deepEqual(await attempt('/code-500-attempts-3', 2, '503'), [503, [0]]);
    for (const code of ['500', '502', '503', '504']) {
      assert.deepEqual(await attempt('/code-all-attempts-2', 1, code), [200, [0, 0]], code);
      assert.deepEqual(await attempt('/code-all-attempts-2', 3, code), [Number(code), [0, 0]], code);
    }
  });

  it('retries connection resets and backend timeouts', async () => {
    assert.deepEqual(await attempt('/code-500-attempts-3', 2, 'reset'), [200, [0, 0, 0]]);
    assert.deepEqual(await attempt('/timeout', 1, 'hang'), [200, [0, 0]]);
    assert.deepEqual(await attempt('/timeout', 2, 'hang'), [504, [0, 0]]);
    assert.equal((await send(port, '/dead')).status, 503);
  });

  it('replays a small body on each attempt', async () => {
    const body = randomBytes(40 * 1024);
    assert.deepEqual(await attempt('/code-500-attempts-3', 2, '500', body), [200, [body.length, body.length, body.length]]);
  });

  it('does not retry a body larger than the replay buffer', async () => {
    const body = randomBytes(200 * 1024);
    assert.deepEqual(await attempt('/code-500-attempts-3', 2, '500', body), [500, [body.length]]);
  });

  it('does not retry without a retry policy', async () => {
    assert.deepEqual(await attempt('/none', 1, '500'), [500, [0]]);
  });
});

describe('mirrors', () => {
  const dp = new DataPlane({ logger: silentLogger });
  const upstreams: Upstream[] = [];
  /** Requests the mirror upstream received, by `id` query parameter. */
  const mirrored = new Map<string, Echo>();
  const waiters = new Map<string, (e: Echo) => void>();
  let stalledRequest: IncomingMessage | undefined;
  let stalledArrived!: () => void;
  /** The upload sink reads nothing until the stalled mirror has its request, so that mirror is sure to be connected. */
  let sinkMayRead = Promise.resolve();
  let port = 0;
  const realRandom = Math.random;

  const mirroredRequest = (id: string): Promise<Echo> =>
    new Promise((resolve) => {
      const e = mirrored.get(id);
      if (e) resolve(e);
      else waiters.set(id, resolve);
    });

  before(async () => {
    const main = await startUpstream('main');
    const mirror = await startUpstream((req, res) => {
      let bodyLength = 0;
      req.on('data', (c: Buffer) => (bodyLength += c.length));
      req.on('end', () => {
        const id = new URL(req.url!, 'http://x').searchParams.get('id')!;
        const e: Echo = { name: 'mirror', method: req.method!, url: req.url!, headers: req.headers, bodyLength };
        mirrored.set(id, e);
        waiters.get(id)?.(e);
        res.end('mirror reply');
      });
    });
    // Reads nothing until told, so the gateway's writes to it back up.
    const stalled = await startUpstream((req) => {
      req.pause();
      stalledRequest = req;
      stalledArrived();
    });
    const silent = await startUpstream(() => undefined);
    const sink = await startUpstream(async (req, res) => {
      await sinkMayRead;
      let n = 0;
      req.on('data', (c: Buffer) => (n += c.length));
      req.on('end', () => res.end(String(n)));
    });
    upstreams.push(main, mirror, stalled, silent, sink);
    const dead = await closedPort();
    await dp.apply(
      config(
        [
          httpServer('mirrors', [
            {
              hostname: '*',
              routes: [
                route('modify', prefix('/mirror-and-modify'), forwardTo('main'), {
                  requestHeaders: { set: [{ name: 'x-header-set', value: 'set-overwrites-values' }], remove: ['x-header-remove'] },
                  urlRewrite: { path: { type: 'ReplacePrefixMatch', prefix: '/mirror-and-modify', value: '/rewritten' } },
                  mirrors: [{ cluster: 'mirror', fraction: 1 }],
                }),
                route('half', prefix('/half'), forwardTo('main'), { mirrors: [{ cluster: 'mirror', fraction: 0.5 }] }),
                route('broken', prefix('/broken'), forwardTo('main'), {
                  mirrors: [
                    { cluster: 'dead', fraction: 1 },
                    { cluster: 'silent', fraction: 1 },
                    { cluster: 'not-in-ir', fraction: 1 },
                  ],
                }),
                route('upload', prefix('/upload'), forwardTo('sink'), {
                  mirrors: [
                    { cluster: 'stalled', fraction: 1 },
                    { cluster: 'mirror', fraction: 1 },
                  ],
                }),
              ],
            },
          ]),
        ],
        { main: [main.port], mirror: [mirror.port], stalled: [stalled.port], silent: [silent.port], sink: [sink.port], dead: [dead] },
      ),
    );
    port = dp.boundPort('mirrors')!;
  });
  after(async () => {
    Math.random = realRandom;
    await dp.shutdown(1000);
    await Promise.all(upstreams.map((u) => u.close()));
  });

  it('sends the mirror the request as modified by the route filters', async () => {
    const e = await sendJson(port, '/mirror-and-modify/x?id=m1', { headers: { 'x-header-remove': 'r', 'x-other': 'o' } });
    assert.equal(e.name, 'main');
    assert.equal(e.url, '/rewritten/x?id=m1');
    const m = await mirroredRequest('m1');
    assert.equal(m.url, '/rewritten/x?id=m1');
    assert.equal(m.method, 'GET');
    assert.equal(m.headers['x-header-set'], 'set-overwrites-values');
    assert.equal(m.headers['x-header-remove'], undefined);
    assert.equal(m.headers['x-other'], 'o');
  });

  it('mirrors the share of requests given by fraction', async () => {
    Math.random = () => 0.7;
    await sendJson(port, '/half?id=skipped');
    Math.random = () => 0.3;
    await sendJson(port, '/half?id=taken');
    Math.random = realRandom;
    await mirroredRequest('taken');
    assert.equal(mirrored.has('skipped'), false);
  });

  it('is not affected by mirrors that fail or never answer', async () => {
    for (let i = 0; i < 5; i++) assert.equal((await sendJson(port, '/broken')).name, 'main');
  });

  it('streams the body to mirrors and drops one that falls behind', async () => {
    sinkMayRead = new Promise<void>((r) => (stalledArrived = r));
    const body = randomBytes(16 * 1024 * 1024);
    const r = await send(port, '/upload?id=big', { method: 'POST', body });
    assert.equal(r.body, String(body.length));
    // Reading now shows whether the gateway gave up on the stalled mirror: a whole body means it did not.
    const stalled = stalledRequest!;
    const outcome = await new Promise<string>((resolve) => {
      stalled.on('close', () => resolve(stalled.complete ? 'complete' : 'aborted'));
      stalled.resume();
    });
    assert.equal(outcome, 'aborted');
    assert.equal((await mirroredRequest('big')).bodyLength, body.length);
  });
});
