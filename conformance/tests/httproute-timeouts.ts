import { SupportGateway, SupportHTTPRoute } from '../features.js';
import { InfrastructureNamespace } from '../harness/suite.js';
import { expectEventuallyConsistentResponses } from '../utils/http.js';
import { gatewayAndHTTPRoutesMustBeAccepted, httpRouteMustHaveResolvedRefsConditionsTrue, newGatewayRef } from '../utils/kubernetes.js';
import type { ConformanceTest } from './types.js';

// Upstream's httproute-timeout-request.go and httproute-timeout-backend-request.go:
// the echo's ?delay=1s outlasts the route's 500ms timeout unless a rule disables it.

function timeoutTest(shortName: string, description: string, feature: string, manifest: string, routeName: string, prefix: string): ConformanceTest {
  return {
    shortName,
    description,
    features: [SupportGateway, SupportHTTPRoute, feature],
    manifests: [manifest],
    test: async (t, s) => {
      const ns = InfrastructureNamespace;
      const routeNN = { name: routeName, namespace: ns };
      const gwNN = { name: 'same-namespace', namespace: ns };
      const gwAddr = await gatewayAndHTTPRoutesMustBeAccepted(t, s, s.controllerName, newGatewayRef(gwNN), routeNN);
      await httpRouteMustHaveResolvedRefsConditionsTrue(t, s, routeNN, gwNN);
      await expectEventuallyConsistentResponses(t, s, gwAddr, [
        { request: { path: `/${prefix}` }, response: { statusCode: 200 }, namespace: ns },
        { request: { path: `/${prefix}?delay=1s` }, response: { statusCode: 504 }, namespace: ns },
        { request: { path: `/disable-${prefix}?delay=1s` }, response: { statusCode: 200 }, namespace: ns },
      ]);
    },
  };
}

export const HTTPRouteTimeoutRequest = timeoutTest('HTTPRouteTimeoutRequest', 'An HTTPRoute with request timeout',
  'HTTPRouteRequestTimeout', 'tests/httproute-timeout-request.yaml', 'request-timeout', 'request-timeout');

export const HTTPRouteTimeoutBackendRequest = timeoutTest('HTTPRouteTimeoutBackendRequest', 'An HTTPRoute with backend request timeout',
  'HTTPRouteBackendTimeout', 'tests/httproute-timeout-backend-request.yaml', 'backend-request-timeout', 'backend-timeout');
