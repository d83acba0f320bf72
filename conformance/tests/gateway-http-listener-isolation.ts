import { SupportGateway, SupportHTTPRoute } from '../features.js';
import { InfraBackendServiceNameV1, InfrastructureNamespace } from '../harness/suite.js';
import { expectEventuallyConsistentResponses, type ExpectedResponse } from '../utils/http.js';
import { gatewayAndHTTPRoutesMustBeAccepted, httpRouteMustHaveResolvedRefsConditionsTrue, namespacesMustBeReady, newGatewayRef } from '../utils/kubernetes.js';
import type { T } from '../utils/t.js';
import type { ConformanceTest } from './types.js';

const ns = InfrastructureNamespace;
const paths = ['/empty-hostname', '/wildcard-example-com', '/wildcard-foo-example-com', '/abc-foo-example-com'] as const;

/**
 * Each host reaches only the listener it matches most specifically, and only
 * that listener's route (path). abc.foo.example.com on the foo wildcard's
 * path is the one 404 upstream also gives a namespace.
 */
function cases(): ExpectedResponse[] {
  const hosts: [string, (typeof paths)[number]][] = [
    ['bar.com', '/empty-hostname'],
    ['bar.example.com', '/wildcard-example-com'],
    ['bar.foo.example.com', '/wildcard-foo-example-com'],
    ['abc.foo.example.com', '/abc-foo-example-com'],
  ];
  return hosts.flatMap(([host, own]) => paths.map((path): ExpectedResponse => {
    if (path === own) return { request: { host, path }, backend: InfraBackendServiceNameV1, namespace: ns };
    if (host === 'abc.foo.example.com' && path === '/wildcard-foo-example-com') return { request: { host, path }, response: { statusCode: 404 }, namespace: ns };
    return { request: { host, path }, response: { statusCode: 404 } };
  }));
}

export const GatewayHTTPListenerIsolation: ConformanceTest = {
  shortName: 'GatewayHTTPListenerIsolation',
  description: 'Listener isolation for HTTP listeners with multiple listeners and HTTPRoutes',
  features: [SupportGateway, 'GatewayHTTPListenerIsolation', SupportHTTPRoute],
  manifests: ['tests/gateway-http-listener-isolation.yaml', 'tests/gateway-http-listener-isolation-with-hostname-intersection.yaml'],
  test: async (t, s) => {
    await namespacesMustBeReady(t, s, [ns]);
    const variant = (gateway: string, suffix: string) => async (t: T) => {
      const gwNN = { name: gateway, namespace: ns };
      const routes = ['empty-hostname', 'wildcard-example-com', 'wildcard-foo-example-com', 'abc-foo-example-com']
        .map((r) => ({ name: `attaches-to-${r}${suffix}`, namespace: ns }));
      const gwAddr = await gatewayAndHTTPRoutesMustBeAccepted(t, s, s.controllerName, newGatewayRef(gwNN), ...routes);
      for (const routeNN of routes) await httpRouteMustHaveResolvedRefsConditionsTrue(t, s, routeNN, gwNN);
      await expectEventuallyConsistentResponses(t, s, gwAddr, cases());
    };
    await t.run('hostnames are configured only in listeners', variant('http-listener-isolation', ''));
    await t.run('intersecting hostnames are configured in listeners and HTTPRoutes',
      variant('http-listener-isolation-with-hostname-intersection', '-with-hostname-intersection'));
  },
};
