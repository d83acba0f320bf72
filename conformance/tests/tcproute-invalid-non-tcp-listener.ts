import { SupportGateway, SupportTCPRoute } from '../features.js';
import { InfrastructureNamespace } from '../harness/suite.js';
import { gatewayMustHaveZeroRoutes, namespacesMustBeReady, tcpRouteMustHaveCondition } from '../utils/kubernetes.js';
import type { ConformanceTest } from './types.js';

export const TCPRouteInvalidNonTCPListener: ConformanceTest = {
  shortName: 'TCPRouteInvalidNonTCPListener',
  description: 'A TCPRoute should set Accepted=False with reason NotAllowedByListeners when attaching to a non-TCP listener via sectionName.',
  features: [SupportGateway, SupportTCPRoute],
  manifests: ['tests/tcproute-invalid-non-tcp-listener.yaml'],
  test: async (t, s) => {
    const ns = InfrastructureNamespace;
    const routeNN = { name: 'tcp-route', namespace: ns };
    const gwNN = { name: 'tcp-mixed-protocol-gateway', namespace: ns };
    await namespacesMustBeReady(t, s, [ns]);

    await t.run('TCPRoute targeting a listener that has no protocol type TCP must have Accepted=False with reason NotAllowedByListeners',
      (t) => tcpRouteMustHaveCondition(t, s, routeNN, gwNN, { type: 'Accepted', status: 'False', reason: 'NotAllowedByListeners' }));
    await t.run('Gateway should have 0 Routes attached', (t) => gatewayMustHaveZeroRoutes(t, s, gwNN));
  },
};
