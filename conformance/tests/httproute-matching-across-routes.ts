import { SupportGateway, SupportHTTPRoute } from '../features.js';
import { InfraBackendServiceNameV1, InfraBackendServiceNameV2, InfrastructureNamespace } from '../harness/suite.js';
import { expectEventuallyConsistentResponses } from '../utils/http.js';
import { gatewayAndHTTPRoutesMustBeAccepted, httpRouteMustHaveResolvedRefsConditionsTrue, newGatewayRef } from '../utils/kubernetes.js';
import type { ConformanceTest } from './types.js';

export const HTTPRouteMatchingAcrossRoutes: ConformanceTest = {
  shortName: 'HTTPRouteMatchingAcrossRoutes',
  description: 'Two HTTPRoutes with path matching for different backends',
  features: [SupportGateway, SupportHTTPRoute],
  manifests: ['tests/httproute-matching-across-routes.yaml'],
  test: async (t, s) => {
    const ns = InfrastructureNamespace;
    const routeNN1 = { name: 'matching-part1', namespace: ns };
    const routeNN2 = { name: 'matching-part2', namespace: ns };
    const gwNN = { name: 'same-namespace', namespace: ns };
    const gwAddr = await gatewayAndHTTPRoutesMustBeAccepted(t, s, s.controllerName, newGatewayRef(gwNN), routeNN1, routeNN2);
    await httpRouteMustHaveResolvedRefsConditionsTrue(t, s, routeNN1, gwNN);
    await httpRouteMustHaveResolvedRefsConditionsTrue(t, s, routeNN2, gwNN);

    const v1 = { backend: InfraBackendServiceNameV1, namespace: ns };
    const v2 = { backend: InfraBackendServiceNameV2, namespace: ns };
    await expectEventuallyConsistentResponses(t, s, gwAddr, [
      { request: { host: 'example.com', path: '/' }, ...v1 },
      { request: { host: 'example.com', path: '/example' }, ...v1 },
      { request: { host: 'example.net', path: '/example' }, ...v1 },
      { request: { host: 'example.com', path: '/example', headers: { Version: 'one' } }, ...v1 },
      { request: { host: 'example.com', path: '/v2' }, ...v2 },
      { request: { host: 'example.net', path: '/v2' }, ...v1 },
      { request: { host: 'example.com', path: '/v2/example' }, ...v2 },
      { request: { host: 'example.com', path: '/', headers: { Version: 'two' } }, ...v2 },
    ]);
  },
};
