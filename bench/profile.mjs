#!/usr/bin/env node
// CPU profile of Archway's data plane under one wrk workload, summarised as
// the functions with the most self time. For finding what to optimise, not
// for comparing proxies (see run.mjs for that).
//
//   node bench/profile.mjs [--perf] [--shape basic|routes|split] [--path /small] [--conns 32] [--duration 10] [--top 40]
//
// Uses wrk, the Node backend (bench/backend-node.mjs) and the built dist/.
// By default V8's profiler: the .cpuprofile is written under a temp directory
// and its path printed, so it can also be opened in Chrome DevTools. It
// charges time spent in the kernel to the JS caller, so under load writes
// dominate it. With --perf, Linux perf samples user time alone, with call
// stacks (see lib/perf.mjs): how much is Node's socket machinery, how much
// Archway's code, and which Archway functions.

import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { havePerf, PERF_NODE_FLAGS, recordUserTime, userTimeBreakdown } from './lib/perf.mjs';
import { archwayReady, prepareSingleWorker } from './lib/single-worker.mjs';
import { archwayArgs, sleep } from './lib/util.mjs';

const BENCH = dirname(fileURLToPath(import.meta.url));
const ROOT = dirname(BENCH);
const { values: o } = parseArgs({
  options: {
    shape: { type: 'string', default: 'basic' },
    path: { type: 'string', default: '/small' },
    conns: { type: 'string', default: '32' },
    duration: { type: 'string', default: '10' },
    top: { type: 'string', default: '40' },
    header: { type: 'string', multiple: true },
    perf: { type: 'boolean', default: false },
  },
});
if (o.perf && !havePerf()) throw new Error('--perf needs Linux perf (Debian: apt-get install linux-perf)');

const { tmp, config, port, adminPort, backend } = await prepareSingleWorker({ name: 'profile', shape: o.shape });
const profiles = join(tmp, 'prof');
const profilerFlags = o.perf ? PERF_NODE_FLAGS : ['--cpu-prof', '--cpu-prof-dir', profiles];
const archway = spawn(process.execPath, [...profilerFlags, ...archwayArgs(ROOT, ['serve',
  '--config', config, '--admin', `127.0.0.1:${adminPort}`, '--bind-address', '127.0.0.1', '--log-level', 'warn', '--workers', '1'])], { stdio: 'inherit' });
try {
  await archwayReady('archway ready', adminPort, 30000);
  const headers = (o.header ?? []).flatMap((h) => ['-H', h]);
  const wrk = spawn('wrk', ['-t1', `-c${o.conns}`, `-d${o.duration}s`, ...headers, `http://127.0.0.1:${port}${o.path}`], { stdio: 'inherit' });
  // The first second is left out: the JIT is still compiling the request path then.
  const sampled = o.perf ? sleep(1000).then(() => recordUserTime(archway.pid, Number(o.duration) - 2, join(tmp, 'perf.data'))) : undefined;
  await Promise.all([new Promise((resolve) => wrk.on('exit', resolve)), sampled]);
} finally {
  archway.kill('SIGTERM');
  await new Promise((resolve) => archway.on('exit', resolve));
  backend.kill('SIGTERM');
}
await sleep(100);
if (o.perf) {
  const { samples, categories, functions } = userTimeBreakdown(join(tmp, 'perf.data'));
  rmSync(`/tmp/perf-${archway.pid}.map`, { force: true });
  const pct = (share) => `${(100 * share).toFixed(1).padStart(5)}%`;
  console.log(`\nuser time of the archway process, ${samples} samples:`);
  for (const c of categories) console.log(`${pct(c.share)}  ${c.name}`);
  console.log('\nArchway functions, each with the built-ins, runtime and Node calls below it (JIT-inlined callees included):');
  for (const f of functions.slice(0, Number(o.top))) console.log(`${pct(f.share)}  ${f.name}`);
  process.exit(0);
}
const file = readdirSync(profiles).map((f) => join(profiles, f)).find((f) => f.endsWith('.cpuprofile'));
if (!file) throw new Error(`no profile written under ${profiles}`);
console.log(`\nprofile: ${file}\n`);

const profile = JSON.parse(readFileSync(file, 'utf8'));
const self = new Map();
const dt = profile.timeDeltas;
const byId = new Map(profile.nodes.map((n) => [n.id, n]));
let total = 0;
for (let i = 0; i < profile.samples.length; i++) {
  const node = byId.get(profile.samples[i]);
  const f = node.callFrame;
  const key = `${f.functionName || '(anonymous)'} ${f.url.replace(/^.*\/(node_modules|dist|node:)/, '$1')}:${f.lineNumber + 1}`;
  const us = dt[i] ?? 0;
  self.set(key, (self.get(key) ?? 0) + us);
  total += us;
}
const rows = [...self.entries()].sort((x, y) => y[1] - x[1]).slice(0, Number(o.top));
for (const [key, us] of rows) console.log(`${((100 * us) / total).toFixed(1).padStart(5)}%  ${key}`);
