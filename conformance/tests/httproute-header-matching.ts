import { SupportGateway, SupportHTTPRoute } from '../features.js';
import { InfraBackendServiceNameV1, InfraBackendServiceNameV2, InfrastructureNamespace } from '../harness/suite.js';
import { expectEventuallyConsistentResponses } from '../utils/http.js';
import { gatewayAndHTTPRoutesMustBeAccepted, httpRouteMustHaveResolvedRefsConditionsTrue, newGatewayRef } from '../utils/kubernetes.js';
import type { ConformanceTest } from './types.js';

export const HTTPRouteHeaderMatching: ConformanceTest = {
  shortName: 'HTTPRouteHeaderMatching',
  description: 'A single HTTPRoute with header matching for different backends',
  features: [SupportGateway, SupportHTTPRoute],
  manifests: ['tests/httproute-header-matching.yaml'],
  test: async (t, s) => {
    const ns = InfrastructureNamespace;
    const routeNN = { name: 'header-matching', namespace: ns };
    const gwNN = { name: 'same-namespace', namespace: ns };
    const gwAddr = await gatewayAndHTTPRoutesMustBeAccepted(t, s, s.controllerName, newGatewayRef(gwNN), routeNN);
    await httpRouteMustHaveResolvedRefsConditionsTrue(t, s, routeNN, gwNN);

    const v1 = { backend: InfraBackendServiceNameV1, namespace: ns };
    const v2 = { backend: InfraBackendServiceNameV2, namespace: ns };
    const notFound = { response: { statusCode: 404 } };
    await expectEventuallyConsistentResponses(t, s, gwAddr, [
      { request: { path: '/', headers: { Version: 'one' } }, ...v1 },
      { request: { path: '/', headers: { Version: 'two' } }, ...v2 },
      { request: { path: '/', headers: { Version: 'two', Color: 'orange' } }, ...v1 },
      { request: { path: '/', headers: { Version: 'two', Color: 'blue' } }, ...v2 },
      { request: { path: '/', headers: { Color: 'orange' } }, ...notFound },
      { request: { path: '/', headers: { 'Some-Other-Header': 'one' } }, ...notFound },
      { request: { path: '/', headers: { Color: 'blue' } }, ...v1 },
      { request: { path: '/', headers: { Color: 'green' } }, ...v1 },
      { request: { path: '/', headers: { Color: 'red' } }, ...v2 },
      { request: { path: '/', headers: { Color: 'yellow' } }, ...v2 },
      { request: { path: '/', headers: { Color: 'purple' } }, ...notFound },
    ]);
  },
};
