// The proxies under test. Each one is started fresh for every (workload,
// round) measurement, pinned to the proxy CPU, so that its VmHWM is the peak
// for that workload alone.

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { archwayFiles, haproxyConf, nginxProxyConf } from './configs.mjs';
import { archwayArgs, childPids, fetchOnce, haveCommand, startPinned, stopProc, waitFor } from './util.mjs';

function workdir(env, name) {
  const d = join(env.tmp, name);
  mkdirSync(d, { recursive: true });
  return d;
}

/**
 * Archway serving `files` (name → text) from its own directory, pinned to
 * `cpus`, with `workers` data-plane processes; resolves once /readyz says so.
 */
export async function startArchway(env, { name, cpus, workers, files }) {
  const dir = workdir(env, name);
  for (const [f, text] of Object.entries(files)) writeFileSync(join(dir, f), text);
  const proc = startPinned(name, cpus, process.execPath, archwayArgs(env.root, ['serve',
    '--config', dir, '--admin', `127.0.0.1:${env.adminPort}`, '--bind-address', '127.0.0.1', '--log-level', 'warn', '--workers', String(workers)]));
  await waitFor(`${name} /readyz`, async () => {
    if (proc.exited) throw new Error(`archway exited (${proc.exitCode}): ${proc.output.slice(-2000)}`);
    return (await fetchOnce({ port: env.adminPort, path: '/readyz' })).status === 200 ? true : undefined;
  }, { timeoutMs: 30000 });
  return { proc, dir };
}

/** nginx proxying `shape` with `workers` worker processes pinned to `cpus`; resolves with the workers' pids once they run. */
export async function startNginx(env, { name, cpus, shape, workers }) {
  const dir = workdir(env, name);
  mkdirSync(join(env.tmp, 'nginx-proxy-body'), { recursive: true });
  mkdirSync(join(env.tmp, 'nginx-proxy-temp'), { recursive: true });
  const conf = join(dir, 'nginx.conf');
  writeFileSync(conf, nginxProxyConf({ shape, ...env, workers }));
  const proc = startPinned(name, cpus, 'nginx', ['-c', conf, '-p', dir, '-e', join(env.tmp, 'nginx-proxy-error.log')]);
  // The master only supervises; the workers carry the traffic.
  const workerPids = await waitFor('nginx workers', async () => {
    if (proc.exited) throw new Error(`nginx exited (${proc.exitCode}): ${proc.output.slice(-2000)}`);
    const w = childPids(proc.pid);
    return w.length >= workers ? w : undefined;
  });
  return { proc, workerPids };
}

export const PROXIES = [
  {
    name: 'archway',
    label: 'Archway',
    available: () => true,
    supports: () => true,
    async start(shape, env) {
      // One data-plane process, like the one nginx worker and the one HAProxy thread.
      const { proc } = await startArchway(env, { name: `archway-${shape}`, cpus: env.proxyCpu, workers: 1, files: archwayFiles({ shape, ...env }) });
      return { proc, trafficPids: () => [proc.pid], stop: () => stopProc(proc) };
    },
  },
  {
    name: 'nginx',
    label: 'nginx',
    available: () => haveCommand('nginx') || 'nginx is not installed',
    supports: () => true,
    async start(shape, env) {
      const { proc, workerPids } = await startNginx(env, { name: `nginx-${shape}`, cpus: env.proxyCpu, shape, workers: 1 });
      return { proc, trafficPids: () => workerPids, stop: () => stopProc(proc) };
    },
  },
  {
    name: 'haproxy',
    label: 'HAProxy',
    available: () => haveCommand('haproxy') || 'haproxy is not installed',
    supports: () => true,
    async start(shape, env) {
      const dir = workdir(env, `haproxy-${shape}`);
      const conf = join(dir, 'haproxy.cfg');
      writeFileSync(conf, haproxyConf({ shape, ...env }));
      const proc = startPinned('haproxy', env.proxyCpu, 'haproxy', ['-f', conf, '-db']);
      return { proc, trafficPids: () => [proc.pid], stop: () => stopProc(proc) };
    },
  },
  {
    name: 'http-proxy',
    label: 'http-proxy',
    available: () => hasPeers() || 'bench/node_modules is missing http-proxy',
    supports: (shape) => shape !== 'routes' || 'n/a: a proxy library without a router',
    async start(shape, env) {
      const cfg = { mode: shape, port: env.port, tlsPort: env.tlsPort, a: env.a, b: env.b, crt: env.crt, key: env.key };
      const proc = startPinned('http-proxy', env.proxyCpu, process.execPath, ['--no-deprecation', join(env.root, 'bench/peers/http-proxy.mjs'), JSON.stringify(cfg)]);
      return { proc, trafficPids: () => [proc.pid], stop: () => stopProc(proc) };
    },
  },
  {
    name: 'fastify',
    label: '@fastify/http-proxy',
    available: () => hasPeers() || 'bench/node_modules is missing fastify / @fastify/http-proxy',
    supports: (shape) => shape !== 'routes' || 'n/a: one upstream per registration; no header-match routing without custom code',
    async start(shape, env) {
      const cfg = { mode: shape, port: env.port, tlsPort: env.tlsPort, a: env.a, b: env.b, crt: env.crt, key: env.key };
      const proc = startPinned('fastify', env.proxyCpu, process.execPath, [join(env.root, 'bench/peers/fastify.mjs'), JSON.stringify(cfg)]);
      return { proc, trafficPids: () => [proc.pid], stop: () => stopProc(proc) };
    },
  },
];

let peersChecked;
function hasPeers() {
  if (peersChecked === undefined) {
    const root = new URL('../', import.meta.url).pathname;
    peersChecked = ['http-proxy', 'fastify', '@fastify/http-proxy'].every((p) => {
      try { return !!JSON.parse(readFileSync(join(root, 'node_modules', p, 'package.json'), 'utf8')); } catch { return false; }
    });
  }
  return peersChecked;
}

export function resetPeerCheck() { peersChecked = undefined; }
