import { status } from '@grpc/grpc-js';
import { SupportGateway, SupportGRPCRoute } from '../features.js';
import { InfrastructureNamespace } from '../harness/suite.js';
import { expectEventuallyConsistentResponses, type ExpectedResponse } from '../utils/grpc.js';
import { gatewayAndRoutesMustBeAccepted, namespacesMustBeReady, newGatewayRef } from '../utils/kubernetes.js';
import type { ConformanceTest } from './types.js';

export const GRPCRouteListenerHostnameMatching: ConformanceTest = {
  shortName: 'GRPCRouteListenerHostnameMatching',
  description: 'Multiple GRPC listeners with the same port and different hostnames, each with a different GRPCRoute',
  features: [SupportGateway, SupportGRPCRoute],
  manifests: ['tests/grpcroute-listener-hostname-matching.yaml'],
  test: async (t, s) => {
    const ns = InfrastructureNamespace;
    // The manifest adds a Gateway to the infrastructure namespace: wait for it to be ready.
    await namespacesMustBeReady(t, s, [ns]);
    const gwNN = { name: 'grpcroute-listener-hostname-matching', namespace: ns };
    await gatewayAndRoutesMustBeAccepted(t, s, s.controllerName, newGatewayRef(gwNN, 'listener-1'), 'GRPCRoute', true, { namespace: ns, name: 'backend-v1' });
    await gatewayAndRoutesMustBeAccepted(t, s, s.controllerName, newGatewayRef(gwNN, 'listener-2'), 'GRPCRoute', true, { namespace: ns, name: 'backend-v2' });
    const gwAddr = await gatewayAndRoutesMustBeAccepted(t, s, s.controllerName, newGatewayRef(gwNN, 'listener-3', 'listener-4'), 'GRPCRoute', true,
      { namespace: ns, name: 'backend-v3' });

    const toBackend = (authority: string, backend: string): ExpectedResponse =>
      ({ method: 'Echo', requestMetadata: { authority }, backend, namespace: ns });
    const unmatched = (authority: string): ExpectedResponse =>
      ({ method: 'Echo', requestMetadata: { authority }, response: { code: status.UNIMPLEMENTED } });
    await expectEventuallyConsistentResponses(t, s, gwAddr, [
      toBackend('bar.com', 'grpc-infra-backend-v1'),
      toBackend('foo.bar.com', 'grpc-infra-backend-v2'),
      toBackend('baz.bar.com', 'grpc-infra-backend-v3'),
      toBackend('boo.bar.com', 'grpc-infra-backend-v3'),
      toBackend('multiple.prefixes.bar.com', 'grpc-infra-backend-v3'),
      toBackend('multiple.prefixes.foo.com', 'grpc-infra-backend-v3'),
      unmatched('foo.com'),
      unmatched('no.matching.host'),
    ]);
  },
};
