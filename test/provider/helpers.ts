import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { KubeObject, Snapshot } from '../../src/resources/types.js';

/** Fixtures stay in the source tree; tests run from dist/test/provider. */
export const FIXTURES = join(dirname(fileURLToPath(import.meta.url)), '../../../test/fixtures/provider');

export async function tempDir(): Promise<{ dir: string; write(rel: string, text: string): Promise<string>; cleanup(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'archway-provider-'));
  return {
    dir,
    async write(rel, text) {
      const path = join(dir, rel);
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, text);
      return path;
    },
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}

/** `ns/name` of every object, per collection, for compact assertions. */
export function names(snapshot: Snapshot): Record<string, string[]> {
  return Object.fromEntries(
    Object.entries(snapshot).map(([k, list]) => [k, (list as KubeObject[]).map((o) => `${o.metadata.namespace ?? ''}/${o.metadata.name}`)]),
  );
}

export function route(name: string, port = 80, extra = ''): string {
  return `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: ${name}
${extra}spec:
  parentRefs:
  - name: web
  rules:
  - backendRefs:
    - name: svc
      port: ${port}
`;
}

/** A small deterministic generator of integers below `n`, so that a failing random test can be replayed. */
export function random(seed: number): (n: number) => number {
  let s = seed;
  return (n) => {
    s = (s * 1103515245 + 12345) % 2147483648;
    return s % n;
  };
}

/** Polls until `predicate` holds; watch events arrive asynchronously, so tests wait (bounded) instead of sleeping. */
export async function waitFor(predicate: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
