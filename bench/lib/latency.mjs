// Latency at a fixed offered load. wrk keeps every connection busy, so its
// p99 at saturation mostly restates throughput (a slower proxy queues more).
// Here each proxy gets the same request rate, a fraction of what nginx
// sustains, from h2load (HTTP/1.1, --rps per connection), and its latency
// percentiles are computed from h2load's per-request log. One level has a
// single connection: wrk's p99 there is corrected for coordinated omission
// (a pause counts as all the requests it held back), so one pause of a few
// milliseconds outweighs everything else; at a fixed rate it is one request.
//
// h2load starts every connection at once and paces each with a timer of the
// same period, so all of them send at the same moments: requests arrive in
// bursts of one per connection, and the last of a burst waits for the whole
// burst. Real clients do not keep in step like that, so some levels also
// start the connections a millisecond apart (h2load --rate), which spreads
// their requests over the period instead.
//
// Each run also reports the proxy's CPU time per request: with requests
// arriving spread out, a proxy that is busier at the same rate queues them
// longer, by about ρ/(1−ρ) of its service time, so a small difference in
// CPU per request becomes a larger one in p99 as ρ nears 1.
//
// It also reports how busy the load CPU was: h2load and the backend share it,
// and where they keep it nearly busy, a request also queues there, before it
// reaches the proxy and after its response leaves, so the percentiles are in
// part the load side's and a difference between proxies is less theirs.

import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { busyPercent, coreTimes, cpuSecondsOf, fetchOnce, fmtMs, freePort, median, pct, percentile, sleep, waitFor } from './util.mjs';
import { runWrk } from './wrk.mjs';

/** Offered rates, as fractions of nginx's closed-loop req/s on the same workload over as many connections. */
export const LATENCY_LEVELS = [
  { conns: 32, fraction: 0.25, arrivals: 'bursts' },
  { conns: 32, fraction: 0.5, arrivals: 'bursts' },
  { conns: 32, fraction: 0.75, arrivals: 'bursts' },
  { conns: 32, fraction: 0.25, arrivals: 'spread' },
  { conns: 32, fraction: 0.5, arrivals: 'spread' },
  { conns: 1, fraction: 0.5, arrivals: 'bursts' },
];
const CONN_COUNTS = [...new Set(LATENCY_LEVELS.map((l) => l.conns))];

/**
 * Runs h2load at `rate` req/s over `conns` connections, started together
 * ('bursts') or a millisecond apart ('spread'); resolves with latency
 * percentiles (ms) from its log.
 */
function runH2load({ cpu, url, conns, rate, seconds, arrivals, logFile }) {
  const perConn = Math.max(1, Math.round(rate / conns));
  // h2load takes no duration with --rate, so a spread run is a request count; the proxy is warm by then.
  const length = arrivals === 'spread' ? ['-r', '1', '--rate-period=1ms', '-n', String(perConn * conns * seconds)] : ['-D', String(seconds), '--warm-up-time=1'];
  const args = ['-c', cpu, 'h2load', '--h1', '-c', String(conns), `--rps=${perConn}`, ...length, `--log-file=${logFile}`, url];
  return new Promise((resolve, reject) => {
    const child = spawn('taskset', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c) => { out += c; });
    child.stderr.on('data', (c) => { out += c; });
    // A spread run of a proxy that cannot keep up lasts longer than `seconds`.
    const guard = setTimeout(() => child.kill('SIGKILL'), ((arrivals === 'spread' ? 4 * seconds : seconds) + 30) * 1000);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(guard);
      if (code !== 0) { reject(new Error(`h2load exited ${code}: ${out.slice(-1000)}`)); return; }
      // Each line: start time (µs), status, duration (µs).
      const durations = [];
      let failed = 0;
      let first = Infinity;
      let last = -Infinity;
      for (const line of readFileSync(logFile, 'utf8').split('\n')) {
        if (!line) continue;
        const [start, status, us] = line.split('\t');
        if (!(Number(status) >= 200 && Number(status) < 300)) failed += 1;
        durations.push(Number(us) / 1000);
        first = Math.min(first, Number(start));
        last = Math.max(last, Number(start) + Number(us));
      }
      rmSync(logFile, { force: true });
      durations.sort((a, b) => a - b);
      const failedLine = out.match(/requests: \d+ total, \d+ started, \d+ done, \d+ succeeded, (\d+) failed, (\d+) errored, (\d+) timeout/);
      resolve({
        offered: perConn * conns,
        requests: durations.length,
        // A spread run lasts as long as the proxy takes to serve its count.
        achieved: durations.length / (arrivals === 'spread' ? (last - first) / 1e6 : seconds),
        p50: percentile(durations, 50),
        p99: percentile(durations, 99),
        p999: percentile(durations, 99.9),
        max: durations.at(-1),
        failed: failed + (failedLine ? Number(failedLine[1]) + Number(failedLine[2]) + Number(failedLine[3]) : 0),
      });
    });
  });
}

