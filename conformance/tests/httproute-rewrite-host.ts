import { SupportGateway, SupportHTTPRoute } from '../features.js';
import { InfraBackendServiceNameV1, InfraBackendServiceNameV2, InfrastructureNamespace } from '../harness/suite.js';
import { expectEventuallyConsistentResponses } from '../utils/http.js';
import { gatewayAndHTTPRoutesMustBeAccepted, httpRouteMustHaveResolvedRefsConditionsTrue, newGatewayRef } from '../utils/kubernetes.js';
import type { ConformanceTest } from './types.js';

export const HTTPRouteRewriteHost: ConformanceTest = {
  shortName: 'HTTPRouteRewriteHost',
  description: 'An HTTPRoute with hostname rewrite filter',
  features: [SupportGateway, SupportHTTPRoute, 'HTTPRouteHostRewrite'],
  manifests: ['tests/httproute-rewrite-host.yaml'],
  test: async (t, s) => {
    const ns = InfrastructureNamespace;
    const routeNN = { name: 'rewrite-host', namespace: ns };
    const gwNN = { name: 'same-namespace', namespace: ns };
    const gwAddr = await gatewayAndHTTPRoutesMustBeAccepted(t, s, s.controllerName, newGatewayRef(gwNN), routeNN);
    await httpRouteMustHaveResolvedRefsConditionsTrue(t, s, routeNN, gwNN);
    await expectEventuallyConsistentResponses(t, s, gwAddr, [
      {
        request: { path: '/one', host: 'rewrite.example' },
        expectedRequest: { path: '/one', host: 'one.example.org' },
        backend: InfraBackendServiceNameV1, namespace: ns,
      },
      {
        request: { path: '/two', host: 'rewrite.example' },
        expectedRequest: { path: '/two', host: 'example.org' },
        backend: InfraBackendServiceNameV2, namespace: ns,
      },
      {
        request: {
          path: '/rewrite-host-and-modify-headers', host: 'rewrite.example',
          headers: { 'X-Header-Remove': 'remove-val', 'X-Header-Add-Append': 'append-val-1' },
        },
        expectedRequest: {
          path: '/rewrite-host-and-modify-headers', host: 'test.example.org',
          headers: { 'X-Header-Add': 'header-val-1', 'X-Header-Add-Append': 'append-val-1,header-val-2', 'X-Header-Set': 'set-overwrites-values' },
          absentHeaders: ['X-Header-Remove'],
        },
        backend: InfraBackendServiceNameV2, namespace: ns,
      },
    ]);
  },
};
