import { SupportGateway, SupportHTTPRoute } from '../features.js';
import { InfraBackendServiceNameV1, InfrastructureNamespace } from '../harness/suite.js';
import { expectEventuallyConsistentResponses, type ExpectedRequest, type ExpectedResponse, type Request } from '../utils/http.js';
import { gatewayAndHTTPRoutesMustBeAccepted, httpRouteMustHaveResolvedRefsConditionsTrue, newGatewayRef } from '../utils/kubernetes.js';
import type { ConformanceTest } from './types.js';

export const HTTPRouteRewritePath: ConformanceTest = {
  shortName: 'HTTPRouteRewritePath',
  description: 'An HTTPRoute with path rewrite filter',
  features: [SupportGateway, SupportHTTPRoute, 'HTTPRoutePathRewrite'],
  manifests: ['tests/httproute-rewrite-path.yaml'],
  test: async (t, s) => {
    const ns = InfrastructureNamespace;
    const routeNN = { name: 'rewrite-path', namespace: ns };
    const gwNN = { name: 'same-namespace', namespace: ns };
    const gwAddr = await gatewayAndHTTPRoutesMustBeAccepted(t, s, s.controllerName, newGatewayRef(gwNN), routeNN);
    await httpRouteMustHaveResolvedRefsConditionsTrue(t, s, routeNN, gwNN);

    const tc = (request: Request, expectedRequest: ExpectedRequest): ExpectedResponse =>
      ({ request, expectedRequest, backend: InfraBackendServiceNameV1, namespace: ns });
    const sent = { 'X-Header-Remove': 'remove-val', 'X-Header-Add-Append': 'append-val-1', 'X-Header-Set': 'set-val' };
    const seen = { 'X-Header-Add': 'header-val-1', 'X-Header-Add-Append': 'append-val-1,header-val-2', 'X-Header-Set': 'set-overwrites-values' };
    await expectEventuallyConsistentResponses(t, s, gwAddr, [
      tc({ path: '/prefix/one/two' }, { path: '/one/two' }),
      tc({ path: '/strip-prefix/three' }, { path: '/three' }),
      tc({ path: '/strip-prefix' }, { path: '/' }),
      tc({ path: '/full/one/two' }, { path: '/one' }),
      tc({ path: '/full/rewrite-path-and-modify-headers/test', headers: sent },
        { path: '/test', headers: seen, absentHeaders: ['X-Header-Remove'] }),
      tc({ path: '/prefix/rewrite-path-and-modify-headers/one', headers: sent },
        { path: '/prefix/one', headers: seen, absentHeaders: ['X-Header-Remove'] }),
    ]);
  },
};
