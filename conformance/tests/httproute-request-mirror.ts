import { randomUUID } from 'node:crypto';
import { SupportGateway, SupportHTTPRoute } from '../features.js';
import type { ConformanceSuite } from '../harness/suite.js';
import { InfraBackendServiceNameV1, InfraBackendServiceNameV2, InfraBackendServiceNameV3, InfrastructureNamespace } from '../harness/suite.js';
import { getTestCaseName, makeRequestAndExpectEventuallyConsistentResponse, type ExpectedResponse } from '../utils/http.js';
import { gatewayAndHTTPRoutesMustBeAccepted, httpRouteMustHaveResolvedRefsConditionsTrue, newGatewayRef, type NamespacedName } from '../utils/kubernetes.js';
import { addRequestIDQueryParam, expectMirroredRequest, mirrorLogRegexp, type MirroredBackend } from '../utils/mirror.js';
import { sleep, type T } from '../utils/t.js';
import type { ConformanceTest } from './types.js';

// Upstream's httproute-request-mirror.go, httproute-request-multiple-mirrors.go
// and httproute-request-percentage-mirror.go.

type MirrorCase = ExpectedResponse & { mirroredTo: MirroredBackend[] };

const ns = InfrastructureNamespace;
const modifiedHeaders = {
  sent: { 'X-Header-Remove': 'remove-val', 'X-Header-Add-Append': 'append-val-1' },
  seen: { 'X-Header-Add': 'header-val-1', 'X-Header-Add-Append': 'append-val-1,header-val-2', 'X-Header-Set': 'set-overwrites-values' },
};

function mirrorCase(path: string, mirroredTo: MirroredBackend[], modifyHeaders = false): MirrorCase {
  return {
    request: { path, ...(modifyHeaders ? { headers: modifiedHeaders.sent } : {}) },
    expectedRequest: { path, ...(modifyHeaders ? { headers: modifiedHeaders.seen, absentHeaders: ['X-Header-Remove'] } : {}) },
    backend: InfraBackendServiceNameV1,
    mirroredTo,
    namespace: ns,
  };
}

const mirrorTo = (name: string, percent?: number): MirroredBackend => ({ name, namespace: ns, ...(percent !== undefined ? { percent } : {}) });

async function routeAccepted(t: T, s: ConformanceSuite, route: string, checkResolvedRefs: boolean): Promise<string> {
  const routeNN: NamespacedName = { name: route, namespace: ns };
  const gwNN = { name: 'same-namespace', namespace: ns };
  const gwAddr = await gatewayAndHTTPRoutesMustBeAccepted(t, s, s.controllerName, newGatewayRef(gwNN), routeNN);
  if (checkResolvedRefs) await httpRouteMustHaveResolvedRefsConditionsTrue(t, s, routeNN, gwNN);
  return gwAddr;
}

/** Each case with a fresh request id, its mirror logs watched from before the request is sent. */
async function runMirrorCases(t: T, s: ConformanceSuite, gwAddr: string, cases: readonly MirrorCase[]): Promise<void> {
  await t.parallel(cases.map((c, i) => [getTestCaseName(c, i), async (t: T) => {
    const tc = addRequestIDQueryParam(c, randomUUID());
    const waitForMirroredRequests = expectMirroredRequest(t, s, c.mirroredTo, tc.request.path);
    try {
      await makeRequestAndExpectEventuallyConsistentResponse(t, s, gwAddr, tc);
    } finally {
      await waitForMirroredRequests();
    }
  }] as const));
}

export const HTTPRouteRequestMirror: ConformanceTest = {
  shortName: 'HTTPRouteRequestMirror',
  description: 'An HTTPRoute with request mirror filter',
  features: [SupportGateway, SupportHTTPRoute, 'HTTPRouteRequestMirror'],
  manifests: ['tests/httproute-request-mirror.yaml'],
  test: async (t, s) => {
    const gwAddr = await routeAccepted(t, s, 'request-mirror', false);
    await runMirrorCases(t, s, gwAddr, [
      mirrorCase('/mirror', [mirrorTo(InfraBackendServiceNameV2)]),
      mirrorCase('/mirror-and-modify-headers', [mirrorTo(InfraBackendServiceNameV2)], true),
    ]);
  },
};

