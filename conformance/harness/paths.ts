import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

// This file runs as dist/conformance/harness/paths.js.
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

export const archwayBin = resolve(repoRoot, 'bin/archway.js');

/** The coredns stand-in's entry point, next to this file. */
export const corednsMain = fileURLToPath(new URL('./coredns-main.js', import.meta.url));

/** The unmodified upstream data: base manifests, test manifests and tests-and-features.txt. */
export function upstreamConformanceDir(): string {
  const dir = resolve(repoRoot, '../shared/gateway-api/v1.6.1/conformance');
  const base = resolve(dir, 'base/manifests.yaml');
  if (!existsSync(base)) {
    throw new Error(`upstream Gateway API v1.6.1 conformance data not found: expected ${base} (the shared directory next to the repository)`);
  }
  return dir;
}
