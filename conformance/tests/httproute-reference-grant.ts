import { SupportGateway, SupportHTTPRoute, SupportReferenceGrant } from '../features.js';
import { InfrastructureNamespace, WebBackendNamespace } from '../harness/suite.js';
import { makeRequestAndExpectEventuallyConsistentResponse } from '../utils/http.js';
import { gatewayAndHTTPRoutesMustBeAccepted, httpRouteMustHaveResolvedRefsConditionsTrue, newGatewayRef } from '../utils/kubernetes.js';
import type { ConformanceTest } from './types.js';

export const HTTPRouteReferenceGrant: ConformanceTest = {
  shortName: 'HTTPRouteReferenceGrant',
  description: 'A single HTTPRoute in the gateway-conformance-infra namespace, with a backendRef in the gateway-conformance-web-backend namespace, should attach to Gateway in the gateway-conformance-infra namespace',
  features: [SupportGateway, SupportHTTPRoute, SupportReferenceGrant],
  manifests: ['tests/httproute-reference-grant.yaml'],
  test: async (t, s) => {
    const routeNN = { name: 'reference-grant', namespace: InfrastructureNamespace };
    const gwNN = { name: 'same-namespace', namespace: InfrastructureNamespace };
    const gwAddr = await gatewayAndHTTPRoutesMustBeAccepted(t, s, s.controllerName, newGatewayRef(gwNN), routeNN);
    await httpRouteMustHaveResolvedRefsConditionsTrue(t, s, routeNN, gwNN);

    await t.run('Simple HTTP request should reach web-backend', (t) => makeRequestAndExpectEventuallyConsistentResponse(t, s, gwAddr, {
      request: { method: 'GET', path: '/' },
      response: { statusCode: 200 },
      backend: 'web-backend',
      namespace: WebBackendNamespace,
    }));

    await s.cluster.delete('ReferenceGrant', WebBackendNamespace, 'reference-grant')
      .catch((err: Error) => t.fatal(`error deleting ReferenceGrant: ${err.message}`));

    await t.run('Simple HTTP request should return 500 after deleting the relevant reference grant', (t) => makeRequestAndExpectEventuallyConsistentResponse(t, s, gwAddr, {
      request: { method: 'GET', path: '/' },
      response: { statusCode: 500 },
    }));
  },
};
