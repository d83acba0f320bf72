#!/usr/bin/env node
// Archway benchmark harness. See bench/README.md.
//
//   node bench/run.mjs [--quick] [--only <workload|dataplane|latency|multicore|zero-downtime|controlplane>[,…]]
//                      [--rounds N] [--duration S] [--proxies a,b] [--backend nginx|node]
//                      [--no-install] [--keep-tmp] [--churn-seconds S]

import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, hostname, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { backendNginxConf, ROUTE_COUNT, routeOf, ROUTE_TARGET, SMALL_BODY } from './lib/configs.mjs';
import { runControlPlane } from './lib/controlplane.mjs';
import { latencyTable, runLatency } from './lib/latency.mjs';
import { multiCoreTable, runMultiCore, runZeroDowntime, zeroDowntimeTable } from './lib/scenarios.mjs';
import { PROXIES, resetPeerCheck } from './lib/proxies.mjs';
import { busyPercent, childPids, coreTimes, cpuByPid, cpuSecondsOf, cpuTimes, fetchOnce, fmtMs, foreignCpuSeconds, freePort, haveCommand, killAllChildren, median, memKiB, pct, run, sleep, startPinned, stealPercent, stopProc, waitFor } from './lib/util.mjs';
import { runWrk } from './lib/wrk.mjs';

const BENCH = dirname(fileURLToPath(import.meta.url));
const ROOT = dirname(BENCH);
const LOAD_CPU = '0';
/** Runs during which other processes used more than this much CPU (% of one core) are marked noisy. */
const NOISY_PCT = 10;
const PROXY_CPU = '1';
/** Runs during which the hypervisor stole more than this share of the CPUs' time are marked noisy too. */
const STEAL_PCT = 2;

const target = routeOf(ROUTE_TARGET);

/** Workloads. `shape` picks the proxy configuration (see lib/configs.mjs). */
const WORKLOADS = [
  { id: 'get-c1', title: 'small GET, keep-alive, 1 conn', shape: 'basic', path: '/small', conns: 1 },
  { id: 'get-c32', title: 'small GET, keep-alive, 32 conns', shape: 'basic', path: '/small', conns: 32 },
  { id: 'get-c256', title: 'small GET, keep-alive, 256 conns', shape: 'basic', path: '/small', conns: 256 },
  { id: 'body-64k', title: '64 KiB response, 32 conns', shape: 'basic', path: '/64k', conns: 32 },
  { id: 'upload-1m', title: '1 MiB upload (POST), 16 conns', shape: 'basic', path: '/upload', conns: 16, script: 'lua/upload.lua' },
  { id: 'upload-chunked', title: '1 MiB chunked upload (POST, 16 KiB chunks), 16 conns', shape: 'basic', path: '/upload', conns: 16, script: 'lua/upload-chunked.lua', chunked: true },
  { id: 'https', title: 'HTTPS termination, small GET, 32 conns', shape: 'basic', path: '/small', conns: 32, https: true },
  {
    id: 'routes-1000', title: `${ROUTE_COUNT} host+path+header routes, hit #${ROUTE_TARGET}, 32 conns`, shape: 'routes',
    path: `${target.path}/x`, conns: 32, headers: { Host: target.host, 'x-bench': target.header },
  },
  { id: 'split-headers', title: 'header modification + 50/50 split, 32 conns', shape: 'split', path: '/split', conns: 32, headers: { 'x-bench-remove': 'y' } },
];

// ------------------------------------------------------------------ options

