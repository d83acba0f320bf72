import { execFileSync } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { parseCorefile } from './coredns.js';
import type { DeploymentInfo, PodEndpoint } from './endpointslices.js';
import { archwayBin, corednsMain } from './paths.js';
import { materializeContainer, type ObjectLookup } from './podspec.js';
import { spawnTracked, type Tracked } from './processes.js';

/** One process (`archway echo`, or the coredns stand-in) standing in for the pods of a Deployment. */
export interface Backend extends PodEndpoint {
  process: Tracked;
}

// The alphabet Kubernetes uses for generated name suffixes.
const alphabet = 'bcdfghjklmnpqrstvwxz2456789';

function randomSuffix(n: number): string {
  let s = '';
  for (let i = 0; i < n; i++) s += alphabet[randomInt(alphabet.length)];
  return s;
}

/**
 * `<deployment>-<replicaset hash>-<pod hash>`, like a Deployment's pods:
 * upstream checks the backend by pod-name prefix and the weight test strips
 * the last two dash-separated parts to recover the Deployment name.
 */
export function podName(deployment: string): string {
  return `${deployment}-${randomSuffix(10)}-${randomSuffix(5)}`;
}

function probe(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/', agent: false, timeout: 1_000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode === 200));
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

/**
 * Upstream's echo-basic container listens on 3000 (HTTP/1.1, WebSocket at
 * /ws) and on 3001 for h2c only, and the base Services point appProtocol
 * kubernetes.io/h2c ports at targetPort 3001. When `archway echo` offers
 * `--h2c-port`, the backend gets a second port for that container port;
 * otherwise every container port maps to the one HTTP port.
 */
let h2cFlag: boolean | undefined;

export function echoSupportsH2CPort(): boolean {
  if (h2cFlag === undefined) {
    try {
      h2cFlag = execFileSync(process.execPath, [archwayBin, 'echo', '--help'], { encoding: 'utf8', timeout: 10_000 }).includes('--h2c-port');
    } catch {
      h2cFlag = false;
    }
  }
  return h2cFlag;
}

/** How to run the process standing in for a pod, and which container port each port it reports stands for. */
interface Launch {
  args: string[];
  /** The tag of each `... listening on HOST:PORT (tag)` line the process prints, and the container port it serves. */
  ports: Map<string, number>;
  /** The tag of the port that serves every container port without one of its own. */
  primary: string;
  /** Whether the primary port speaks HTTP, so readiness can be probed with a request. */
  http: boolean;
}

/** The flags giving `archway echo` a TLS listener on an ephemeral port, when both files are named. */
function tlsFlags(portFlag: string, cert: string | undefined, key: string | undefined): string[] {
  return cert && key ? [portFlag, '0', '--tls-cert', cert, '--tls-key', key] : [];
}

/**
 * echo-basic picks its mode from the env: GRPC_ECHO_SERVER, TCP_ECHO_SERVER,
 * UDP_ECHO_SERVER, else HTTP with HTTPS when TLS_SERVER_CERT and
 * TLS_SERVER_PRIVKEY name files. Ports default as upstream's, or come from
 * the *_PORT variables.
 */
function echoLaunch(env: Record<string, string>, identity: string[]): Launch {
  const containerPort = (name: string, fallback: number) => Number(env[name] || fallback);
  const base = [archwayBin, 'echo', '--host', '127.0.0.1', '--port', '0', ...identity];
  if (env.GRPC_ECHO_SERVER) {
    // Cleartext gRPC on HTTP_PORT, and over TLS on HTTPS_PORT with TLS_SERVER_CERT and TLS_SERVER_PRIV_KEY.
    const tls = tlsFlags('--https-port', env.TLS_SERVER_CERT, env.TLS_SERVER_PRIV_KEY);
    return {
      args: [...base, '--mode', 'grpc', ...tls],
      ports: new Map([['grpc', containerPort('HTTP_PORT', 3000)], ...(tls.length ? [['grpc-tls', containerPort('HTTPS_PORT', 8443)] as const] : [])]),
      primary: 'grpc',
      http: false,
    };
  }
  if (env.TCP_ECHO_SERVER) {
    const tls = tlsFlags('--tls-port', env.TLS_SERVER_CERT, env.TLS_SERVER_PRIV_KEY);
    return {
      args: [...base, '--mode', 'tcp', ...tls],
      ports: new Map([['tcp', containerPort('TCP_PORT', 3000)], ...(tls.length ? [['tls', containerPort('TLS_PORT', 8443)] as const] : [])]),
      primary: 'tcp',
      http: false,
    };
  }
  if (env.UDP_ECHO_SERVER) {
    return { args: [...base, '--mode', 'udp'], ports: new Map([['udp', containerPort('UDP_PORT', 8080)]]), primary: 'udp', http: false };
  }
  const h2c = echoSupportsH2CPort();
  const https = tlsFlags('--https-port', env.TLS_SERVER_CERT, env.TLS_SERVER_PRIVKEY);
  return {
    args: [
      ...base,
      ...(h2c ? ['--h2c-port', '0'] : []),
      ...https,
      ...(https.length && env.TLS_CLIENT_CACERTS ? ['--tls-client-ca', env.TLS_CLIENT_CACERTS] : []),
    ],
    ports: new Map([
      ['', containerPort('HTTP_PORT', 3000)],
      ...(h2c ? [['h2c', containerPort('H2C_PORT', 3001)] as const] : []),
      ...(https.length ? [['https', containerPort('HTTPS_PORT', 8443)] as const] : []),
    ]),
    primary: '',
    http: true,
  };
}

/** The coredns image: the suite's stand-in (harness/coredns.ts) on the Corefile the container's `-conf` names. */
function corednsLaunch(args: string[]): Launch {
  const i = args.indexOf('-conf');
  const conf = i >= 0 ? args[i + 1] : undefined;
  if (conf === undefined) throw new Error('coredns container without -conf: the harness needs the Corefile path');
  const tags = [...new Set(parseCorefile(readFileSync(conf, 'utf8')).map((b) => b.port))].map((p) => [`udp ${p}`, p] as const);
  if (tags.length === 0) throw new Error(`${conf}: no server blocks`);
  return { args: [corednsMain, '--host', '127.0.0.1', ...args], ports: new Map(tags), primary: tags[0]![0], http: false };
}

/** The ports reported by `<echo|dns> listening on HOST:PORT[ (tag)]` lines, by tag. */
function listeningPorts(output: string): Map<string, number> {
  const ports = new Map<string, number>();
  for (const m of output.matchAll(/^(?:echo|dns) listening on \S+:(\d+)(?: \(([^)]+)\))?$/gm)) {
    if (!ports.has(m[2] ?? '')) ports.set(m[2] ?? '', Number(m[1]));
  }
  return ports;
}

