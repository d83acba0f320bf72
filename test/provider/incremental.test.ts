import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigLoader } from '../../src/provider/loader.js';
import type { LoadResult } from '../../src/provider/problem.js';
import { silentLogger } from '../../src/util/log.js';
import { random, route, tempDir } from './helpers.js';

// A reload updates what the last one built when only the content of objects
// changed, and rebuilds otherwise. Either way the result must be what a fresh
// loader reads from the same files, apart from the metadata that only a
// loader with a memory can keep (uid, creationTimestamp, generation).

function comparable(result: LoadResult): string {
  const snapshot = Object.fromEntries(Object.entries(result.snapshot).map(([kind, list]) => [kind, (list as { metadata: object }[]).map((o) => {
    const { uid: _u, creationTimestamp: _c, generation: _g, ...metadata } = o.metadata as Record<string, unknown>;
    return { ...o, metadata };
  })]));
  return JSON.stringify({ snapshot, problems: result.problems });
}

const FILES = ['a.yaml', 'b.yaml', 'sub/c.yaml'];

for (const seed of [7, 8]) {
  test(`reloads after any sort of edit read what a fresh loader reads (seed ${seed})`, async (t) => {
    const tmp = await tempDir();
    t.after(tmp.cleanup);
    const pick = random(seed);
    // Per file, its routes as [name, port].
    const model = new Map(FILES.map((f, i) => [f, Array.from({ length: 4 }, (_, j): [string, number] => [`r-${i}-${j}`, 80])]));
    const write = () => Promise.all([...model].map(([file, routes]) => tmp.write(file, routes.map(([name, port]) => route(name, port)).join('---\n'))));
    await write();
    const loader = new ConfigLoader(tmp.dir, silentLogger);
    let last = '';
    for (let step = 0; step < 40; step++) {
      const file = FILES[pick(FILES.length)]!;
      const routes = model.get(file)!;
      const i = pick(routes.length || 1);
      switch (step === 0 ? -1 : pick(7)) {
        case -1: break;
        case 0: routes.push([`n-${step}`, 80]); break;
        case 1: routes.splice(i, 1); break;
        case 2: if (routes[i]) routes[i] = [`m-${step}`, routes[i]![1]]; break;
        // A duplicate of another file's route: the first file in path order keeps it.
        case 3: routes.push([model.get(FILES[pick(FILES.length)]!)![0]?.[0] ?? `d-${step}`, 90]); break;
        default: if (routes[i]) routes[i] = [routes[i]![0], 80 + pick(5)];
      }
      await write();
      const { result, changed } = await loader.load();
      const fresh = await new ConfigLoader(tmp.dir, silentLogger).load();
      const now = comparable(result);
      assert.equal(now, comparable(fresh.result), `step ${step}`);
      assert.equal(changed, now !== last, `step ${step}: changed`);
      last = now;
    }
  });
}
