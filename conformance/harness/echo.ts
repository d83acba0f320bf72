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

export async function startBackend(dep: DeploymentInfo, service: string, timeoutMs: number, echoTo?: NodeJS.WritableStream): Promise<Backend> {
  const port = await freePort();
  const pod = podName(dep.name);
  const proc = spawnTracked(process.execPath, [
    archwayBin, 'echo', '--port', String(port), '--namespace', dep.namespace, '--service', service, '--pod', pod,
  ], { echoTo });
  const deadline = Date.now() + timeoutMs;
  while (!(await probe(port))) {
    if (proc.exited || Date.now() > deadline) {
      await proc.stop();
      throw new Error(`echo backend ${dep.namespace}/${pod} did not answer on 127.0.0.1:${port}` +
        `${proc.exited ? ' (exited)' : ` within ${timeoutMs}ms`}\n${proc.output()}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return { namespace: dep.namespace, pod, labels: dep.podLabels, ip: '127.0.0.1', port, process: proc };
}