const { values: opts } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string', multiple: true },
    rounds: { type: 'string' },
    duration: { type: 'string' },
    proxies: { type: 'string' },
    backend: { type: 'string', default: 'nginx' },
    'no-install': { type: 'boolean', default: false },
    'keep-tmp': { type: 'boolean', default: false },
    'churn-seconds': { type: 'string' },
    'quiet-wait': { type: 'string', default: '20' },
    help: { type: 'boolean', default: false },
  },
});
if (opts.help) {
  console.log(`node bench/run.mjs [--quick] [--only <workload|dataplane|latency|multicore|zero-downtime|controlplane>[,...]] [--rounds N] [--duration S]
                   [--proxies archway,nginx,haproxy,http-proxy,fastify] [--backend nginx|node] [--no-install] [--keep-tmp] [--churn-seconds S]
workloads: ${WORKLOADS.map((w) => w.id).join(', ')}`);
  process.exit(0);
}
const rounds = Number(opts.rounds ?? (opts.quick ? 1 : 3));
const duration = Number(opts.duration ?? (opts.quick ? 3 : 10));
const warmup = opts.quick ? 1 : 3;
const only = (opts.only ?? []).flatMap((s) => s.split(',')).filter(Boolean);
const SECTIONS = ['dataplane', 'latency', 'multicore', 'zero-downtime', 'controlplane'];
for (const o of only) {
  if (!SECTIONS.includes(o) && !WORKLOADS.some((w) => w.id === o)) {
    console.error(`unknown --only ${o}; expected one of ${SECTIONS.join(', ')} or a workload: ${WORKLOADS.map((w) => w.id).join(', ')}`);
    process.exit(2);
  }
}
const workloads = only.length === 0 || only.includes('dataplane') ? WORKLOADS : WORKLOADS.filter((w) => only.includes(w.id));
const runData = workloads.length > 0 && (only.length === 0 || only.some((o) => o === 'dataplane' || WORKLOADS.some((w) => w.id === o)));
const runLatencySection = only.length === 0 || only.includes('latency');
const runMulti = only.length === 0 || only.includes('multicore');
const runZero = only.length === 0 || only.includes('zero-downtime');
const runControl = only.length === 0 || only.includes('controlplane');
const wantedProxies = opts.proxies ? opts.proxies.split(',') : undefined;

const log = (s = '') => process.stderr.write(`${s}\n`);

// ------------------------------------------------------------------ setup

function setup() {
  // The harness itself (probes, control-plane polling) stays on the load CPU.
  run('taskset', ['-a', '-p', '-c', LOAD_CPU, String(process.pid)]);

  const missing = [['wrk', 'wrk'], ['h2load', 'nghttp2-client'], ['nginx', 'nginx-light'], ['haproxy', 'haproxy']].filter(([cmd]) => !haveCommand(cmd));
  if (missing.length > 0 && !opts['no-install']) {
    const pkgs = missing.map(([, p]) => p);
    log(`setup: apt-get install -y ${pkgs.join(' ')}`);
    // RUNLEVEL=1 keeps the packages' init scripts from starting system services.
    const aptEnv = { ...process.env, DEBIAN_FRONTEND: 'noninteractive', RUNLEVEL: '1' };
    let r = run('apt-get', ['install', '-y', '--no-install-recommends', ...pkgs], { env: aptEnv });
    if (r.status !== 0) {
      log('setup: apt-get install failed; running apt-get update once and retrying');
      run('apt-get', ['update'], { env: aptEnv });
      r = run('apt-get', ['install', '-y', '--no-install-recommends', ...pkgs], { env: aptEnv });
      if (r.status !== 0) log(`setup: apt-get install still failed; continuing without: ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`);
    }
  }
  if (!haveCommand('wrk')) throw new Error('wrk is required and could not be installed');
  if (!haveCommand('taskset')) throw new Error('taskset (util-linux) is required');

  const peersOk = ['http-proxy', 'fastify', '@fastify/http-proxy'].every((p) => existsSync(join(BENCH, 'node_modules', p, 'package.json')));
  if (!peersOk && !opts['no-install']) {
    log('setup: npm install --prefix bench');
    const r = run('npm', ['install', '--prefix', BENCH, '--no-audit', '--no-fund'], { cwd: BENCH });
    if (r.status !== 0) log(`setup: npm install failed; Node peers will be skipped: ${r.stderr.trim().split('\n').slice(-3).join(' | ')}`);
    resetPeerCheck();
  }
  if (!existsSync(join(ROOT, 'dist/src/cli/main.js'))) {
    throw new Error('dist/ is missing: run `npm run build` first (the bench runs bin/archway.js, which loads dist/)');
  }
}

