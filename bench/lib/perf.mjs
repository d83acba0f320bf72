// Where a process's user CPU time goes, from Linux `perf` call-stack samples.
// V8's own profiler (--cpu-prof) charges the time a write spends in the
// kernel to the JS function that called it, so under load it shows little
// but writeBuffer and writeLatin1String; `perf record -e cpu-clock:u` counts
// user time alone, and with node's --perf-basic-prof it names JIT-compiled
// JS frames too. Each sample is charged to the first category its stack
// matches, then to the innermost Archway function on it.

import { spawn, spawnSync } from 'node:child_process';

/** Node flags that let perf name JS frames (a /tmp/perf-<pid>.map written as functions are compiled). */
export const PERF_NODE_FLAGS = ['--perf-basic-prof-only-functions'];

/** Node's own machinery, recognised by frames anywhere on a sample's stack; the first that matches takes it. */
const CATEGORIES = [
  ['socket writes (Node: Writable, stream_base, WriteWrap, write syscall wrapper)', ['node:internal/streams/writable', 'StreamBase::Write', 'writeGeneric', 'createWriteWrap']],
  ['garbage collection', ['Heap::', 'Scavenge', 'MarkCompact', 'SemiSpaceNewSpace', 'GCTracer']],
  ['file watching', ['FSEventWrap', 'inotify']],
  ['clock reads (Date.now)', ['DateCurrentTime', 'gettimeofday', 'clock_gettime']],
];

/** Samples `pid`'s user time for `seconds`; resolves once perf has written `file`. */
export function recordUserTime(pid, seconds, file) {
  const perf = spawn('perf', ['record', '-q', '-e', 'cpu-clock:u', '-F', '2999', '-g', '-o', file, '-p', String(pid), '--', 'sleep', String(seconds)], { stdio: 'inherit' });
  return new Promise((resolve, reject) => {
    perf.on('error', reject);
    perf.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`perf record exited ${code}`))));
  });
}

export function havePerf() {
  return spawnSync('perf', ['--version'], { stdio: 'ignore' }).status === 0;
}

/** Reads `file` with `perf script` and sorts its samples by category and by Archway function. */
export function userTimeBreakdown(file) {
  const r = spawnSync('perf', ['script', '-i', file, '-F', 'ip,sym'], { encoding: 'utf8', maxBuffer: 1 << 30 });
  if (r.status !== 0) throw new Error(`perf script failed: ${r.stderr}`);
  const categories = new Map();
  const functions = new Map();
  let samples = 0;
  const count = (map, key) => map.set(key, (map.get(key) ?? 0) + 1);
  const charge = (frames) => {
    if (frames.length === 0) return;
    samples++;
    for (const [name, marks] of CATEGORIES) {
      if (frames.some((f) => marks.some((m) => f.includes(m)))) {
        count(categories, name);
        return;
      }
    }
    const own = frames.find((f) => f.includes('/dist/src/'));
    if (own === undefined) {
      count(categories, 'event loop, read callbacks and the rest of Node (no Archway frame on the stack)');
      return;
    }
    count(categories, 'Archway code (and the V8 built-ins and runtime it calls)');
    count(functions, own.replace(/^JS:\*?~?/, '').replace(/ file:\/\/\S*\/dist\/src\//, ' ').replace(/:\d+$/, ''));
  };
  let frames = [];
  for (const line of r.stdout.split('\n')) {
    if (line.trim() === '') {
      charge(frames);
      frames = [];
      continue;
    }
    // "<ip> <symbol>+0x<offset>": the offset is of no interest.
    const m = /^\s*[0-9a-f]+\s+(.*?)(\+0x[0-9a-f]+)?$/.exec(line);
    if (m) frames.push(m[1]);
  }
  charge(frames);
  const sorted = (map) => [...map.entries()].sort((a, b) => b[1] - a[1]).map(([name, n]) => ({ name, share: n / samples }));
  return { samples, categories: sorted(categories), functions: sorted(functions) };
}
