import { SupportGateway, SupportHTTPRoute } from '../features.js';
import { InfrastructureNamespace, WebBackendNamespace } from '../harness/suite.js';
import { makeRequestAndExpectEventuallyConsistentResponse } from '../utils/http.js';
import { gatewayAndHTTPRoutesMustBeAccepted, httpRouteMustHaveResolvedRefsConditionsTrue, newGatewayRef } from '../utils/kubernetes.js';
import type { ConformanceTest } from './types.js';

export const HTTPRouteCrossNamespace: ConformanceTest = {
  shortName: 'HTTPRouteCrossNamespace',
  description: 'A single HTTPRoute in the gateway-conformance-web-backend namespace should attach to Gateway in another namespace',
  features: [SupportGateway, SupportHTTPRoute],
  manifests: ['tests/httproute-cross-namespace.yaml'],
  test: async (t, s) => {
    const routeNN = { name: 'cross-namespace', namespace: WebBackendNamespace };
    const gwNN = { name: 'backend-namespaces', namespace: InfrastructureNamespace };
    const gwAddr = await gatewayAndHTTPRoutesMustBeAccepted(t, s, s.controllerName, newGatewayRef(gwNN), routeNN);
    await httpRouteMustHaveResolvedRefsConditionsTrue(t, s, routeNN, gwNN);

    await t.run('Simple HTTP request should reach web-backend', (t) => makeRequestAndExpectEventuallyConsistentResponse(t, s, gwAddr, {
      request: { path: '/' },
      response: { statusCode: 200 },
      backend: 'web-backend',
      namespace: WebBackendNamespace,
    }));
  },
};
