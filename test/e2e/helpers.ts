// What the end-to-end tests share: the launcher, a free port, and polling.

import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

export { freePort } from '../../conformance/harness/processes.js';

export const BIN = fileURLToPath(new URL('../../../bin/archway.js', import.meta.url));
const WAIT_MS = 10_000;

/** Linux: the direct children of a process (the data-plane workers of `archway serve`). */
export async function childPids(pid: number): Promise<number[]> {
  const text = await readFile(`/proc/${pid}/task/${pid}/children`, 'utf8');
  return text.trim().split(/\s+/).filter(Boolean).map(Number);
}

/** Linux: the nice value of each thread of a process, by thread id. */
export async function threadNiceValues(pid: number): Promise<Map<number, number>> {
  const nice = new Map<number, number>();
  for (const tid of await readdir(`/proc/${pid}/task`)) {
    const stat = await readFile(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    // Fields after the parenthesised name start at the third; the nice value is the nineteenth.
    nice.set(Number(tid), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]));
  }
  return nice;
}

/** Polls `probe` until it returns a value (errors count as not yet), for up to 10 s. */
export async function eventually<T>(what: string, probe: () => Promise<T | undefined>): Promise<T> {
  const deadline = Date.now() + WAIT_MS;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const v = await probe();
      if (v !== undefined) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
}

/** A Service with one port, and the EndpointSlice that puts `backendPort` on 127.0.0.1 behind it. */
export function serviceYaml(name: string, backendPort: number, portName = 'http', servicePort = 80): string {
  return `apiVersion: v1
kind: Service
metadata: {name: ${name}, namespace: default}
spec:
  ports: [{name: ${portName}, port: ${servicePort}}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: ${name}-1
  namespace: default
  labels: {kubernetes.io/service-name: ${name}}
addressType: IPv4
ports: [{name: ${portName}, port: ${backendPort}}]
endpoints: [{addresses: [127.0.0.1]}]
`;
}
