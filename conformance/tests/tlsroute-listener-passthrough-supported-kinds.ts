import { SupportGateway, SupportTLSRoute } from '../features.js';
import { InfrastructureNamespace } from '../harness/suite.js';
import { gatewayGroup, gatewayStatusMustHaveListeners } from '../utils/kubernetes.js';
import type { ConformanceTest } from './types.js';

export const TLSRouteListenerPassthroughSupportedKinds: ConformanceTest = {
  shortName: 'TLSRouteListenerPassthroughSupportedKinds',
  description: 'A Gateway Listener with TLS mode Passthrough MUST include TLSRoute in SupportedKinds',
  features: [SupportGateway, SupportTLSRoute],
  manifests: ['tests/tlsroute-listener-passthrough-supported-kinds.yaml'],
  test: async (t, s) => {
    const gwNN = { name: 'gateway-tlsroute-passthrough-supported-kind', namespace: InfrastructureNamespace };
    await t.run('TLS listener should have a false ResolvedRefs condition with reason InvalidRouteKinds for TCPRoute, and TLSRoute must be put in the supportedKinds',
      (t) => gatewayStatusMustHaveListeners(t, s, gwNN, [{
        name: 'tls-passthrough',
        supportedKinds: [{ group: gatewayGroup, kind: 'TLSRoute' }],
        conditions: [{ type: 'ResolvedRefs', status: 'False', reason: 'InvalidRouteKinds' }],
        attachedRoutes: 0,
      }]));
  },
};
