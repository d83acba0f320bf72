// The path index of larger virtual hosts must only skip routes, never change
// which route wins: every answer is checked against the plain in-order scan.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { IRRoute } from '../../src/ir/types.js';
import { compileRouteTable, RouteCompiler, selectRoute, type MatchInput } from '../../src/dataplane/router.js';
import { ClusterPool } from '../../src/dataplane/clusters.js';
import { direct, httpServer, route } from './helpers.js';

const SEGMENTS = ['a', 'b', 'ab', 'api', 'v1', '', 'x'];

function randomPath(rand: () => number): string {
  const n = Math.floor(rand() * 4);
  let p = '';
  for (let i = 0; i < n; i++) p += `/${SEGMENTS[Math.floor(rand() * SEGMENTS.length)]}`;
  return p === '' ? '/' : p;
}

/** A small deterministic generator, so a failure can be replayed. */
function lcg(seed: number): () => number {
  let s = seed;
  return () => {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    return s / 2 ** 31;
  };
}

function input(path: string, headers: Record<string, string[]> = {}): MatchInput {
  return { req: { method: 'GET', headers: {}, headersDistinct: headers } as unknown as MatchInput['req'], path, query: '', params: undefined, headers };
}

describe('route path index', () => {
  it('picks the same route as an in-order scan, for every kind of path match', () => {
    const rand = lcg(7);
    const routes: IRRoute[] = [];
    for (let i = 0; i < 60; i++) {
      const kind = rand();
      const path = randomPath(rand);
      const match: Partial<IRRoute['match']> =
        kind < 0.4 ? { path: { type: 'PathPrefix', value: rand() < 0.2 ? `${path}/` : path } }
          : kind < 0.8 ? { path: { type: 'Exact', value: path } }
            : { path: { type: 'RegularExpression', value: `${path.replace(/\/$/, '')}/[a-z]*` } };
      if (rand() < 0.3) match.headers = [{ name: 'x-pick', type: 'Exact', value: 'yes' }];
      routes.push(route(`r${i}`, match, direct(`r${i}`)));
    }
    const table = compileRouteTable(httpServer('s', [{ hostname: '*', routes }]), new RouteCompiler(() => undefined));
    const vh = table.virtualHosts[0]!;
    assert.ok(vh.index, 'a table this size is indexed');
    const scan = { ...vh, index: undefined };
    let matched = 0;
    for (let i = 0; i < 3000; i++) {
      const path = randomPath(rand);
      const headers: Record<string, string[]> = rand() < 0.5 ? { 'x-pick': ['yes'] } : {};
      const want = selectRoute(scan, input(path, headers))?.name;
      const got = selectRoute(vh, input(path, headers))?.name;
      assert.equal(got, want, `path ${path} headers ${JSON.stringify(headers)}`);
      if (want !== undefined) matched++;
    }
    assert.ok(matched > 1000, `the generated paths should mostly match something (${matched})`);
  });

  it('keeps small tables as a plain scan', () => {
    const table = compileRouteTable(httpServer('s', [{ hostname: '*', routes: [route('only', {}, direct('x'))] }]), new RouteCompiler(() => undefined));
    assert.equal(table.virtualHosts[0]!.index, undefined);
  });
});

describe('RouteCompiler', () => {
  it('reuses the compiled form of the same route object until forgotten; never caches a route whose cluster is missing', () => {
    const pools = new Map<string, ClusterPool>();
    const compiler = new RouteCompiler((name) => pools.get(name));
    const direct1 = route('d', {}, direct('x'));
    const first = compiler.compile(direct1);
    assert.equal(compiler.compile(direct1), first);
    assert.notEqual(compiler.compile({ ...direct1 }), first, 'an equal but other object is compiled anew');
    compiler.forget();
    assert.notEqual(compiler.compile(direct1), first);

    const forward: IRRoute = { name: 'f', match: { path: { type: 'PathPrefix', value: '/' } }, action: { type: 'forward', backends: [{ weight: 1, cluster: 'ns/svc:80' }] } };
    const missing = compiler.compile(forward);
    pools.set('ns/svc:80', new ClusterPool({ name: 'ns/svc:80', protocol: 'http1', endpoints: [] }));
    const found = compiler.compile(forward);
    assert.notEqual(found, missing);
    assert.equal(compiler.compile(forward), found);
  });
});
