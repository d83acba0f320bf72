import { SupportGateway, SupportHTTPRoute } from '../features.js';
import { InfrastructureNamespace } from '../harness/suite.js';
import { expectEventuallyConsistentResponses, type ExpectedResponse } from '../utils/http.js';
import { gatewayAndHTTPRoutesMustBeAccepted, httpRouteMustHaveResolvedRefsConditionsTrue, newGatewayRef } from '../utils/kubernetes.js';
import type { ConformanceTest } from './types.js';

export const HTTPRouteRedirectPort: ConformanceTest = {
  shortName: 'HTTPRouteRedirectPort',
  description: 'An HTTPRoute with a port redirect filter',
  features: [SupportGateway, SupportHTTPRoute, 'HTTPRoutePortRedirect'],
  manifests: ['tests/httproute-redirect-port.yaml'],
  test: async (t, s) => {
    const ns = InfrastructureNamespace;
    const routeNN = { name: 'redirect-port', namespace: ns };
    const gwNN = { name: 'same-namespace', namespace: ns };
    const gwAddr = await gatewayAndHTTPRoutesMustBeAccepted(t, s, s.controllerName, newGatewayRef(gwNN), routeNN);
    await httpRouteMustHaveResolvedRefsConditionsTrue(t, s, routeNN, gwNN);

    const redirect = (path: string, statusCode: number, to: { host?: string; port: string }): ExpectedResponse =>
      ({ request: { path }, response: { statusCode }, redirectRequest: to, namespace: ns });
    await expectEventuallyConsistentResponses(t, s, gwAddr, [
      redirect('/port', 302, { port: '8083' }),
      redirect('/port-and-host', 302, { host: 'example.org', port: '8083' }),
      redirect('/port-and-status', 301, { port: '8083' }),
      redirect('/port-and-host-and-status', 302, { port: '8083', host: 'example.org' }),
    ]);
  },
};
