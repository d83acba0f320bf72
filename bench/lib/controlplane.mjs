// Control-plane scale, Archway only:
//  - file change → changed route answering 200, with 10 / 1,000 / 5,000
//    HTTPRoutes present (namespaces × 100 routes, one file per namespace)
//  - startup to ready, translation time (archway_translation_seconds) and the
//    "configuration applied" log line's ms (translate + data-plane swap), with
//    its data-plane share (dataPlaneMs)
//  - peak RSS (VmHWM) at each scale
//  - a churn loop (create / modify / delete 100 routes) with RSS before/after

import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gatewayYaml, serviceYaml } from './configs.mjs';
import { archwayArgs, childPids, cpuByPid, fetchOnce, foreignCpuSeconds, keepAliveAgent, memKiB, median, percentile, sleep, startPinned, stopProc, waitFor, writeAtomic } from './util.mjs';

/** One namespace's file: a Service + EndpointSlice and `count` HTTPRoutes. `override` replaces route 0's path. */
function namespaceYaml(ns, count, backendPort, { prefix = `/${ns}`, override } = {}) {
  const docs = [serviceYaml('backend', ns, backendPort)];
  for (let j = 0; j < count; j++) {
    const path = j === 0 && override ? override : `${prefix}/r-${j}`;
    docs.push(`apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: r-${String(j).padStart(3, '0')}, namespace: ${ns}}
spec:
  parentRefs: [{name: bench, namespace: default}]
  rules:
  - matches: [{path: {type: PathPrefix, value: ${path}}}]
    backendRefs: [{name: backend, port: 80}]
`);
  }
  return docs.join('---\n');
}

async function scrapeTranslation(adminPort) {
  const r = await fetchOnce({ port: adminPort, path: '/metrics' });
  const text = r.body.toString();
  const num = (name) => Number((text.match(new RegExp(`^${name}\\s+([\\d.eE+-]+)`, 'm')) ?? [])[1]);
  return { sum: num('archway_translation_seconds_sum'), count: num('archway_translation_seconds_count') };
}

/** Polls GET path until `want` status, as fast as one keep-alive connection allows (≈1 ms apart). */
async function pollStatus(port, path, want, agent, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      const r = await fetchOnce({ port, path, agent, timeoutMs: 2000 });
      if (r.status === want) return true;
    } catch { /* keep polling */ }
    await sleep(1);
  }
  return false;
}

const round1 = (x) => Math.round(x * 10) / 10;
const ns = (i) => `ns-${String(i).padStart(2, '0')}`;

