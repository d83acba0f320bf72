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

import { spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { archwayReady, countedRequestOptions, prepareSingleWorker, sendRequests } from './lib/single-worker.mjs';
import { archwayArgs, haveCommand, sleep, waitFor } from './lib/util.mjs';

const BENCH = dirname(fileURLToPath(import.meta.url));
const { values: o } = parseArgs({ options: countedRequestOptions({ requests: 100000, top: 25 }) });
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

let profile;
try {
  await archwayReady('archway ready', adminPort, 30000);
  console.log(`warm-up: ${o.warmup} requests`);
  sendRequests(o, port, Number(o.warmup));
  archway.kill('SIGUSR2');
  await sleep(200);
  console.log(`sampled: ${requests} requests`);
  sendRequests(o, port, requests);
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
