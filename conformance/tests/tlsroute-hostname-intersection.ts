import { SupportGateway, SupportTLSRoute } from '../features.js';
import type { ConformanceSuite } from '../harness/suite.js';
import { InfrastructureNamespace } from '../harness/suite.js';
import {
  gatewayAndTLSRoutesMustBeAccepted, getTLSSecret, namespacesMustBeReady, newGatewayRef, tlsRouteMustHaveResolvedRefsConditionsTrue,
} from '../utils/kubernetes.js';
import type { T } from '../utils/t.js';
import { makeTLSConnectionAndExpectEventuallyConnectionRejection, makeTLSRequestAndExpectEventuallyConsistentResponse } from '../utils/tls.js';
import type { ConformanceTest } from './types.js';

const ns = InfrastructureNamespace;

/**
 * One Gateway with a passthrough listener and its routes: each route is
 * Accepted with resolved refs, the hostnames in the intersection reach their
 * backend (tls-backend serves abc.example.com, tls-backend-2 other.example.com)
 * and a hostname outside it is refused.
 */
async function intersection(t: T, s: ConformanceSuite, serverCertPem: string, gateway: string, routes: string[], wildcard: boolean, nonMatching: string): Promise<void> {
  const gwNN = { name: gateway, namespace: ns };
  const routeNNs = routes.map((name) => ({ name, namespace: ns }));
  const { gwAddr } = await gatewayAndTLSRoutesMustBeAccepted(t, s, s.controllerName, newGatewayRef(gwNN), ...routeNNs);
  for (const routeNN of routeNNs) await tlsRouteMustHaveResolvedRefsConditionsTrue(t, s, routeNN, gwNN);
  const reaches = (host: string, backend: string) => (t: T) => makeTLSRequestAndExpectEventuallyConsistentResponse(t, s, gwAddr, serverCertPem, host, {
    request: { host, path: '/' }, backend, namespace: ns,
  });
  await t.parallel([
    ['TLS request matching exact hostnames intersection should reach backend', reaches('abc.example.com', 'tls-backend')],
    ...(wildcard ? [['TLS request matching wildcard hostnames intersection should reach backend 2', reaches('other.example.com', 'tls-backend-2')] as const] : []),
    ['TLS request not matching hostnames intersection should not reach backend', (t) => makeTLSConnectionAndExpectEventuallyConnectionRejection(t, s, gwAddr, nonMatching)],
  ]);
}

export const TLSRouteHostnameIntersection: ConformanceTest = {
  shortName: 'TLSRouteHostnameIntersection',
  description: 'TLSRoutes should attach to listeners only if they have intersecting hostnames, and should accept requests only for the intersecting hostnames',
  features: [SupportGateway, SupportTLSRoute],
  manifests: ['tests/tlsroute-hostname-intersection.yaml'],
  test: async (t, s) => {
    await namespacesMustBeReady(t, s, [ns]);
    const { certPem } = await getTLSSecret(t, s, { name: 'tls-checks-certificate', namespace: ns });
    if (certPem === '') t.fatal('missing required server certificate pem for the test');

    await t.run('TLSRoutes intersect with exact listener hostname', (t) => intersection(t, s, certPem,
      'gw-tlsroute-exact-hostname-x-1', ['tlsroute-more-specific-wc-hostname-x-1'], false, 'non.matching.com'));
    await t.run('TLSRoutes intersect with more specific wildcard listener hostname', (t) => intersection(t, s, certPem,
      'gw-tlsroute-more-specific-wc-hostname-x-2', ['tlsroute-exact-hostname-x-2', 'tlsroute-less-specific-wc-hostname-x-2'], true, 'non.matching.com'));
    await t.run('TLSRoutes intersect with less specific wildcard listener hostname', (t) => intersection(t, s, certPem,
      'gw-tlsroute-less-specific-wc-hostname-x-3', ['tlsroute-exact-hostname-x-3', 'tlsroute-more-specific-wc-hostname-x-3'], true, 'non.matching.com'));
    await t.run('TLSRoutes intersect with empty listener hostname', (t) => intersection(t, s, certPem,
      'gw-tlsroute-empty-hostname-x-4', ['tlsroute-exact-hostname-x-4', 'tlsroute-less-specific-wc-hostname-x-4'], true, 'non.matching.org'));
  },
};