export async function runControlPlane(env, { quick, log, churnSeconds = quick ? 10 : 60 }) {
  const scales = [
    { routes: 10, namespaces: 1, perNamespace: 10 },
    { routes: 1000, namespaces: 10, perNamespace: 100 },
    { routes: 5000, namespaces: 50, perNamespace: 100 },
  ];
  const changes = quick ? 8 : 20;
  const results = { changesPerScale: changes, scales: [], churn: undefined };

  for (const scale of scales) {
    const dir = join(env.tmp, `cp-${scale.routes}`);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'gateway.yaml'), gatewayYaml(env.port));
    for (let i = 0; i < scale.namespaces; i++) writeFileSync(join(dir, `${ns(i)}.yaml`), namespaceYaml(ns(i), scale.perNamespace, env.a));

    const applies = [];
    const t0 = performance.now();
    const proc = startPinned('archway-cp', env.proxyCpu, process.execPath, archwayArgs(env.root, ['serve',
      '--config', dir, '--admin', `127.0.0.1:${env.adminPort}`, '--bind-address', '127.0.0.1', '--log-level', 'info']), {
      onStderrLine(line) {
        if (!line.includes('configuration applied')) return;
        try { const j = JSON.parse(line); applies.push({ at: performance.now(), ms: j.ms, dataPlaneMs: j.dataPlaneMs, routes: j.routes }); } catch { /* not JSON */ }
      },
    });
    const agent = keepAliveAgent();
    const entry = { routes: scale.routes, namespaces: scale.namespaces };
    try {
      await waitFor('archway /readyz', async () => {
        if (proc.exited) throw new Error(`archway exited (${proc.exitCode}): ${proc.output.slice(-2000)}`);
        return (await fetchOnce({ port: env.adminPort, path: '/readyz' })).status === 200 ? true : undefined;
      }, { timeoutMs: 120000, intervalMs: 20 });
      entry.startupToReadyMs = performance.now() - t0;
      const lastPath = `/${ns(scale.namespaces - 1)}/r-${scale.perNamespace - 1}/x`;
      if (!(await pollStatus(env.port, lastPath, 200, agent, 30000))) throw new Error(`${lastPath} never answered 200 after startup`);
      entry.startupToLastRouteMs = performance.now() - t0;
      entry.initialApplyMs = applies[0]?.ms;
      entry.irRoutes = applies.at(-1)?.routes;
      const before = await scrapeTranslation(env.adminPort);
      entry.initialTranslationMs = before.count > 0 ? (before.sum / before.count) * 1000 : undefined;

      const latencies = [];
      const samples = [];
      const applyMs = [];
      const dataPlaneMs = [];
      const all0 = cpuByPid();
      const t1 = performance.now();
      let failed = 0;
      for (let k = 1; k <= changes; k++) {
        const path = `/${ns(0)}/v${k}`;
        const seen = applies.length;
        writeAtomic(join(dir, `${ns(0)}.yaml`), namespaceYaml(ns(0), scale.perNamespace, env.a, { override: path }));
        const start = performance.now();
        const ok = await pollStatus(env.port, `${path}/x`, 200, agent, 60000);
        if (!ok) { failed += 1; continue; }
        const served = performance.now() - start;
        latencies.push(served);
        // Let the apply log line land, then pause so changes do not coalesce in the debounce window.
        await waitFor('apply log line', async () => (applies.length > seen ? true : undefined), { timeoutMs: 5000, intervalMs: 5 }).catch(() => {});
        for (const a of applies.slice(seen)) {
          applyMs.push(a.ms);
          if (a.dataPlaneMs !== undefined) dataPlaneMs.push(a.dataPlaneMs);
        }
        // Where the time went: until the apply was logged (file watch, debounce, load, translate, data plane), and the apply itself.
        const a = applies[seen];
        samples.push({ servedMs: round1(served), appliedAtMs: a ? round1(a.at - start) : undefined, applyMs: a ? round1(a.ms) : undefined, dataPlaneMs: a?.dataPlaneMs === undefined ? undefined : round1(a.dataPlaneMs) });
        await sleep(150);
      }
      entry.otherCpuPct = (100 * foreignCpuSeconds(all0, cpuByPid(), new Set([process.pid, proc.pid, ...env.backendPids()]))) / ((performance.now() - t1) / 1000);
      const after = await scrapeTranslation(env.adminPort);
      entry.changeToServedMs = { median: median(latencies), p99: percentile(latencies, 99), min: Math.min(...latencies), max: Math.max(...latencies), n: latencies.length, failed };
      entry.samples = samples;
      entry.applyLogMs = { median: median(applyMs), p99: percentile(applyMs, 99), n: applyMs.length };
      entry.dataPlaneMs = { median: median(dataPlaneMs), p99: percentile(dataPlaneMs, 99), n: dataPlaneMs.length };
      entry.translationMs = after.count > before.count ? { mean: ((after.sum - before.sum) / (after.count - before.count)) * 1000, n: after.count - before.count } : undefined;
      const mem = memKiB(proc.pid);
      entry.peakRssMiB = mem ? mem.hwm / 1024 : undefined;
      entry.rssMiB = mem ? mem.rss / 1024 : undefined;
      log(`  ${String(scale.routes).padStart(5)} routes: ready ${fmt(entry.startupToReadyMs)} ms, change→200 median ${fmt(entry.changeToServedMs.median)} ms p99 ${fmt(entry.changeToServedMs.p99)} ms, apply ${fmt(entry.applyLogMs.median)} ms (data plane ${fmt(entry.dataPlaneMs.median)} ms), translate ${fmt(entry.translationMs?.mean)} ms, VmHWM ${fmt(entry.peakRssMiB)} MiB, other processes ${fmt(entry.otherCpuPct)}% of a core`);

      if (scale.routes === 1000) results.churn = await churn(env, dir, proc, agent, applies, churnSeconds, log);
    } catch (err) {
      entry.error = err.message;
      log(`  ${scale.routes} routes: FAILED: ${err.message}`);
    } finally {
      agent.destroy();
      await stopProc(proc);
    }
    results.scales.push(entry);
  }
  return results;
}

