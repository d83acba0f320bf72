import { SupportGateway, SupportReferenceGrant, SupportTCPRoute } from '../features.js';
import { InfrastructureNamespace, WebBackendNamespace } from '../harness/suite.js';
import { gatewayAndTCPRoutesMustBeAccepted, namespacesMustBeReady, newGatewayRef, tcpRouteMustHaveCondition } from '../utils/kubernetes.js';
import { makeTCPRequestAndExpectEventuallyValidResponse } from '../utils/tcp.js';
import type { ConformanceTest } from './types.js';

export const TCPRouteReferenceGrant: ConformanceTest = {
  shortName: 'TCPRouteReferenceGrant',
  description: 'A single TCPRoute in the gateway-conformance-infra namespace, with a backendRef in the gateway-conformance-web-backend namespace, should attach to a Gateway in the gateway-conformance-infra namespace when a ReferenceGrant in the backend namespace permits the reference.',
  features: [SupportGateway, SupportTCPRoute, SupportReferenceGrant],
  manifests: ['tests/tcproute-reference-grant.yaml'],
  test: async (t, s) => {
    const ns = InfrastructureNamespace;
    const routeNN = { name: 'tcp-reference-grant', namespace: ns };
    const gwNN = { name: 'tcp-reference-grant-gateway', namespace: ns };
    await namespacesMustBeReady(t, s, [ns, WebBackendNamespace]);
    const gwAddr = await gatewayAndTCPRoutesMustBeAccepted(t, s, s.controllerName, newGatewayRef(gwNN, 'tcp'), routeNN);

    await t.run('TCP request should reach the cross-namespace backend', (t) => makeTCPRequestAndExpectEventuallyValidResponse(t, s, gwAddr, undefined, '', false, {
      backend: 'tcp-reference-grant-backend', namespace: WebBackendNamespace,
    }));

    // Without the grant the reference is no longer permitted.
    await s.cluster.delete('ReferenceGrant', WebBackendNamespace, 'tcp-reference-grant')
      .catch((err: Error) => t.fatal(`error deleting ReferenceGrant: ${err.message}`));
    await t.run('TCPRoute ResolvedRefs becomes False with reason RefNotPermitted after the ReferenceGrant is deleted',
      (t) => tcpRouteMustHaveCondition(t, s, routeNN, gwNN, { type: 'ResolvedRefs', status: 'False', reason: 'RefNotPermitted' }));
  },
};
