#!/usr/bin/env node
// Instructions per proxied request: Archway's data plane run under
// valgrind's callgrind, a fixed number of requests counted after a warm-up.
// Unlike time, the count hardly moves from run to run (±0.1 %), so two
// builds can be compared one change apart, where timings on a shared host
// cannot resolve a few per cent. It weighs every instruction alike: a cache
// miss or a system call costs no more than an add, so check what it finds
// against time (run.mjs) before trusting a large claim.
//
//   node bench/instructions.mjs [--root DIR] [--requests 20000] [--warmup 40000] [--conns 8]
//                               [--shape basic|routes|split] [--path /small] [--header 'name: value'] [--top 40]
//
// --root measures another checkout's build (say a git worktree of the commit
// before). Needs valgrind and h2load (Debian: valgrind, nghttp2-client) and
// the built dist/; uses the Node backend (bench/backend-node.mjs). Under
// valgrind Archway serves a few thousand requests a second and takes about
// half a minute to start.

import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { instructionsByFunction, readPerfMap } from './lib/callgrind.mjs';
import { archwayReady, countedRequestOptions, prepareSingleWorker, sendRequests } from './lib/single-worker.mjs';
import { archwayArgs, haveCommand, sleep } from './lib/util.mjs';

const BENCH = dirname(fileURLToPath(import.meta.url));
const { values: o } = parseArgs({ options: countedRequestOptions({ requests: 20000, top: 40 }) });
for (const [cmd, pkg] of [['valgrind', 'valgrind'], ['callgrind_control', 'valgrind'], ['h2load', 'nghttp2-client']]) {
  if (!haveCommand(cmd)) throw new Error(`${cmd} is required (Debian: apt-get install ${pkg})`);
}
const root = resolve(o.root);
const requests = Number(o.requests);

const { tmp, config, port, adminPort, backend } = await prepareSingleWorker({ name: 'instructions', shape: o.shape });
const nodeArgs = archwayArgs(root, ['serve', '--config', config, '--admin', `127.0.0.1:${adminPort}`, '--bind-address', '127.0.0.1', '--log-level', 'error', '--workers', '1']);
// Instrumentation starts off: the warm-up runs at valgrind's plain speed and is not counted.
const archway = spawn('valgrind', [
  '--tool=callgrind', '--instr-atstart=no', `--callgrind-out-file=${join(tmp, 'callgrind.%p')}`,
  process.execPath, '--perf-basic-prof-only-functions', ...nodeArgs,
], { stdio: ['ignore', 'ignore', 'pipe'] });
let valgrindLog = '';
archway.stderr.on('data', (d) => (valgrindLog += d));
const exited = new Promise((r) => archway.on('exit', r));

const control = (...args) => {
  const r = spawnSync('callgrind_control', [...args, String(archway.pid)], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`callgrind_control ${args.join(' ')}: ${r.stderr || r.stdout}`);
};
try {
  await archwayReady('archway ready under valgrind', adminPort, 180000);
  console.log(`warm-up: ${o.warmup} requests`);
  sendRequests(o, port, Number(o.warmup));
  await sleep(1000);
  control('--instr=on');
  control('--zero');
  console.log(`counted: ${requests} requests`);
  sendRequests(o, port, requests);
  control('--dump');
} finally {
  archway.kill('SIGTERM');
  await Promise.race([exited, sleep(10000)]);
  backend.kill('SIGTERM');
}
const dump = readdirSync(tmp).filter((f) => /^callgrind\.\d+\.\d+$/.test(f)).map((f) => join(tmp, f)).pop();
if (!dump) throw new Error(`no callgrind dump written\n${valgrindLog.split('\n').slice(-10).join('\n')}`);
const perfMap = `/tmp/perf-${archway.pid}.map`;
const { total, self, calls } = instructionsByFunction(dump, readPerfMap(perfMap));
rmSync(perfMap, { force: true });
rmSync(tmp, { recursive: true, force: true });

const perRequest = (ir) => String(Math.round(ir / requests)).padStart(7);
console.log(`\n${root}: ${Math.round(total / requests)} instructions per request (${o.shape} ${o.path}, ${requests} requests over ${o.conns} connections)`);
console.log('\nself instructions per request, by function (JIT-compiled JS as JS:<name> <file>, with what it inlined):');
for (const [fn, ir] of [...self].sort((x, y) => y[1] - x[1]).slice(0, Number(o.top))) console.log(`${perRequest(ir)}  ${fn.slice(0, 150)}`);
// V8's inline-cache stubs and builtins are shared: who calls them says which JS pays for them.
const stubs = [...self].filter(([fn]) => /^Builtins_\w*IC|^Builtins_CreateTypedArray|^Builtins_TypedArrayPrototypeSet/.test(fn)).sort((x, y) => y[1] - x[1]).slice(0, 6);
for (const [stub] of stubs) {
  const callers = [...calls].filter(([key]) => key.startsWith(`${stub}\u0000`)).sort((x, y) => y[1] - x[1]).slice(0, 5);
  if (callers.length > 0) console.log(`\n${stub}, called from:\n${callers.map(([key, ir]) => `${perRequest(ir)}  ${key.split('\u0000')[1].slice(0, 140)}`).join('\n')}`);
}
