import { SupportGateway, SupportHTTPRoute } from '../features.js';
import { InfraBackendServiceNameV1, InfraBackendServiceNameV2, InfraBackendServiceNameV3, InfrastructureNamespace } from '../harness/suite.js';
import { makeRequestAndExpectEventuallyConsistentResponse } from '../utils/http.js';
import { gatewayAndHTTPRoutesMustBeAccepted, newGatewayRef } from '../utils/kubernetes.js';
import type { T } from '../utils/t.js';
import type { ConformanceTest } from './types.js';

export const HTTPRouteMultipleGateways: ConformanceTest = {
  shortName: 'HTTPRouteMultipleGateways',
  description: 'An HTTPRoute that is attached to multiple Gateways receives traffic from each Gateway independently, and shared routes are accessible via all parent Gateways while dedicated routes are only accessible via their respective parent.',
  features: [SupportGateway, SupportHTTPRoute],
  manifests: ['tests/httproute-multiple-gateways.yaml'],
  test: async (t, s) => {
    const ns = InfrastructureNamespace;
    const viaGateway = (gateway: string, dedicatedRoute: string, dedicatedBackend: string) => async (t: T) => {
      const routeNNs = [{ name: 'multiple-gateways-shared-route', namespace: ns }, { name: dedicatedRoute, namespace: ns }];
      const gwAddr = await gatewayAndHTTPRoutesMustBeAccepted(t, s, s.controllerName, newGatewayRef({ name: gateway, namespace: ns }), ...routeNNs);
      await t.run(`shared route is accessible and routed to ${InfraBackendServiceNameV1}`, (t) => makeRequestAndExpectEventuallyConsistentResponse(t, s, gwAddr, {
        request: { path: '/shared' }, response: { statusCode: 200 }, backend: InfraBackendServiceNameV1, namespace: ns,
      }));
      await t.run(`dedicated route is accessible and routed to ${dedicatedBackend}`, (t) => makeRequestAndExpectEventuallyConsistentResponse(t, s, gwAddr, {
        request: { path: '/' }, response: { statusCode: 200 }, backend: dedicatedBackend, namespace: ns,
      }));
    };
    await t.parallel([
      ['Gateway same-namespace', viaGateway('same-namespace', 'same-namespace-dedicated-route', InfraBackendServiceNameV2)],
      ['Gateway all-namespaces', viaGateway('all-namespaces', 'all-namespaces-dedicated-route', InfraBackendServiceNameV3)],
    ]);
  },
};
