import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { DataPlane } from '../../src/dataplane/index.js';
import { compilePathModifier, modifyPath } from '../../src/dataplane/paths.js';
import type { IRCors, IRRedirectAction } from '../../src/ir/types.js';
import { silentLogger } from '../../src/util/log.js';
import { config, direct, forwardTo, httpServer, route, send, sendJson, startUpstream, type Upstream } from './helpers.js';

describe('path modifiers', () => {
  it('follows the ReplacePrefixMatch table of the API reference', () => {
    const rows: [string, string, string, string][] = [
      ['/foo/bar', '/foo', '/xyz', '/xyz/bar'],
      ['/foo/bar', '/foo', '/xyz/', '/xyz/bar'],
      ['/foo/bar', '/foo/', '/xyz', '/xyz/bar'],
      ['/foo/bar', '/foo/', '/xyz/', '/xyz/bar'],
      ['/foo', '/foo', '/xyz', '/xyz'],
      ['/foo/', '/foo', '/xyz', '/xyz/'],
      ['/foo/bar', '/foo', '', '/bar'],
      ['/foo/', '/foo', '', '/'],
      ['/foo', '/foo', '', '/'],
      ['/foo/', '/foo', '/', '/'],
      ['/foo', '/foo', '/', '/'],
      ['/foo/baz', '/foo', '/', '/baz'],
      ['/foo/baz', '/foo', '/bar', '/bar/baz'],
      ['/anything', '/', '/api', '/api/anything'],
    ];
    for (const [path, prefix, value, want] of rows) {
      const m = compilePathModifier({ type: 'ReplacePrefixMatch', prefix, value });
      assert.equal(modifyPath(m, path), want, `${path} ${prefix} -> ${value}`);
    }
    assert.equal(modifyPath(compilePathModifier({ type: 'ReplaceFullPath', value: '/one' }), '/full/one/two'), '/one');
  });
});

describe('redirects', () => {
  const dp = new DataPlane({ logger: silentLogger });
  let port = 0;
  before(async () => {
    const r = (name: string, prefix: string, a: Partial<IRRedirectAction>, extra = {}) =>
      route(name, { path: { type: 'PathPrefix', value: prefix } }, { type: 'redirect', statusCode: 302, ...a }, extra);
    await dp.apply(
      config([
        httpServer('redirect', [
          {
            hostname: '*',
            routes: [
              r('prefix', '/original-prefix', { path: { type: 'ReplacePrefixMatch', prefix: '/original-prefix', value: '/replacement-prefix' } }),
              r('full', '/full', { path: { type: 'ReplaceFullPath', value: '/full-path-replacement' } }),
              r('strip', '/strip', { path: { type: 'ReplacePrefixMatch', prefix: '/strip', value: '/' } }),
              r('scheme-port', '/scheme-port', { scheme: 'https', port: 8443, hostname: 'example.org' }),
              r('with-headers', '/with-headers', { statusCode: 308 }, { responseHeaders: { set: [{ name: 'x-redirected', value: 'yes' }] } }),
            ],
          },
        ]),
      ]),
    );
    port = dp.boundPort('redirect')!;
  });
  after(() => dp.shutdown(1000));

  const location = async (path: string): Promise<[number, string | undefined]> => {
    const r = await send(port, path, { host: 'gw.example:8080' });
    return [r.status, r.headers.location];
  };

  it('rewrites the path of Location and keeps the query', async () => {
    assert.deepEqual(await location('/original-prefix/lemon?x=1'), [302, 'http://gw.example/replacement-prefix/lemon?x=1']);
    assert.deepEqual(await location('/original-prefix'), [302, 'http://gw.example/replacement-prefix']);
    assert.deepEqual(await location('/full/path/original?q'), [302, 'http://gw.example/full-path-replacement?q']);
    assert.deepEqual(await location('/strip/baz'), [302, 'http://gw.example/baz']);
    assert.deepEqual(await location('/strip'), [302, 'http://gw.example/']);
  });

  it('puts a non-default port and a new scheme and host in Location', async () => {
    assert.deepEqual(await location('/scheme-port/a'), [302, 'https://example.org:8443/scheme-port/a']);
  });

  it('applies route response headers to the redirect', async () => {
    const r = await send(port, '/with-headers', { host: 'gw.example' });
    assert.equal(r.status, 308);
    assert.equal(r.headers['x-redirected'], 'yes');
  });
});

