import { status } from '@grpc/grpc-js';
import { SupportGateway, SupportGRPCRoute } from '../features.js';
import { InfrastructureNamespace } from '../harness/suite.js';
import { expectEventuallyConsistentResponses } from '../utils/grpc.js';
import { gatewayAndRoutesMustBeAccepted, newGatewayRef } from '../utils/kubernetes.js';
import type { ConformanceTest } from './types.js';

export const GRPCExactMethodMatching: ConformanceTest = {
  shortName: 'GRPCExactMethodMatching',
  description: 'A single GRPCRoute with exact method matching for different backends',
  features: [SupportGateway, SupportGRPCRoute],
  manifests: ['tests/grpcroute-exact-method-matching.yaml'],
  test: async (t, s) => {
    const ns = InfrastructureNamespace;
    const routeNN = { name: 'exact-matching', namespace: ns };
    const gwNN = { name: 'same-namespace', namespace: ns };
    const gwAddr = await gatewayAndRoutesMustBeAccepted(t, s, s.controllerName, newGatewayRef(gwNN), 'GRPCRoute', true, routeNN);
    await expectEventuallyConsistentResponses(t, s, gwAddr, [
      { method: 'Echo', backend: 'grpc-infra-backend-v1', namespace: ns },
      { method: 'EchoTwo', backend: 'grpc-infra-backend-v2', namespace: ns },
      // No rule matches EchoThree.
      { method: 'EchoThree', response: { code: status.UNIMPLEMENTED } },
    ]);
  },
};