export interface BackendOptions {
  /** The Service that selects the Deployment's pods, the echo's service name unless its env sets SERVICE_NAME. */
  service: string;
  /** Where each pod gets a directory standing in for its container's filesystem. */
  podsDir: string;
  /** Secrets and ConfigMaps for the pod's volumes. */
  lookup: ObjectLookup;
  timeoutMs: number;
  echoTo?: NodeJS.WritableStream;
}

/**
 * Runs one process for a Deployment's pods, chosen by its container's image
 * and env, and waits until it reports every port it serves.
 */
export async function startBackend(dep: DeploymentInfo, opts: BackendOptions): Promise<Backend> {
  const pod = podName(dep.name);
  const ip = '127.0.0.1';
  const container = await materializeContainer(dep, { name: pod, ip }, join(opts.podsDir, dep.namespace, pod), opts.lookup);
  const launch = /\/coredns(:|$)/.test(container.image)
    ? corednsLaunch(container.args)
    : echoLaunch(container.env, ['--namespace', dep.namespace, '--service', container.env.SERVICE_NAME ?? opts.service, '--pod', pod]);
  // Port 0: each process binds and then reports its ports, so no other process can take a
  // port between our choosing it and the backend binding it.
  // keepLog: the mirror tests read each pod's output the way upstream reads container logs.
  const proc = spawnTracked(process.execPath, launch.args, { echoTo: opts.echoTo, keepLog: true });
  const deadline = Date.now() + opts.timeoutMs;
  let ports = listeningPorts(proc.output());
  while ([...launch.ports.keys()].some((tag) => !ports.has(tag)) || (launch.http && !(await probe(ports.get(launch.primary)!)))) {
    if (proc.exited || Date.now() > deadline) {
      await proc.stop();
      throw new Error(`backend ${dep.namespace}/${pod} did not start` +
        `${proc.exited ? ' (exited)' : ` within ${opts.timeoutMs}ms`}\n${proc.output()}`);
    }
    await new Promise((r) => setTimeout(r, 50));
    ports = listeningPorts(proc.output());
  }
  const targetPorts: Record<number, number> = {};
  for (const [tag, containerPort] of launch.ports) targetPorts[containerPort] = ports.get(tag)!;
  return { namespace: dep.namespace, pod, labels: dep.podLabels, ip, port: ports.get(launch.primary)!, targetPorts, process: proc };
}
