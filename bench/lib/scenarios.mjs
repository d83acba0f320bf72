// Archway-only scenarios beside the proxy comparison:
//  - multi-core: the small-GET workload with every process allowed on every
//    CPU, Archway with --workers 1 and 2 against nginx with 2 workers
//  - zero downtime: a route changed 20 times under load, and each data-plane
//    worker stopped (SIGTERM) under load in turn; wrk must see no non-2xx
//    response and no socket error

import { join } from 'node:path';
import { archwayFiles, SMALL_BODY } from './configs.mjs';
import { startArchway, startNginx } from './proxies.mjs';
import { childPids, cpuSecondsOf, fetchOnce, median, sleep, stopProc, waitFor, writeAtomic } from './util.mjs';
import { runWrk } from './wrk.mjs';

const ALL_CPUS = '0,1';

/** Archway on the basic shape (`routes` replacing its routes.yaml), once it answers /small. */
async function startServingArchway(env, { name, cpus, workers, routes }) {
  const files = archwayFiles({ shape: 'basic', ...env });
  if (routes) files['routes.yaml'] = routes;
  const { proc, dir } = await startArchway(env, { name, cpus, workers, files });
  await untilServing(env, name);
  return { proc, dir, pids: () => [proc.pid, ...childPids(proc.pid)] };
}

function untilServing(env, name) {
  return waitFor(`${name} serving`, async () => ((await fetchOnce({ port: env.port, path: '/small' })).status === 200 ? true : undefined));
}

/**
 * Small GET, keep-alive, with the proxy, wrk (2 threads) and the backend all
 * free to use both CPUs: what a second data-plane process buys when there is
 * a second core to run it.
 */
export async function runMultiCore(env, { log, rounds, duration, warmup, conns = 64 }) {
  const contenders = [
    {
      id: 'nginx-2w', label: 'nginx, 2 workers',
      start: async () => {
        const { proc } = await startNginx(env, { name: 'nginx-mc2', cpus: ALL_CPUS, shape: 'basic', workers: 2 });
        await untilServing(env, 'nginx-mc2');
        return { proc, pids: () => [proc.pid, ...childPids(proc.pid)] };
      },
    },
    { id: 'archway-1w', label: 'Archway --workers 1', start: () => startServingArchway(env, { cpus: ALL_CPUS, workers: 1, name: 'archway-mc1' }) },
    { id: 'archway-2w', label: 'Archway --workers 2', start: () => startServingArchway(env, { cpus: ALL_CPUS, workers: 2, name: 'archway-mc2' }) },
  ];
  const raw = Object.fromEntries(contenders.map((c) => [c.id, []]));
  const url = `http://127.0.0.1:${env.port}/small`;
  for (let round = 0; round < rounds; round++) {
    const shift = round % contenders.length;
    for (const c of [...contenders.slice(shift), ...contenders.slice(0, shift)]) {
      let h;
      try {
        h = await c.start();
        await runWrk({ cpu: ALL_CPUS, threads: 2, url, conns, seconds: warmup });
        const pids = h.pids();
        const cpu0 = cpuSecondsOf(pids);
        const r = await runWrk({ cpu: ALL_CPUS, threads: 2, url, conns, seconds: duration });
        const cpu = cpuSecondsOf(pids) - cpu0;
        raw[c.id].push({ rps: r.rps, p50: r.p50, p99: r.p99, non2xx: r.non2xx, socketErrors: r.socketErrors, cpuUsPerReq: r.requests ? (cpu / r.requests) * 1e6 : undefined });
        log(`  multi-core ${c.id.padEnd(11)} ${Math.round(r.rps).toLocaleString('en-US').padStart(8)} req/s  p99 ${r.p99?.toFixed(2)} ms  ${raw[c.id].at(-1).cpuUsPerReq?.toFixed(1)} CPU-µs/req`);
      } catch (err) {
        raw[c.id].push({ error: err.message });
        log(`  multi-core ${c.id} FAILED: ${err.message.split('\n')[0]}`);
      } finally {
        await stopProc(h?.proc);
        await sleep(300);
      }
    }
  }
  const summary = {};
  for (const c of contenders) {
    const ok = raw[c.id].filter((r) => r.rps !== undefined);
    summary[c.id] = ok.length === 0 ? { label: c.label, error: raw[c.id][0]?.error } : {
      label: c.label, rps: median(ok.map((r) => r.rps)), p50: median(ok.map((r) => r.p50)), p99: median(ok.map((r) => r.p99)),
      cpuUsPerReq: median(ok.map((r) => r.cpuUsPerReq)), non2xx: ok.reduce((n, r) => n + r.non2xx, 0), socketErrors: ok.reduce((n, r) => n + r.socketErrors, 0),
    };
  }
  return { conns, raw, summary };
}

/** The basic route with a request header the backend echoes back as x-seen-set: which generation served. */
function taggedRoute(tag) {
  return `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: all, namespace: default}
spec:
  parentRefs: [{name: bench}]
  rules:
  - filters:
    - type: RequestHeaderModifier
      requestHeaderModifier:
        set: [{name: x-bench-set, value: "${tag}"}]
    backendRefs: [{name: ${Number(tag.slice(1)) % 2 ? 'backend-b' : 'backend-a'}, port: 80}]
`;
}

