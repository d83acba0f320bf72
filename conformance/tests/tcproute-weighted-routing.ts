import { SupportGateway, SupportTCPRoute } from '../features.js';
import { InfrastructureNamespace } from '../harness/suite.js';
import { gatewayAndTCPRoutesMustBeAccepted, namespacesMustBeReady, newGatewayRef } from '../utils/kubernetes.js';
import { echoSendOnce, expectAddressBeAvailable } from '../utils/tcp.js';
import { expectWeightedDistribution } from '../utils/weight.js';
import type { ConformanceTest } from './types.js';

export const TCPRouteWeightedRouting: ConformanceTest = {
  shortName: 'TCPRouteWeightedRouting',
  description: 'A TCPRoute with multiple weighted backends should distribute TCP traffic across the backends in proportion to the configured weights, and a backend with weight 0 should receive no traffic.',
  features: [SupportGateway, SupportTCPRoute],
  manifests: ['tests/tcproute-weighted-routing.yaml'],
  test: async (t, s) => {
    const ns = InfrastructureNamespace;
    const gwNN = { name: 'tcp-weighted-gateway', namespace: ns };
    const routeNN = { name: 'tcp-weighted-route', namespace: ns };
    await namespacesMustBeReady(t, s, [ns]);
    const gwAddr = await gatewayAndTCPRoutesMustBeAccepted(t, s, s.controllerName, newGatewayRef(gwNN, 'tcp'), routeNN);

    await t.run('TCP traffic should be distributed across the weighted backends and skip the zero-weighted backend', async (t) => {
      await expectAddressBeAvailable(t, s.timeouts.defaultPollInterval, s.timeouts.maxTimeToConsistency, gwAddr);
      await expectWeightedDistribution(t, () => echoSendOnce(gwAddr, s.timeouts.requestTimeout),
        { 'tcp-backend-v1': 0.7, 'tcp-backend-v2': 0.3, 'tcp-backend-v3': 0.0 });
    });
  },
};
