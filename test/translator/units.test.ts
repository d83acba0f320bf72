import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Condition, LabelSelector, ReferenceGrant } from '../../src/resources/types.js';
import { AddressPool } from '../../src/runtime/address-pool.js';
import { finaliseConditions, type PendingCondition } from '../../src/translator/conditions.js';
import {
  compareHostnameSpecificity, hostnameCovers, hostnamesOverlap, intersectHostnames,
} from '../../src/translator/hostnames.js';
import { selectorMatches } from '../../src/translator/namespaces.js';
import { referencePermitted, type ReferenceFrom, type ReferenceTo } from '../../src/translator/references.js';

test('hostnameCovers: a wildcard covers one or more labels, never its own suffix', () => {
  const table: [string, string, boolean][] = [
    ['example.com', 'example.com', true],
    ['example.com', 'foo.example.com', false],
    ['*.example.com', 'foo.example.com', true],
    ['*.example.com', 'foo.bar.example.com', true],
    ['*.example.com', 'example.com', false],
    ['*.example.com', 'fooexample.com', false],
    ['*.example.com', 'foo.example.net', false],
    ['*.example.com', '*.example.com', true],
    ['*.example.com', '*.foo.example.com', true],
    ['*.foo.example.com', '*.example.com', false],
    ['foo.example.com', '*.example.com', false],
    ['*', 'anything.at.all', true],
    ['*', '*.example.com', true],
  ];
  for (const [pattern, name, want] of table) assert.equal(hostnameCovers(pattern, name), want, `${pattern} covers ${name}`);
});

test('hostnamesOverlap is symmetric and true when either side covers the other', () => {
  const table: [string, string, boolean][] = [
    ['*.example.com', 'foo.example.com', true],
    ['foo.example.com', 'foo.example.org', false],
    ['*.example.com', '*.foo.example.com', true],
    ['*.example.com', 'example.com', false],
    ['*', 'foo.example.org', true],
  ];
  for (const [a, b, want] of table) {
    assert.equal(hostnamesOverlap(a, b), want, `${a} ~ ${b}`);
    assert.equal(hostnamesOverlap(b, a), want, `${b} ~ ${a}`);
  }
});

test('intersectHostnames narrows route hostnames to the listener (HTTPRouteSpec.hostnames)', () => {
  const table: [string | undefined, string[] | undefined, string[]][] = [
    [undefined, undefined, ['*']],
    [undefined, [], ['*']],
    [undefined, ['a.example.com', '*.example.org'], ['a.example.com', '*.example.org']],
    ['foo.example.com', undefined, ['foo.example.com']],
    ['foo.example.com', ['*.example.com'], ['foo.example.com']],
    ['foo.example.com', ['bar.example.com'], []],
    ['*.example.com', ['test.example.com', 'foo.test.example.com', 'example.com', 'test.example.net'],
      ['test.example.com', 'foo.test.example.com']],
    ['*.example.com', ['*.foo.example.com'], ['*.foo.example.com']],
    ['*.foo.example.com', ['*.example.com'], ['*.foo.example.com']],
    ['abc.foo.example.com', ['*.example.com', '*.foo.example.com', 'abc.foo.example.com'], ['abc.foo.example.com']],
  ];
  for (const [listener, route, want] of table) {
    assert.deepEqual(intersectHostnames(listener, route), want, `${listener ?? '(none)'} x ${JSON.stringify(route)}`);
  }
});

test('compareHostnameSpecificity orders exact, then longer wildcards, then "*"', () => {
  const sorted = ['*', '*.example.com', 'b.example.com', '*.foo.example.com', 'a.example.com', 'long.name.example.com']
    .sort(compareHostnameSpecificity);
  assert.deepEqual(sorted, ['long.name.example.com', 'a.example.com', 'b.example.com', '*.foo.example.com', '*.example.com', '*']);
});

