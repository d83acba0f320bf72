import { SupportGateway, SupportHTTPRoute } from '../features.js';
import { InfrastructureNamespace } from '../harness/suite.js';
import { expectEventuallyConsistentResponses, type ExpectedResponse } from '../utils/http.js';
import { gatewayAndHTTPRoutesMustBeAccepted, httpRouteMustHaveResolvedRefsConditionsTrue, newGatewayRef } from '../utils/kubernetes.js';
import type { ConformanceTest } from './types.js';

export const HTTPRouteRedirectPath: ConformanceTest = {
  shortName: 'HTTPRouteRedirectPath',
  description: 'An HTTPRoute with scheme redirect filter',
  features: [SupportGateway, SupportHTTPRoute, 'HTTPRoutePathRedirect'],
  manifests: ['tests/httproute-redirect-path.yaml'],
  test: async (t, s) => {
    const ns = InfrastructureNamespace;
    const routeNN = { name: 'redirect-path', namespace: ns };
    const gwNN = { name: 'same-namespace', namespace: ns };
    const gwAddr = await gatewayAndHTTPRoutesMustBeAccepted(t, s, s.controllerName, newGatewayRef(gwNN), routeNN);
    await httpRouteMustHaveResolvedRefsConditionsTrue(t, s, routeNN, gwNN);

    const redirect = (path: string, statusCode: number, to: { host?: string; path: string }): ExpectedResponse =>
      ({ request: { path }, response: { statusCode }, redirectRequest: to, namespace: ns });
    await expectEventuallyConsistentResponses(t, s, gwAddr, [
      redirect('/original-prefix/lemon', 302, { path: '/replacement-prefix/lemon' }),
      redirect('/full/path/original', 302, { path: '/full-path-replacement' }),
      redirect('/path-and-host', 302, { host: 'example.org', path: '/replacement-prefix' }),
      redirect('/path-and-status', 301, { path: '/replacement-prefix' }),
      redirect('/full-path-and-host', 302, { host: 'example.org', path: '/replacement-full' }),
      redirect('/full-path-and-status', 301, { path: '/replacement-full' }),
    ]);
  },
};
