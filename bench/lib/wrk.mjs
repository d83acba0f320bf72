// Runs wrk pinned to the load-generator CPU and parses its --latency output.

import { spawn } from 'node:child_process';

function toMs(value, unit) {
  const v = Number(value);
  switch (unit) {
    case 'us': return v / 1000;
    case 'ms': return v;
    case 's': return v * 1000;
    case 'm': return v * 60000;
    default: return NaN;
  }
}

export function parseWrk(out) {
  const lat = (pct) => {
    const m = out.match(new RegExp(`^\\s*${pct}%\\s+([\\d.]+)(us|ms|s|m)\\s*$`, 'm'));
    return m ? toMs(m[1], m[2]) : undefined;
  };
  const num = (re) => { const m = out.match(re); return m ? Number(m[1]) : 0; };
  const rps = out.match(/^Requests\/sec:\s+([\d.]+)/m);
  const sock = out.match(/Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/);
  return {
    rps: rps ? Number(rps[1]) : undefined,
    p50: lat(50),
    p99: lat(99),
    requests: num(/^\s*(\d+) requests in/m),
    non2xx: num(/Non-2xx or 3xx responses:\s+(\d+)/),
    socketErrors: sock ? sock.slice(1).reduce((n, x) => n + Number(x), 0) : 0,
  };
}

/**
 * wrk -t1 by default: the load generator shares one core with the backend,
 * so more threads would only contend there.
 */
export function runWrk({ cpu, url, conns, seconds, headers = {}, script, timeoutSec = 5, threads = 1 }) {
  const args = ['-c', String(cpu), 'wrk', `-t${threads}`, '-c', String(conns), '-d', `${seconds}s`, '--latency', '--timeout', `${timeoutSec}s`];
  for (const [k, v] of Object.entries(headers)) args.push('-H', `${k}: ${v}`);
  if (script) args.push('-s', script);
  args.push(url);
  return new Promise((resolve, reject) => {
    const child = spawn('taskset', args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c) => { out += c; });
    child.stderr.on('data', (c) => { out += c; });
    // Bounded: wrk stops itself after `seconds`; allow the timeout and slack.
    const guard = setTimeout(() => child.kill('SIGKILL'), (seconds + timeoutSec + 15) * 1000);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(guard);
      if (code !== 0) reject(new Error(`wrk exited ${code}: ${out.slice(-1000)}`));
      else resolve({ ...parseWrk(out), raw: out });
    });
  });
}
