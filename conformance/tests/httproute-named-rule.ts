import { SupportGateway, SupportHTTPRoute } from '../features.js';
import { InfrastructureNamespace } from '../harness/suite.js';
import { expectEventuallyConsistentResponses } from '../utils/http.js';
import { gatewayAndHTTPRoutesMustBeAccepted, httpRouteMustHaveResolvedRefsConditionsTrue, newGatewayRef } from '../utils/kubernetes.js';
import type { ConformanceTest } from './types.js';

export const HTTPRouteNamedRule: ConformanceTest = {
  shortName: 'HTTPRouteNamedRule',
  description: 'An HTTPRoute with a named HTTPRouteRule',
  features: [SupportGateway, SupportHTTPRoute, 'HTTPRouteNamedRouteRule'],
  manifests: ['tests/httproute-named-rule.yaml'],
  test: async (t, s) => {
    const ns = InfrastructureNamespace;
    const routeNN = { name: 'http-named-rules', namespace: ns };
    const gwNN = { name: 'same-namespace', namespace: ns };
    const gwAddr = await gatewayAndHTTPRoutesMustBeAccepted(t, s, s.controllerName, newGatewayRef(gwNN), routeNN);
    await httpRouteMustHaveResolvedRefsConditionsTrue(t, s, routeNN, gwNN);
    await expectEventuallyConsistentResponses(t, s, gwAddr, [
      { request: { path: '/named' }, response: { statusCode: 200 }, namespace: ns },
      { request: { path: '/unnamed' }, response: { statusCode: 200 }, namespace: ns },
    ]);
  },
};
