import assert from 'node:assert/strict';
import { it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../../src/provider/index.js';
import { translate } from '../../src/translator/index.js';

// The README and `npm start` promise what the bundled example does; keep them honest.
it('the quickstart example routes as documented', async () => {
  const { snapshot, problems } = await loadConfig(fileURLToPath(new URL('../../../examples/quickstart', import.meta.url)));
  assert.deepEqual(problems, []);
  const { ir, statuses } = translate(snapshot, {
    controllerName: 'archway.dev/gateway-controller', bindAddress: '0.0.0.0', now: '2026-01-01T00:00:00Z',
  });
  for (const s of statuses) {
    const conditions = (s.status.conditions ?? (s.status.parents as { conditions: unknown[] }[] | undefined)?.flatMap((p) => p.conditions) ?? []) as { type: string; status: string }[];
    for (const c of conditions.filter((c) => c.type === 'Accepted' || c.type === 'ResolvedRefs' || c.type === 'Programmed')) {
      assert.equal(c.status, 'True', `${s.kind} ${s.metadata.name} ${c.type}`);
    }
  }
  const server = ir.servers.find((s) => s.port === 8080)!;
  const store = server.virtualHosts.find((v) => v.hostname === 'store.example.com')!;
  assert.deepEqual(store.routes.map((r) => r.name), [
    'httproute/default/store-canary/rule/0/match/0',
    'httproute/default/store-split/rule/0/match/0',
  ]);
  const split = store.routes[1]!.action;
  assert.equal(split.type, 'forward');
  assert.deepEqual(split.type === 'forward' && split.backends.map((b) => [b.cluster, b.weight]),
    [['default/store-v1:80', 90], ['default/store-v2:80', 10]]);
});