function versions() {
  const v = (cmd, args, re) => {
    const r = run(cmd, args);
    const out = `${r.stdout}${r.stderr}`;
    return ((out.match(re) ?? [out.split('\n')[0] || 'unavailable'])[0] ?? '').trim();
  };
  const pkg = (p) => { try { return JSON.parse(readFileSync(join(BENCH, 'node_modules', p, 'package.json'), 'utf8')).version; } catch { return undefined; } };
  let commit;
  try {
    commit = execFileSync('git', ['-C', ROOT, 'rev-parse', '--short', 'HEAD'], { encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['-C', ROOT, 'status', '--porcelain', '--', 'src'], { encoding: 'utf8' }).trim();
    if (dirty) commit += ' (src/ has uncommitted changes)';
  } catch { /* not a checkout */ }
  return {
    node: process.version,
    archway: commit,
    nginx: haveCommand('nginx') ? v('nginx', ['-v'], /nginx\/[\d.]+/) : undefined,
    haproxy: haveCommand('haproxy') ? v('haproxy', ['-v'], /HAProxy version [\d.\w+-]+/) : undefined,
    wrk: v('wrk', ['-v'], /wrk \S+/),
    h2load: haveCommand('h2load') ? v('h2load', ['--version'], /h2load nghttp2\/[\d.]+/) : undefined,
    'http-proxy': pkg('http-proxy'),
    fastify: pkg('fastify'),
    '@fastify/http-proxy': pkg('@fastify/http-proxy'),
    cpu: cpus()[0]?.model,
    cpus: cpus().length,
    kernel: run('uname', ['-r']).stdout.trim(),
  };
}

async function startBackend(env) {
  if (opts.backend === 'node') {
    return startPinned('backend', LOAD_CPU, process.execPath, [join(BENCH, 'backend-node.mjs'), String(env.a), String(env.b)]);
  }
  if (!haveCommand('nginx')) throw new Error('the nginx backend needs nginx; use --backend node');
  mkdirSync(join(env.tmp, 'www'), { recursive: true });
  mkdirSync(join(env.tmp, 'backend-nginx-body'), { recursive: true });
  writeFileSync(join(env.tmp, 'www/64k'), Buffer.alloc(64 * 1024, 'x'));
  writeFileSync(join(env.tmp, 'www/upload'), 'uploaded\n');
  const conf = join(env.tmp, 'backend-nginx.conf');
  writeFileSync(conf, backendNginxConf(env));
  return startPinned('backend', LOAD_CPU, 'nginx', ['-c', conf, '-p', env.tmp, '-e', join(env.tmp, 'backend-nginx-error.log')]);
}

// ------------------------------------------------------------------ data plane

/** Checks, before any load, that the proxy does what the workload means. Returns a problem or undefined. */
async function verify(w, env) {
  const port = w.https ? env.tlsPort : env.port;
  const base = { port, https: !!w.https, timeoutMs: 3000 };
  if (w.path === '/upload') {
    const headers = { 'content-type': 'application/octet-stream', ...(w.chunked ? { 'transfer-encoding': 'chunked' } : {}) };
    const r = await fetchOnce({ ...base, path: '/upload', method: 'POST', body: Buffer.alloc(1 << 20, 'u'), headers });
    return r.status === 200 && r.body.toString() === 'uploaded\n' ? undefined : `upload answered ${r.status} ${r.body.toString().slice(0, 80)}`;
  }
  if (w.shape === 'routes') {
    const hit = await fetchOnce({ ...base, path: w.path, headers: w.headers });
    if (hit.status !== 200) return `the target route answered ${hit.status}`;
    const miss = await fetchOnce({ ...base, path: w.path, headers: { ...w.headers, 'x-bench': 'r0' } });
    if (miss.status !== 404) return `a request whose header does not match answered ${miss.status}, not 404`;
    return undefined;
  }
  if (w.shape === 'split') {
    const seen = new Map();
    for (let i = 0; i < 40; i++) {
      const r = await fetchOnce({ ...base, path: w.path, headers: w.headers });
      if (r.status !== 200) return `answered ${r.status}`;
      if (r.headers['x-seen-set'] !== '1' || r.headers['x-seen-add'] !== '1' || r.headers['x-seen-remove'] !== undefined) {
        return `request headers not modified as configured (backend saw set=${r.headers['x-seen-set']} add=${r.headers['x-seen-add']} remove=${r.headers['x-seen-remove']})`;
      }
      if (r.headers['x-bench-resp'] !== '1') return 'response header x-bench-resp missing';
      seen.set(r.headers['x-backend'], (seen.get(r.headers['x-backend']) ?? 0) + 1);
    }
    return seen.size === 2 ? undefined : `40 requests reached ${seen.size} backend(s), expected both`;
  }
  const r = await fetchOnce({ ...base, path: w.path });
  const wantLen = w.path === '/64k' ? 65536 : SMALL_BODY.length;
  return r.status === 200 && r.body.length === wantLen ? undefined : `answered ${r.status} with ${r.body.length} bytes`;
}

/**
 * On a shared machine, waits (at most --quiet-wait seconds) until other
 * processes use less than NOISY_PCT of a core over one second. A run that
 * starts anyway is marked noisy by its own foreign-CPU reading.
 */
async function waitQuiet(ours) {
  const deadline = Date.now() + Number(opts['quiet-wait']) * 1000;
  let announced = false;
  while (Date.now() < deadline) {
    const a = cpuByPid();
    await sleep(1000);
    const foreignPct = 100 * foreignCpuSeconds(a, cpuByPid(), ours);
    if (foreignPct < NOISY_PCT) return;
    if (!announced) { log(`    (other processes use ${foreignPct.toFixed(0)}% of a core; waiting up to ${opts['quiet-wait']} s for quiet)`); announced = true; }
  }
}

async function measure(proxy, w, env) {
  let handle;
  try {
    handle = await proxy.start(w.shape, env);
    let problem;
    await waitFor(`${proxy.name} to serve ${w.id}`, async () => {
      if (handle.proc.exited) throw new Error(`exited (${handle.proc.exitCode}): ${handle.proc.output.slice(-1500)}`);
      problem = await verify(w, env);
      return problem === undefined ? true : undefined;
    }, { timeoutMs: 20000, intervalMs: 100 }).catch((err) => { throw new Error(problem ?? err.message); });

    await waitQuiet(new Set([process.pid, ...handle.trafficPids(), handle.proc.pid, ...env.backendPids()]));
    const url = `${w.https ? 'https' : 'http'}://127.0.0.1:${w.https ? env.tlsPort : env.port}${w.path}`;
    const spec = { cpu: LOAD_CPU, url, conns: w.conns, headers: w.headers, script: w.script && join(BENCH, w.script) };
    await runWrk({ ...spec, seconds: warmup });
    await sleep(200);
    const pids = handle.trafficPids();
    const cpu0 = pids.map(cpuTimes);
    const run0 = cpuSecondsOf(pids);
    const core0 = coreTimes();
    const all0 = cpuByPid();
    const r = await runWrk({ ...spec, seconds: duration });
    const core1 = coreTimes();
    const all1 = cpuByPid();
    const ours = new Set([process.pid, ...pids, handle.proc.pid, ...env.backendPids()]);
    const foreign = foreignCpuSeconds(all0, all1, ours);
    const cpuUsed = cpuSecondsOf(pids) - run0;
    const cpu1 = pids.map(cpuTimes);
    const userUsed = cpu1.reduce((n, x, i) => n + (x.user - cpu0[i].user), 0);
    if (handle.proc.exited) throw new Error(`exited during the run (${handle.proc.exitCode}): ${handle.proc.output.slice(-1500)}`);
    const hwm = handle.trafficPids().map((pid) => memKiB(pid)?.hwm ?? 0).reduce((a, b) => Math.max(a, b), 0);
    return {
      rps: r.rps, p50: r.p50, p99: r.p99, requests: r.requests, non2xx: r.non2xx, socketErrors: r.socketErrors, peakRssMiB: hwm / 1024,
      // CPU time the proxy spent per request: comparable even when the load side, not the proxy, is the limit.
      cpuUsPerReq: r.requests > 0 ? (cpuUsed / r.requests) * 1e6 : undefined,
      // The part in the proxy's own code, out of the kernel: where proxies differ most, the kernel's share being alike.
      // Counted by clock ticks (see cpuTimes), so only to a few per cent.
      userUsPerReq: r.requests > 0 ? (userUsed / r.requests) * 1e6 : undefined,
      proxyCpuBusyPct: busyPercent(core0, core1, PROXY_CPU),
      loadCpuBusyPct: busyPercent(core0, core1, LOAD_CPU),
      // CPU used meanwhile by processes that are not part of the bench, in % of one core.
      foreignCpuPct: (100 * foreign) / duration,
      stealPct: stealPercent(core0, core1),
    };
  } finally {
    await handle?.stop();
    await sleep(300); // let the port and TIME_WAIT churn settle between proxies
  }
}

async function runDataPlane(env, proxies) {
  const raw = {}; // raw[workload][proxy] = [round results]
  for (let round = 0; round < rounds; round++) {
    log(`\n== round ${round + 1}/${rounds} (${duration} s per run, ${warmup} s warm-up) ==`);
    for (const [wi, w] of workloads.entries()) {
      // Alternate the order within each round so no proxy always runs first or last.
      const shift = (round + wi) % proxies.length;
      const order = [...proxies.slice(shift), ...proxies.slice(0, shift)];
      raw[w.id] ??= {};
      for (const p of order) {
        raw[w.id][p.name] ??= [];
        const ok = p.supports(w.shape);
        if (ok !== true) { raw[w.id][p.name].push({ na: ok }); continue; }
        try {
          const m = await measure(p, w, env);
          raw[w.id][p.name].push(m);
          const warn = m.non2xx || m.socketErrors ? `  (!) non2xx=${m.non2xx} socket errors=${m.socketErrors}` : '';
          log(`  ${w.id.padEnd(14)} ${p.name.padEnd(10)} ${fmtNum(m.rps).padStart(9)} req/s  p50 ${fmtMs(m.p50).padStart(8)}  p99 ${fmtMs(m.p99).padStart(8)}  VmHWM ${m.peakRssMiB.toFixed(1).padStart(6)} MiB  ${m.cpuUsPerReq?.toFixed(1).padStart(6)} CPU-µs/req (user ${m.userUsPerReq?.toFixed(1)})  busy proxy/load CPU ${m.proxyCpuBusyPct?.toFixed(0)}%/${m.loadCpuBusyPct?.toFixed(0)}%  other ${m.foreignCpuPct.toFixed(0)}% steal ${m.stealPct.toFixed(1)}%${m.foreignCpuPct > NOISY_PCT || m.stealPct > STEAL_PCT ? ' (noisy)' : ''}${warn}`);
        } catch (err) {
          raw[w.id][p.name].push({ error: err.message });
          log(`  ${w.id.padEnd(14)} ${p.name.padEnd(10)} FAILED: ${err.message.split('\n').slice(0, 6).join(' | ')}`);
        }
      }
    }
  }
  // Medians across rounds; peak RSS is the highest of the rounds.
  const summary = {};
  for (const w of workloads) {
    summary[w.id] = {};
    for (const p of proxies) {
      const rs = raw[w.id][p.name] ?? [];
      const ok = rs.filter((r) => r.rps !== undefined);
      if (ok.length === 0) {
        summary[w.id][p.name] = rs.find((r) => r.na) ? { na: rs.find((r) => r.na).na } : { error: rs.find((r) => r.error)?.error ?? 'no result' };
        continue;
      }
      summary[w.id][p.name] = {
        rps: median(ok.map((r) => r.rps)),
        p50: median(ok.map((r) => r.p50)),
        p99: median(ok.map((r) => r.p99)),
        peakRssMiB: Math.max(...ok.map((r) => r.peakRssMiB)),
        cpuUsPerReq: median(ok.map((r) => r.cpuUsPerReq)),
        userUsPerReq: median(ok.map((r) => r.userUsPerReq)),
        proxyCpuBusyPct: median(ok.map((r) => r.proxyCpuBusyPct)),
        loadCpuBusyPct: median(ok.map((r) => r.loadCpuBusyPct)),
        foreignCpuPct: median(ok.map((r) => r.foreignCpuPct)),
        stealPct: median(ok.map((r) => r.stealPct ?? 0)),
        non2xx: ok.reduce((n, r) => n + r.non2xx, 0),
        socketErrors: ok.reduce((n, r) => n + r.socketErrors, 0),
        rounds: ok.length,
      };
    }
  }
  return { raw, summary };
}

// ------------------------------------------------------------------ report

function fmtNum(x) { return x === undefined ? 'n/a' : Math.round(x).toLocaleString('en-US'); }
function ratio(a, b) { return a === undefined || b === undefined || b === 0 ? '—' : `${(a / b).toFixed(2)}×`; }

function dataPlaneTable(summary, proxies) {
  const lines = [];
  const header = '| workload | proxy | req/s | ×nginx | p50 | p99 | p99 ×nginx | peak RSS MiB | RSS ×nginx | CPU µs/req | CPU/req ×nginx | user µs/req | user ×nginx | busy proxy/load CPU |';
  lines.push(header, '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  for (const w of workloads) {
    const ng = summary[w.id]?.nginx;
    for (const p of proxies) {
      const s = summary[w.id]?.[p.name];
      if (!s) continue;
      if (s.na || s.error) {
        lines.push(`| ${w.id} | ${p.label} | ${s.na ? 'n/a' : 'error'} | | | | | | | | | | | |`);
        continue;
      }
      const flag = (s.non2xx || s.socketErrors ? ' ⚠' : '') + (s.foreignCpuPct > NOISY_PCT || s.stealPct > STEAL_PCT ? ' ~' : '');
      lines.push(`| ${w.id} | ${p.label} | ${fmtNum(s.rps)}${flag} | ${ratio(s.rps, ng?.rps)} | ${fmtMs(s.p50)} | ${fmtMs(s.p99)} | ${ratio(s.p99, ng?.p99)} | ${s.peakRssMiB.toFixed(1)} | ${ratio(s.peakRssMiB, ng?.peakRssMiB)} | ${s.cpuUsPerReq?.toFixed(1) ?? 'n/a'} | ${ratio(s.cpuUsPerReq, ng?.cpuUsPerReq)} | ${s.userUsPerReq?.toFixed(1) ?? 'n/a'} | ${ratio(s.userUsPerReq, ng?.userUsPerReq)} | ${pct(s.proxyCpuBusyPct)}/${pct(s.loadCpuBusyPct)} |`);
    }
  }
  return lines.join('\n');
}

function archwayVsNodeTable(summary) {
  const lines = ['| workload | Archway req/s | best Node peer | its req/s | Archway ÷ peer (req/s) | Archway ÷ peer (p99) |', '| --- | ---: | --- | ---: | ---: | ---: |'];
  for (const w of workloads) {
    const a = summary[w.id]?.archway;
    const peers = ['http-proxy', 'fastify'].map((n) => [n, summary[w.id]?.[n]]).filter(([, s]) => s?.rps !== undefined);
    if (!a?.rps) continue;
    if (peers.length === 0) { lines.push(`| ${w.id} | ${fmtNum(a.rps)} | n/a | | | |`); continue; }
    const [name, best] = peers.sort((x, y) => y[1].rps - x[1].rps)[0];
    lines.push(`| ${w.id} | ${fmtNum(a.rps)} | ${name} | ${fmtNum(best.rps)} | ${ratio(a.rps, best.rps)} | ${ratio(a.p99, best.p99)} |`);
  }
  return lines.join('\n');
}

function controlPlaneTable(cp) {
  const f = (x, d = 1) => (x === undefined || Number.isNaN(x) ? 'n/a' : x.toFixed(d));
  const lines = [
    '| HTTPRoutes | startup → ready ms | change → 200 median ms | p99 ms | max ms | apply (log) median ms | translate mean ms (histogram) | peak RSS MiB | other processes, % of a core |',
    '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const s of cp.scales) {
    if (s.error) { lines.push(`| ${s.routes} | error: ${s.error.split('\n')[0]} | | | | | | | |`); continue; }
    lines.push(`| ${s.routes.toLocaleString('en-US')} | ${f(s.startupToReadyMs, 0)} | ${f(s.changeToServedMs.median)} | ${f(s.changeToServedMs.p99)} | ${f(s.changeToServedMs.max)} | ${f(s.applyLogMs.median)} | ${f(s.translationMs?.mean)} | ${f(s.peakRssMiB)} | ${f(s.otherCpuPct, 0)} |`);
  }
  if (cp.churn) {
    const c = cp.churn;
    const warm = c.warm ? ` It was ${f(c.warm.treeRssMiB)} MiB after ${c.warm.applies} applies, once heaps had grown to their working size; from there to the end it grew ${c.warm.growthMiBPer1000Applies.toFixed(1)} MiB per 1,000 applies (least-squares slope of the samples). The lowest sample of each third of that stretch (a floor no collection goes below; a leak keeps raising it): ${c.warm.floors.map((x) => `${f(x.treeRssMiB)} MiB`).join(' → ')}, ${c.warm.floorGrowthMiBPer1000Applies.toFixed(1)} MiB per 1,000 applies.` : '';
    lines.push('', `Churn: ${c.seconds} s on top of ${c.baseRoutes.toLocaleString('en-US')} routes, ${c.cycles} cycles of create/modify/delete of ${c.routesPerCycle} routes (${c.applies} applies, ${c.failures} failed waits). RSS of the primary and its data-plane workers: ${f(c.treeRssBeforeMiB)} MiB before → ${f(c.treeRssAfterMiB)} MiB after.${warm} The primary's peak RSS: ${f(c.peakRssMiB)} MiB.`);
  }
  return lines.join('\n');
}

// ------------------------------------------------------------------ main

async function main() {
  setup();
  const tmp = mkdtempSync(join(tmpdir(), 'archway-bench-'));
  tmpDir = tmp;
  const env = {
    root: ROOT, tmp, proxyCpu: PROXY_CPU, loadCpu: LOAD_CPU,
    port: await freePort(), tlsPort: await freePort(), adminPort: await freePort(), a: await freePort(), b: await freePort(),
  };
  env.crt = join(tmp, 'tls.crt');
  env.key = join(tmp, 'tls.key');
  env.pem = join(tmp, 'tls.pem');
  const ssl = run('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=bench.local',
    '-addext', 'subjectAltName=DNS:bench.local,DNS:*.bench.local', '-keyout', env.key, '-out', env.crt]);
  if (ssl.status !== 0) throw new Error(`openssl failed: ${ssl.stderr}`);
  env.certPem = readFileSync(env.crt, 'utf8');
  env.keyPem = readFileSync(env.key, 'utf8');
  writeFileSync(env.pem, env.certPem + env.keyPem);

  const info = versions();
  const started = new Date();
  log(`archway bench: ${opts.quick ? 'quick' : 'full'} mode, ${rounds} round(s), ${duration} s per run; backend=${opts.backend}; proxy on CPU ${PROXY_CPU}, wrk + backend on CPU ${LOAD_CPU}`);
  log(`versions: ${Object.entries(info).filter(([, v]) => v !== undefined).map(([k, v]) => `${k} ${v}`).join('; ')}`);

  const backend = await startBackend(env);
  env.backendPids = () => [backend.pid, ...childPids(backend.pid)];
  const result = { started: started.toISOString(), host: hostname(), mode: opts.quick ? 'quick' : 'full', rounds, durationSec: duration, warmupSec: warmup, backend: opts.backend, versions: info, skipped: {} };
  try {
    await waitFor('backend', async () => {
      if (backend.exited) throw new Error(`backend exited: ${backend.output.slice(-1000)}`);
      return (await fetchOnce({ port: env.a, path: '/small' })).status === 200 && (await fetchOnce({ port: env.b, path: '/small' })).status === 200 ? true : undefined;
    });

    let proxies = PROXIES.filter((p) => !wantedProxies || wantedProxies.includes(p.name));
    proxies = proxies.filter((p) => {
      const a = p.available();
      if (a !== true) { result.skipped[p.name] = a; log(`skipping ${p.name}: ${a}`); }
      return a === true;
    });
    // nginx first in the list: it is the reference of every ratio.
    proxies.sort((x, y) => (x.name === 'nginx' ? -1 : y.name === 'nginx' ? 1 : 0));

    if (runData && workloads.length > 0) {
      const dp = await runDataPlane(env, proxies);
      result.dataPlane = { workloads, ...dp };
      result.dataPlane.backendPeakRssMiB = (memKiB(backend.pid)?.hwm ?? 0) / 1024;
    }
    if (runLatencySection) {
      if (!haveCommand('h2load')) {
        result.skipped.latency = 'h2load (nghttp2-client) is not installed';
        log('skipping the latency section: h2load is not installed');
      } else {
        log('\n== latency at a fixed offered load (small GET, h2load) ==');
        const workload = WORKLOADS.find((w) => w.id === 'get-c32');
        result.latency = await runLatency(env, { log, proxies, duration, warmup, cpu: LOAD_CPU, proxyCpu: PROXY_CPU, workload, rounds }).catch((err) => ({ error: err.message }));
      }
    }
    if (runMulti) {
      log('\n== multi-core (every process on both CPUs) ==');
      result.multiCore = await runMultiCore(env, { log, rounds, duration, warmup });
    }
    if (runZero) {
      log('\n== zero downtime (Archway only) ==');
      result.zeroDowntime = await runZeroDowntime(env, { log }).catch((err) => ({ error: err.message }));
    }
    if (runControl) {
      log('\n== control plane (Archway only) ==');
      const churnSeconds = opts['churn-seconds'] === undefined ? undefined : Number(opts['churn-seconds']);
      result.controlPlane = await runControlPlane(env, { quick: opts.quick, log, churnSeconds });
    }
  } finally {
    await stopProc(backend);
    if (!opts['keep-tmp']) rmSync(tmp, { recursive: true, force: true });
    else log(`temporary files kept in ${tmp}`);
  }
  result.finished = new Date().toISOString();

  // ---- output
  const proxies = PROXIES.filter((p) => !result.skipped[p.name] && (!wantedProxies || wantedProxies.includes(p.name)));
  proxies.sort((x, y) => (x.name === 'nginx' ? -1 : y.name === 'nginx' ? 1 : 0));
  const md = [];
  md.push(`# Archway benchmark — ${result.host}, ${result.started}`, '');
  md.push(`Mode: ${result.mode}; ${rounds} round(s) × ${duration} s per run (after ${warmup} s warm-up); medians across rounds, peak RSS = highest VmHWM across rounds. Proxy pinned to CPU ${PROXY_CPU}; wrk (-t1) and the ${opts.backend} backend share CPU ${LOAD_CPU}.`, '');
  md.push(`Versions: ${Object.entries(info).filter(([, v]) => v !== undefined).map(([k, v]) => `${k} ${v}`).join('; ')}.`, '');
  if (Object.keys(result.skipped).length) md.push(`Skipped: ${Object.entries(result.skipped).map(([k, v]) => `${k} (${v})`).join('; ')}.`, '');
  if (result.dataPlane) {
    md.push('## Data plane', '', dataPlaneTable(result.dataPlane.summary, proxies), '');
    md.push(`⚠ = wrk saw non-2xx responses or socket errors in that run (see the JSON). ~ = other processes on the machine used more than ${NOISY_PCT} % of a core, or the hypervisor stole more than ${STEAL_PCT} % of the CPUs' time, during that run (median of rounds): the number is disturbed. CPU µs/req = the proxy process's user+system CPU time during the run ÷ requests; user µs/req = its user time alone, the time in its own code (the kernel's share, sending and receiving on loopback, is much the same for every proxy). Busy proxy/load CPU: when the load CPU (wrk + backend) is near 100 % and the proxy CPU is not, the load side is the limit and that proxy's req/s is a lower bound; compare CPU µs/req instead.`, '');
    md.push('### Archway vs the best Node peer', '', archwayVsNodeTable(result.dataPlane.summary), '');
    const errs = Object.entries(result.dataPlane.summary).flatMap(([w, ps]) => Object.entries(ps).filter(([, s]) => s.error).map(([p, s]) => `- ${w} / ${p}: ${s.error.replace(/\s+/g, ' ').slice(0, 400)}`));
    if (errs.length) md.push('### Errors', '', ...errs, '');
  }
  if (result.latency) {
    md.push('## Latency at a fixed offered load', '', result.latency.error ? `error: ${result.latency.error}` : `Small GET over keep-alive connections, every proxy offered the same request rate by h2load (HTTP/1.1, a fixed rate per connection): a fraction of what nginx sustained closed-loop (wrk) over as many connections on this workload (${Object.entries(result.latency.nginxClosedLoopRps).map(([conns, rps]) => `${Math.round(rps).toLocaleString('en-US')} req/s over ${conns} connection${conns === '1' ? '' : 's'}`).join(', ')}). With 32 connections started together (*bursts*) h2load sends each connection's requests at the same moments, so they arrive in bursts and the last of a burst waits for the whole burst: there the p99 follows CPU time per request. With the connections started a millisecond apart (*spread*) their requests are spread over each period, closer to independent clients. With 1 connection it is each request's own time; wrk's p99 in the data-plane table at 1 connection is corrected for coordinated omission instead (a pause is counted as every request it held back), so there one pause of a few milliseconds decides it. Percentiles from h2load's per-request log; each is the median of ${result.latency.rounds} round(s). "behind" = served under 95 % of the offered rate: the proxy could not keep up, so its latencies are not at that load. "busy proxy/load CPU" = the share of the run each CPU was busy; the load CPU carries h2load and the backend, and where it is nearly always busy a request queues there too, before it reaches the proxy and after it leaves, so that level's percentiles are as much the load side's as the proxy's.`, '');
    if (!result.latency.error) md.push(latencyTable(result.latency), '');
  }
  if (result.multiCore) {
    md.push('## Multi-core', '', `Small GET, keep-alive, ${result.multiCore.conns} connections; the proxy, wrk (-t2) and the backend may all use both CPUs, so absolute numbers are lower than a dedicated core would give; the ratios show what a second data-plane process adds.`, '', multiCoreTable(result.multiCore), '');
  }
  if (result.zeroDowntime) {
    md.push('## Zero downtime (Archway, --workers 2)', '', 'wrk keeps 32 keep-alive connections busy throughout; any non-2xx response or socket error counts as a failure.', '', zeroDowntimeTable(result.zeroDowntime), '');
  }
  if (result.controlPlane) md.push('## Control plane (Archway)', '', controlPlaneTable(result.controlPlane), '');
  const text = md.join('\n');
  console.log(`\n${text}`);

  const dir = join(BENCH, 'results');
  mkdirSync(dir, { recursive: true });
  const stamp = started.toISOString().replace(/[:]/g, '').replace(/\..*/, '');
  const base = join(dir, `${hostname()}-${stamp}${opts.quick ? '-quick' : ''}`);
  writeFileSync(`${base}.json`, `${JSON.stringify(result, null, 2)}\n`);
  writeFileSync(`${base}.md`, `${text}\n`);
  log(`\nwrote ${base}.json and ${base}.md`);
}

let tmpDir;
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    killAllChildren();
    if (tmpDir && !opts['keep-tmp']) setTimeout(() => { rmSync(tmpDir, { recursive: true, force: true }); process.exit(130); }, 500);
    else process.exit(130);
  });
}
process.on('exit', killAllChildren);
main().catch((err) => {
  log(`bench failed: ${err.stack ?? err.message}`);
  killAllChildren();
  process.exitCode = 1;
});