describe('URL rewrite and header filters', () => {
  const dp = new DataPlane({ logger: silentLogger });
  const upstreams: Upstream[] = [];
  let port = 0;

  before(async () => {
    const echo = await startUpstream('echo');
    // Replies with the response headers a request lists in X-Reply (JSON pairs), echoing what it received.
    const reply = await startUpstream((req, res) => {
      const pairs = JSON.parse((req.headers['x-reply'] as string | undefined) ?? '[]') as [string, string][];
      for (const [name, value] of pairs) res.appendHeader(name, value);
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ name: 'reply', method: req.method, url: req.url, headers: req.headers, bodyLength: 0 }));
    });
    upstreams.push(echo, reply);
    const prefix = (p: string) => ({ path: { type: 'PathPrefix' as const, value: p } });
    await dp.apply(
      config(
        [
          httpServer('filters', [
            {
              hostname: '*',
              routes: [
                route('rewrite-prefix', prefix('/prefix/one'), forwardTo('echo'), {
                  urlRewrite: { path: { type: 'ReplacePrefixMatch', prefix: '/prefix/one', value: '/one' } },
                }),
                route('strip-prefix', prefix('/strip-prefix'), forwardTo('echo'), {
                  urlRewrite: { path: { type: 'ReplacePrefixMatch', prefix: '/strip-prefix', value: '/' } },
                }),
                route('full', prefix('/full/one'), forwardTo('echo'), {
                  urlRewrite: { path: { type: 'ReplaceFullPath', value: '/one' }, hostname: 'one.example.org' },
                }),
                route('response', prefix('/response'), forwardTo('reply'), {
                  responseHeaders: {
                    set: [{ name: 'x-header-set', value: 'set-overwrites-values' }],
                    add: [{ name: 'x-header-add', value: 'add-appends-values' }],
                    remove: ['x-header-remove'],
                  },
                }),
                route(
                  'backend-filters',
                  prefix('/backend'),
                  {
                    type: 'forward',
                    backends: [
                      {
                        weight: 1,
                        cluster: 'reply',
                        requestHeaders: { set: [{ name: 'x-route', value: 'backend' }], add: [{ name: 'x-backend', value: 'b' }] },
                        responseHeaders: { set: [{ name: 'x-from', value: 'backend' }], remove: ['x-route-added'] },
                      },
                    ],
                  },
                  {
                    requestHeaders: { set: [{ name: 'x-route', value: 'route' }] },
                    responseHeaders: { set: [{ name: 'x-from', value: 'route' }], add: [{ name: 'x-route-added', value: '1' }] },
                  },
                ),
                route(
                  'local-error',
                  prefix('/invalid'),
                  { type: 'forward', backends: [{ weight: 1, responseHeaders: { add: [{ name: 'x-backend-local', value: '1' }] } }] },
                  { responseHeaders: { add: [{ name: 'x-route-local', value: '1' }] } },
                ),
                route('direct', prefix('/direct'), direct('hi'), { responseHeaders: { set: [{ name: 'x-direct', value: '1' }] } }),
                route('request', prefix('/request'), forwardTo('echo'), {
                  requestHeaders: {
                    set: [{ name: 'X-Set', value: 'by-filter' }],
                    add: [{ name: 'x-add', value: 'by-filter' }, { name: 'x-new', value: 'by-filter' }, { name: 'constructor', value: 'by-filter' }],
                    remove: ['X-Remove'],
                  },
                }),
                // Filters on fields the proxy writes itself take the field-object path, where the filter has the last word.
                route('proxy-owned', prefix('/proxy-owned'), forwardTo('echo'), {
                  requestHeaders: {
                    set: [{ name: 'x-forwarded-proto', value: 'by-filter' }],
                    add: [{ name: 'x-add', value: 'by-filter' }, { name: 'constructor', value: 'by-filter' }],
                  },
                }),
              ],
            },
          ]),
        ],
        { echo: [echo.port], reply: [reply.port] },
      ),
    );
    port = dp.boundPort('filters')!;
  });
  after(async () => {
    await dp.shutdown(1000);
    await Promise.all(upstreams.map((u) => u.close()));
  });

  it('rewrites the forwarded path element-wise and keeps the query', async () => {
    assert.equal((await sendJson(port, '/prefix/one/two?a=b')).url, '/one/two?a=b');
    assert.equal((await sendJson(port, '/strip-prefix/three')).url, '/three');
    assert.equal((await sendJson(port, '/strip-prefix')).url, '/');
    assert.equal((await sendJson(port, '/strip-prefix/')).url, '/');
  });

  it('replaces the full path and the Host sent upstream', async () => {
    const e = await sendJson(port, '/full/one/two?q=1', { host: 'rewrite.example' });
    assert.equal(e.url, '/one?q=1');
    assert.equal(e.headers.host, 'one.example.org');
    assert.equal(e.headers['x-forwarded-host'], 'rewrite.example');
  });

  it('sets, adds and removes response headers', async () => {
    const r = await send(port, '/response', {
      headers: {
        'x-reply': JSON.stringify([
          ['X-Header-Set', 'upstream'],
          ['X-Header-Add', 'upstream'],
          ['X-Header-Remove', 'gone'],
          ['Set-Cookie', 'a=1'],
          ['Set-Cookie', 'b=2'],
        ]),
      },
    });
    assert.equal(r.status, 200);
    assert.equal(r.headers['x-header-set'], 'set-overwrites-values');
    assert.equal(r.headers['x-header-add'], 'upstream, add-appends-values');
    assert.equal(r.headers['x-header-remove'], undefined);
    assert.deepEqual(r.headers['set-cookie'], ['a=1', 'b=2']);
  });

  it('applies backend-level filters after the route ones', async () => {
    const r = await send(port, '/backend');
    const e = JSON.parse(r.body) as { headers: Record<string, string> };
    assert.equal(e.headers['x-route'], 'backend');
    assert.equal(e.headers['x-backend'], 'b');
    assert.equal(r.headers['x-from'], 'backend');
    assert.equal(r.headers['x-route-added'], undefined);
  });

  it('sets, adds and removes request headers, whatever case the client wrote them in', async () => {
    const headers = { 'x-SET': 'client', 'X-Add': 'client', 'x-remove': 'client', 'X-Other': 'kept' };
    const e = await sendJson(port, '/request', { host: 'filters.example', headers });
    assert.equal(e.headers['x-set'], 'by-filter');
    assert.equal(e.headers['x-add'], 'client,by-filter');
    assert.equal(e.headers['x-new'], 'by-filter');
    assert.equal(e.headers.constructor, 'by-filter', 'a field named like an Object member is a field like any other');
    assert.equal(e.headers['x-remove'], undefined);
    assert.equal(e.headers['x-other'], 'kept');
    assert.equal(e.headers.host, 'filters.example');
    assert.equal(e.headers['x-forwarded-host'], 'filters.example');
    assert.equal(e.headers['x-forwarded-proto'], 'http');
    assert.equal(e.headers['x-forwarded-for'], '127.0.0.1');

    const owned = await sendJson(port, '/proxy-owned', { headers: { 'X-Add': 'client' } });
    assert.equal(owned.headers['x-forwarded-proto'], 'by-filter');
    assert.equal(owned.headers['x-add'], 'client,by-filter');
    assert.equal(owned.headers.constructor, 'by-filter');
  });

  it('applies response filters to local responses', async () => {
    const invalid = await send(port, '/invalid');
    assert.equal(invalid.status, 500);
    assert.equal(invalid.headers['x-route-local'], '1');
    assert.equal(invalid.headers['x-backend-local'], '1');
    const d = await send(port, '/direct');
    assert.equal(d.body, 'hi');
    assert.equal(d.headers['x-direct'], '1');
  });
});

