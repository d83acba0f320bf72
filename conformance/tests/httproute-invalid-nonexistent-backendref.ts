import { SupportGateway, SupportHTTPRoute } from '../features.js';
import { InfrastructureNamespace } from '../harness/suite.js';
import { makeRequestAndExpectEventuallyConsistentResponse } from '../utils/http.js';
import { gatewayAndHTTPRoutesMustBeAccepted, httpRouteMustHaveCondition, newGatewayRef } from '../utils/kubernetes.js';
import type { ConformanceTest } from './types.js';

export const HTTPRouteInvalidNonExistentBackendRef: ConformanceTest = {
  shortName: 'HTTPRouteInvalidNonExistentBackendRef',
  description: 'A single HTTPRoute in the gateway-conformance-infra namespace should set a ResolvedRefs status False with reason BackendNotFound and return 500 when binding to a Gateway in the same namespace if the route has a BackendRef Service that does not exist',
  features: [SupportGateway, SupportHTTPRoute],
  manifests: ['tests/httproute-invalid-nonexistent-backendref.yaml'],
  test: async (t, s) => {
    const routeNN = { name: 'invalid-nonexistent-backend-ref', namespace: InfrastructureNamespace };
    const gwNN = { name: 'same-namespace', namespace: InfrastructureNamespace };
    const gwAddr = await gatewayAndHTTPRoutesMustBeAccepted(t, s, s.controllerName, newGatewayRef(gwNN), routeNN);

    await t.run('HTTPRoute with only a nonexistent BackendRef has a ResolvedRefs Condition with status False and Reason BackendNotFound', (t) => httpRouteMustHaveCondition(t, s, routeNN, gwNN, { type: 'ResolvedRefs', status: 'False', reason: 'BackendNotFound' }));

    await t.run('HTTP Request to invalid nonexistent backend receive a 500', (t) => makeRequestAndExpectEventuallyConsistentResponse(t, s, gwAddr, {
      request: { method: 'GET', path: '/' },
      response: { statusCode: 500 },
    }));
  },
};
