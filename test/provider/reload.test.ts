import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { test } from 'node:test';
import { formatProblem } from '../../src/provider/index.js';
import { ConfigLoader } from '../../src/provider/loader.js';
import { silentLogger } from '../../src/util/log.js';
import { names, route, tempDir } from './helpers.js';

async function withLoader(fn: (t: Awaited<ReturnType<typeof tempDir>>, load: () => ReturnType<ConfigLoader['load']>) => Promise<void>) {
  const t = await tempDir();
  const loader = new ConfigLoader(t.dir, silentLogger);
  try {
    await fn(t, () => loader.load());
  } finally {
    await t.cleanup();
  }
}

test('generation moves only when the desired state changes; uid and creationTimestamp stay', () =>
  withLoader(async (t, load) => {
    await t.write('r.yaml', route('r', 80));
    const first = (await load()).result.snapshot.httpRoutes[0].metadata;
    assert.equal(first.generation, 1);

    const same = (await load()).result.snapshot.httpRoutes[0].metadata;
    assert.deepEqual(same, first);

    await t.write('r.yaml', route('r', 80, '  labels: {team: a}\n'));
    const relabelled = (await load()).result.snapshot.httpRoutes[0].metadata;
    assert.equal(relabelled.generation, 1, 'metadata is not desired state');

    await t.write('r.yaml', route('r', 81, '  labels: {team: a}\n'));
    const changed = (await load()).result.snapshot.httpRoutes[0].metadata;
    assert.equal(changed.generation, 2);
    assert.equal(changed.uid, first.uid);
    assert.equal(changed.creationTimestamp, first.creationTimestamp);

    // Same spec with keys in another order and in flow style.
    await t.write('r.yaml', `kind: HTTPRoute
apiVersion: gateway.networking.k8s.io/v1
metadata: {name: r, labels: {team: a}}
spec:
  rules: [{backendRefs: [{port: 81, name: svc}]}]
  parentRefs: [{name: web}]
`);
    assert.equal((await load()).result.snapshot.httpRoutes[0].metadata.generation, 2);
  }));

test('objects without spec compare their top-level content', () =>
  withLoader(async (t, load) => {
    const secret = (v: string) => `apiVersion: v1\nkind: Secret\nmetadata: {name: s}\nstringData: {k: ${v}}\n`;
    await t.write('s.yaml', secret('one'));
    assert.equal((await load()).result.snapshot.secrets[0].metadata.generation, 1);
    await t.write('s.yaml', secret('two'));
    assert.equal((await load()).result.snapshot.secrets[0].metadata.generation, 2);
  }));

test('an object that disappears and comes back is a new object', () =>
  withLoader(async (t, load) => {
    await t.write('r.yaml', route('r', 80));
    await load();
    await t.write('r.yaml', route('r', 81));
    const before = (await load()).result.snapshot.httpRoutes[0].metadata;
    assert.equal(before.generation, 2);
    await t.write('r.yaml', route('other'));
    assert.deepEqual(names((await load()).result.snapshot).httpRoutes, ['default/other']);
    await t.write('r.yaml', route('r', 81));
    const after = (await load()).result.snapshot.httpRoutes[0].metadata;
    assert.equal(after.generation, 1);
    assert.notEqual(after.uid, before.uid);
  }));

test('an explicit generation in the file wins', () =>
  withLoader(async (t, load) => {
    await t.write('r.yaml', route('r', 80, '  generation: 5\n'));
    assert.equal((await load()).result.snapshot.httpRoutes[0].metadata.generation, 5);
    await t.write('r.yaml', route('r', 81));
    assert.equal((await load()).result.snapshot.httpRoutes[0].metadata.generation, 6, 'counting continues from it');
  }));

test('a file that stops parsing keeps its last objects until it is fixed or deleted', () =>
  withLoader(async (t, load) => {
    await t.write('a.yaml', route('a', 80));
    await t.write('b.yaml', route('b', 80));
    await load();

    await t.write('b.yaml', `${route('b', 81)}  bad: [indent\n`);
    const broken = (await load()).result;
    assert.deepEqual(names(broken.snapshot).httpRoutes, ['default/a', 'default/b']);
    assert.equal(broken.snapshot.httpRoutes[1].spec?.rules?.[0].backendRefs?.[0].port, 80);
    assert.equal(broken.problems.length, 1);
    assert.match(formatProblem(broken.problems[0]), /b\.yaml:\d+: YAML: /);

    await t.write('b.yaml', route('b', 82));
    const fixed = (await load()).result;
    assert.deepEqual(fixed.problems, []);
    assert.equal(fixed.snapshot.httpRoutes[1].spec?.rules?.[0].backendRefs?.[0].port, 82);
    assert.equal(fixed.snapshot.httpRoutes[1].metadata.generation, 2);

    await rm(`${t.dir}/b.yaml`);
    assert.deepEqual(names((await load()).result.snapshot).httpRoutes, ['default/a']);
  }));

