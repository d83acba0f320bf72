import { SupportGateway, SupportHTTPRoute, type FeatureName } from '../features.js';
import { InfrastructureNamespace } from '../harness/suite.js';
import { expectEventuallyConsistentResponses, type ExpectedResponse } from '../utils/http.js';
import { gatewayAndHTTPRoutesMustBeAccepted, httpRouteMustHaveResolvedRefsConditionsTrue, newGatewayRef } from '../utils/kubernetes.js';
import type { ConformanceTest } from './types.js';

// Upstream's httproute-30{3,7,8}-redirect.go: three files with one shape, one
// redirect per route, each answered with the route's statusCode. Upstream
// sets UnfollowRedirect; this suite's round tripper never follows redirects.

function redirectTest(code: 303 | 307 | 308, routeName: string, description: string, request: ExpectedResponse['request']): ConformanceTest {
  const feature: FeatureName = `HTTPRoute${code}RedirectStatusCode`;
  return {
    shortName: `HTTPRoute${code}Redirect`,
    description,
    features: [SupportGateway, SupportHTTPRoute, feature],
    manifests: [`tests/httproute-${code}-redirect.yaml`],
    test: async (t, s) => {
      const ns = InfrastructureNamespace;
      const routeNN = { name: routeName, namespace: ns };
      const gwNN = { name: 'same-namespace', namespace: ns };
      const gwAddr = await gatewayAndHTTPRoutesMustBeAccepted(t, s, s.controllerName, newGatewayRef(gwNN), routeNN);
      await httpRouteMustHaveResolvedRefsConditionsTrue(t, s, routeNN, gwNN);
      await expectEventuallyConsistentResponses(t, s, gwAddr, [
        { request, response: { statusCode: code }, redirectRequest: { path: request.path }, namespace: ns },
      ]);
    },
  };
}

export const HTTPRoute303Redirect = redirectTest(303, '303-redirect', 'An HTTPRoute with a 303 redirect filter', { path: '/see-other', method: 'POST' });
export const HTTPRoute307Redirect = redirectTest(307, '307-redirect', 'An HTTPRoute with a 307 path redirect filter', { path: '/temporary' });
export const HTTPRoute308Redirect = redirectTest(308, '308-redirect', 'An HTTPRoute with a 308 path redirect filter', { path: '/permanent' });
