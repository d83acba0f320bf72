// The proxies under test. Each one is started fresh for every (workload,
// round) measurement, pinned to the proxy CPU, so that its VmHWM is the peak
// for that workload alone.

import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { archwayFiles, haproxyConf, nginxProxyConf } from './configs.mjs';
import { childPids, fetchOnce, haveCommand, startPinned, stopProc, waitFor } from './util.mjs';

function workdir(env, name) {
  const d = join(env.tmp, name);
  mkdirSync(d, { recursive: true });
  return d;
}

const nodeArgs = [];

export const PROXIES = [
  {
    name: 'archway',
    label: 'Archway',
    available: () => true,
    supports: () => true,
    async start(shape, env) {
      const dir = workdir(env, `archway-${shape}`);
      for (const [f, text] of Object.entries(archwayFiles({ shape, ...env }))) writeFileSync(join(dir, f), text);
      const proc = startPinned('archway', env.proxyCpu, process.execPath, [...nodeArgs, join(env.root, 'bin/archway.js'), 'serve',
        '--config', dir, '--admin', `127.0.0.1:${env.adminPort}`, '--bind-address', '127.0.0.1', '--log-level', 'warn', '--workers', '1']);
      await waitFor('archway /readyz', async () => {
        if (proc.exited) throw new Error(`archway exited (${proc.exitCode}): ${proc.output.slice(-2000)}`);
        return (await fetchOnce({ port: env.adminPort, path: '/readyz' })).status === 200 ? true : undefined;
      }, { timeoutMs: 30000 });
      return { proc, trafficPids: () => [proc.pid], stop: () => stopProc(proc) };
    },
  },
  {
    name: 'nginx',
    label: 'nginx',
    available: () => haveCommand('nginx') || 'nginx is not installed',
    supports: () => true,
    async start(shape, env) {
      const dir = workdir(env, `nginx-${shape}`);
      mkdirSync(join(env.tmp, 'nginx-proxy-body'), { recursive: true });
      mkdirSync(join(env.tmp, 'nginx-proxy-temp'), { recursive: true });
      const conf = join(dir, 'nginx.conf');
      writeFileSync(conf, nginxProxyConf({ shape, ...env }));
      const proc = startPinned('nginx', env.proxyCpu, 'nginx', ['-c', conf, '-p', dir, '-e', join(env.tmp, 'nginx-proxy-error.log')]);
      // The master only supervises; the single worker carries the traffic.
      const workers = await waitFor('nginx worker', async () => {
        if (proc.exited) throw new Error(`nginx exited (${proc.exitCode}): ${proc.output.slice(-2000)}`);
        const w = childPids(proc.pid);
        return w.length > 0 ? w : undefined;
      });
      return { proc, trafficPids: () => workers, stop: () => stopProc(proc) };
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
      const proc = startPinned('http-proxy', env.proxyCpu, process.execPath, [...nodeArgs, '--no-deprecation', join(env.root, 'bench/peers/http-proxy.mjs'), JSON.stringify(cfg)]);
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
      const proc = startPinned('fastify', env.proxyCpu, process.execPath, [...nodeArgs, join(env.root, 'bench/peers/fastify.mjs'), JSON.stringify(cfg)]);
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