function untilServing(env, workload, name) {
  return waitFor(`${name} serving ${workload.path}`, async () => ((await fetchOnce({ port: env.port, path: workload.path })).status === 200 ? true : undefined), { timeoutMs: 20000 });
}

/**
 * Each round: every proxy started and warmed up (one that fails to is
 * reported for the round and left out of it), then each fraction of
 * nginx's closed-loop rate measured on every proxy in turn (in an order that
 * rotates with the level and the round). nginx's rate comes from a wrk run
 * first. Reported: the median of the rounds for each percentile, since one
 * run's tail moves with whatever else the machine is doing.
 */
export async function runLatency(env, { log, proxies, duration, warmup, cpu, proxyCpu, workload, rounds }) {
  const url = `http://127.0.0.1:${env.port}${workload.path}`;
  const nginx = proxies.find((p) => p.name === 'nginx');
  if (!nginx) throw new Error('the latency section needs nginx as the reference');
  /** nginx's closed-loop req/s by connection count. */
  const reference = {};
  {
    const h = await nginx.start(workload.shape, env);
    try {
      await untilServing(env, workload, 'nginx');
      for (const conns of CONN_COUNTS) {
        await runWrk({ cpu, url, conns, seconds: warmup });
        reference[conns] = (await runWrk({ cpu, url, conns, seconds: duration })).rps;
        log(`  nginx closed-loop reference: ${Math.round(reference[conns])} req/s at ${conns} connection(s)`);
      }
    } finally {
      await h.stop();
    }
  }
  // h2load logs every request. Not beside the proxies' config directories: Archway watches their
  // parent (to see its own directory replaced), so each write there would cost it a file event.
  const logDir = join(env.tmp, 'h2load');
  mkdirSync(logDir, { recursive: true });
  const raw = [];
  const failed = (p, round, err) => {
    raw.push({ proxy: p.name, label: p.label, round, error: err.message });
    log(`  ${p.name.padEnd(10)} FAILED: ${err.message.split('\n')[0]}`);
  };
  const logFile = (p) => join(logDir, `${p.name}.log`);
  for (let round = 0; round < rounds; round++) {
    // Every proxy is up for the whole round, each on ports of its own and idle while another is
    // measured, and each level is run through all of them back to back: whatever else the host
    // runs for half a minute then falls on every proxy's run of that level, not on one proxy's.
    const running = [];
    try {
      for (const p of proxies) {
        let h;
        try {
          const own = { ...env, port: await freePort(), tlsPort: await freePort(), adminPort: await freePort() };
          h = await p.start(workload.shape, own);
          await untilServing(own, workload, p.name);
          const url = `http://127.0.0.1:${own.port}${workload.path}`;
          await runWrk({ cpu, url, conns: CONN_COUNTS[0], seconds: warmup });
          // h2load's requests are not wrk's (other headers, new connections each run): a JIT-compiled proxy
          // optimises and deoptimises code for them in the first seconds, which would land in the first level.
          await runH2load({ cpu, url, conns: CONN_COUNTS[0], rate: 0.5 * reference[CONN_COUNTS[0]], seconds: warmup, arrivals: 'spread', logFile: logFile(p) });
          running.push({ p, h, url });
        } catch (err) {
          await h?.stop();
          failed(p, round, err);
        }
      }
      for (const [level, { conns, fraction, arrivals }] of LATENCY_LEVELS.entries()) {
        const shift = (round + level) % Math.max(1, running.length);
        for (const { p, h, url } of [...running.slice(shift), ...running.slice(0, shift)]) {
          await sleep(200);
          try {
            const pids = h.trafficPids();
            const cpu0 = cpuSecondsOf(pids);
            const cores0 = coreTimes();
            const r = await runH2load({ cpu, url, conns, rate: fraction * reference[conns], seconds: duration, arrivals, logFile: logFile(p) });
            const cores1 = coreTimes();
            const cpuUsPerReq = r.requests > 0 ? ((cpuSecondsOf(pids) - cpu0) / r.requests) * 1e6 : undefined;
            const proxyCpuBusyPct = busyPercent(cores0, cores1, proxyCpu);
            const loadCpuBusyPct = busyPercent(cores0, cores1, cpu);
            raw.push({ proxy: p.name, label: p.label, conns, fraction, arrivals, round, ...r, cpuUsPerReq, proxyCpuBusyPct, loadCpuBusyPct });
            log(`  ${p.name.padEnd(10)} ${String(fraction).padEnd(5)}× nginx, ${String(conns).padStart(2)} conn, ${arrivals.padEnd(6)} (${r.offered} req/s offered, ${Math.round(r.achieved)} served): p50 ${r.p50.toFixed(3)} ms  p99 ${r.p99.toFixed(3)} ms  p99.9 ${r.p999.toFixed(3)} ms  max ${r.max.toFixed(1)} ms  failed ${r.failed}  ${cpuUsPerReq?.toFixed(1)} CPU-µs/req  busy proxy/load CPU ${proxyCpuBusyPct?.toFixed(0)}%/${loadCpuBusyPct?.toFixed(0)}%`);
          } catch (err) {
            failed(p, round, err);
          }
        }
      }
    } finally {
      for (const { h } of running) await h.stop();
      await sleep(300);
    }
  }
  const rows = [];
  for (const p of proxies) {
    const errors = raw.filter((r) => r.proxy === p.name && r.error);
    for (const { conns, fraction, arrivals } of LATENCY_LEVELS) {
      const runs = raw.filter((r) => r.proxy === p.name && r.conns === conns && r.fraction === fraction && r.arrivals === arrivals);
      if (runs.length === 0) continue;
      const m = (k) => median(runs.map((r) => r[k]));
      rows.push({ proxy: p.name, label: p.label, conns, fraction, arrivals, rounds: runs.length, offered: runs[0].offered, achieved: m('achieved'), p50: m('p50'), p99: m('p99'), p999: m('p999'), max: m('max'), cpuUsPerReq: m('cpuUsPerReq'), proxyCpuBusyPct: m('proxyCpuBusyPct'), loadCpuBusyPct: m('loadCpuBusyPct'), failed: runs.reduce((n, r) => n + r.failed, 0) });
    }
    if (errors.length > 0 && !rows.some((r) => r.proxy === p.name)) rows.push({ proxy: p.name, label: p.label, error: errors[0].error });
  }
  return { workload: workload.id, levels: LATENCY_LEVELS, nginxClosedLoopRps: reference, rounds, rows, raw };
}

