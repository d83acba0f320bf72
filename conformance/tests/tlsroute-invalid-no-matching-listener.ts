import { SupportGateway, SupportTLSRoute } from '../features.js';
import { InfrastructureNamespace } from '../harness/suite.js';
import {
  gatewayMustHaveZeroRoutes, namespacesMustBeReady, tlsRouteMustHaveCondition, tlsRouteMustHaveNoAcceptedParents, type ExpectedCondition,
} from '../utils/kubernetes.js';
import type { ConformanceTest } from './types.js';

export const TLSRouteInvalidNoMatchingListener: ConformanceTest = {
  shortName: 'TLSRouteInvalidNoMatchingListener',
  description: 'A TLSRoute should set Accepted=False when attaching to a Gateway with no compatible TLS listener',
  features: [SupportGateway, SupportTLSRoute],
  manifests: ['tests/tlsroute-invalid-no-matching-listener.yaml'],
  test: async (t, s) => {
    const ns = InfrastructureNamespace;
    const routeHTTPNN = { name: 'tlsroute-not-allowed-protocol-http', namespace: ns };
    const routeHTTPSNN = { name: 'tlsroute-not-allowed-protocol-https', namespace: ns };
    const routeNoSectionNN = { name: 'tlsroute-no-matching-section-name', namespace: ns };
    const gwTLSPassthroughOnlyNN = { name: 'gateway-tlsroute-tls-passthrough-only', namespace: ns };
    const gwHTTPOnlyNN = { name: 'gateway-tlsroute-http-only', namespace: ns };
    const gwHTTPSOnlyNN = { name: 'gateway-tlsroute-https-only', namespace: ns };
    await namespacesMustBeReady(t, s, [ns]);
    const noMatchingParent: ExpectedCondition = { type: 'Accepted', status: 'False', reason: 'NoMatchingParent' };
    const notAllowed: ExpectedCondition = { type: 'Accepted', status: 'False', reason: 'NotAllowedByListeners' };

    await t.run('TLSRoute rejected when listener protocol is HTTP', (t) => tlsRouteMustHaveCondition(t, s, routeHTTPNN, gwHTTPOnlyNN, notAllowed));
    await t.run('TLSRoute rejected when listener protocol is HTTPS', (t) => tlsRouteMustHaveCondition(t, s, routeHTTPSNN, gwHTTPSOnlyNN, notAllowed));
    await t.run('TLSRoute rejected when sectionName not found', (t) => tlsRouteMustHaveCondition(t, s, routeNoSectionNN, gwTLSPassthroughOnlyNN, noMatchingParent));
    await t.run('TLSRoute (HTTP listener) should not have Parents accepted', (t) => tlsRouteMustHaveNoAcceptedParents(t, s, routeHTTPNN));
    await t.run('TLSRoute (HTTPS listener) should not have Parents accepted', (t) => tlsRouteMustHaveNoAcceptedParents(t, s, routeHTTPSNN));
    await t.run('TLSRoute (wrong sectionName) should not have Parents accepted', (t) => tlsRouteMustHaveNoAcceptedParents(t, s, routeNoSectionNN));
    await t.run('Gateway HTTP-only should have 0 Routes attached', (t) => gatewayMustHaveZeroRoutes(t, s, gwHTTPOnlyNN));
    await t.run('Gateway HTTPS-only should have 0 Routes attached', (t) => gatewayMustHaveZeroRoutes(t, s, gwHTTPSOnlyNN));
  },
};
