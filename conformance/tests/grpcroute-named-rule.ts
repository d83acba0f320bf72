import { SupportGateway, SupportGRPCRoute, SupportGRPCRouteNamedRouteRule } from '../features.js';
import { InfrastructureNamespace } from '../harness/suite.js';
import { expectEventuallyConsistentResponses } from '../utils/grpc.js';
import { gatewayAndRoutesMustBeAccepted, newGatewayRef } from '../utils/kubernetes.js';
import type { ConformanceTest } from './types.js';

export const GRPCRouteNamedRule: ConformanceTest = {
  shortName: 'GRPCRouteNamedRule',
  description: 'A GRPCRoute with a named GRPCRouteRule',
  features: [SupportGateway, SupportGRPCRoute, SupportGRPCRouteNamedRouteRule],
  manifests: ['tests/grpcroute-named-rule.yaml'],
  test: async (t, s) => {
    const ns = InfrastructureNamespace;
    const routeNN = { name: 'grpc-named-rules', namespace: ns };
    const gwNN = { name: 'same-namespace', namespace: ns };
    const gwAddr = await gatewayAndRoutesMustBeAccepted(t, s, s.controllerName, newGatewayRef(gwNN), 'GRPCRoute', true, routeNN);
    await expectEventuallyConsistentResponses(t, s, gwAddr, [
      { method: 'Echo', backend: 'grpc-infra-backend-v1', namespace: ns },
      { method: 'EchoTwo', backend: 'grpc-infra-backend-v2', namespace: ns },
    ]);
  },
};
