// Small helpers shared by the harness: child processes, HTTP probes, /proc
// memory readings, statistics. Every wait here has a deadline.

import { spawn, spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { createServer } from 'node:net';
import { basename, dirname, join } from 'node:path';

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Children we started, by pid, so that they can all be ended on exit. */
const children = new Map();

export function haveCommand(cmd) {
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
}

/**
 * Starts `cmd args` pinned to `cpus` (a taskset list such as "1") and keeps
 * the last 64 KiB of its stderr and stdout for error reports.
 */
export function startPinned(name, cpus, cmd, args, { env, onStderrLine } = {}) {
  const child = spawn('taskset', ['-c', String(cpus), cmd, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  });
  const proc = { name, child, pid: child.pid, output: '', exited: false, exitCode: null };
  const keep = (c) => {
    proc.output += c.toString();
    if (proc.output.length > 65536) proc.output = proc.output.slice(-65536);
  };
  let partial = '';
  child.stdout.on('data', keep);
  child.stderr.on('data', (c) => {
    keep(c);
    if (onStderrLine) {
      const lines = (partial + c.toString()).split('\n');
      partial = lines.pop();
      for (const l of lines) onStderrLine(l);
    }
  });
  child.on('exit', (code, signal) => {
    proc.exited = true;
    proc.exitCode = code ?? signal;
    children.delete(child.pid);
  });
  children.set(child.pid, child);
  return proc;
}

export async function stopProc(proc, timeoutMs = 5000) {
  if (!proc || proc.exited) return;
  const gone = new Promise((r) => proc.child.once('exit', r));
  try { process.kill(proc.pid, 'SIGTERM'); } catch { /* already gone */ }
  const t = await Promise.race([gone.then(() => 'ok'), sleep(timeoutMs).then(() => 'timeout')]);
  if (t === 'timeout') {
    try { process.kill(proc.pid, 'SIGKILL'); } catch { /* already gone */ }
    await Promise.race([gone, sleep(2000)]);
  }
}

/** Last resort on exit: SIGTERM, so that an nginx master also stops its worker. */
export function killAllChildren() {
  for (const [pid] of children) {
    try { process.kill(pid, 'SIGTERM'); } catch { /* already gone */ }
  }
}

/** Direct children of a process (Linux ≥ 3.5 with CONFIG_PROC_CHILDREN). */
export function childPids(pid) {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** VmHWM / VmRSS of a process in KiB, or undefined when it is gone. */
export function memKiB(pid) {
  try {
    const s = readFileSync(`/proc/${pid}/status`, 'utf8');
    const field = (n) => Number((s.match(new RegExp(`^${n}:\\s+(\\d+) kB`, 'm')) ?? [])[1]);
    return { hwm: field('VmHWM'), rss: field('VmRSS') };
  } catch {
    return undefined;
  }
}

export async function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** One request; resolves with status, headers and body, rejects on network errors or after `timeoutMs`. */
export function fetchOnce({ port, path = '/', method = 'GET', headers = {}, body, https = false, agent = false, timeoutMs = 3000 }) {
  return new Promise((resolve, reject) => {
    const make = https ? httpsRequest : httpRequest;
    const req = make({ host: '127.0.0.1', port, path, method, headers, agent, rejectUnauthorized: false, servername: https ? 'bench.local' : undefined }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`timeout after ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

export function keepAliveAgent() {
  return new Agent({ keepAlive: true, maxSockets: 1 });
}

/** Polls `probe` until it returns something other than undefined, or throws after `timeoutMs`. */
export async function waitFor(what, probe, { timeoutMs = 15000, intervalMs = 50 } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    await sleep(intervalMs);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${last.message}` : ''}`);
}

export function median(xs) {
  const v = xs.filter((x) => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return undefined;
  const m = Math.floor(v.length / 2);
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
}

/** Nearest-rank percentile (p in 0..100). */
export function percentile(xs, p) {
  const v = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return undefined;
  return v[Math.min(v.length - 1, Math.max(0, Math.ceil((p / 100) * v.length) - 1))];
}

export function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', ...opts });
  return { status: r.status, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

/** utime + stime of a process (all threads), in seconds. */
export function cpuSeconds(pid) {
  const t = cpuTimes(pid);
  return t === undefined ? undefined : t.user + t.system;
}

/**
 * utime and stime of a process (all threads), in seconds: its own code's time
 * apart from the kernel's on its behalf. The kernel charges each clock tick
 * (CLK_TCK, 100 a second) whole to one or the other, whichever was running
 * as it came, so over a run of ten seconds either is off by a few per cent;
 * runSeconds has their sum exactly.
 */
export function cpuTimes(pid) {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return { user: Number(f[11]) / TICKS, system: Number(f[12]) / TICKS };
  } catch {
    return undefined;
  }
}
const TICKS = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

/**
 * How long the threads of a process now alive have run on a CPU, in
 * seconds, from the scheduler's own count (schedstat, in nanoseconds);
 * undefined where the kernel does not keep it or the process is gone.
 */
export function runSeconds(pid) {
  try {
    let ns = 0;
    for (const tid of readdirSync(`/proc/${pid}/task`)) ns += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
    return Number.isFinite(ns) ? ns / 1e9 : undefined;
  } catch {
    return undefined;
  }
}

/** runSeconds summed over `pids`, or utime + stime where schedstat is missing. */
export function cpuSecondsOf(pids) {
  let total = 0;
  for (const pid of pids) total += runSeconds(pid) ?? cpuSeconds(pid) ?? 0;
  return total;
}

/** Busy, stolen and total jiffies per CPU, from /proc/stat. */
export function coreTimes() {
  const out = {};
  for (const line of readFileSync('/proc/stat', 'utf8').split('\n')) {
    const m = line.match(/^cpu(\d+)\s+(.*)$/);
    if (!m) continue;
    const v = m[2].split(/\s+/).map(Number);
    const idle = v[3] + (v[4] || 0);
    const total = v.slice(0, 8).reduce((a, b) => a + b, 0);
    out[m[1]] = { busy: total - idle, steal: v[7] || 0, total };
  }
  return out;
}

/** Busy percentage of CPU `cpu` between two coreTimes() readings. */
export function busyPercent(before, after, cpu) {
  const b = before[cpu];
  const a = after[cpu];
  if (!a || !b || a.total === b.total) return undefined;
  return (100 * (a.busy - b.busy)) / (a.total - b.total);
}

/** A time in ms for a table: µs below 1 ms, whole ms from 100 ms up. */
export function fmtMs(x) {
  return x === undefined ? 'n/a' : x < 1 ? `${(x * 1000).toFixed(0)}µs` : x < 100 ? `${x.toFixed(2)}ms` : `${x.toFixed(0)}ms`;
}

/** A busy share for a table cell, '?' where it could not be measured. */
export function pct(x) {
  return x === undefined ? '?' : `${x.toFixed(0)}%`;
}

/**
 * Time the hypervisor gave to others while a CPU wanted to run, in % of
 * the elapsed time over every CPU: on a VM, a run with much of it measured a
 * slower machine than its neighbours did.
 */
export function stealPercent(before, after) {
  let steal = 0;
  let total = 0;
  for (const cpu of Object.keys(after)) {
    if (!before[cpu]) continue;
    steal += after[cpu].steal - before[cpu].steal;
    total += after[cpu].total - before[cpu].total;
  }
  return total > 0 ? (100 * steal) / total : 0;
}

/** CPU seconds (user + system) of every process now visible in /proc, by pid. */
export function cpuByPid() {
  const out = new Map();
  let names;
  try { names = readdirSync('/proc'); } catch { return out; }
  for (const n of names) {
    if (!/^\d+$/.test(n)) continue;
    const s = cpuSeconds(Number(n));
    if (s !== undefined) out.set(Number(n), s);
  }
  return out;
}

/**
 * CPU seconds used between two cpuByPid() snapshots by processes not in
 * `ours` (processes that started in between count in full; ones that also
 * ended in between are missed). Tells whether something else on the machine
 * competed with a run.
 */
export function foreignCpuSeconds(before, after, ours) {
  let total = 0;
  for (const [pid, s] of after) {
    if (ours.has(pid)) continue;
    total += Math.max(0, s - (before.get(pid) ?? 0));
  }
  return total;
}

/** Writes through a temporary name and renames, as editors and kubectl-like tools do, so no reader sees a half file. */
export function writeAtomic(file, text) {
  const tmp = join(dirname(file), `.${basename(file)}.tmp`);
  writeFileSync(tmp, text);
  renameSync(tmp, file);
}

/**
 * How to start Archway as its launcher does: node with the flags on
 * bin/archway.js's #! line, then the script and `args`.
 */
export function archwayArgs(root, args) {
  const bin = join(root, 'bin/archway.js');
  const shebang = readFileSync(bin, 'utf8').split('\n', 1)[0];
  const flags = shebang.split(/\s+/).filter((w) => w.startsWith('--'));
  return [...flags, bin, ...args];
}