export function latencyTable(result) {
  const lines = [
    '| connections | arrivals | offered load | proxy | req/s offered / served | p50 | p99 | p99 ×nginx | p99.9 | max | failed | CPU µs/req | ×nginx | busy proxy/load CPU |',
    '| ---: | --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
  ];
  for (const { conns, fraction, arrivals } of result.levels) {
    const atLevel = (r) => r.conns === conns && r.fraction === fraction && r.arrivals === arrivals;
    const ng = result.rows.find((r) => r.proxy === 'nginx' && atLevel(r));
    for (const r of result.rows.filter(atLevel)) {
      // A proxy that served clearly less than offered could not keep up: its percentiles are not at this load.
      const behind = r.achieved < 0.95 * r.offered ? ' (behind)' : '';
      lines.push(`| ${conns} | ${conns === 1 ? '—' : arrivals} | ${fraction}× nginx | ${r.label} | ${Math.round(r.offered).toLocaleString('en-US')} / ${Math.round(r.achieved).toLocaleString('en-US')}${behind} | ${fmtMs(r.p50)} | ${fmtMs(r.p99)} | ${ng ? `${(r.p99 / ng.p99).toFixed(2)}×` : '—'} | ${fmtMs(r.p999)} | ${fmtMs(r.max)} | ${r.failed} | ${r.cpuUsPerReq?.toFixed(1) ?? 'n/a'} | ${ng?.cpuUsPerReq ? `${(r.cpuUsPerReq / ng.cpuUsPerReq).toFixed(2)}×` : '—'} | ${pct(r.proxyCpuBusyPct)}/${pct(r.loadCpuBusyPct)} |`);
    }
  }
  for (const r of result.rows.filter((x) => x.error)) lines.push(`| — | — | — | ${r.label} | error: ${r.error.split('\n')[0]} | | | | | | | | | |`);
  return lines.join('\n');
}
