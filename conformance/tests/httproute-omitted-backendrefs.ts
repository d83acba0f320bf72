import { SupportGateway, SupportHTTPRoute } from '../features.js';
import { InfraBackendServiceNameV1, InfrastructureNamespace } from '../harness/suite.js';
import { expectEventuallyConsistentResponses } from '../utils/http.js';
import { gatewayAndHTTPRoutesMustBeAccepted, httpRouteMustHaveResolvedRefsConditionsTrue, newGatewayRef } from '../utils/kubernetes.js';
import type { ConformanceTest } from './types.js';

export const HTTPRouteNoBackendRefs: ConformanceTest = {
  shortName: 'HTTPRouteNoBackendRefs',
  description: 'HTTPRoute rules with omitted or empty backendRefs explicitly respond with 500',
  features: [SupportGateway, SupportHTTPRoute],
  manifests: ['tests/httproute-omitted-backendrefs.yaml'],
  test: async (t, s) => {
    const ns = InfrastructureNamespace;
    const routeNN = { name: 'omitted-backendrefs', namespace: ns };
    const gwNN = { name: 'same-namespace', namespace: ns };
    const gwAddr = await gatewayAndHTTPRoutesMustBeAccepted(t, s, s.controllerName, newGatewayRef(gwNN), routeNN);
    await httpRouteMustHaveResolvedRefsConditionsTrue(t, s, routeNN, gwNN);

    await expectEventuallyConsistentResponses(t, s, gwAddr, [
      { request: { path: '/forward' }, backend: InfraBackendServiceNameV1, namespace: ns },
      { request: { path: '/omitted-no-forward' }, response: { statusCode: 500 } },
      { request: { path: '/empty-no-forward' }, response: { statusCode: 500 } },
    ]);
  },
};
