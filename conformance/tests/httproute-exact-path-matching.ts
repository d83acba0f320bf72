import { SupportGateway, SupportHTTPRoute } from '../features.js';
import { InfraBackendServiceNameV1, InfraBackendServiceNameV2, InfrastructureNamespace } from '../harness/suite.js';
import { expectEventuallyConsistentResponses } from '../utils/http.js';
import { gatewayAndHTTPRoutesMustBeAccepted, httpRouteMustHaveResolvedRefsConditionsTrue, newGatewayRef } from '../utils/kubernetes.js';
import type { ConformanceTest } from './types.js';

export const HTTPRouteExactPathMatching: ConformanceTest = {
  shortName: 'HTTPRouteExactPathMatching',
  description: 'A single HTTPRoute with exact path matching for different backends',
  features: [SupportGateway, SupportHTTPRoute],
  manifests: ['tests/httproute-exact-path-matching.yaml'],
  test: async (t, s) => {
    const ns = InfrastructureNamespace;
    const routeNN = { name: 'exact-matching', namespace: ns };
    const gwNN = { name: 'same-namespace', namespace: ns };
    const gwAddr = await gatewayAndHTTPRoutesMustBeAccepted(t, s, s.controllerName, newGatewayRef(gwNN), routeNN);
    await httpRouteMustHaveResolvedRefsConditionsTrue(t, s, routeNN, gwNN);

    await expectEventuallyConsistentResponses(t, s, gwAddr, [
      { request: { path: '/one' }, backend: InfraBackendServiceNameV1, namespace: ns },
      { request: { path: '/two' }, backend: InfraBackendServiceNameV2, namespace: ns },
      { request: { path: '/' }, response: { statusCode: 404 } },
      { request: { path: '/one/example' }, response: { statusCode: 404 } },
      { request: { path: '/two/' }, response: { statusCode: 404 } },
      { request: { path: '/Two' }, response: { statusCode: 404 } },
    ]);
  },
};
