import { SupportGateway, SupportHTTPRoute } from '../features.js';
import { InfraBackendServiceNameV1, InfrastructureNamespace } from '../harness/suite.js';
import { expectEventuallyConsistentResponses, type ExpectedResponse } from '../utils/http.js';
import { gatewayAndHTTPRoutesMustBeAccepted, httpRouteMustHaveResolvedRefsConditionsTrue, newGatewayRef } from '../utils/kubernetes.js';
import type { ConformanceTest } from './types.js';

export const HTTPRouteResponseHeaderModifier: ConformanceTest = {
  shortName: 'HTTPRouteResponseHeaderModifier',
  description: 'An HTTPRoute has response header modifier filters applied correctly',
  features: [SupportGateway, SupportHTTPRoute, 'HTTPRouteResponseHeaderModification'],
  manifests: ['tests/httproute-response-header-modifier.yaml'],
  test: async (t, s) => {
    const ns = InfrastructureNamespace;
    const routeNN = { name: 'response-header-modifier', namespace: ns };
    const gwNN = { name: 'same-namespace', namespace: ns };
    const gwAddr = await gatewayAndHTTPRoutesMustBeAccepted(t, s, s.controllerName, newGatewayRef(gwNN), routeNN);
    await httpRouteMustHaveResolvedRefsConditionsTrue(t, s, routeNN, gwNN);

    const tc = (path: string, backendSet: Record<string, string>, headers: Record<string, string>, absentHeaders?: string[],
      extra: Partial<ExpectedResponse> = {}): ExpectedResponse => ({
      request: { path },
      backendSetResponseHeaders: backendSet,
      response: { headers, ...(absentHeaders ? { absentHeaders } : {}) },
      backend: InfraBackendServiceNameV1,
      namespace: ns,
      ...extra,
    });
    await expectEventuallyConsistentResponses(t, s, gwAddr, [
      tc('/set', { 'Some-Other-Header': 'val' }, { 'Some-Other-Header': 'val', 'X-Header-Set': 'set-overwrites-values' }),
      tc('/set', { 'Some-Other-Header': 'val', 'X-Header-Set': 'some-other-value' },
        { 'Some-Other-Header': 'val', 'X-Header-Set': 'set-overwrites-values' }),
      tc('/add', { 'Some-Other-Header': 'val' }, { 'Some-Other-Header': 'val', 'X-Header-Add': 'add-appends-values' }),
      tc('/add', { 'Some-Other-Header': 'val', 'X-Header-Add': 'some-other-value' },
        { 'Some-Other-Header': 'val', 'X-Header-Add': 'some-other-value,add-appends-values' }),
      tc('/remove', { 'X-Header-Remove': 'val' }, {}, ['X-Header-Remove']),
      tc('/multiple', {
        'X-Header-Set-2': 'set-val-2', 'X-Header-Add-2': 'add-val-2', 'X-Header-Remove-2': 'remove-val-2',
        'Another-Header': 'another-header-val', 'X-Header-Remove-1': 'val',
      }, {
        'X-Header-Set-1': 'header-set-1', 'X-Header-Set-2': 'header-set-2', 'X-Header-Add-1': 'header-add-1',
        'X-Header-Add-2': 'add-val-2,header-add-2', 'X-Header-Add-3': 'header-add-3', 'Another-Header': 'another-header-val',
      }, ['X-Header-Remove-1', 'X-Header-Remove-2']),
      tc('/case-insensitivity', {
        'x-header-set': 'original-val-set', 'x-header-add': 'original-val-add', 'x-header-remove': 'original-val-remove',
        'Another-Header': 'another-header-val',
      }, {
        'X-Header-Set': 'header-set', 'X-Header-Add': 'original-val-add,header-add', 'X-Lowercase-Add': 'lowercase-add',
        'X-Mixedcase-Add-1': 'mixedcase-add-1', 'X-Mixedcase-Add-2': 'mixedcase-add-2', 'X-Uppercase-Add': 'uppercase-add',
        'Another-Header': 'another-header-val',
      }, ['x-header-remove', 'X-Header-Remove']),
      tc('/response-and-request-header-modifiers', {
        'X-Header-Set-2': 'set-val-2', 'X-Header-Add-2': 'add-val-2', 'X-Header-Remove-2': 'remove-val-2',
        'Another-Header': 'another-header-val', 'X-Header-Remove-1': 'remove-val-1', 'X-Header-Echo': 'echo',
      }, {
        'X-Header-Set-1': 'header-set-1', 'X-Header-Set-2': 'header-set-2', 'X-Header-Add-1': 'header-add-1',
        'X-Header-Add-2': 'add-val-2,header-add-2', 'Another-Header': 'another-header-val', 'X-Header-Echo': 'echo',
      }, ['X-Header-Remove-1', 'X-Header-Remove-2'], {
        request: {
          path: '/response-and-request-header-modifiers',
          headers: { 'X-Header-Remove': 'remove-val', 'X-Header-Add-Append': 'append-val-1', 'X-Header-Echo': 'echo' },
        },
        expectedRequest: {
          path: '/response-and-request-header-modifiers',
          headers: {
            'X-Header-Add': 'header-val-1', 'X-Header-Set': 'set-overwrites-values',
            'X-Header-Add-Append': 'append-val-1,header-val-2', 'X-Header-Echo': 'echo',
          },
          absentHeaders: ['X-Header-Remove'],
        },
      }),
    ]);
  },
};
