import { SupportGateway, SupportReferenceGrant, SupportTLSRoute } from '../features.js';
import { InfrastructureGatewayName, InfrastructureNamespace } from '../harness/suite.js';
import { gatewayAndTLSRoutesMustBeAccepted, newGatewayRef, tlsRouteMustHaveCondition } from '../utils/kubernetes.js';
import type { ConformanceTest } from './types.js';

export const TLSRouteInvalidReferenceGrant: ConformanceTest = {
  shortName: 'TLSRouteInvalidReferenceGrant',
  description: 'A single TLSRoute in the gateway-conformance-infra namespace, with a backendRef in another namespace without valid ReferenceGrant, should have the ResolvedRefs condition set to False',
  features: [SupportGateway, SupportTLSRoute, SupportReferenceGrant],
  manifests: ['tests/tlsroute-invalid-reference-grant.yaml'],
  test: async (t, s) => {
    const routeNN = { name: InfrastructureGatewayName, namespace: InfrastructureNamespace };
    const gwNN = { name: 'gateway-tlsroute-referencegrant', namespace: InfrastructureNamespace };
    await gatewayAndTLSRoutesMustBeAccepted(t, s, s.controllerName, newGatewayRef(gwNN), routeNN);

    await t.run('TLSRoute with BackendRef in another namespace and no ReferenceGrant covering the Service has a ResolvedRefs Condition with status False and Reason RefNotPermitted',
      (t) => tlsRouteMustHaveCondition(t, s, routeNN, gwNN, { type: 'ResolvedRefs', status: 'False', reason: 'RefNotPermitted' }));
  },
};
