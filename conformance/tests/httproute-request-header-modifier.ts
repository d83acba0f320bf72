import { SupportGateway, SupportHTTPRoute } from '../features.js';
import { InfraBackendServiceNameV1, InfrastructureNamespace } from '../harness/suite.js';
import { expectEventuallyConsistentResponses, type ExpectedRequest, type Request } from '../utils/http.js';
import { gatewayAndHTTPRoutesMustBeAccepted, httpRouteMustHaveResolvedRefsConditionsTrue, newGatewayRef } from '../utils/kubernetes.js';
import type { ConformanceTest } from './types.js';

export const HTTPRouteRequestHeaderModifier: ConformanceTest = {
  shortName: 'HTTPRouteRequestHeaderModifier',
  description: 'An HTTPRoute has request header modifier filters applied correctly',
  features: [SupportGateway, SupportHTTPRoute],
  manifests: ['tests/httproute-request-header-modifier.yaml'],
  test: async (t, s) => {
    const ns = InfrastructureNamespace;
    const routeNN = { name: 'request-header-modifier', namespace: ns };
    const gwNN = { name: 'same-namespace', namespace: ns };
    const gwAddr = await gatewayAndHTTPRoutesMustBeAccepted(t, s, s.controllerName, newGatewayRef(gwNN), routeNN);
    await httpRouteMustHaveResolvedRefsConditionsTrue(t, s, routeNN, gwNN);

    const tc = (request: Request, expectedRequest: ExpectedRequest) => ({ request, expectedRequest, backend: InfraBackendServiceNameV1, namespace: ns });
    await expectEventuallyConsistentResponses(t, s, gwAddr, [
      tc(
        { path: '/set', headers: { 'Some-Other-Header': 'val' } },
        { path: '/set', headers: { 'Some-Other-Header': 'val', 'X-Header-Set': 'set-overwrites-values' } },
      ),
      tc(
        { path: '/set', headers: { 'Some-Other-Header': 'val', 'X-Header-Set': 'some-other-value' } },
        { path: '/set', headers: { 'Some-Other-Header': 'val', 'X-Header-Set': 'set-overwrites-values' } },
      ),
      tc(
        { path: '/add', headers: { 'Some-Other-Header': 'val' } },
        { path: '/add', headers: { 'Some-Other-Header': 'val', 'X-Header-Add': 'add-appends-values' } },
      ),
      tc(
        { path: '/add', headers: { 'Some-Other-Header': 'val', 'X-Header-Add': 'some-other-value' } },
        { path: '/add', headers: { 'Some-Other-Header': 'val', 'X-Header-Add': 'some-other-value,add-appends-values' } },
      ),
      tc(
        { path: '/remove', headers: { 'X-Header-Remove': 'val' } },
        { path: '/remove', absentHeaders: ['X-Header-Remove'] },
      ),
      tc(
        {
          path: '/multiple',
          headers: { 'X-Header-Set-2': 'set-val-2', 'X-Header-Add-2': 'add-val-2', 'X-Header-Remove-2': 'remove-val-2', 'Another-Header': 'another-header-val' },
        },
        {
          path: '/multiple',
          headers: {
            'X-Header-Set-1': 'header-set-1', 'X-Header-Set-2': 'header-set-2', 'X-Header-Add-1': 'header-add-1',
            'X-Header-Add-2': 'add-val-2,header-add-2', 'X-Header-Add-3': 'header-add-3', 'Another-Header': 'another-header-val',
          },
          absentHeaders: ['X-Header-Remove-1', 'X-Header-Remove-2'],
        },
      ),
      tc(
        {
          path: '/case-insensitivity',
          headers: { 'x-header-set': 'original-val-set', 'x-header-add': 'original-val-add', 'x-header-remove': 'original-val-remove', 'Another-Header': 'another-header-val' },
        },
        {
          path: '/case-insensitivity',
          headers: { 'X-Header-Set': 'header-set', 'X-Header-Add': 'original-val-add,header-add', 'Another-Header': 'another-header-val' },
          absentHeaders: ['x-header-remove', 'X-Header-Remove'],
        },
      ),
    ]);
  },
};

/** Upstream reuses the test above with the filters moved onto the backendRef. */
export const HTTPRouteBackendRequestHeaderModifier: ConformanceTest = {
  shortName: 'HTTPRouteBackendRequestHeaderModifier',
  description: 'An HTTPRoute backend has request header modifier filters applied correctly',
  features: [SupportGateway, SupportHTTPRoute, 'HTTPRouteBackendRequestHeaderModification'],
  manifests: ['tests/httproute-request-header-modifier-backend.yaml'],
  test: HTTPRouteRequestHeaderModifier.test,
};
