import { SupportGateway, SupportHTTPRoute } from '../features.js';
import { InfraBackendServiceNameV1, InfraBackendServiceNameV2, InfrastructureNamespace } from '../harness/suite.js';
import { expectEventuallyConsistentResponses } from '../utils/http.js';
import { gatewayAndHTTPRoutesMustBeAccepted, httpRouteMustHaveResolvedRefsConditionsTrue, newGatewayRef } from '../utils/kubernetes.js';
import type { ConformanceTest } from './types.js';

export const HTTPRouteMatching: ConformanceTest = {
  shortName: 'HTTPRouteMatching',
  description: 'A single HTTPRoute with path and header matching for different backends',
  features: [SupportGateway, SupportHTTPRoute],
  manifests: ['tests/httproute-matching.yaml'],
  test: async (t, s) => {
    const ns = InfrastructureNamespace;
    const routeNN = { name: 'matching', namespace: ns };
    const gwNN = { name: 'same-namespace', namespace: ns };
    const gwAddr = await gatewayAndHTTPRoutesMustBeAccepted(t, s, s.controllerName, newGatewayRef(gwNN), routeNN);
    await httpRouteMustHaveResolvedRefsConditionsTrue(t, s, routeNN, gwNN);

    const v1 = { backend: InfraBackendServiceNameV1, namespace: ns };
    const v2 = { backend: InfraBackendServiceNameV2, namespace: ns };
    await expectEventuallyConsistentResponses(t, s, gwAddr, [
      { request: { path: '/' }, ...v1 },
      { request: { path: '/example' }, ...v1 },
      { request: { path: '/', headers: { Version: 'one' } }, ...v1 },
      { request: { path: '/v2' }, ...v2 },
      { request: { path: '/v2/example' }, ...v2 },
      { request: { path: '/', headers: { Version: 'two' } }, ...v2 },
      { request: { path: '/v2/' }, ...v2 },
      { request: { path: '/v2example' }, ...v1 },
      { request: { path: '/foo/v2/example' }, ...v1 },
    ]);
  },
};
