import { SupportGateway, SupportHTTPRoute } from '../features.js';
import { InfrastructureNamespace } from '../harness/suite.js';
import { makeRequestAndExpectEventuallyConsistentResponse } from '../utils/http.js';
import { gatewayAndHTTPRoutesMustBeAccepted, httpRouteMustHaveCondition, newGatewayRef } from '../utils/kubernetes.js';
import type { ConformanceTest } from './types.js';

export const HTTPRouteInvalidBackendRefUnknownKind: ConformanceTest = {
  shortName: 'HTTPRouteInvalidBackendRefUnknownKind',
  description: 'A single HTTPRoute in the gateway-conformance-infra namespace should set a ResolvedRefs status False with reason InvalidKind when attempting to bind to a Gateway in the same namespace if the route has a BackendRef that points to an unknown Kind.',
  features: [SupportGateway, SupportHTTPRoute],
  manifests: ['tests/httproute-invalid-backendref-unknown-kind.yaml'],
  test: async (t, s) => {
    const routeNN = { name: 'invalid-backend-ref-unknown-kind', namespace: InfrastructureNamespace };
    const gwNN = { name: 'same-namespace', namespace: InfrastructureNamespace };
    const gwAddr = await gatewayAndHTTPRoutesMustBeAccepted(t, s, s.controllerName, newGatewayRef(gwNN), routeNN);

    await t.run('HTTPRoute with Invalid Kind has a ResolvedRefs Condition with status False and Reason InvalidKind', (t) => httpRouteMustHaveCondition(t, s, routeNN, gwNN, { type: 'ResolvedRefs', status: 'False', reason: 'InvalidKind' }));

    await t.run('HTTP Request to invalid backend with invalid Kind receives a 500', (t) => makeRequestAndExpectEventuallyConsistentResponse(t, s, gwAddr, {
      request: { method: 'GET', path: '/v2' },
      response: { statusCode: 500 },
    }));
  },
};
