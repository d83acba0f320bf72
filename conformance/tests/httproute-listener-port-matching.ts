import { SupportGateway, SupportHTTPRoute } from '../features.js';
import { InfraBackendServiceNameV1, InfraBackendServiceNameV2, InfraBackendServiceNameV3, InfrastructureNamespace } from '../harness/suite.js';
import { getTestCaseName, makeRequestAndExpectEventuallyConsistentResponse, type ExpectedResponse } from '../utils/http.js';
import { gatewayAndHTTPRoutesMustBeAccepted, httpRouteMustHaveResolvedRefsConditionsTrue, namespacesMustBeReady, newGatewayRef } from '../utils/kubernetes.js';
import type { T } from '../utils/t.js';
import type { ConformanceTest } from './types.js';

export const HTTPRouteListenerPortMatching: ConformanceTest = {
  shortName: 'HTTPRouteListenerPortMatching',
  description: 'Multiple HTTP listeners with different ports, each with a different HTTPRoute',
  features: [SupportGateway, SupportHTTPRoute, 'HTTPRouteParentRefPort'],
  manifests: ['tests/httproute-listener-port-matching.yaml'],
  test: async (t, s) => {
    const ns = InfrastructureNamespace;
    // The manifest adds a Gateway to the infra namespace.
    await namespacesMustBeReady(t, s, [ns]);
    const gwNN = { name: 'httproute-listener-port-matching', namespace: ns };
    const accepted = async (listener: string, route: string) => {
      const routeNN = { name: route, namespace: ns };
      const addr = await gatewayAndHTTPRoutesMustBeAccepted(t, s, s.controllerName, newGatewayRef(gwNN, listener), routeNN);
      await httpRouteMustHaveResolvedRefsConditionsTrue(t, s, routeNN, gwNN);
      return addr;
    };
    const gwAddr80 = await accepted('listener-1', 'backend-v1');
    const gwAddr8080 = await accepted('listener-2', 'backend-v2');
    const gwAddr8090 = await accepted('listener-4', 'backend-v3');

    const cases: ExpectedResponse[] = [
      { request: { host: 'foo.com', path: '/' }, backend: InfraBackendServiceNameV1, namespace: ns },
      { request: { host: 'foo.com:8080', path: '/' }, backend: InfraBackendServiceNameV2, namespace: ns },
      { request: { host: 'bar.com:8080', path: '/' }, backend: InfraBackendServiceNameV2, namespace: ns },
      { request: { host: 'foo.com:8090', path: '/' }, backend: InfraBackendServiceNameV3, namespace: ns },
      { request: { host: 'bar.com:8090', path: '/' }, response: { statusCode: 404 } },
    ];
    // The port in the Host header picks the listener the request is sent to.
    const addrFor = (host: string) => ({ 8080: gwAddr8080, 8090: gwAddr8090 } as Record<string, string>)[host.split(':')[1] ?? ''] ?? gwAddr80;
    await t.parallel(cases.map((tc, i) => [getTestCaseName(tc, i),
      (t: T) => makeRequestAndExpectEventuallyConsistentResponse(t, s, addrFor(tc.request.host!), tc)] as const));
  },
};