test('referencePermitted: same namespace always, cross-namespace only through a matching ReferenceGrant', () => {
  const grant = (namespace: string, to: { group: string; kind: string; name?: string }[],
    from = [{ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', namespace: 'apps' }]): ReferenceGrant => ({
    apiVersion: 'gateway.networking.k8s.io/v1', kind: 'ReferenceGrant', metadata: { name: 'g', namespace }, spec: { from, to },
  });
  const from: ReferenceFrom = { group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', namespace: 'apps' };
  const svc: ReferenceTo = { group: '', kind: 'Service', namespace: 'backends', name: 'web' };
  const table: [string, ReferenceFrom, ReferenceTo, ReferenceGrant[], boolean][] = [
    ['same namespace needs no grant', from, { ...svc, namespace: 'apps' }, [], true],
    ['cross namespace without grant', from, svc, [], false],
    ['grant naming the object', from, svc, [grant('backends', [{ group: '', kind: 'Service', name: 'web' }])], true],
    ['grant for the whole namespace', from, svc, [grant('backends', [{ group: '', kind: 'Service' }])], true],
    ['grant naming another object', from, svc, [grant('backends', [{ group: '', kind: 'Service', name: 'other' }])], false],
    ['grant in the wrong namespace', from, svc, [grant('apps', [{ group: '', kind: 'Service' }])], false],
    ['grant for another kind', from, svc, [grant('backends', [{ group: '', kind: 'Secret' }])], false],
    ['grant for another group', from, svc, [grant('backends', [{ group: 'example.net', kind: 'Service' }])], false],
    ['grant from another kind', from, svc,
      [grant('backends', [{ group: '', kind: 'Service' }], [{ group: 'gateway.networking.k8s.io', kind: 'Gateway', namespace: 'apps' }])], false],
    ['grant from another namespace', from, svc,
      [grant('backends', [{ group: '', kind: 'Service' }], [{ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', namespace: 'other' }])], false],
    ['grant from another group', from, svc,
      [grant('backends', [{ group: '', kind: 'Service' }], [{ group: 'example.net', kind: 'HTTPRoute', namespace: 'apps' }])], false],
  ];
  for (const [what, f, t, grants, want] of table) assert.equal(referencePermitted(f, t, grants), want, what);
});

test('selectorMatches: matchLabels and matchExpressions are ANDed', () => {
  const labels = { team: 'a', tier: 'frontend' };
  const table: [string, LabelSelector, boolean][] = [
    ['empty selector matches everything', {}, true],
    ['matchLabels hit', { matchLabels: { team: 'a' } }, true],
    ['matchLabels wrong value', { matchLabels: { team: 'b' } }, false],
    ['matchLabels missing key', { matchLabels: { env: 'prod' } }, false],
    ['In hit', { matchExpressions: [{ key: 'team', operator: 'In', values: ['a', 'b'] }] }, true],
    ['In miss', { matchExpressions: [{ key: 'team', operator: 'In', values: ['b'] }] }, false],
    ['In on a missing key', { matchExpressions: [{ key: 'env', operator: 'In', values: ['prod'] }] }, false],
    ['NotIn hit', { matchExpressions: [{ key: 'team', operator: 'NotIn', values: ['b'] }] }, true],
    ['NotIn miss', { matchExpressions: [{ key: 'team', operator: 'NotIn', values: ['a'] }] }, false],
    ['NotIn on a missing key', { matchExpressions: [{ key: 'env', operator: 'NotIn', values: ['prod'] }] }, true],
    ['Exists', { matchExpressions: [{ key: 'tier', operator: 'Exists' }] }, true],
    ['Exists on a missing key', { matchExpressions: [{ key: 'env', operator: 'Exists' }] }, false],
    ['DoesNotExist', { matchExpressions: [{ key: 'env', operator: 'DoesNotExist' }] }, true],
    ['DoesNotExist on a present key', { matchExpressions: [{ key: 'tier', operator: 'DoesNotExist' }] }, false],
    ['labels and expressions both hold', { matchLabels: { team: 'a' }, matchExpressions: [{ key: 'tier', operator: 'Exists' }] }, true],
    ['labels hold, expression fails', { matchLabels: { team: 'a' }, matchExpressions: [{ key: 'env', operator: 'Exists' }] }, false],
  ];
  for (const [what, selector, want] of table) assert.equal(selectorMatches(selector, labels), want, what);
});

test('finaliseConditions keeps lastTransitionTime while status is unchanged and sorts by type', () => {
  const before = '2025-01-01T00:00:00Z';
  const now = '2026-01-01T00:00:00Z';
  const previous: Condition[] = [
    { type: 'Programmed', status: 'True', reason: 'Programmed', message: 'old', lastTransitionTime: before, observedGeneration: 1 },
    { type: 'Accepted', status: 'True', reason: 'Accepted', message: 'old', lastTransitionTime: before, observedGeneration: 1 },
  ];
  const next: PendingCondition[] = [
    { type: 'ResolvedRefs', status: 'True', reason: 'ResolvedRefs', message: 'new type', observedGeneration: 2 },
    { type: 'Programmed', status: 'False', reason: 'Invalid', message: 'status changed', observedGeneration: 2 },
    { type: 'Accepted', status: 'True', reason: 'ListenersNotValid', message: 'reason changed only', observedGeneration: 2 },
  ];
  assert.deepEqual(finaliseConditions(next, previous, now), [
    { type: 'Accepted', status: 'True', reason: 'ListenersNotValid', message: 'reason changed only', lastTransitionTime: before, observedGeneration: 2 },
    { type: 'Programmed', status: 'False', reason: 'Invalid', message: 'status changed', lastTransitionTime: now, observedGeneration: 2 },
    { type: 'ResolvedRefs', status: 'True', reason: 'ResolvedRefs', message: 'new type', lastTransitionTime: now, observedGeneration: 2 },
  ]);
  assert.deepEqual(finaliseConditions(next.slice(0, 1), undefined, now).map((c) => c.lastTransitionTime), [now]);
});

test('AddressPool assigns the same addresses whatever order the keys come in', () => {
  const pool = new AddressPool('127.10.0.0/16');
  const keys = ['infra/a', 'infra/b', 'apps/c', 'apps/d'];
  const first = pool.assign(keys, {});
  assert.deepEqual(pool.assign([...keys].reverse(), {}), first);
  assert.deepEqual(new AddressPool('127.10.0.0/16').assign(keys, {}), first);
  assert.deepEqual(Object.keys(first).sort(), [...keys].sort());
  assert.equal(new Set(Object.values(first)).size, keys.length, 'addresses are distinct');
  for (const ip of Object.values(first)) assert.ok(pool.contains(ip), `${ip} is in the pool`);
});

test('AddressPool keeps previous assignments that are still valid', () => {
  const pool = new AddressPool('127.10.0.0/24');
  const out = pool.assign(['infra/a', 'infra/b', 'infra/c'], {
    'infra/a': '127.10.0.200',
    'infra/b': '10.0.0.1', // outside the pool: reassigned
    'infra/c': '127.10.0.200', // already taken by infra/a: reassigned
  });
  assert.equal(out['infra/a'], '127.10.0.200');
  assert.ok(pool.contains(out['infra/b']!));
  assert.ok(pool.contains(out['infra/c']!));
  assert.equal(new Set(Object.values(out)).size, 3);
});

test('AddressPool never hands out the network or broadcast address, and stops when full', () => {
  // A /30 has exactly two usable addresses.
  const pool = new AddressPool('192.168.7.0/30');
  const out = pool.assign(['k1', 'k2', 'k3', 'k4'], {});
  assert.deepEqual(Object.values(out).sort(), ['192.168.7.1', '192.168.7.2']);
  assert.equal(Object.keys(out).length, 2);
  // Host bits in the CIDR are masked off.
  assert.deepEqual(Object.values(new AddressPool('192.168.7.3/30').assign(['k1', 'k2'], {})).sort(), ['192.168.7.1', '192.168.7.2']);
});

test('AddressPool rejects what is not a usable IPv4 CIDR', () => {
  for (const bad of ['', '127.10.0.0', '127.10.0.0/', '256.1.1.1/16', '127.10.0/16', '::1/64', '127.10.0.0/7', '127.10.0.0/31', '127.10.0.0/32', 'abc/16']) {
    assert.throws(() => new AddressPool(bad), /--address-pool/, JSON.stringify(bad));
  }
});
