import { SupportGateway, SupportHTTPRoute } from '../features.js';
import { InfrastructureNamespace } from '../harness/suite.js';
import {
  gatewayMustHaveZeroRoutes, httpRouteMustHaveCondition, httpRouteMustHaveNoAcceptedParents, httpRouteMustHaveResolvedRefsConditionsTrue,
} from '../utils/kubernetes.js';
import type { ConformanceTest } from './types.js';

// Upstream's httproute-invalid-parentref-not-matching-listener-port.go and
// httproute-invalid-parentref-section-name-not-matching-port.go: a parentRef
// port that selects no listener leaves the route unattached.

const noMatchingParent = { type: 'Accepted', status: 'False', reason: 'NoMatchingParent' };

export const HTTPRouteInvalidParentRefNotMatchingListenerPort: ConformanceTest = {
  shortName: 'HTTPRouteInvalidParentRefNotMatchingListenerPort',
  description: 'A single HTTPRoute in the gateway-conformance-infra namespace should set the Accepted status to False with reason NoMatchingParent when attempting to bind to a Gateway that does not have a matching ListenerPort.',
  features: [SupportGateway, SupportHTTPRoute, 'HTTPRouteDestinationPortMatching'],
  manifests: ['tests/httproute-invalid-parentref-not-matching-listener-port.yaml'],
  test: async (t, s) => {
    const routeNN = { name: 'httproute-listener-not-matching-route-port', namespace: InfrastructureNamespace };
    const gwNN = { name: 'same-namespace', namespace: InfrastructureNamespace };
    await httpRouteMustHaveResolvedRefsConditionsTrue(t, s, routeNN, gwNN);
    await t.run('HTTPRoute with no matching port in ParentRef has an Accepted Condition with status False and Reason NoMatchingParent',
      (t) => httpRouteMustHaveCondition(t, s, routeNN, gwNN, noMatchingParent));
    await t.run('Route should not have Parents accepted in status', (t) => httpRouteMustHaveNoAcceptedParents(t, s, routeNN));
    await t.run('Gateway should have 0 Routes attached', (t) => gatewayMustHaveZeroRoutes(t, s, gwNN));
  },
};

export const HTTPRouteInvalidParentRefSectionNameNotMatchingPort: ConformanceTest = {
  shortName: 'HTTPRouteInvalidParentRefSectionNameNotMatchingPort',
  description: 'A single HTTPRoute in the gateway-conformance-infra namespace should set the Accepted status to False with reason NoMatchingParent when attempting to bind to a Gateway that SectionName does not match Port value.',
  features: [SupportGateway, SupportHTTPRoute, 'HTTPRouteParentRefPort'],
  manifests: ['tests/httproute-invalid-parentref-section-name-not-matching-port.yaml'],
  test: async (t, s) => {
    const routeNN = { name: 'httproute-listener-section-name-not-matching-port', namespace: InfrastructureNamespace };
    const gwNN = { name: 'gateway-with-one-not-matching-port-and-section-name-route', namespace: InfrastructureNamespace };
    await t.run('HTTPRoute with sectionName does not match Port in ParentRef has an Accepted Condition with status False and Reason NoMatchingParent',
      (t) => httpRouteMustHaveCondition(t, s, routeNN, gwNN, noMatchingParent));
    await t.run('Route should not have Parents accepted in status', (t) => httpRouteMustHaveNoAcceptedParents(t, s, routeNN));
    await t.run('Gateway should have 0 Routes attached', (t) => gatewayMustHaveZeroRoutes(t, s, gwNN));
  },
};
