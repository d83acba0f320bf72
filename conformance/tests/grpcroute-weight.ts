import { status } from '@grpc/grpc-js';
import { SupportGateway, SupportGRPCRoute } from '../features.js';
import { InfrastructureNamespace } from '../harness/suite.js';
import { addEntropy, codeName, DefaultClient, makeRequestAndExpectEventuallyConsistentResponse, type ExpectedResponse } from '../utils/grpc.js';
import { gatewayAndRoutesMustBeAccepted, newGatewayRef } from '../utils/kubernetes.js';
import { expectWeightedDistribution } from '../utils/weight.js';
import type { ConformanceTest } from './types.js';

export const GRPCRouteWeight: ConformanceTest = {
  shortName: 'GRPCRouteWeight',
  description: 'A GRPCRoute with weighted backends',
  features: [SupportGateway, SupportGRPCRoute],
  manifests: ['tests/grpcroute-weight.yaml'],
  test: async (t, s) => {
    const ns = InfrastructureNamespace;
    const routeNN = { name: 'weighted-backends', namespace: ns };
    const gwNN = { name: 'same-namespace', namespace: ns };
    const gwAddr = await gatewayAndRoutesMustBeAccepted(t, s, s.controllerName, newGatewayRef(gwNN), 'GRPCRoute', true, routeNN);

    await t.run('Requests should have a distribution that matches the weight', async (t) => {
      const expected: ExpectedResponse = { method: 'Echo', response: { code: status.OK }, namespace: ns };
      // Assert a request succeeds before checking the distribution.
      await makeRequestAndExpectEventuallyConsistentResponse(t, s, gwAddr, expected);

      // As upstream without a custom client: a fresh connection per request, so each one is balanced anew.
      const send = async (): Promise<string> => {
        const client = new DefaultClient();
        try {
          const resp = await client.sendRPC(t, gwAddr, addEntropy(expected), s.timeouts.maxTimeToConsistency)
            .catch((err: Error) => { throw new Error(`failed to send gRPC request: ${err.message}`); });
          if (resp.code !== status.OK) throw new Error(`expected OK response, got ${codeName(resp.code)}`);
          return resp.response?.assertions?.context?.pod ?? '';
        } finally {
          client.close();
        }
      };
      await expectWeightedDistribution(t, send,
        { 'grpc-infra-backend-v1': 0.7, 'grpc-infra-backend-v2': 0.3, 'grpc-infra-backend-v3': 0.0 });
    });
  },
};
