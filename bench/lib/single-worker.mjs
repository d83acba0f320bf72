// What the single-worker tools (profile.mjs, instructions.mjs,
// allocations.mjs) set up before starting Archway under their instrument: the
// Node backend on two ports and a config directory for one route shape; and,
// for the tools that count per request, their common options and load.

import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { archwayFiles } from './configs.mjs';
import { fetchOnce, freePort, waitFor } from './util.mjs';

const BENCH = dirname(dirname(fileURLToPath(import.meta.url)));

/**
 * A temp directory (`tmp`) holding Archway's config for `shape` (`config`),
 * the ports it will serve and be administered on, and the backend it
 * forwards to, already started (stop it with backend.kill()).
 */
export async function prepareSingleWorker({ name, shape }) {
  const tmp = mkdtempSync(join(tmpdir(), `archway-${name}-`));
  const [port, adminPort, tlsPort, a, b] = await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort()]);
  const backend = spawn(process.execPath, [join(BENCH, 'backend-node.mjs'), String(a), String(b)], { stdio: 'inherit' });
  const config = join(tmp, 'config');
  mkdirSync(config, { recursive: true });
  const stub = '-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n';
  for (const [f, text] of Object.entries(archwayFiles({ shape, port, tlsPort, a, b, certPem: stub, keyPem: stub }))) {
    // The HTTPS listener is not measured by these tools; its bad certificate only costs a status condition.
    writeFileSync(join(config, f), text);
  }
  return { tmp, config, port, adminPort, backend };
}

/**
 * parseArgs options of the tools that measure a fixed number of requests
 * after a warm-up, with their defaults for how many and how much to list.
 */
export function countedRequestOptions({ requests, top }) {
  return {
    root: { type: 'string', default: dirname(BENCH) },
    requests: { type: 'string', default: String(requests) },
    warmup: { type: 'string', default: '40000' },
    conns: { type: 'string', default: '8' },
    shape: { type: 'string', default: 'basic' },
    path: { type: 'string', default: '/small' },
    header: { type: 'string', multiple: true },
    top: { type: 'string', default: String(top) },
  };
}

/** Sends exactly `n` requests (h2load, HTTP/1.1) as the parsed options `o` say; throws unless all succeed. */
export function sendRequests(o, port, n) {
  const headers = (o.header ?? []).flatMap((h) => ['-H', h]);
  const r = spawnSync('h2load', ['--h1', '-c', o.conns, '-n', String(n), ...headers, `http://127.0.0.1:${port}${o.path}`], { encoding: 'utf8' });
  const done = /(\d+) succeeded/.exec(r.stdout)?.[1];
  if (Number(done) !== n) throw new Error(`h2load: ${n} requests asked, ${done ?? 'none'} succeeded\n${r.stdout}${r.stderr}`);
}

/** Resolves once Archway's admin server says it is ready. */
export function archwayReady(what, adminPort, timeoutMs) {
  return waitFor(what, async () => ((await fetchOnce({ port: adminPort, path: '/readyz' }).catch(() => ({}))).status === 200 ? true : undefined), { timeoutMs, intervalMs: 500 });
}
