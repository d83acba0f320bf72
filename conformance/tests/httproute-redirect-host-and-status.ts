import { SupportGateway, SupportHTTPRoute } from '../features.js';
import { InfrastructureNamespace } from '../harness/suite.js';
import { expectEventuallyConsistentResponses } from '../utils/http.js';
import { gatewayAndHTTPRoutesMustBeAccepted, httpRouteMustHaveResolvedRefsConditionsTrue, newGatewayRef } from '../utils/kubernetes.js';
import type { ConformanceTest } from './types.js';

// Upstream sets UnfollowRedirect on these requests; this suite's round
// tripper never follows redirects, so the 3xx itself is what gets compared.
export const HTTPRouteRedirectHostAndStatus: ConformanceTest = {
  shortName: 'HTTPRouteRedirectHostAndStatus',
  description: 'An HTTPRoute with hostname and statusCode redirect filters',
  features: [SupportGateway, SupportHTTPRoute],
  manifests: ['tests/httproute-redirect-host-and-status.yaml'],
  test: async (t, s) => {
    const ns = InfrastructureNamespace;
    const routeNN = { name: 'redirect-host-and-status', namespace: ns };
    const gwNN = { name: 'same-namespace', namespace: ns };
    const gwAddr = await gatewayAndHTTPRoutesMustBeAccepted(t, s, s.controllerName, newGatewayRef(gwNN), routeNN);
    await httpRouteMustHaveResolvedRefsConditionsTrue(t, s, routeNN, gwNN);

    await expectEventuallyConsistentResponses(t, s, gwAddr, [
      { request: { path: '/hostname-redirect' }, response: { statusCode: 302 }, redirectRequest: { host: 'example.org' }, namespace: ns },
      { request: { path: '/host-and-status' }, response: { statusCode: 301 }, redirectRequest: { host: 'example.org' }, namespace: ns },
    ]);
  },
};
