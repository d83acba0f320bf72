import { SupportGateway, SupportReferenceGrant, SupportUDPRoute } from '../features.js';
import { AppBackendNamespace, InfrastructureNamespace } from '../harness/suite.js';
import { gatewayAndUDPRoutesMustBeAccepted, namespacesMustBeReady, newGatewayRef, udpRouteMustHaveCondition } from '../utils/kubernetes.js';
import { expectEchoResponse } from '../utils/udp.js';
import type { ConformanceTest } from './types.js';

export const UDPRouteReferenceGrant: ConformanceTest = {
  shortName: 'UDPRouteReferenceGrant',
  description: 'A UDPRoute in the gateway-conformance-infra namespace, with a backendRef in the gateway-conformance-app-backend namespace, should attach to the Gateway and forward UDP traffic to the backend while a ReferenceGrant permits the cross-namespace reference.',
  features: [SupportGateway, SupportUDPRoute, SupportReferenceGrant],
  manifests: ['tests/udproute-reference-grant.yaml'],
  test: async (t, s) => {
    const ns = InfrastructureNamespace;
    const routeNN = { name: 'udp-route-reference-grant', namespace: ns };
    const gwNN = { name: 'udp-gateway-reference-grant', namespace: ns };
    await namespacesMustBeReady(t, s, [ns]);
    const gwAddr = await gatewayAndUDPRoutesMustBeAccepted(t, s, s.controllerName, newGatewayRef(gwNN), routeNN);

    await t.run('UDPRoute with cross-namespace backendRef and a permitting ReferenceGrant has ResolvedRefs=True',
      (t) => udpRouteMustHaveCondition(t, s, routeNN, gwNN, { type: 'ResolvedRefs', status: 'True', reason: 'ResolvedRefs' }));
    await t.run('UDP echo request reaches the cross-namespace backend while the ReferenceGrant exists',
      (t) => expectEchoResponse(t, s, s.timeouts.defaultTestTimeout, gwAddr));

    await s.cluster.delete('ReferenceGrant', AppBackendNamespace, 'udp-reference-grant')
      .catch((err: Error) => t.fatal(`error deleting ReferenceGrant: ${err.message}`));
    await t.run('UDPRoute has ResolvedRefs=False with reason RefNotPermitted after deleting the ReferenceGrant',
      (t) => udpRouteMustHaveCondition(t, s, routeNN, gwNN, { type: 'ResolvedRefs', status: 'False', reason: 'RefNotPermitted' }));
  },
};
