import { SupportGateway, SupportHTTPRoute } from '../features.js';
import { InfrastructureNamespace, WebBackendNamespace } from '../harness/suite.js';
import {
  gatewayMustHaveZeroRoutes, httpRouteMustHaveCondition, httpRouteMustHaveNoAcceptedParents, httpRouteMustHaveResolvedRefsConditionsTrue,
} from '../utils/kubernetes.js';
import type { ConformanceTest } from './types.js';

export const HTTPRouteInvalidCrossNamespaceParentRef: ConformanceTest = {
  shortName: 'HTTPRouteInvalidCrossNamespaceParentRef',
  description: 'A single HTTPRoute in the gateway-conformance-web-backend namespace should fail to attach to a Gateway in another namespace that it is not allowed to',
  features: [SupportGateway, SupportHTTPRoute],
  manifests: ['tests/httproute-invalid-cross-namespace-parent-ref.yaml'],
  test: async (t, s) => {
    const gwNN = { name: 'same-namespace', namespace: InfrastructureNamespace };
    const routeNN = { name: 'invalid-cross-namespace-parent-ref', namespace: WebBackendNamespace };
    await httpRouteMustHaveResolvedRefsConditionsTrue(t, s, routeNN, gwNN);

    await t.run('HTTPRoute should have an Accepted: false condition with reason NotAllowedByListeners', (t) =>
      httpRouteMustHaveCondition(t, s, routeNN, gwNN, { type: 'Accepted', status: 'False', reason: 'NotAllowedByListeners' }));
    await t.run('Route should not have Parents set in status', (t) => httpRouteMustHaveNoAcceptedParents(t, s, routeNN));
    await t.run('Gateway should have 0 Routes attached', (t) => gatewayMustHaveZeroRoutes(t, s, gwNN));
  },
};
