import { SupportGateway, SupportHTTPRoute } from '../features.js';
import { InfraBackendServiceNameV1, InfraBackendServiceNameV2, InfraBackendServiceNameV3, InfrastructureNamespace } from '../harness/suite.js';
import { expectEventuallyConsistentResponses } from '../utils/http.js';
import { gatewayAndHTTPRoutesMustBeAccepted, httpRouteMustHaveResolvedRefsConditionsTrue, namespacesMustBeReady, newGatewayRef } from '../utils/kubernetes.js';
import type { ConformanceTest } from './types.js';

export const HTTPRouteListenerHostnameMatching: ConformanceTest = {
  shortName: 'HTTPRouteListenerHostnameMatching',
  description: 'Multiple HTTP listeners with the same port and different hostnames, each with a different HTTPRoute',
  features: [SupportGateway, SupportHTTPRoute],
  manifests: ['tests/httproute-listener-hostname-matching.yaml'],
  test: async (t, s) => {
    const ns = InfrastructureNamespace;
    await namespacesMustBeReady(t, s, [ns]);

    const routeNN1 = { name: 'backend-v1', namespace: ns };
    const routeNN2 = { name: 'backend-v2', namespace: ns };
    const routeNN3 = { name: 'backend-v3', namespace: ns };
    const gwNN = { name: 'httproute-listener-hostname-matching', namespace: ns };

    await gatewayAndHTTPRoutesMustBeAccepted(t, s, s.controllerName, newGatewayRef(gwNN, 'listener-1'), routeNN1);
    await httpRouteMustHaveResolvedRefsConditionsTrue(t, s, routeNN1, gwNN);
    await gatewayAndHTTPRoutesMustBeAccepted(t, s, s.controllerName, newGatewayRef(gwNN, 'listener-2'), routeNN2);
    await httpRouteMustHaveResolvedRefsConditionsTrue(t, s, routeNN2, gwNN);
    const gwAddr = await gatewayAndHTTPRoutesMustBeAccepted(t, s, s.controllerName, newGatewayRef(gwNN, 'listener-3', 'listener-4'), routeNN3);
    await httpRouteMustHaveResolvedRefsConditionsTrue(t, s, routeNN3, gwNN);

    const to = (host: string, backend: string) => ({ request: { host, path: '/' }, backend, namespace: ns });
    await expectEventuallyConsistentResponses(t, s, gwAddr, [
      to('bar.com', InfraBackendServiceNameV1),
      to('foo.bar.com', InfraBackendServiceNameV2),
      to('baz.bar.com', InfraBackendServiceNameV3),
      to('boo.bar.com', InfraBackendServiceNameV3),
      to('multiple.prefixes.bar.com', InfraBackendServiceNameV3),
      to('multiple.prefixes.foo.com', InfraBackendServiceNameV3),
      { request: { host: 'foo.com', path: '/' }, response: { statusCode: 404 } },
      { request: { host: 'no.matching.host', path: '/' }, response: { statusCode: 404 } },
    ]);
  },
};
