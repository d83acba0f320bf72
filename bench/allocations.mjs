#!/usr/bin/env node
// Bytes one Archway worker allocates on V8's heap per proxied request, by
// the function that allocated them. The young generation is collected
// (scavenged) each time the data plane has allocated about its size, and
// every request in flight waits out the pause: bytes per request set how
// often that happens, and with it how many requests land in the tail.
//
//   node bench/allocations.mjs [--root DIR] [--requests 100000] [--warmup 40000] [--conns 8]
//                              [--shape basic|routes|split] [--path /small] [--header 'name: value'] [--top 25]
//
// V8's sampling heap profiler, started after the warm-up and stopped after
// exactly --requests more (h2load), records about one allocation every 128
// bytes with its JS stack, freed or not (bench/lib/heap-sampler.cjs is
// preloaded into Archway for it). Uses the Node backend and the built dist/.

import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { prepareSingleWorker } from './lib/single-worker.mjs';
import { archwayArgs, fetchOnce, haveCommand, sleep, waitFor } from './lib/util.mjs';

const BENCH = dirname(fileURLToPath(import.meta.url));
const { values: o } = parseArgs({
  options: {
    root: { type: 'string', default: dirname(BENCH) },
    requests: { type: 'string', default: '100000' },
    warmup: { type: 'string', default: '40000' },
    conns: { type: 'string', default: '8' },
    shape: { type: 'string', default: 'basic' },
    path: { type: 'string', default: '/small' },
    header: { type: 'string', multiple: true },
    top: { type: 'string', default: '25' },
  },
});
if (!haveCommand('h2load')) throw new Error('h2load is required (Debian: apt-get install nghttp2-client)');
const root = resolve(o.root);
const requests = Number(o.requests);

const { tmp, config, port, adminPort, backend } = await prepareSingleWorker({ name: 'allocations', shape: o.shape });
const profileFile = join(tmp, 'heap-sample.json');
const [flags, rest] = splitNodeFlags(archwayArgs(root, ['serve', '--config', config, '--admin', `127.0.0.1:${adminPort}`, '--bind-address', '127.0.0.1', '--log-level', 'error', '--workers', '1']));
const archway = spawn(process.execPath, [...flags, '--require', join(BENCH, 'lib/heap-sampler.cjs'), ...rest], {
  stdio: 'inherit',
  env: { ...process.env, ARCHWAY_HEAP_SAMPLE_FILE: profileFile },
});
const exited = new Promise((r) => archway.on('exit', r));

const load = (n) => {
  const headers = (o.header ?? []).flatMap((h) => ['-H', h]);
  const r = spawnSync('h2load', ['--h1', '-c', o.conns, '-n', String(n), ...headers, `http://127.0.0.1:${port}${o.path}`], { encoding: 'utf8' });
  const done = /(\d+) succeeded/.exec(r.stdout)?.[1];
  if (Number(done) !== n) throw new Error(`h2load: ${n} requests asked, ${done ?? 'none'} succeeded\n${r.stdout}${r.stderr}`);
};
let profile;
try {
  await waitFor('archway ready', async () => ((await fetchOnce({ port: adminPort, path: '/readyz' }).catch(() => ({}))).status === 200 ? true : undefined), { timeoutMs: 30000 });
  console.log(`warm-up: ${o.warmup} requests`);
  load(Number(o.warmup));
  archway.kill('SIGUSR2');
  await sleep(200);
  console.log(`sampled: ${requests} requests`);
  load(requests);
  archway.kill('SIGUSR2');
  // Read once it parses: absent, or caught half-written, it throws and is tried again.
  profile = await waitFor('the heap profile', async () => JSON.parse(readFileSync(profileFile, 'utf8')), { timeoutMs: 30000 });
} finally {
  archway.kill('SIGTERM');
  await Promise.race([exited, sleep(10000)]);
  backend.kill('SIGTERM');
  rmSync(tmp, { recursive: true, force: true });
}
if (profile.error) throw new Error(`sampling heap profiler: ${profile.error}`);

const bytesByFunction = new Map();
let total = 0;
const visit = (node) => {
  if (node.selfSize > 0) {
    const f = node.callFrame;
    const where = f.url === '' ? '' : ` ${f.url.replace(/^.*\/dist\/src\//, '').replace(/^file:\/\/.*\//, '')}:${f.lineNumber + 1}`;
    const name = `${f.functionName || '(anonymous)'}${where}`;
    bytesByFunction.set(name, (bytesByFunction.get(name) ?? 0) + node.selfSize);
    total += node.selfSize;
  }
  for (const child of node.children) visit(child);
};
visit(profile.head);
const perRequest = (bytes) => (bytes / requests).toFixed(0).padStart(6);
console.log(`\n${root}: ${perRequest(total).trim()} bytes allocated per request (${o.shape} ${o.path}, ${requests} requests over ${o.conns} connections)`);
console.log('\nbytes per request, by the function that allocated them (a JIT-inlined callee counts as its caller):');
for (const [name, bytes] of [...bytesByFunction].sort((a, b) => b[1] - a[1]).slice(0, Number(o.top))) console.log(`${perRequest(bytes)}  ${name}`);

/** archwayArgs' node flags apart from the script and its arguments. */
function splitNodeFlags(args) {
  const at = args.findIndex((a) => !a.startsWith('--'));
  return [args.slice(0, at), args.slice(at)];
}
