import { randomUUID } from 'node:crypto';
import { SupportGateway, SupportHTTPRoute } from '../features.js';
import { InfraBackendServiceNameV3, InfrastructureNamespace } from '../harness/suite.js';
import { awaitConvergence, compareRoundTrip, makeRequest } from '../utils/http.js';
import { gatewayAndHTTPRoutesMustBeAccepted, httpRouteMustHaveResolvedRefsConditionsTrue, newGatewayRef } from '../utils/kubernetes.js';
import type { T } from '../utils/t.js';
import type { ConformanceTest } from './types.js';

interface RetryCase {
  name: string;
  path: string;
  /** The echo's /retry/ simulation: fail with responseCode until succeedAfter attempts were made. */
  responseCode: string;
  succeedAfter: string;
  want: number;
}

const code500 = '/retry/code-500-attempts-3';
const codeAll = '/retry/code-all-attempts-2';

const cases: RetryCase[] = [
  { name: 'succeeds after 2 retries when retry is configured for status code 500 and max attempts is 3', path: code500, responseCode: '500', succeedAfter: '2', want: 200 },
  { name: 'fails when required retries on 500 exceed max attempts', path: code500, responseCode: '500', succeedAfter: '4', want: 500 },
  { name: 'does not retry on 503 when retry is only configured for status code 500', path: code500, responseCode: '503', succeedAfter: '2', want: 503 },
  { name: 'succeeds after 1 retry on 500 when retry is configured for all status code and max attempts is 2', path: codeAll, responseCode: '500', succeedAfter: '1', want: 200 },
  { name: 'fails when required retries on 500 exceed max attempts', path: codeAll, responseCode: '500', succeedAfter: '3', want: 500 },
  { name: 'succeeds after 1 retry on 502 when retry is configured for all status code and max attempts is 2', path: codeAll, responseCode: '502', succeedAfter: '1', want: 200 },
  { name: 'fails when required retries on 502 exceed max attempts', path: codeAll, responseCode: '502', succeedAfter: '3', want: 502 },
  { name: 'succeeds after 1 retry on 503 when retry is configured for all status code and max attempts is 2', path: codeAll, responseCode: '503', succeedAfter: '1', want: 200 },
  { name: 'fails when required retries on 503 exceed max attempts', path: codeAll, responseCode: '503', succeedAfter: '3', want: 503 },
  { name: 'succeeds after 1 retry on 504 when retry is configured for all status code and max attempts is 2', path: codeAll, responseCode: '504', succeedAfter: '1', want: 200 },
  { name: 'fails when required retries on 504 exceed max attempts', path: codeAll, responseCode: '504', succeedAfter: '3', want: 504 },
];

export const HTTPRouteRetry: ConformanceTest = {
  shortName: 'HTTPRouteRetry',
  description: 'An HTTPRoute that has a Retry policy configured should retry failed requests according to the specified codes and attempt limits, returning a successful response when the backend recovers within the retry budget and surfacing the original error when it does not.',
  features: [SupportGateway, SupportHTTPRoute, 'HTTPRouteRetry'],
  manifests: ['tests/httproute-retry.yaml'],
  test: async (t, s) => {
    const ns = InfrastructureNamespace;
    const routeNN = { name: 'retries', namespace: ns };
    const gwNN = { name: 'same-namespace', namespace: ns };
    const gwAddr = await gatewayAndHTTPRoutesMustBeAccepted(t, s, s.controllerName, newGatewayRef(gwNN), routeNN);
    await httpRouteMustHaveResolvedRefsConditionsTrue(t, s, routeNN, gwNN);

    const consistent = (t: T, tc: RetryCase) => awaitConvergence(t, s.timeouts.requiredConsecutiveSuccesses, s.timeouts.maxTimeToConsistency,
      s.timeouts.convergenceRetryDelay, async (elapsed) => {
        // A fresh uuid per probe: the echo counts attempts per uuid. Keys sorted, as Go's url.Values.Encode does.
        const query = new URLSearchParams([['responseCode', tc.responseCode], ['succeedAfter', tc.succeedAfter], ['uuid', randomUUID()]]);
        const { req, expected } = makeRequest({
          request: { path: `${tc.path}?${query.toString()}` },
          response: { statusCode: tc.want },
          backend: InfraBackendServiceNameV3,
          namespace: ns,
        }, gwAddr, 'HTTP', 'http');
        let captured;
        try {
          captured = await s.roundTripper.captureRoundTrip(req);
        } catch (err) {
          const msg = `request failed: ${(err as Error).message}`;
          t.log(`${msg} (after ${elapsed}ms)`);
          return msg;
        }
        const mismatch = compareRoundTrip(req, captured.cReq, captured.cRes, expected);
        if (mismatch) t.log(`${req.url.href}: ${mismatch} (after ${elapsed}ms)`);
        return mismatch;
      });
    await t.parallel(cases.map((tc, i) => [`${i} request to '${tc.path}' ${tc.name}`, (t: T) => consistent(t, tc)] as const));
  },
};
