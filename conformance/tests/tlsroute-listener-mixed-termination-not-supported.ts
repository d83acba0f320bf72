import { SupportGateway, SupportTLSRoute, SupportTLSRouteModeMixed, SupportTLSRouteModeTerminate } from '../features.js';
import { InfrastructureNamespace } from '../harness/suite.js';
import { gatewayStatusMustHaveListeners, type ExpectedCondition } from '../utils/kubernetes.js';
import type { ConformanceTest } from './types.js';

export const TLSRouteListenerMixedTerminationNotSupported: ConformanceTest = {
  shortName: 'TLSRouteListenerMixedTerminationNotSupported',
  description: 'When TLSRoute mixed termination/passthrough listener is NOT supported, a Gateway Listener with 2 distinct TLS modes on the same port MUST have Accepted=False with Reason=ProtocolConflict',
  features: [SupportGateway, SupportTLSRoute, SupportTLSRouteModeTerminate],
  manifests: ['tests/tlsroute-listener-mixed-termination-not-supported.yaml'],
  test: async (t, s) => {
    if (s.supportedFeatures.has(SupportTLSRouteModeMixed)) {
      t.log('TLSRouteListenerMixedTerminationNotSupported is not executed when an implementation claims to support mixed termination');
      return;
    }
    const gwNN = { name: 'gateway-tlsroute-mixed-termination-not-supported', namespace: InfrastructureNamespace };
    const conflicted: ExpectedCondition[] = [{ type: 'Accepted', status: 'False', reason: 'ProtocolConflict' }];
    await t.run('Listener with unsupported mixed Terminate/Passthrough must have Accepted=False with Reason=ProtocolConflict', (t) => gatewayStatusMustHaveListeners(t, s, gwNN, [
      { name: 'tls-terminate', supportedKinds: [], conditions: conflicted, attachedRoutes: 0 },
      { name: 'tls-passthrough', supportedKinds: [], conditions: conflicted, attachedRoutes: 0 },
    ]));
  },
};
