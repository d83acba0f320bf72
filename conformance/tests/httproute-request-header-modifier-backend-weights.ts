import { SupportGateway, SupportHTTPRoute } from '../features.js';
import { InfrastructureNamespace } from '../harness/suite.js';
import { makeRequest, makeRequestAndExpectEventuallyConsistentResponse, type ExpectedResponse } from '../utils/http.js';
import { gatewayAndHTTPRoutesMustBeAccepted, httpRouteMustHaveResolvedRefsConditionsTrue, newGatewayRef } from '../utils/kubernetes.js';
import type { ConformanceTest } from './types.js';

export const HTTPRouteRequestHeaderModifierBackendWeights: ConformanceTest = {
  shortName: 'HTTPRouteRequestHeaderModifierBackendWeights',
  description: 'An HTTPRoute with backend request header modifier filter sends traffic to the correct backends',
  features: [SupportGateway, 'HTTPRouteBackendRequestHeaderModification', SupportHTTPRoute],
  manifests: ['tests/httproute-request-header-modifier-backend-weights.yaml'],
  test: async (t, s) => {
    const ns = InfrastructureNamespace;
    const routeNN = { name: 'request-header-modifier-backend-weights', namespace: ns };
    const gwNN = { name: 'same-namespace', namespace: ns };
    const gwAddr = await gatewayAndHTTPRoutesMustBeAccepted(t, s, s.controllerName, newGatewayRef(gwNN), routeNN);
    await httpRouteMustHaveResolvedRefsConditionsTrue(t, s, routeNN, gwNN);

    const expected: ExpectedResponse = { request: { path: '/' }, response: { statusCode: 200 }, namespace: ns };
    const { req } = makeRequest(expected, gwAddr, 'HTTP', 'http');
    await makeRequestAndExpectEventuallyConsistentResponse(t, s, gwAddr, expected);

    // Each backendRef's filter names its own backend in a Backend header; the
    // request must land on the pod whose filter ran.
    for (let i = 0; i < 100; i++) {
      const { cReq } = await s.roundTripper.captureRoundTrip(req).catch((err: Error) => t.fatal(`failed to roundtrip request: ${err.message}`));
      const backends = cReq.headers.Backend ?? [];
      if (backends.length !== 1) t.fatal(`expected a single 'Backend' header to have been set, got ${backends.length}`);
      if (!cReq.pod.startsWith(backends[0]!)) {
        t.fatal(`expected the backendRef to have set the correct headers and sent the request to the correct pod, got "${cReq.pod}", want "${backends[0]}"`);
      }
    }
  },
};
