import { SupportGateway, SupportHTTPRoute, SupportTLSRoute } from '../features.js';
import { InfrastructureNamespace } from '../harness/suite.js';
import {
  gatewayMustHaveZeroRoutes, httpRouteMustHaveCondition, httpRouteMustHaveNoAcceptedParents, httpRouteMustHaveResolvedRefsConditionsTrue, namespacesMustBeReady,
} from '../utils/kubernetes.js';
import type { ConformanceTest } from './types.js';

export const HTTPRouteDisallowedKind: ConformanceTest = {
  shortName: 'HTTPRouteDisallowedKind',
  description: 'A single HTTPRoute in the gateway-conformance-infra namespace should fail to attach to a Gateway with no listeners that allow the HTTPRoute kind',
  features: [SupportGateway, SupportHTTPRoute, SupportTLSRoute],
  manifests: ['tests/httproute-disallowed-kind.yaml'],
  test: async (t, s) => {
    await namespacesMustBeReady(t, s, [InfrastructureNamespace]);
    const routeNN = { name: 'disallowed-kind', namespace: InfrastructureNamespace };
    const gwNN = { name: 'tlsroutes-only', namespace: InfrastructureNamespace };
    await httpRouteMustHaveResolvedRefsConditionsTrue(t, s, routeNN, gwNN);

    await t.run('Route should not have been accepted with reason NotAllowedByListeners', (t) => httpRouteMustHaveCondition(t, s, routeNN, gwNN,
      { type: 'Accepted', status: 'False', reason: 'NotAllowedByListeners' }));
    await t.run('Route should not have Parents set in status', (t) => httpRouteMustHaveNoAcceptedParents(t, s, routeNN));
    await t.run('Gateway should have 0 Routes attached', (t) => gatewayMustHaveZeroRoutes(t, s, gwNN));
  },
};
