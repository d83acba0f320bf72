import { SupportGateway, SupportHTTPRoute } from '../features.js';
import { InfraBackendServiceNameV1, InfrastructureGatewayName, InfrastructureNamespace } from '../harness/suite.js';
import { makeRequestAndExpectEventuallyConsistentResponse } from '../utils/http.js';
import { gatewayAndHTTPRoutesMustBeAccepted, httpRouteMustHaveResolvedRefsConditionsTrue, newGatewayRef } from '../utils/kubernetes.js';
import type { ConformanceTest } from './types.js';

export const HTTPRouteSimpleSameNamespace: ConformanceTest = {
  shortName: 'HTTPRouteSimpleSameNamespace',
  description: 'A single HTTPRoute in the gateway-conformance-infra namespace attaches to a Gateway in the same namespace',
  features: [SupportGateway, SupportHTTPRoute],
  manifests: ['tests/httproute-simple-same-namespace.yaml'],
  test: async (t, s) => {
    const routeNN = { name: InfrastructureGatewayName, namespace: InfrastructureNamespace };
    const gwNN = { name: 'same-namespace', namespace: InfrastructureNamespace };
    const gwAddr = await gatewayAndHTTPRoutesMustBeAccepted(t, s, s.controllerName, newGatewayRef(gwNN), routeNN);
    await httpRouteMustHaveResolvedRefsConditionsTrue(t, s, routeNN, gwNN);

    await t.run('Simple HTTP request should reach infra-backend', (t) => makeRequestAndExpectEventuallyConsistentResponse(t, s, gwAddr, {
      request: { path: '/' },
      response: { statusCode: 200 },
      backend: InfraBackendServiceNameV1,
      namespace: InfrastructureNamespace,
    }));
  },
};
