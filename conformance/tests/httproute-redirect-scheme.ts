import { SupportGateway, SupportHTTPRoute } from '../features.js';
import { InfrastructureNamespace } from '../harness/suite.js';
import { expectEventuallyConsistentResponses, type ExpectedResponse } from '../utils/http.js';
import { gatewayAndHTTPRoutesMustBeAccepted, httpRouteMustHaveResolvedRefsConditionsTrue, newGatewayRef } from '../utils/kubernetes.js';
import type { ConformanceTest } from './types.js';

export const HTTPRouteRedirectScheme: ConformanceTest = {
  shortName: 'HTTPRouteRedirectScheme',
  description: 'An HTTPRoute with a scheme redirect filter',
  features: [SupportGateway, SupportHTTPRoute, 'HTTPRouteSchemeRedirect'],
  manifests: ['tests/httproute-redirect-scheme.yaml'],
  test: async (t, s) => {
    const ns = InfrastructureNamespace;
    const routeNN = { name: 'redirect-scheme', namespace: ns };
    const gwNN = { name: 'same-namespace', namespace: ns };
    const gwAddr = await gatewayAndHTTPRoutesMustBeAccepted(t, s, s.controllerName, newGatewayRef(gwNN), routeNN);
    await httpRouteMustHaveResolvedRefsConditionsTrue(t, s, routeNN, gwNN);

    const redirect = (path: string, statusCode: number, to: { host?: string; scheme: string }): ExpectedResponse =>
      ({ request: { path }, response: { statusCode }, redirectRequest: to, namespace: ns });
    await expectEventuallyConsistentResponses(t, s, gwAddr, [
      redirect('/scheme', 302, { scheme: 'https' }),
      redirect('/scheme-and-host', 302, { host: 'example.org', scheme: 'https' }),
      redirect('/scheme-and-status', 301, { scheme: 'https' }),
      redirect('/scheme-and-host-and-status', 302, { scheme: 'https', host: 'example.org' }),
    ]);
  },
};
