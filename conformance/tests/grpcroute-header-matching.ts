import { status } from '@grpc/grpc-js';
import { SupportGateway, SupportGRPCRoute } from '../features.js';
import { InfrastructureNamespace } from '../harness/suite.js';
import { expectEventuallyConsistentResponses, type ExpectedResponse } from '../utils/grpc.js';
import { gatewayAndRoutesMustBeAccepted, newGatewayRef } from '../utils/kubernetes.js';
import type { ConformanceTest } from './types.js';

export const GRPCRouteHeaderMatching: ConformanceTest = {
  shortName: 'GRPCRouteHeaderMatching',
  description: 'A single GRPCRoute with header matching for different backends',
  features: [SupportGateway, SupportGRPCRoute],
  manifests: ['tests/grpcroute-header-matching.yaml'],
  test: async (t, s) => {
    const ns = InfrastructureNamespace;
    const routeNN = { name: 'grpc-header-matching', namespace: ns };
    const gwNN = { name: 'same-namespace', namespace: ns };
    const gwAddr = await gatewayAndRoutesMustBeAccepted(t, s, s.controllerName, newGatewayRef(gwNN), 'GRPCRoute', true, routeNN);
    const toBackend = (metadata: Record<string, string>, backend: string): ExpectedResponse =>
      ({ method: 'Echo', requestMetadata: { metadata }, backend, namespace: ns });
    const unmatched = (metadata: Record<string, string>): ExpectedResponse =>
      ({ method: 'Echo', requestMetadata: { metadata }, response: { code: status.UNIMPLEMENTED } });
    await expectEventuallyConsistentResponses(t, s, gwAddr, [
      toBackend({ Version: 'one' }, 'grpc-infra-backend-v1'),
      toBackend({ Version: 'two' }, 'grpc-infra-backend-v2'),
      toBackend({ Version: 'two', Color: 'orange' }, 'grpc-infra-backend-v1'),
      toBackend({ Version: 'two', Color: 'blue' }, 'grpc-infra-backend-v2'),
      unmatched({ Color: 'orange' }),
      unmatched({ 'Some-Other-Header': 'one' }),
      toBackend({ Color: 'blue' }, 'grpc-infra-backend-v1'),
      toBackend({ Color: 'green' }, 'grpc-infra-backend-v1'),
      toBackend({ Color: 'red' }, 'grpc-infra-backend-v2'),
      toBackend({ Color: 'yellow' }, 'grpc-infra-backend-v2'),
      unmatched({ Color: 'purple' }),
    ]);
  },
};
