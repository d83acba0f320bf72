// Port of upstream conformance/utils/weight/weight.go.
import type { T } from './t.js';

export const maxTestRetries = 10;

const concurrentRequests = 10;
const tolerancePercentage = 0.05;
const totalRequests = 500;

/** `<backend>-<deployment hash>-<pod hash>` → `<backend>`. */
export function extractBackendName(podName: string): string {
  const parts = podName.split('-');
  return parts.length < 3 ? podName : parts.slice(0, -2).join('-');
}

/** Upstream's AddRandomEntropy: half the time, a random value below 10000 for the caller to add to its request. */
export function randomEntropy(): string | undefined {
  return Math.random() < 0.5 ? undefined : String(Math.floor(Math.random() * 10_000));
}

/** Sends requests and returns the pod that answered each one. */
export type RequestSender = () => Promise<string>;

/** Returns why the observed distribution is off, or undefined when it is within tolerance. */
export async function testWeightedDistribution(send: RequestSender, expectedWeights: Record<string, number>): Promise<string | undefined> {
  const seen = new Map<string, number>();
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < totalRequests) {
      next++;
      const pod = await send();
      const backend = extractBackendName(pod);
      if (!(backend in expectedWeights)) throw new Error(`request was handled by an unexpected pod "${pod}" (extracted backend: "${backend}")`);
      seen.set(backend, (seen.get(backend) ?? 0) + 1);
    }
  };
  try {
    await Promise.all(Array.from({ length: concurrentRequests }, worker));
  } catch (err) {
    return `error while sending requests: ${(err as Error).message}`;
  }

  const errs: string[] = [];
  const expectedActive = Object.values(expectedWeights).filter((w) => w > 0).length;
  if (seen.size !== expectedActive) errs.push(`expected ${expectedActive} backends to receive traffic, but got ${seen.size}`);
  for (const [backend, want] of Object.entries(expectedWeights)) {
    const count = seen.get(backend);
    if (count === undefined && want !== 0) {
      errs.push(`expect traffic to hit backend "${backend}" - but none was received`);
      continue;
    }
    const got = (count ?? 0) / totalRequests;
    if (Math.abs(got - want) > tolerancePercentage) {
      errs.push(`backend "${backend}" weighted traffic of ${got} not within tolerance ${want} (+/-${tolerancePercentage})`);
    }
  }
  return errs.length > 0 ? errs.sort().join('; ') : undefined;
}

/** The retry loop upstream's weighted-routing tests wrap around TestWeightedDistribution; fatal when no round is within tolerance. */
export async function expectWeightedDistribution(t: T, send: RequestSender, expectedWeights: Record<string, number>): Promise<void> {
  let last = '';
  for (let i = 0; i < maxTestRetries; i++) {
    const err = await testWeightedDistribution(send, expectedWeights);
    if (err === undefined) return;
    last = err;
    t.log(`weighted distribution attempt ${i + 1}/${maxTestRetries} failed: ${err}`);
  }
  t.fatal(`weighted distribution did not converge within tolerance: ${last}`);
}
