import { SupportGateway, SupportReferenceGrant, SupportTCPRoute } from '../features.js';
import { InfrastructureNamespace, WebBackendNamespace } from '../harness/suite.js';
import { gatewayAndTCPRoutesMustBeAccepted, namespacesMustBeReady, newGatewayRef, tcpRouteMustHaveCondition } from '../utils/kubernetes.js';
import type { ConformanceTest } from './types.js';

export const TCPRouteInvalidCrossNamespaceBackendRef: ConformanceTest = {
  shortName: 'TCPRouteInvalidCrossNamespaceBackendRef',
  description: 'A TCPRoute in the gateway-conformance-infra namespace with a backendRef in the gateway-conformance-web-backend namespace and no matching ReferenceGrant should set ResolvedRefs=False with reason RefNotPermitted.',
  features: [SupportGateway, SupportTCPRoute, SupportReferenceGrant],
  manifests: ['tests/tcproute-invalid-cross-namespace-backend-ref.yaml'],
  test: async (t, s) => {
    const ns = InfrastructureNamespace;
    const routeNN = { name: 'tcp-invalid-cross-namespace-backend-ref', namespace: ns };
    const gwNN = { name: 'tcp-invalid-cross-namespace-backend-ref-gateway', namespace: ns };
    await namespacesMustBeReady(t, s, [ns, WebBackendNamespace]);
    // Still Accepted by its parent: only the backend reference is denied.
    await gatewayAndTCPRoutesMustBeAccepted(t, s, s.controllerName, newGatewayRef(gwNN, 'tcp'), routeNN);

    await t.run('TCPRoute with a cross-namespace backendRef and no ReferenceGrant has ResolvedRefs=False with reason RefNotPermitted',
      (t) => tcpRouteMustHaveCondition(t, s, routeNN, gwNN, { type: 'ResolvedRefs', status: 'False', reason: 'RefNotPermitted' }));
  },
};
