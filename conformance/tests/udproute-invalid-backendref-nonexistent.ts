import { SupportGateway, SupportUDPRoute } from '../features.js';
import { InfrastructureNamespace } from '../harness/suite.js';
import { namespacesMustBeReady, udpRouteMustHaveCondition } from '../utils/kubernetes.js';
import type { ConformanceTest } from './types.js';

export const UDPRouteInvalidBackendRefNonexistent: ConformanceTest = {
  shortName: 'UDPRouteInvalidBackendRefNonexistent',
  description: 'A UDPRoute should set ResolvedRefs=False with reason BackendNotFound when its backendRef points to a Service that does not exist.',
  features: [SupportGateway, SupportUDPRoute],
  manifests: ['tests/udproute-invalid-backendref-nonexistent.yaml'],
  test: async (t, s) => {
    const ns = InfrastructureNamespace;
    const routeNN = { name: 'udp-route-invalid-backend-ref-nonexistent', namespace: ns };
    const gwNN = { name: 'udp-gateway-invalid-backend', namespace: ns };
    await namespacesMustBeReady(t, s, [ns]);

    await t.run('UDPRoute with a nonexistent backend has ResolvedRefs=False and reason BackendNotFound',
      (t) => udpRouteMustHaveCondition(t, s, routeNN, gwNN, { type: 'ResolvedRefs', status: 'False', reason: 'BackendNotFound' }));
  },
};
