import { SupportGateway, SupportUDPRoute } from '../features.js';
import { InfrastructureNamespace } from '../harness/suite.js';
import { gatewayAndUDPRoutesMustBeAccepted, namespacesMustBeReady, newGatewayRef } from '../utils/kubernetes.js';
import { expectEchoResponse, udpEchoSendOnce } from '../utils/udp.js';
import { expectWeightedDistribution } from '../utils/weight.js';
import type { ConformanceTest } from './types.js';

export const UDPRouteWeightedRouting: ConformanceTest = {
  shortName: 'UDPRouteWeightedRouting',
  description: 'A UDPRoute with multiple weighted backends should distribute UDP traffic across the backends in proportion to the configured weights, and a backend with weight 0 should not receive any traffic.',
  features: [SupportGateway, SupportUDPRoute],
  manifests: ['tests/udproute-weighted-routing.yaml'],
  test: async (t, s) => {
    const ns = InfrastructureNamespace;
    const gwNN = { name: 'udp-weighted-gateway', namespace: ns };
    const routeNN = { name: 'udp-weighted-route', namespace: ns };
    await namespacesMustBeReady(t, s, [ns]);
    const gwAddr = await gatewayAndUDPRoutesMustBeAccepted(t, s, s.controllerName, newGatewayRef(gwNN, 'udp'), routeNN);

    await t.run('UDP traffic should be distributed across the weighted backends', async (t) => {
      await expectEchoResponse(t, s, s.timeouts.maxTimeToConsistency, gwAddr);
      // udp-backend-v3 has weight 0: any answer from it fails the distribution.
      await expectWeightedDistribution(t, () => udpEchoSendOnce(gwAddr, 2_000),
        { 'udp-backend-v1': 0.7, 'udp-backend-v2': 0.3, 'udp-backend-v3': 0.0 });
    });
  },
};
