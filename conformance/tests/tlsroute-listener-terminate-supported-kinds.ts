import { SupportGateway, SupportTLSRoute, SupportTLSRouteModeTerminate } from '../features.js';
import { InfrastructureNamespace } from '../harness/suite.js';
import { gatewayGroup, gatewayStatusMustHaveListeners } from '../utils/kubernetes.js';
import type { ConformanceTest } from './types.js';

export const TLSRouteListenerTerminateSupportedKinds: ConformanceTest = {
  shortName: 'TLSRouteListenerTerminateSupportedKinds',
  description: 'A Gateway Listener with TLS mode Terminate MUST include TLSRoute in SupportedKinds when termination is supported',
  features: [SupportGateway, SupportTLSRoute, SupportTLSRouteModeTerminate],
  manifests: ['tests/tlsroute-listener-terminate-supported-kinds.yaml'],
  test: async (t, s) => {
    const gwNN = { name: 'gateway-tlsroute-terminate-supported', namespace: InfrastructureNamespace };
    await t.run('Listener with mode Terminate must have TLSRoute in SupportedKinds', (t) => gatewayStatusMustHaveListeners(t, s, gwNN, [{
      name: 'tls-terminate',
      supportedKinds: [{ group: gatewayGroup, kind: 'TLSRoute' }],
      conditions: [{ type: 'Accepted', status: 'True', reason: 'Accepted' }],
      attachedRoutes: 0,
    }]));
  },
};