/**
 * Route changes and worker restarts under keep-alive load (32 connections,
 * the proxy's own CPU). Each change is waited for (a probe sees the new
 * generation) before the next; each worker is replaced before the next one
 * is stopped.
 */
export async function runZeroDowntime(env, { log, changes = 20, workers = 2 }) {
  const url = `http://127.0.0.1:${env.port}/small`;
  const result = {};
  const h = await startServingArchway(env, { cpus: env.proxyCpu, workers, name: 'archway-zd', routes: taggedRoute('g0') });
  try {
    // --- route changes
    const seconds = Math.max(10, Math.ceil(changes * 0.6));
    const load = runWrk({ cpu: env.loadCpu, url, conns: 32, seconds });
    await sleep(1000);
    const latencies = [];
    for (let k = 1; k <= changes; k++) {
      const tag = `g${k}`;
      const start = performance.now();
      writeAtomic(join(h.dir, 'routes.yaml'), taggedRoute(tag));
      // A few probes in a row on fresh connections, which may land on any worker.
      await waitFor(`generation ${tag}`, async () => {
        for (let i = 0; i < 4; i++) {
          const r = await fetchOnce({ port: env.port, path: '/small' });
          if (r.headers['x-seen-set'] !== tag || r.body.toString() !== SMALL_BODY) return undefined;
        }
        return true;
      }, { timeoutMs: 10000, intervalMs: 2 });
      latencies.push(performance.now() - start);
      await sleep(100);
    }
    const r = await load;
    result.routeChanges = { changes, seconds, requests: r.requests, rps: r.rps, non2xx: r.non2xx, socketErrors: r.socketErrors, changeToServedMedianMs: median(latencies) };
    log(`  zero downtime: ${changes} route changes under load: ${r.requests.toLocaleString('en-US')} requests, non-2xx ${r.non2xx}, socket errors ${r.socketErrors}`);

    // --- worker restarts
    if (workers > 1) {
      const before = childPids(h.proc.pid);
      const restartLoad = runWrk({ cpu: env.loadCpu, url, conns: 32, seconds: 4 + 3 * before.length });
      await sleep(1500);
      let current = before;
      for (const pid of before) {
        process.kill(pid, 'SIGTERM');
        current = await waitFor('replacement worker', async () => {
          const now = childPids(h.proc.pid);
          return now.length === before.length && !now.includes(pid) ? now : undefined;
        }, { timeoutMs: 15000, intervalMs: 20 });
        await sleep(1500);
      }
      const rr = await restartLoad;
      result.workerRestarts = { restarted: before.length, requests: rr.requests, rps: rr.rps, non2xx: rr.non2xx, socketErrors: rr.socketErrors, workersAfter: current.length };
      log(`  zero downtime: ${before.length} workers stopped and replaced under load: ${rr.requests.toLocaleString('en-US')} requests, non-2xx ${rr.non2xx}, socket errors ${rr.socketErrors}`);
    }
  } finally {
    await stopProc(h.proc);
  }
  return result;
}

export function multiCoreTable(mc) {
  const s = mc.summary;
  const base = s['archway-1w']?.rps;
  const ng = s['nginx-2w']?.rps;
  const lines = ['| contender | req/s | ×Archway 1 worker | ×nginx 2 workers | p50 | p99 | CPU µs/req |', '| --- | ---: | ---: | ---: | ---: | ---: | ---: |'];
  for (const v of Object.values(s)) {
    if (v.error) { lines.push(`| ${v.label} | error: ${v.error.split('\n')[0]} | | | | | |`); continue; }
    const r = (a, b) => (a && b ? `${(a / b).toFixed(2)}×` : '—');
    const flag = v.non2xx || v.socketErrors ? ' ⚠' : '';
    lines.push(`| ${v.label} | ${Math.round(v.rps).toLocaleString('en-US')}${flag} | ${r(v.rps, base)} | ${r(v.rps, ng)} | ${v.p50?.toFixed(2)} ms | ${v.p99?.toFixed(2)} ms | ${v.cpuUsPerReq?.toFixed(1)} |`);
  }
  return lines.join('\n');
}

export function zeroDowntimeTable(zd) {
  const lines = ['| scenario | requests under load | non-2xx | socket errors |', '| --- | ---: | ---: | ---: |'];
  if (zd.routeChanges) {
    const c = zd.routeChanges;
    lines.push(`| ${c.changes} route changes (each waited for until served) | ${c.requests.toLocaleString('en-US')} | ${c.non2xx} | ${c.socketErrors} |`);
  }
  if (zd.workerRestarts) {
    const w = zd.workerRestarts;
    lines.push(`| each of ${w.restarted} workers stopped (SIGTERM) and replaced in turn | ${w.requests.toLocaleString('en-US')} | ${w.non2xx} | ${w.socketErrors} |`);
  }
  if (zd.error) lines.push(`| error: ${zd.error.split('\n')[0]} | | | |`);
  return lines.join('\n');
}
