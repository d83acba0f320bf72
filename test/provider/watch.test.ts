import assert from 'node:assert/strict';
import { rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { FileProvider, type LoadResult } from '../../src/provider/index.js';
import { silentLogger } from '../../src/util/log.js';
import { names, route, tempDir, waitFor } from './helpers.js';

async function watching(root: (dir: string) => string, fn: (ctx: {
  t: Awaited<ReturnType<typeof tempDir>>;
  provider: FileProvider;
  changes: LoadResult[];
  latest: () => LoadResult | undefined;
}) => Promise<void>, setup?: (t: Awaited<ReturnType<typeof tempDir>>) => Promise<void>) {
  const t = await tempDir();
  await setup?.(t);
  const provider = new FileProvider(root(t.dir), { logger: silentLogger, debounceMs: 20 });
  const changes: LoadResult[] = [];
  provider.onChange((r) => changes.push(r));
  try {
    await fn({ t, provider, changes, latest: () => changes.at(-1) });
  } finally {
    await provider.close();
    await t.cleanup();
  }
}

const routesOf = (r: LoadResult | undefined) => (r ? names(r.snapshot).httpRoutes : []);

test('reloads on edit, new file in a new subdirectory, editor-style replace and delete', () =>
  watching((dir) => dir, async ({ t, provider, latest }) => {
    const initial = await provider.start();
    assert.deepEqual(names(initial.snapshot).httpRoutes, ['default/a']);

    await t.write('a.yaml', route('a', 81));
    await waitFor(() => latest()?.snapshot.httpRoutes[0]?.metadata.generation === 2, 'the edit');

    await t.write('deep/er/b.yaml', route('b'));
    await waitFor(() => routesOf(latest()).includes('default/b'), 'the file in a new directory');
    await t.write('deep/er/c.yaml', route('c'));
    await waitFor(() => routesOf(latest()).includes('default/c'), 'a second file in the new directory');

    // Editors write a temporary file and rename it over the original.
    await t.write('.a.yaml.swp', route('a', 82));
    await rename(join(t.dir, '.a.yaml.swp'), join(t.dir, 'a.yaml'));
    await waitFor(() => latest()?.snapshot.httpRoutes[0]?.spec?.rules?.[0].backendRefs?.[0].port === 82, 'the replaced file');

    await rm(join(t.dir, 'deep'), { recursive: true });
    await waitFor(() => routesOf(latest()).join() === 'default/a', 'the deleted directory');
  }, (t) => t.write('a.yaml', route('a', 80)).then(() => undefined)));

test('a syntax error is reported while the last good objects are kept', () =>
  watching((dir) => dir, async ({ t, provider, latest }) => {
    await provider.start();
    await t.write('a.yaml', 'kind: [broken\n');
    await waitFor(() => (latest()?.problems.length ?? 0) > 0, 'the problem');
    assert.deepEqual(routesOf(latest()), ['default/a']);
    await t.write('a.yaml', route('a', 90));
    await waitFor(() => latest()?.problems.length === 0, 'the fix');
    assert.equal(latest()?.snapshot.httpRoutes[0].spec?.rules?.[0].backendRefs?.[0].port, 90);
  }, (t) => t.write('a.yaml', route('a', 80)).then(() => undefined)));

test('watches a single file, including one replaced by rename', () =>
  watching((dir) => join(dir, 'config.yaml'), async ({ t, provider, latest }) => {
    assert.deepEqual(names((await provider.start()).snapshot).httpRoutes, ['default/a']);
    await t.write('other.yaml', route('ignored'));
    await t.write('config.yaml.tmp', route('b'));
    await rename(join(t.dir, 'config.yaml.tmp'), join(t.dir, 'config.yaml'));
    await waitFor(() => routesOf(latest()).join() === 'default/b', 'the replaced file');
  }, (t) => t.write('config.yaml', route('a')).then(() => undefined)));

test('a throwing listener does not stop later notifications', () =>
  watching((dir) => dir, async ({ t, provider, latest }) => {
    provider.onChange(() => {
      throw new Error('listener bug');
    });
    await provider.start();
    await t.write('a.yaml', route('a'));
    await waitFor(() => routesOf(latest()).includes('default/a'), 'the first change');
    await t.write('b.yaml', route('b'));
    await waitFor(() => routesOf(latest()).includes('default/b'), 'the second change');
  }));

test('identical reloads are not re-emitted', () =>
  watching((dir) => dir, async ({ t, provider, changes, latest }) => {
    await provider.start();
    await t.write('a.yaml', route('a', 81));
    await waitFor(() => latest()?.snapshot.httpRoutes[0]?.metadata.generation === 2, 'the edit');
    const count = changes.length;
    // Rewriting the same bytes, then a real change: only the real change may show up.
    await t.write('a.yaml', route('a', 81));
    await t.write('b.yaml', route('b'));
    await waitFor(() => routesOf(latest()).includes('default/b'), 'the new file');
    const emitted = changes.slice(count - 1).map((c) => JSON.stringify(c));
    assert.ok(emitted.every((c, i) => i === 0 || c !== emitted[i - 1]), 'no emission repeats the previous one');
  }, (t) => t.write('a.yaml', route('a', 80)).then(() => undefined)));

test('a directory replaced under the same path is watched anew', () =>
  watching((dir) => dir, async ({ t, provider, latest }) => {
    await provider.start();
    // Swap the subdirectory within one debounce window, so no scan sees it missing.
    await t.write('next/r.yaml', route('r', 2));
    await rm(join(t.dir, 'sub'), { recursive: true });
    await rename(join(t.dir, 'next'), join(t.dir, 'sub'));
    await waitFor(() => latest()?.snapshot.httpRoutes[0]?.spec?.rules?.[0].backendRefs?.[0].port === 2, 'the swapped directory');
    await t.write('sub/s.yaml', route('s'));
    await waitFor(() => routesOf(latest()).includes('default/s'), 'a file written into the new directory');
  }, (t) => t.write('sub/r.yaml', route('r', 1)).then(() => undefined)));