test('an edit that fails validation is rejected and the previous version stays, like a rejected API update', () =>
  withLoader(async (t, load) => {
    await t.write('r.yaml', route('r', 80));
    const first = (await load()).result.snapshot.httpRoutes[0];
    await t.write('r.yaml', route('r', 70000));
    const rejected = (await load()).result;
    assert.equal(rejected.problems.length, 1);
    assert.match(rejected.problems[0].message, /spec\.rules\[0\]\.backendRefs\[0\]\.port must be <= 65535/);
    assert.deepEqual(rejected.snapshot.httpRoutes, [first]);
  }));

test('duplicates: the first file in path order wins, whatever the reading order', () =>
  withLoader(async (t, load) => {
    await t.write('b/routes.yaml', route('r', 2));
    await t.write('a.yaml', route('r', 1));
    const { result } = await load();
    assert.equal(result.snapshot.httpRoutes[0].spec?.rules?.[0].backendRefs?.[0].port, 1);
    assert.match(formatProblem(result.problems[0]), /b\/routes\.yaml:1: HTTPRoute default\/r: duplicate of the one at .*a\.yaml:1; ignored$/);
  }));

test('snapshots are frozen; an unchanged object is the same instance in the next load', () =>
  withLoader(async (t, load) => {
    await t.write('r.yaml', route('r', 80));
    await t.write('s.yaml', route('s', 80));
    const first = await load();
    assert.equal(first.changed, true);
    const [r, s] = first.result.snapshot.httpRoutes;
    assert.throws(() => { r.metadata.name = 'mutated'; }, TypeError);
    assert.throws(() => { r.spec!.rules![0].backendRefs![0].port = 1; }, TypeError);
    first.result.snapshot.httpRoutes.push(r);

    const touched = await load();
    assert.equal(touched.changed, false, 'nothing was edited');
    assert.deepEqual(names(touched.result.snapshot).httpRoutes, ['default/r', 'default/s'], 'the lists are fresh');

    await t.write('r.yaml', route('r', 81));
    const edited = await load();
    assert.equal(edited.changed, true);
    assert.notEqual(edited.result.snapshot.httpRoutes[0], r);
    assert.equal(edited.result.snapshot.httpRoutes[1], s);

    // Same content, new formatting: the object did not change.
    await t.write('s.yaml', route('s', 80).replace('  parentRefs:\n  - name: web', '  parentRefs: [{name: web}]'));
    const reformatted = await load();
    assert.equal(reformatted.changed, false);
    assert.equal(reformatted.result.snapshot.httpRoutes[1], s);
  }));

test('an edit that moves documents keeps every line right', () =>
  withLoader(async (t, load) => {
    const bad = 'apiVersion: v1\nkind: Service\nmetadata: {name: bad}\nspec: {ports: [{port: 0}]}\n';
    await t.write('f.yaml', `${route('a')}---\n${route('b')}---\n${bad}`);
    const before = (await load()).result;
    assert.deepEqual(before.snapshot.httpRoutes.map((o) => o.source?.split(':').pop()), ['1', '13']);
    assert.deepEqual(before.problems.map((p) => p.line), [28]);

    // Two more lines in the first document: the unchanged ones after it move down.
    await t.write('f.yaml', `${route('a', 80, '  labels:\n    x: y\n')}---\n${route('b')}---\n${bad}`);
    const after = (await load()).result;
    assert.deepEqual(after.snapshot.httpRoutes.map((o) => o.source?.split(':').pop()), ['1', '15']);
    assert.deepEqual(after.problems.map((p) => p.line), [30]);
  }));

test('a file with YAML directives is read as a whole, with the same lines', () =>
  withLoader(async (t, load) => {
    await t.write('d.yaml', `%YAML 1.2\n---\n${route('a')}---\n${route('b')}`);
    const { result } = await load();
    assert.deepEqual(result.problems, []);
    assert.deepEqual(result.snapshot.httpRoutes.map((o) => o.source?.split(':').pop()), ['3', '15']);
  }));

test('reports the directories it spans, for watching', () =>
  withLoader(async (t, load) => {
    await t.write('x/y/r.yaml', route('r'));
    await t.write('.git/config.yaml', 'not: watched');
    const { directories } = await load();
    assert.deepEqual(directories, [t.dir, `${t.dir}/x`, `${t.dir}/x/y`]);
  }));
