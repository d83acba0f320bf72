import { execFileSync } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { request } from 'node:http';
import type { DeploymentInfo, PodEndpoint } from './endpointslices.js';
import { archwayBin } from './paths.js';
import { spawnTracked, type Tracked } from './processes.js';

/** One `archway echo` process standing in for the pods of a Deployment. */
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
export const H2CContainerPort = 3001;

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

/** The ports `archway echo` reports as `echo listening on HOST:PORT[ (h2c)]`, once all have been. */
function listeningPorts(output: string, withH2C: boolean): { port: number; h2cPort?: number } | undefined {
  let port: number | undefined;
  let h2cPort: number | undefined;
  for (const m of output.matchAll(/^echo listening on \S+:(\d+)( \(h2c\))?$/gm)) {
    if (m[2]) h2cPort = Number(m[1]);
    else port ??= Number(m[1]);
  }
  if (port === undefined || (withH2C && h2cPort === undefined)) return undefined;
  return h2cPort === undefined ? { port } : { port, h2cPort };
}

export async function startBackend(dep: DeploymentInfo, service: string, timeoutMs: number, echoTo?: NodeJS.WritableStream): Promise<Backend> {
  const withH2C = echoSupportsH2CPort();
  const pod = podName(dep.name);
  // Port 0: the echo binds and then reports its ports, so no other process can take a
  // port between our choosing it and the echo binding it.
  // keepLog: the mirror tests read each pod's output the way upstream reads container logs.
  const proc = spawnTracked(process.execPath, [
    archwayBin, 'echo', '--host', '127.0.0.1', '--port', '0', '--namespace', dep.namespace, '--service', service, '--pod', pod,
    ...(withH2C ? ['--h2c-port', '0'] : []),
  ], { echoTo, keepLog: true });
  const deadline = Date.now() + timeoutMs;
  let ports: { port: number; h2cPort?: number } | undefined;
  while (!(ports = listeningPorts(proc.output(), withH2C)) || !(await probe(ports.port))) {
    if (proc.exited || Date.now() > deadline) {
      await proc.stop();
      throw new Error(`echo backend ${dep.namespace}/${pod} did not start` +
        `${proc.exited ? ' (exited)' : ` within ${timeoutMs}ms`}\n${proc.output()}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  const { port, h2cPort } = ports;
  return {
    namespace: dep.namespace, pod, labels: dep.podLabels, ip: '127.0.0.1', port, process: proc,
    ...(h2cPort !== undefined ? { targetPorts: { [H2CContainerPort]: h2cPort } } : {}),
  };
}
