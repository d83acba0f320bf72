import { SupportGateway, SupportUDPRoute } from '../features.js';
import { InfrastructureNamespace } from '../harness/suite.js';
import { acceptedParents, gatewayGroup, namespacesMustBeReady, newGatewayRef, newResourceRef, udpRouteMustHaveParents, waitForGatewayAddress } from '../utils/kubernetes.js';
import { expectEchoResponseFromBackend } from '../utils/udp.js';
import type { ConformanceTest } from './types.js';

export const UDPRouteParentRefPortAndSectionName: ConformanceTest = {
  shortName: 'UDPRouteParentRefPortAndSectionName',
  description: 'A UDPRoute attaches to a UDP listener selected by port, by sectionName, or by both, and traffic to each listener is routed to the backend Service configured by the corresponding UDPRoute.',
  features: [SupportGateway, SupportUDPRoute],
  manifests: ['tests/udproute-parentref-port-and-section-name.yaml'],
  test: async (t, s) => {
    const ns = InfrastructureNamespace;
    const gwNN = { name: 'udp-multi-listener-gateway', namespace: ns };
    await namespacesMustBeReady(t, s, [ns]);
    // Each listener has a backend of its own, told apart by the service name in its answer.
    const scenarios = [
      { name: 'UDPRoute attaches to a UDP listener by port', route: 'udp-route-by-port', listener: 'by-port', backend: 'udp-echo-by-port' },
      { name: 'UDPRoute attaches to a UDP listener by sectionName', route: 'udp-route-by-section', listener: 'by-section', backend: 'udp-echo-by-section' },
      {
        name: 'UDPRoute attaches to a UDP listener by sectionName and port', route: 'udp-route-by-section-and-port',
        listener: 'by-section-and-port', backend: 'udp-echo-by-section-and-port',
      },
    ];
    for (const sc of scenarios) {
      await t.run(sc.name, async (t) => {
        await udpRouteMustHaveParents(t, s, { name: sc.route, namespace: ns },
          acceptedParents(s.controllerName, newResourceRef({ group: gatewayGroup, kind: 'Gateway' }, gwNN)), false);
        const gwAddr = await waitForGatewayAddress(t, s, newGatewayRef(gwNN, sc.listener));
        await expectEchoResponseFromBackend(t, s, s.timeouts.defaultTestTimeout, gwAddr, { service: sc.backend, namespace: ns });
      });
    }
  },
};
