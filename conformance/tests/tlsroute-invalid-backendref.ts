// Upstream's tlsroute-invalid-backendref-nonexistent.go and
// tlsroute-invalid-backendref-unknown-kind.go, which differ only in the
// backendRef and the reason expected for it.
import { SupportGateway, SupportTLSRoute } from '../features.js';
import { InfrastructureNamespace } from '../harness/suite.js';
import { gatewayAndTLSRoutesMustBeAccepted, namespacesMustBeReady, newGatewayRef, tlsRouteMustHaveCondition } from '../utils/kubernetes.js';
import { makeTLSConnectionAndExpectEventuallyConnectionRejection } from '../utils/tls.js';
import type { ConformanceTest } from './types.js';

function invalidBackendRefTest(o: {
  shortName: string; description: string; manifest: string; route: string; gateway: string; reason: string; conditionSubtest: string; connectionSubtest: string;
}): ConformanceTest {
  return {
    shortName: o.shortName,
    description: o.description,
    features: [SupportGateway, SupportTLSRoute],
    manifests: [o.manifest],
    test: async (t, s) => {
      const ns = InfrastructureNamespace;
      const routeNN = { name: o.route, namespace: ns };
      const gwNN = { name: o.gateway, namespace: ns };
      await namespacesMustBeReady(t, s, [ns]);
      // Both the Gateway and the route are Accepted; only the backend is refused.
      const { gwAddr, hostnames } = await gatewayAndTLSRoutesMustBeAccepted(t, s, s.controllerName, newGatewayRef(gwNN), routeNN);
      await t.run(o.conditionSubtest, (t) => tlsRouteMustHaveCondition(t, s, routeNN, gwNN, { type: 'ResolvedRefs', status: 'False', reason: o.reason }));
      await t.run(o.connectionSubtest, async (t) => {
        const serverName = hostnames[0] ?? t.fatal(`TLSRoute ${routeNN.name} has no hostnames`);
        await makeTLSConnectionAndExpectEventuallyConnectionRejection(t, s, gwAddr, serverName);
      });
    },
  };
}

export const TLSRouteInvalidBackendRefNonexistent = invalidBackendRefTest({
  shortName: 'TLSRouteInvalidBackendRefNonexistent',
  description: 'A single TLSRoute in the gateway-conformance-infra namespace has a ResolvedRefs status False with reason BackendNotFound when binding to a Gateway in the same namespace, if the route has a BackendRef Service that does not exist',
  manifest: 'tests/tlsroute-invalid-backendref-nonexistent.yaml',
  route: 'invalid-backend-ref-nonexistent',
  gateway: 'gateway-tlsroute-invalid-backend-ref-nonexistent',
  reason: 'BackendNotFound',
  conditionSubtest: 'TLSRoute with only a nonexistent BackendRef has a ResolvedRefs Condition with status False and Reason BackendNotFound',
  connectionSubtest: 'TLS connection to nonexistent backend should be rejected',
});

export const TLSRouteInvalidBackendRefUnknownKind = invalidBackendRefTest({
  shortName: 'TLSRouteInvalidBackendRefUnknownKind',
  description: 'A single TLSRoute in the gateway-conformance-infra namespace should set a ResolvedRefs status False with reason InvalidKind when attempting to bind to a Gateway in the same namespace if the route has a BackendRef that points to an unknown Kind.',
  manifest: 'tests/tlsroute-invalid-backendref-unknown-kind.yaml',
  route: 'invalid-backend-ref-unknown-kind',
  gateway: 'gateway-tlsroute-invalid-backend-ref-unknown-kind',
  reason: 'InvalidKind',
  conditionSubtest: 'TLSRoute with Invalid Kind has a ResolvedRefs Condition with status False and Reason InvalidKind',
  connectionSubtest: 'TLS connection to invalid backend with invalid Kind should be rejected',
});
