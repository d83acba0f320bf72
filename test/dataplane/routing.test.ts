import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DataPlane } from '../../src/dataplane/index.js';
import { silentLogger } from '../../src/util/log.js';
import { config, direct, httpServer, route, send } from './helpers.js';

describe('routing', () => {
  const dp = new DataPlane({ logger: silentLogger });
  let port = 0;
  const get = async (host: string, path: string, opts: Parameters<typeof send>[2] = {}): Promise<string> => {
    const r = await send(port, path, { ...opts, host });
    return r.status === 200 ? r.body : String(r.status);
  };

  before(async () => {
    const ir = config([
      httpServer('routing', [
        {
          hostname: 'exact.example.com',
          routes: [
            route('exact', { path: { type: 'Exact', value: '/foo' } }, direct('exact')),
            route('prefix', { path: { type: 'PathPrefix', value: '/foo' } }, direct('prefix')),
            route('slash-prefix', { path: { type: 'PathPrefix', value: '/bar/' } }, direct('slash-prefix')),
            route('regex', { path: { type: 'RegularExpression', value: '/re/[0-9]+' } }, direct('regex')),
            route('method', { path: { type: 'Exact', value: '/m' }, method: 'POST' }, direct('method')),
            route(
              'headers',
              {
                path: { type: 'Exact', value: '/h' },
                headers: [
                  { name: 'x-env', type: 'Exact', value: 'canary' },
                  { name: 'x-ver', type: 'RegularExpression', value: 'v[12]' },
                ],
              },
              direct('headers'),
            ),
            route(
              'query',
              {
                path: { type: 'Exact', value: '/q' },
                queryParams: [
                  { name: 'Mode', type: 'Exact', value: 'fast' },
                  { name: 'id', type: 'RegularExpression', value: '\\d+' },
                ],
              },
              direct('query'),
            ),
            route('first', { path: { type: 'PathPrefix', value: '/order' } }, direct('first')),
            route('second', { path: { type: 'Exact', value: '/order/x' } }, direct('second')),
          ],
        },
        { hostname: '*.b.example.com', routes: [route('deep-wild', {}, direct('deep-wild'))] },
        {
          hostname: '*.example.com',
          routes: [route('wild-only-api', { path: { type: 'PathPrefix', value: '/api' } }, direct('wild'))],
        },
        { hostname: '*', routes: [route('any', {}, direct('any'))] },
      ]),
      httpServer('no-catch-all', [{ hostname: 'only.example.com', routes: [route('only', {}, direct('only'))] }]),
    ]);
    const result = await dp.apply(ir);
    assert.deepEqual(result.failures, []);
    port = dp.boundPort('routing')!;
  });
  after(() => dp.shutdown(1000));

  it('matches Exact before a later PathPrefix and respects element boundaries', async () => {
    assert.equal(await get('exact.example.com', '/foo'), 'exact');
    assert.equal(await get('exact.example.com', '/foo?x=1'), 'exact');
    assert.equal(await get('exact.example.com', '/foo/'), 'prefix');
    assert.equal(await get('exact.example.com', '/foo/bar'), 'prefix');
    assert.equal(await get('exact.example.com', '/foobar'), '404');
  });

  it('ignores a trailing slash in the prefix value', async () => {
    assert.equal(await get('exact.example.com', '/bar'), 'slash-prefix');
    assert.equal(await get('exact.example.com', '/bar/baz'), 'slash-prefix');
    assert.equal(await get('exact.example.com', '/barn'), '404');
  });

  it('requires a regular expression to match the whole path', async () => {
    assert.equal(await get('exact.example.com', '/re/123'), 'regex');
    assert.equal(await get('exact.example.com', '/re/123/x'), '404');
    assert.equal(await get('exact.example.com', '/x/re/1'), '404');
  });

  it('matches methods, headers (any case) and query parameters', async () => {
    assert.equal(await get('exact.example.com', '/m', { method: 'POST' }), 'method');
    assert.equal(await get('exact.example.com', '/m'), '404');
    assert.equal(await get('exact.example.com', '/h', { headers: { 'X-Env': 'canary', 'X-VER': 'v2' } }), 'headers');
    assert.equal(await get('exact.example.com', '/h', { headers: { 'x-env': 'canary', 'x-ver': 'v3' } }), '404');
    assert.equal(await get('exact.example.com', '/h', { headers: { 'x-env': 'canary' } }), '404');
    assert.equal(await get('exact.example.com', '/q?Mode=fast&id=42'), 'query');
    assert.equal(await get('exact.example.com', '/q?mode=fast&id=42'), '404');
    assert.equal(await get('exact.example.com', '/q?Mode=fast&id=4x'), '404');
    assert.equal(await get('exact.example.com', '/q?Mode=fast&Mode=slow&id=1'), 'query');
  });

  it('uses the first route that matches', async () => {
    assert.equal(await get('exact.example.com', '/order/x'), 'first');
  });

  it('selects virtual hosts by Host without port, case-insensitively', async () => {
    assert.equal(await get('EXACT.example.com:8080', '/foo'), 'exact');
    assert.equal(await get('Exact.Example.Com', '/foo'), 'exact');
    assert.equal(await get('exact.example.com', '/foo'), 'exact');
    assert.equal(await get('a.b.example.com', '/'), 'deep-wild');
    assert.equal(await get('x.y.b.example.com', '/'), 'deep-wild');
    assert.equal(await get('a.example.com', '/api/v1'), 'wild');
    assert.equal(await get('a.c.example.com', '/api'), 'wild');
    assert.equal(await get('example.com', '/'), 'any');
    assert.equal(await get('other.test', '/'), 'any');
  });

  it('does not fall through to a less specific virtual host', async () => {
    assert.equal(await get('exact.example.com', '/nothing-here'), '404');
    assert.equal(await get('a.example.com', '/not-api'), '404');
  });

  it('answers 404 when no virtual host matches', async () => {
    const other = dp.boundPort('no-catch-all')!;
    assert.equal((await send(other, '/', { host: 'only.example.com' })).body, 'only');
    assert.equal((await send(other, '/', { host: 'else.example.com' })).status, 404);
  });
});

