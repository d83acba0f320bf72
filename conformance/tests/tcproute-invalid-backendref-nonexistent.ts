import { SupportGateway, SupportTCPRoute } from '../features.js';
import { InfrastructureNamespace } from '../harness/suite.js';
import { namespacesMustBeReady, tcpRouteMustHaveCondition } from '../utils/kubernetes.js';
import type { ConformanceTest } from './types.js';

export const TCPRouteInvalidBackendRefNonexistent: ConformanceTest = {
  shortName: 'TCPRouteInvalidBackendRefNonexistent',
  description: 'A TCPRoute should set ResolvedRefs=False with reason BackendNotFound when its backendRef points to a Service that does not exist.',
  features: [SupportGateway, SupportTCPRoute],
  manifests: ['tests/tcproute-invalid-backendref-nonexistent.yaml'],
  test: async (t, s) => {
    const ns = InfrastructureNamespace;
    const routeNN = { name: 'tcp-route-invalid-backend-ref-nonexistent', namespace: ns };
    const gwNN = { name: 'tcp-gateway-invalid-backend', namespace: ns };
    await namespacesMustBeReady(t, s, [ns]);

    await t.run('TCPRoute with a nonexistent backend has ResolvedRefs=False and reason BackendNotFound',
      (t) => tcpRouteMustHaveCondition(t, s, routeNN, gwNN, { type: 'ResolvedRefs', status: 'False', reason: 'BackendNotFound' }));
  },
};
