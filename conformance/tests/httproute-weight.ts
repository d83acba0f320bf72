import { SupportGateway, SupportHTTPRoute } from '../features.js';
import { InfraBackendServiceNameV1, InfraBackendServiceNameV2, InfraBackendServiceNameV3, InfrastructureNamespace } from '../harness/suite.js';
import { addEntropy, compareRoundTrip, makeRequest, makeRequestAndExpectEventuallyConsistentResponse, type ExpectedResponse } from '../utils/http.js';
import { gatewayAndHTTPRoutesMustBeAccepted, httpRouteMustHaveResolvedRefsConditionsTrue, newGatewayRef } from '../utils/kubernetes.js';
import { expectWeightedDistribution } from '../utils/weight.js';
import type { ConformanceTest } from './types.js';

export const HTTPRouteWeight: ConformanceTest = {
  shortName: 'HTTPRouteWeight',
  description: 'An HTTPRoute with weighted backends',
  features: [SupportGateway, SupportHTTPRoute],
  manifests: ['tests/httproute-weight.yaml'],
  test: async (t, s) => {
    const ns = InfrastructureNamespace;
    const routeNN = { name: 'weighted-backends', namespace: ns };
    const gwNN = { name: 'same-namespace', namespace: ns };
    const gwAddr = await gatewayAndHTTPRoutesMustBeAccepted(t, s, s.controllerName, newGatewayRef(gwNN), routeNN);
    await httpRouteMustHaveResolvedRefsConditionsTrue(t, s, routeNN, gwNN);

    await t.run('Requests should have a distribution that matches the weight', async (t) => {
      const expected: ExpectedResponse = { request: { path: '/' }, response: { statusCodes: [200] }, namespace: InfrastructureNamespace };
      await makeRequestAndExpectEventuallyConsistentResponse(t, s, gwAddr, expected);

      const expectedWeights = { [InfraBackendServiceNameV1]: 0.7, [InfraBackendServiceNameV2]: 0.3, [InfraBackendServiceNameV3]: 0.0 };
      const send = async (): Promise<string> => {
        const { req } = makeRequest(addEntropy(expected), gwAddr, 'HTTP', 'http');
        const { cReq, cRes } = await s.roundTripper.captureRoundTrip(req)
          .catch((err: Error) => { throw new Error(`failed to roundtrip request: ${err.message}`); });
        const mismatch = compareRoundTrip(req, cReq, cRes, makeRequest(expected, gwAddr, 'HTTP', 'http').expected);
        if (mismatch) throw new Error(`response expectation failed for request: ${mismatch}`);
        return cReq.pod;
      };
      await expectWeightedDistribution(t, send, expectedWeights);
    });
  },
};
