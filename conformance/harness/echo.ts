import { execFileSync } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { request } from 'node:http';
import type { DeploymentInfo, PodEndpoint } from './endpointslices.js';
import { archwayBin } from './paths.js';
import { freePort, spawnTracked, type Tracked } from './processes.js';

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

export async function startBackend(dep: DeploymentInfo, service: string, timeoutMs: number, echoTo?: NodeJS.WritableStream): Promise<Backend> {
  const port = await freePort();
  const h2cPort = echoSupportsH2CPort() ? await freePort() : undefined;
  const pod = podName(dep.name);
  // keepLog: the mirror tests read each pod's output the way upstream reads container logs.
  const proc = spawnTracked(process.execPath, [
    archwayBin, 'echo', '--port', String(port), '--namespace', dep.namespace, '--service', service, '--pod', pod,
    ...(h2cPort !== undefined ? ['--h2c-port', String(h2cPort)] : []),
  ], { echoTo, keepLog: true });
  const deadline = Date.now() + timeoutMs;
  while (!(await probe(port))) {
    if (proc.exited || Date.now() > deadline) {
      await proc.stop();
      throw new Error(`echo backend ${dep.namespace}/${pod} did not answer on 127.0.0.1:${port}` +
        `${proc.exited ? ' (exited)' : ` within ${timeoutMs}ms`}\n${proc.output()}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    namespace: dep.namespace, pod, labels: dep.podLabels, ip: '127.0.0.1', port, process: proc,
    ...(h2cPort !== undefined ? { targetPorts: { [H2CContainerPort]: h2cPort } } : {}),
  };
}
