import { SupportGateway, SupportHTTPRoute, SupportReferenceGrant } from '../features.js';
import { InfrastructureNamespace, WebBackendNamespace } from '../harness/suite.js';
import { makeRequestAndExpectEventuallyConsistentResponse } from '../utils/http.js';
import { gatewayAndHTTPRoutesMustBeAccepted, httpRouteMustHaveCondition, newGatewayRef } from '../utils/kubernetes.js';
import type { ConformanceTest } from './types.js';

export const HTTPRouteInvalidReferenceGrant: ConformanceTest = {
  shortName: 'HTTPRouteInvalidReferenceGrant',
  description: 'A single HTTPRoute in the gateway-conformance-infra namespace, with a backendRef in another namespace without valid ReferenceGrant, should have the ResolvedRefs condition set to False and not forward HTTP requests to any backend',
  features: [SupportGateway, SupportHTTPRoute, SupportReferenceGrant],
  manifests: ['tests/httproute-invalid-reference-grant.yaml'],
  test: async (t, s) => {
    const routeNN = { name: 'reference-grant', namespace: InfrastructureNamespace };
    const gwNN = { name: 'same-namespace', namespace: InfrastructureNamespace };
    const gwAddr = await gatewayAndHTTPRoutesMustBeAccepted(t, s, s.controllerName, newGatewayRef(gwNN), routeNN);

    await t.run('HTTPRoute with BackendRef in another namespace and no ReferenceGrant covering the Service has a ResolvedRefs Condition with status False and Reason RefNotPermitted', (t) => httpRouteMustHaveCondition(t, s, routeNN, gwNN, { type: 'ResolvedRefs', status: 'False', reason: 'RefNotPermitted' }));

    await t.run('Simple HTTP request not should reach web-backend', (t) => makeRequestAndExpectEventuallyConsistentResponse(t, s, gwAddr, {
      request: { method: 'GET', path: '/' },
      response: { statusCode: 500 },
      backend: 'web-backend',
      namespace: WebBackendNamespace,
    }));
  },
};