async function churn(env, dir, proc, agent, applies, seconds, log) {
  const file = join(dir, 'churn.yaml');
  await sleep(1000);
  // The primary and its data-plane workers: a leak in either shows here.
  const treeRssMiB = () => [proc.pid, ...childPids(proc.pid)].reduce((sum, pid) => sum + (memKiB(pid)?.rss ?? 0), 0) / 1024;
  const before = memKiB(proc.pid);
  const treeBefore = treeRssMiB();
  const t0 = Date.now();
  const deadline = t0 + seconds * 1000;
  const sampleEveryMs = Math.max(500, (seconds * 1000) / 120);
  const samples = [];
  let nextSample = t0 + sampleEveryMs;
  let cycles = 0;
  let failures = 0;
  const appliesBefore = applies.length;
  while (Date.now() < deadline) {
    const c = cycles;
    writeAtomic(file, namespaceYaml('churn', 100, env.a, { prefix: `/churn/c${c}` }));
    if (!(await pollStatus(env.port, `/churn/c${c}/r-99/x`, 200, agent, 30000))) failures += 1;
    writeAtomic(file, namespaceYaml('churn', 100, env.a, { prefix: `/churn/c${c}m` }));
    if (!(await pollStatus(env.port, `/churn/c${c}m/r-99/x`, 200, agent, 30000))) failures += 1;
    rmSync(file, { force: true });
    if (!(await pollStatus(env.port, `/churn/c${c}m/r-99/x`, 404, agent, 30000))) failures += 1;
    cycles += 1;
    if (Date.now() >= nextSample) {
      samples.push({ seconds: round1((Date.now() - t0) / 1000), applies: applies.length - appliesBefore, treeRssMiB: round1(treeRssMiB()) });
      nextSample += sampleEveryMs;
    }
  }
  await sleep(2000);
  const after = memKiB(proc.pid);
  const treeAfter = treeRssMiB();
  // Heaps grow to their working size in the first part of the loop; a leak keeps growing after that.
  // RSS swings with each collection, so the growth is read two ways from there on: a least-squares
  // slope over every sample, and the floor (the lowest sample) of each third, which a collection
  // cannot lower further and a leak keeps raising.
  const settled = samples.slice(Math.floor(samples.length / 4));
  const warm = settled[0];
  const floors = settled.length >= 6 ? [0, 1, 2].map((k) => floorOf(settled.slice(Math.floor((k * settled.length) / 3), Math.floor(((k + 1) * settled.length) / 3)))) : undefined;
  const r = {
    seconds, cycles, failures, applies: applies.length - appliesBefore, baseRoutes: 1000, routesPerCycle: 100,
    rssBeforeMiB: before.rss / 1024, rssAfterMiB: after.rss / 1024, peakRssMiB: after.hwm / 1024,
    treeRssBeforeMiB: treeBefore, treeRssAfterMiB: treeAfter, samples,
    warm: floors === undefined ? undefined : {
      applies: warm.applies, treeRssMiB: warm.treeRssMiB,
      growthMiBPer1000Applies: 1000 * slope(settled.map((x) => [x.applies, x.treeRssMiB])),
      floors,
      floorGrowthMiBPer1000Applies: (1000 * (floors[2].treeRssMiB - floors[0].treeRssMiB)) / (floors[2].applies - floors[0].applies),
    },
  };
  log(`  churn (1,000 routes + 100 created/modified/deleted per cycle, ${seconds} s): ${cycles} cycles, ${failures} failed waits, RSS of primary + workers ${fmt(treeBefore)} → ${fmt(treeAfter)} MiB` +
    (r.warm ? ` (${fmt(r.warm.treeRssMiB)} MiB after ${r.warm.applies} applies; then ${r.warm.growthMiBPer1000Applies.toFixed(1)} MiB per 1,000 applies; floors of thirds ${r.warm.floors.map((x) => fmt(x.treeRssMiB)).join(' → ')} MiB)` : '') + `, primary VmHWM ${fmt(r.peakRssMiB)} MiB`);
  return r;
}

/** The lowest RSS among `samples`, with the apply count its window is centred on. */
function floorOf(samples) {
  const lowest = samples.reduce((a, b) => (b.treeRssMiB < a.treeRssMiB ? b : a));
  return { applies: samples[Math.floor(samples.length / 2)].applies, treeRssMiB: lowest.treeRssMiB };
}

/** Least-squares slope of y over x. */
function slope(points) {
  const n = points.length;
  const mx = points.reduce((a, [x]) => a + x, 0) / n;
  const my = points.reduce((a, [, y]) => a + y, 0) / n;
  const sxy = points.reduce((a, [x, y]) => a + (x - mx) * (y - my), 0);
  const sxx = points.reduce((a, [x]) => a + (x - mx) ** 2, 0);
  return sxx === 0 ? 0 : sxy / sxx;
}

function fmt(x) {
  return x === undefined || Number.isNaN(x) ? 'n/a' : x >= 100 ? x.toFixed(0) : x.toFixed(1);
}
