import { SupportGateway, SupportHTTPRoute } from '../features.js';
import { InfrastructureNamespace } from '../harness/suite.js';
import { gatewayMustHaveZeroRoutes, httpRouteMustHaveCondition, httpRouteMustHaveNoAcceptedParents } from '../utils/kubernetes.js';
import type { ConformanceTest } from './types.js';

export const HTTPRouteInvalidParentRefNotMatchingSectionName: ConformanceTest = {
  shortName: 'HTTPRouteInvalidParentRefNotMatchingSectionName',
  description: 'A single HTTPRoute in the gateway-conformance-infra namespace should set the Accepted status to False with reason NoMatchingParent when attempting to bind to a Gateway that does not have a matching SectionName.',
  features: [SupportGateway, SupportHTTPRoute],
  manifests: ['tests/httproute-invalid-parentref-not-matching-section-name.yaml'],
  test: async (t, s) => {
    const routeNN = { name: 'httproute-listener-not-matching-section-name', namespace: InfrastructureNamespace };
    const gwNN = { name: 'same-namespace', namespace: InfrastructureNamespace };

    await t.run('HTTPRoute with no matching sectionName in ParentRef has an Accepted Condition with status False and Reason NoMatchingParent', (t) =>
      httpRouteMustHaveCondition(t, s, routeNN, gwNN, { type: 'Accepted', status: 'False', reason: 'NoMatchingParent' }));
    await t.run('Route should not have Parents accepted in status', (t) => httpRouteMustHaveNoAcceptedParents(t, s, routeNN));
    await t.run('Gateway should have 0 Routes attached', (t) => gatewayMustHaveZeroRoutes(t, s, gwNN));
  },
};
