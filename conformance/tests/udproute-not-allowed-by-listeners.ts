import { SupportGateway, SupportTLSRoute, SupportUDPRoute } from '../features.js';
import { InfrastructureNamespace } from '../harness/suite.js';
import { gatewayMustHaveZeroRoutes, namespacesMustBeReady, udpRouteMustHaveCondition } from '../utils/kubernetes.js';
import type { ConformanceTest } from './types.js';

export const UDPRouteNotAllowedByListeners: ConformanceTest = {
  shortName: 'UDPRouteNotAllowedByListeners',
  description: 'A UDPRoute targeting a Gateway listener whose protocol is not UDP must report ' +
    'Accepted=False with reason NotAllowedByListeners and must not be attached to the listener.',
  features: [SupportGateway, SupportUDPRoute],
  manifests: ['tests/udproute-not-allowed-by-listeners.yaml'],
  test: async (t, s) => {
    // The only listener is a TLS one, which an implementation without TLSRoute cannot accept.
    if (!s.supportedFeatures.has(SupportTLSRoute)) return;
    const ns = InfrastructureNamespace;
    const gwNN = { name: 'udproute-tls-only-gateway', namespace: ns };
    const routeNN = { name: 'udproute-not-allowed-by-listeners', namespace: ns };
    await namespacesMustBeReady(t, s, [ns]);

    await t.run('UDPRoute should have Accepted=False with reason NotAllowedByListeners',
      (t) => udpRouteMustHaveCondition(t, s, routeNN, gwNN, { type: 'Accepted', status: 'False', reason: 'NotAllowedByListeners' }));
    await t.run('Gateway should have 0 Routes attached on the TLS listener', (t) => gatewayMustHaveZeroRoutes(t, s, gwNN));
  },
};