describe('redirects and direct responses', () => {
  const dp = new DataPlane({ logger: silentLogger });
  let port = 0;
  before(async () => {
    const r = (name: string, path: string, extra: object) =>
      route(name, { path: { type: 'PathPrefix', value: path } }, { type: 'redirect', statusCode: 302, ...extra });
    await dp.apply(
      config([
        httpServer('redir', [
          {
            hostname: '*',
            routes: [
              r('keep', '/keep', {}),
              r('scheme', '/scheme', { scheme: 'https' }),
              r('scheme-default-port', '/sdp', { scheme: 'https', port: 443 }),
              r('host-port', '/hp', { hostname: 'new.example.com', port: 8443 }),
              r('http-80', '/h80', { port: 80 }),
              route('moved', { path: { type: 'Exact', value: '/moved' } }, { type: 'redirect', statusCode: 301, hostname: 'x.test' }),
              route('teapot', { path: { type: 'Exact', value: '/teapot' } }, direct("I'm a teapot", 418)),
              route('empty', { path: { type: 'Exact', value: '/empty' } }, { type: 'directResponse', status: 204 }),
            ],
          },
        ]),
      ]),
    );
    port = dp.boundPort('redir')!;
  });
  after(() => dp.shutdown(1000));

  const location = async (path: string, host = 'example.com:8080'): Promise<[number, string | undefined]> => {
    const r = await send(port, path, { host });
    return [r.status, r.headers.location];
  };

  it('builds Location from the request and the action', async () => {
    assert.deepEqual(await location('/keep/a?b=c'), [302, 'http://example.com/keep/a?b=c']);
    assert.deepEqual(await location('/scheme'), [302, 'https://example.com/scheme']);
    assert.deepEqual(await location('/sdp'), [302, 'https://example.com/sdp']);
    assert.deepEqual(await location('/hp/x'), [302, 'http://new.example.com:8443/hp/x']);
    assert.deepEqual(await location('/h80'), [302, 'http://example.com/h80']);
    assert.deepEqual(await location('/moved', 'Old.Example.com'), [301, 'http://x.test/moved']);
  });

  it('serves direct responses', async () => {
    const teapot = await send(port, '/teapot');
    assert.equal(teapot.status, 418);
    assert.equal(teapot.body, "I'm a teapot");
    const empty = await send(port, '/empty');
    assert.equal(empty.status, 204);
    assert.equal(empty.body, '');
  });
});
