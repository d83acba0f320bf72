import assert from 'node:assert/strict';
import { truncate, unlink } from 'node:fs/promises';
import { test } from 'node:test';
import { ConfigLoader, EMPTY_FILE_GRACE_MS } from '../../src/provider/loader.js';
import { FileProvider } from '../../src/provider/index.js';
import type { LoadResult } from '../../src/provider/index.js';
import { silentLogger } from '../../src/util/log.js';
import { names, route, tempDir, waitFor } from './helpers.js';

test('a file caught empty mid-save keeps its objects for the grace period', async (t) => {
  const tmp = await tempDir();
  t.after(tmp.cleanup);
  const file = await tmp.write('routes.yaml', route('a'));
  const loader = new ConfigLoader(tmp.dir, silentLogger);
  assert.deepEqual(names((await loader.load()).result.snapshot).httpRoutes, ['default/a']);

  await truncate(file, 0);
  const during = await loader.load();
  assert.deepEqual(names(during.result.snapshot).httpRoutes, ['default/a'], 'kept while the save may be in progress');
  assert.ok(during.recheckAfterMs !== undefined && during.recheckAfterMs <= EMPTY_FILE_GRACE_MS);

  await tmp.write('routes.yaml', route('b'));
  const saved = await loader.load();
  assert.deepEqual(names(saved.result.snapshot).httpRoutes, ['default/b'], 'the finished save replaces it');
  assert.equal(saved.recheckAfterMs, undefined);
});

test('a save that puts the same content back ends the grace period', async (t) => {
  const tmp = await tempDir();
  t.after(tmp.cleanup);
  const file = await tmp.write('routes.yaml', route('a'));
  const loader = new ConfigLoader(tmp.dir, silentLogger);
  await loader.load();
  await truncate(file, 0);
  assert.ok((await loader.load()).recheckAfterMs !== undefined);
  await tmp.write('routes.yaml', route('a'));
  const saved = await loader.load();
  assert.equal(saved.recheckAfterMs, undefined, 'no more rechecks: the file is whole again');
  assert.equal(saved.changed, false);
});

test('an emptied file drops its objects once the grace period passes; a deleted one at once', async (t) => {
  const tmp = await tempDir();
  t.after(tmp.cleanup);
  const emptied = await tmp.write('a.yaml', route('a'));
  const deleted = await tmp.write('b.yaml', route('b'));
  const provider = new FileProvider(tmp.dir, { logger: silentLogger, debounceMs: 20 });
  t.after(() => provider.close());
  let latest: LoadResult | undefined;
  provider.onChange((r) => { latest = r; });
  latest = await provider.start();

  await unlink(deleted);
  await waitFor(() => !names(latest!.snapshot).httpRoutes!.includes('default/b'), 'the deletion');
  assert.deepEqual(names(latest!.snapshot).httpRoutes, ['default/a'], 'the emptied-later file is untouched');

  const emptiedAt = Date.now();
  await truncate(emptied, 0);
  await waitFor(() => names(latest!.snapshot).httpRoutes!.length === 0, 'the emptied file to count', EMPTY_FILE_GRACE_MS * 5);
  assert.ok(Date.now() - emptiedAt >= EMPTY_FILE_GRACE_MS, 'not before the grace period');
});
