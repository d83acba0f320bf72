import assert from 'node:assert/strict';
import type { IRConfig } from '../../src/ir/types.js';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';
import { formatProblem, loadConfig } from '../../src/provider/index.js';
import { translate, type StatusEntry, type TranslateOptions } from '../../src/translator/index.js';

// Compiled tests run from dist/, fixtures stay in the source tree.
const TESTDATA = fileURLToPath(new URL('../../../test/translator/testdata/', import.meta.url));
const UPDATE = process.env.UPDATE_GOLDEN === '1';

const BASE_OPTIONS: TranslateOptions = {
  controllerName: 'archway.dev/gateway-controller',
  bindAddress: '0.0.0.0',
  now: '2026-01-01T00:00:00Z',
};

const cases = readdirSync(TESTDATA).filter((f) => f.endsWith('.in.yaml')).map((f) => f.slice(0, -'.in.yaml'.length)).sort();

/** A sibling `<case>.options.json` is merged over the base options (e.g. for poolAssignments). */
function optionsFor(name: string): TranslateOptions {
  const path = join(TESTDATA, `${name}.options.json`);
  return existsSync(path) ? { ...BASE_OPTIONS, ...JSON.parse(readFileSync(path, 'utf8')) } : BASE_OPTIONS;
}

/**
 * PEM blobs would drown the goldens; a digest still shows which certificate
 * and key went where.
 */
function shortenPem(value: unknown): unknown {
  if (typeof value === 'string') {
    const m = /^-----BEGIN ([A-Z ]+)-----/.exec(value);
    return m ? `<${m[1]} sha256:${createHash('sha256').update(value).digest('hex').slice(0, 12)}>` : value;
  }
  if (Array.isArray(value)) return value.map(shortenPem);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, shortenPem(v)]));
  }
  return value;
}

async function render(name: string): Promise<{ text: string; statuses: StatusEntry[]; ir: IRConfig }> {
  const { snapshot, problems } = await loadConfig(join(TESTDATA, `${name}.in.yaml`));
  assert.deepEqual(problems.map(formatProblem), [], 'the fixture must load cleanly');
  const result = translate(snapshot, optionsFor(name));
  // Through JSON first: that is how the IR and statuses leave the process.
  const plain = shortenPem(JSON.parse(JSON.stringify(result)));
  return { text: stringify(plain, { lineWidth: 0 }), statuses: result.statuses, ir: result.ir };
}

test('every golden output has an input', () => {
  const outputs = readdirSync(TESTDATA).filter((f) => f.endsWith('.out.yaml')).map((f) => f.slice(0, -'.out.yaml'.length));
  assert.deepEqual(outputs.filter((o) => !cases.includes(o)), []);
});

for (const name of cases) {
  test(`golden: ${name}`, async () => {
    const { text, statuses, ir } = await render(name);
    const outPath = join(TESTDATA, `${name}.out.yaml`);
    if (UPDATE) writeFileSync(outPath, text);
    assert.ok(existsSync(outPath), `${name}.out.yaml is missing; run with UPDATE_GOLDEN=1`);
    // Parsed comparison gives a field-level diff on mismatch.
    assert.deepStrictEqual(parse(text), parse(readFileSync(outPath, 'utf8')));

    const again = await render(name);
    assert.equal(again.text, text, 'translation must be deterministic');

    // The data plane resolves clusters by name: every one a route names must be in the IR.
    for (const server of ir.servers) {
      for (const route of server.virtualHosts.flatMap((v) => v.routes)) {
        const named = [...(route.mirrors ?? []).map((m) => m.cluster),
          ...(route.action.type === 'forward' ? route.action.backends.flatMap((b) => (b.cluster ? [b.cluster] : [])) : [])];
        for (const cluster of named) assert.ok(ir.clusters[cluster], `${route.name} names cluster ${cluster}, which the IR lacks`);
      }
      for (const route of [...server.tlsRoutes ?? [], ...server.streamRoute ? [server.streamRoute] : []]) {
        for (const { cluster } of route.backends) {
          if (cluster) assert.ok(ir.clusters[cluster], `${route.name} names cluster ${cluster}, which the IR lacks`);
        }
      }
    }

    // Spec: every condition carries the generation of the object it describes.
    for (const s of statuses) {
      for (const c of conditionsOf(s)) {
        assert.equal(c.observedGeneration, s.metadata.generation, `${s.kind} ${s.metadata.name}: ${c.type}`);
        assert.equal(c.lastTransitionTime, BASE_OPTIONS.now);
      }
    }
  });
}

function conditionsOf(s: StatusEntry): { type: string; observedGeneration?: number; lastTransitionTime: string }[] {
  type C = { type: string; observedGeneration?: number; lastTransitionTime: string };
  const status = s.status as { conditions?: C[]; listeners?: { conditions: C[] }[]; parents?: { conditions: C[] }[]; ancestors?: { conditions: C[] }[] };
  return [
    ...(status.conditions ?? []),
    ...(status.listeners ?? []).flatMap((l) => l.conditions),
    ...(status.parents ?? []).flatMap((p) => p.conditions),
    ...(status.ancestors ?? []).flatMap((a) => a.conditions),
  ];
}
