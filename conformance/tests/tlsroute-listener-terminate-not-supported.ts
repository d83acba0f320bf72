import { SupportGateway, SupportTLSRoute, SupportTLSRouteModeTerminate } from '../features.js';
import { InfrastructureNamespace } from '../harness/suite.js';
import { gatewayStatusMustHaveListeners } from '../utils/kubernetes.js';
import type { ConformanceTest } from './types.js';

export const TLSRouteListenerTerminateNotSupported: ConformanceTest = {
  shortName: 'TLSRouteListenerTerminateNotSupported',
  description: 'When TLSRoute termination is NOT supported, a Gateway Listener with TLS mode Terminate MUST have Accepted=False with Reason=UnsupportedValue',
  features: [SupportGateway, SupportTLSRoute],
  manifests: ['tests/tlsroute-listener-terminate-not-supported.yaml'],
  test: async (t, s) => {
    if (s.supportedFeatures.has(SupportTLSRouteModeTerminate)) return;
    const gwNN = { name: 'gateway-tlsroute-terminate-unsupported', namespace: InfrastructureNamespace };
    await t.run('Listener with unsupported mode Terminate must have Accepted=False with Reason=UnsupportedValue', (t) => gatewayStatusMustHaveListeners(t, s, gwNN, [{
      name: 'tls-terminate',
      supportedKinds: [],
      conditions: [{ type: 'Accepted', status: 'False', reason: 'UnsupportedValue' }],
      attachedRoutes: 0,
    }]));
  },
};