export const HTTPRouteRequestMultipleMirrors: ConformanceTest = {
  shortName: 'HTTPRouteRequestMultipleMirrors',
  description: 'An HTTPRoute with multiple request mirror filters',
  features: [SupportGateway, SupportHTTPRoute, 'HTTPRouteRequestMirror', 'HTTPRouteRequestMultipleMirrors'],
  manifests: ['tests/httproute-request-multiple-mirrors.yaml'],
  test: async (t, s) => {
    const gwAddr = await routeAccepted(t, s, 'request-multiple-mirrors', false);
    const both = () => [mirrorTo(InfraBackendServiceNameV2), mirrorTo(InfraBackendServiceNameV3)];
    await runMirrorCases(t, s, gwAddr, [
      mirrorCase('/multi-mirror', both()),
      mirrorCase('/multi-mirror-and-modify-request-headers', both(), true),
    ]);
  },
};

// Upstream's distribution parameters: 500 requests, 10 at a time, counts
// within 3 binomial standard deviations, up to 5 rounds.
const concurrentRequests = 10;
const toleranceStdDevs = 3.0;
const totalRequests = 500;
const numDistributionChecks = 5;

/** undefined when every mirror's count of the path since `since` is within tolerance, otherwise why not. */
function mirroredDistributionMismatch(t: T, s: ConformanceSuite, tc: MirrorCase, since: number): string | undefined {
  const re = mirrorLogRegexp(tc.request.path);
  const errs: string[] = [];
  for (const m of tc.mirroredTo) {
    const actual = s.echoLogs(m.namespace, m.name, since).filter((l) => re.test(l)).length;
    const p = (m.percent ?? 0) / 100;
    const expected = totalRequests * p;
    const margin = toleranceStdDevs * Math.sqrt(totalRequests * p * (1 - p));
    t.log(`Pod: ${m.name}, Expected: ${expected} (min: ${expected - margin}, max: ${expected + margin}), Actual: ${actual}`);
    if (actual < expected - margin || actual > expected + margin) {
      errs.push(`pod ${m.name} did not meet the mirroring percentage within tolerance. Expected between ${expected - margin} and ${expected + margin}, but got ${actual}`);
    }
  }
  return errs.length > 0 ? errs.join('; ') : undefined;
}

export const HTTPRouteRequestPercentageMirror: ConformanceTest = {
  shortName: 'HTTPRouteRequestPercentageMirror',
  description: 'An HTTPRoute with percentage based request mirroring',
  features: [SupportGateway, SupportHTTPRoute, 'HTTPRouteRequestPercentageMirror'],
  manifests: ['tests/httproute-request-percentage-mirror.yaml'],
  test: async (t, s) => {
    const gwAddr = await routeAccepted(t, s, 'request-percentage-mirror', true);
    const cases = [
      mirrorCase('/percent-mirror', [mirrorTo(InfraBackendServiceNameV2, 20)]),
      mirrorCase('/percent-mirror-fraction', [mirrorTo(InfraBackendServiceNameV2, 50)]),
      mirrorCase('/percent-mirror-and-modify-headers', [mirrorTo(InfraBackendServiceNameV2, 35)], true),
    ];
    // Sequential, as upstream: the subtests are not parallel.
    for (const [i, base] of cases.entries()) {
      await t.run(getTestCaseName(base, i), async (t) => {
        await makeRequestAndExpectEventuallyConsistentResponse(t, s, gwAddr, base);
        // One good response per request is enough here.
        const single = { roundTripper: s.roundTripper, timeouts: { ...s.timeouts, requiredConsecutiveSuccesses: 1 } };
        let last = '';
        for (let k = 0; k < numDistributionChecks; k++) {
          const tc = { ...addRequestIDQueryParam(base, randomUUID()), mirroredTo: base.mirroredTo };
          const since = Date.now();
          let next = 0;
          await Promise.all(Array.from({ length: concurrentRequests }, async () => {
            while (next < totalRequests) {
              next++;
              await makeRequestAndExpectEventuallyConsistentResponse(t, single, gwAddr, tc).catch(() => undefined);
            }
          }));
          if (t.failed) t.fatal('requests failed while sending the distribution sample');
          // Mirrors are sent asynchronously and logs arrive through a pipe; give the last ones a moment.
          await sleep(200);
          last = mirroredDistributionMismatch(t, s, tc, since) ?? '';
          if (last === '') return;
          t.log(`Traffic distribution test failed (${k + 1}/${numDistributionChecks}): ${last}`);
          await sleep(2_000);
        }
        t.fatal(`Percentage based mirror distribution tests failed: ${last}`);
      });
    }
  },
};
