import { SupportGateway, SupportTCPRoute } from '../features.js';
import { InfrastructureNamespace } from '../harness/suite.js';
import { acceptedParents, gatewayGroup, namespacesMustBeReady, newGatewayRef, newResourceRef, tcpRouteMustHaveParents, waitForGatewayAddress } from '../utils/kubernetes.js';
import { makeTCPRequestAndExpectEventuallyValidResponse } from '../utils/tcp.js';
import type { ConformanceTest } from './types.js';

export const TCPRouteParentRefPortAndSectionName: ConformanceTest = {
  shortName: 'TCPRouteParentRefPortAndSectionName',
  description: 'A TCPRoute attaches to a TCP listener by port, by sectionName, or by both.',
  features: [SupportGateway, SupportTCPRoute],
  manifests: ['tests/tcproute-parentref-port-and-section-name.yaml'],
  test: async (t, s) => {
    const ns = InfrastructureNamespace;
    const gwNN = { name: 'tcp-multi-listener-gateway', namespace: ns };
    await namespacesMustBeReady(t, s, [ns]);
    const scenarios = [
      { name: 'TCPRoute attaches to a TCP listener by port', route: 'tcp-route-by-port', listener: 'one', backend: 'tcp-echo-one' },
      { name: 'TCPRoute attaches to a TCP listener by sectionName', route: 'tcp-route-by-section', listener: 'two', backend: 'tcp-echo-two' },
      { name: 'TCPRoute attaches to a TCP listener by sectionName and port', route: 'tcp-route-by-section-and-port', listener: 'three', backend: 'tcp-echo-three' },
    ];
    for (const sc of scenarios) {
      await t.run(sc.name, async (t) => {
        await tcpRouteMustHaveParents(t, s, { name: sc.route, namespace: ns },
          acceptedParents(s.controllerName, newResourceRef({ group: gatewayGroup, kind: 'Gateway' }, gwNN)), false);
        const gwAddr = await waitForGatewayAddress(t, s, newGatewayRef(gwNN, sc.listener));
        await makeTCPRequestAndExpectEventuallyValidResponse(t, s, gwAddr, undefined, '', false, { backend: sc.backend, namespace: ns });
      });
    }
  },
};