describe('CORS', () => {
  const dp = new DataPlane({ logger: silentLogger });
  let upstream: Upstream;
  let upstreamHits = 0;
  let port = 0;

  before(async () => {
    upstream = await startUpstream((req, res) => {
      upstreamHits++;
      res.setHeader('access-control-allow-origin', 'https://upstream.example');
      res.end(req.method);
    });
    const cors = (p: string, c: Partial<IRCors>) =>
      route('cors' + p, { path: { type: 'PathPrefix', value: p } }, forwardTo('u'), {
        cors: {
          allowOrigins: [],
          allowCredentials: false,
          allowMethods: [],
          allowHeaders: [],
          exposeHeaders: [],
          maxAgeSeconds: 5,
          ...c,
        },
      });
    await dp.apply(
      config(
        [
          httpServer('cors', [
            {
              hostname: '*',
              routes: [
                cors('/cors-1', {
                  allowOrigins: ['https://www.foo.com', 'https://*.bar.com', 'http://localhost:8080'],
                  allowMethods: ['GET', 'OPTIONS'],
                  allowHeaders: ['x-header-1', 'x-header-2'],
                  exposeHeaders: ['x-header-3', 'x-header-4'],
                  allowCredentials: true,
                  maxAgeSeconds: 3600,
                }),
                cors('/cors-2', { allowOrigins: ['https://www.foo.com'], allowMethods: ['*'] }),
                cors('/cors-wildcard-origin', { allowOrigins: ['*'], allowMethods: ['PUT'] }),
                cors('/cors-wildcard-all', { allowOrigins: ['*'], allowMethods: ['*'], allowHeaders: ['*'], allowCredentials: true }),
              ],
            },
          ]),
        ],
        { u: [upstream.port] },
      ),
    );
    port = dp.boundPort('cors')!;
  });
  after(async () => {
    await dp.shutdown(1000);
    await upstream.close();
  });

  const preflight = (path: string, origin: string, method: string, headers?: string) =>
    send(port, path, {
      method: 'OPTIONS',
      headers: {
        origin,
        'access-control-request-method': method,
        ...(headers ? { 'access-control-request-headers': headers } : {}),
      },
    });

  it('answers an allowed preflight at the gateway with the configured lists', async () => {
    const hits = upstreamHits;
    for (const origin of ['https://www.foo.com', 'https://www.bar.com', 'https://xpto.www.bar.com', 'https://www.foo.com:443']) {
      const r = await preflight('/cors-1', origin, 'GET', 'x-header-1, x-header-2');
      assert.equal(r.status, 204, origin);
      assert.equal(r.headers['access-control-allow-origin'], origin);
      assert.equal(r.headers['access-control-allow-methods'], 'GET, OPTIONS');
      assert.equal(r.headers['access-control-allow-headers'], 'x-header-1, x-header-2');
      assert.equal(r.headers['access-control-expose-headers'], 'x-header-3, x-header-4');
      assert.equal(r.headers['access-control-max-age'], '3600');
      assert.equal(r.headers['access-control-allow-credentials'], 'true');
      assert.equal(r.headers.vary, 'Origin');
    }
    assert.equal(upstreamHits, hits);
  });

  it('answers a preflight from a foreign origin without CORS headers', async () => {
    for (const origin of ['https://foobar.com', 'http://www.foo.com', 'https://bar.com', 'https://www.foo.com:8443', 'null']) {
      const r = await preflight('/cors-1', origin, 'GET');
      assert.equal(r.status, 204, origin);
      assert.equal(r.headers['access-control-allow-origin'], undefined, origin);
      assert.equal(r.headers['access-control-allow-methods'], undefined, origin);
    }
  });

  it('echoes the requested method and headers for a `*` list', async () => {
    const r = await preflight('/cors-2', 'https://www.foo.com', 'POST');
    assert.equal(r.headers['access-control-allow-methods'], 'POST');
    assert.equal(r.headers['access-control-allow-headers'], undefined);
    assert.equal(r.headers['access-control-allow-credentials'], undefined);
    assert.equal(r.headers['access-control-max-age'], '5');
    const all = await preflight('/cors-wildcard-all', 'https://other.foo.com', 'PUT', 'x-header-1, x-header-2');
    assert.equal(all.headers['access-control-allow-origin'], 'https://other.foo.com');
    assert.equal(all.headers['access-control-allow-methods'], 'PUT');
    assert.equal(all.headers['access-control-allow-headers'], 'x-header-1, x-header-2');
    assert.equal(all.headers['access-control-allow-credentials'], 'true');
  });

  it('answers `*` for any origin when credentials are not allowed', async () => {
    const r = await preflight('/cors-wildcard-origin', 'https://foobar.com:12345', 'PUT');
    assert.equal(r.headers['access-control-allow-origin'], '*');
    assert.equal(r.headers['access-control-allow-methods'], 'PUT');
    const actual = await send(port, '/cors-wildcard-origin', { method: 'PUT', headers: { origin: 'https://foobar.com' } });
    assert.equal(actual.body, 'PUT');
    assert.equal(actual.headers['access-control-allow-origin'], '*');
    assert.equal(actual.headers['access-control-allow-credentials'], undefined);
  });

  it('adds allow headers to actual responses for allowed origins only', async () => {
    const ok = await send(port, '/cors-1', { headers: { origin: 'https://www.bar.com' } });
    assert.equal(ok.body, 'GET');
    assert.equal(ok.headers['access-control-allow-origin'], 'https://www.bar.com');
    assert.equal(ok.headers['access-control-allow-credentials'], 'true');
    assert.equal(ok.headers['access-control-expose-headers'], 'x-header-3, x-header-4');
    assert.equal(ok.headers['access-control-max-age'], undefined);
    const foreign = await send(port, '/cors-1', { headers: { origin: 'https://foobar.com' } });
    assert.equal(foreign.body, 'GET');
    assert.equal(foreign.headers['access-control-allow-origin'], 'https://upstream.example');
    const creds = await send(port, '/cors-wildcard-all', { headers: { origin: 'https://other.foo.com' } });
    assert.equal(creds.headers['access-control-allow-origin'], 'https://other.foo.com');
    assert.equal(creds.headers['access-control-allow-credentials'], 'true');
  });

  it('forwards OPTIONS without Origin or without a requested method', async () => {
    assert.equal((await send(port, '/cors-1', { method: 'OPTIONS' })).body, 'OPTIONS');
    assert.equal((await send(port, '/cors-1', { method: 'OPTIONS', headers: { origin: 'https://www.foo.com' } })).body, 'OPTIONS');
  });
});
