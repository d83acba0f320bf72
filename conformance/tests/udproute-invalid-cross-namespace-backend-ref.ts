import { SupportGateway, SupportReferenceGrant, SupportUDPRoute } from '../features.js';
import { InfrastructureNamespace } from '../harness/suite.js';
import { gatewayAndUDPRoutesMustBeAccepted, namespacesMustBeReady, newGatewayRef, udpRouteMustHaveCondition } from '../utils/kubernetes.js';
import type { ConformanceTest } from './types.js';

export const UDPRouteInvalidCrossNamespaceBackendRef: ConformanceTest = {
  shortName: 'UDPRouteInvalidCrossNamespaceBackendRef',
  description: 'A UDPRoute in the gateway-conformance-infra namespace should set ResolvedRefs=False with reason RefNotPermitted when its backendRef points to a Service in the gateway-conformance-app-backend namespace and no ReferenceGrant grants permission to that Service.',
  features: [SupportGateway, SupportUDPRoute, SupportReferenceGrant],
  manifests: ['tests/udproute-invalid-cross-namespace-backend-ref.yaml'],
  test: async (t, s) => {
    const ns = InfrastructureNamespace;
    const routeNN = { name: 'udp-route-invalid-cross-namespace-backend-ref', namespace: ns };
    const gwNN = { name: 'udp-gateway-invalid-cross-namespace-backend-ref', namespace: ns };
    await namespacesMustBeReady(t, s, [ns]);
    // Still Accepted by its parent: only the backend reference is denied.
    await gatewayAndUDPRoutesMustBeAccepted(t, s, s.controllerName, newGatewayRef(gwNN), routeNN);

    await t.run('UDPRoute with a cross-namespace BackendRef and no ReferenceGrant has a ResolvedRefs Condition with status False and Reason RefNotPermitted',
      (t) => udpRouteMustHaveCondition(t, s, routeNN, gwNN, { type: 'ResolvedRefs', status: 'False', reason: 'RefNotPermitted' }));
  },
};
