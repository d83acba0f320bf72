import { SupportGateway, SupportHTTPRoute } from '../features.js';
import { InfraBackendServiceNameV1 as V1, InfraBackendServiceNameV2 as V2, InfraBackendServiceNameV3 as V3, InfrastructureNamespace } from '../harness/suite.js';
import { expectEventuallyConsistentResponses, type ExpectedResponse } from '../utils/http.js';
import { gatewayAndHTTPRoutesMustBeAccepted, httpRouteMustHaveResolvedRefsConditionsTrue, newGatewayRef } from '../utils/kubernetes.js';
import type { ConformanceTest } from './types.js';

export const HTTPRouteMethodMatching: ConformanceTest = {
  shortName: 'HTTPRouteMethodMatching',
  description: 'A single HTTPRoute with method matching for different backends',
  features: [SupportGateway, SupportHTTPRoute, 'HTTPRouteMethodMatching'],
  manifests: ['tests/httproute-method-matching.yaml'],
  test: async (t, s) => {
    const ns = InfrastructureNamespace;
    const routeNN = { name: 'method-matching', namespace: ns };
    const gwNN = { name: 'same-namespace', namespace: ns };
    const gwAddr = await gatewayAndHTTPRoutesMustBeAccepted(t, s, s.controllerName, newGatewayRef(gwNN), routeNN);
    await httpRouteMustHaveResolvedRefsConditionsTrue(t, s, routeNN, gwNN);

    const to = (method: string, path: string, backend: string, headers?: Record<string, string>): ExpectedResponse =>
      ({ request: { method, path, ...(headers ? { headers } : {}) }, backend, namespace: ns });
    const notFound = (method: string, path: string): ExpectedResponse => ({ request: { method, path }, response: { statusCode: 404 } });
    await expectEventuallyConsistentResponses(t, s, gwAddr, [
      to('POST', '/', V1),
      to('GET', '/', V2),
      notFound('HEAD', '/'),
      // method combined with other core matches
      to('GET', '/path1', V1),
      to('PUT', '/', V2, { version: 'one' }),
      to('POST', '/path2', V3, { version: 'two' }),
      // ORed matches: one of them suffices
      to('PATCH', '/path3', V1),
      to('DELETE', '/path4', V1, { version: 'three' }),
      // ANDed match types: a subset does not match
      notFound('PUT', '/'),
      notFound('DELETE', '/path4'),
      // precedence between several matching rules
      to('PATCH', '/path5', V1),
      to('PATCH', '/', V2, { version: 'four' }),
    ]);
  },
};
