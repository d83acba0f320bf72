import { SupportGateway, SupportTCPRoute } from '../features.js';
import { InfrastructureNamespace } from '../harness/suite.js';
import { acceptedParents, gatewayGroup, namespacesMustBeReady, newGatewayRef, newResourceRef, tcpRouteMustHaveParents, waitForGatewayAddress } from '../utils/kubernetes.js';
import { makeTCPRequestAndExpectEventuallyValidResponse } from '../utils/tcp.js';
import type { ConformanceTest } from './types.js';

export const TCPRouteParentRefAttachAll: ConformanceTest = {
  shortName: 'TCPRouteParentRefAttachAll',
  description: 'A TCPRoute whose parentRef sets neither sectionName nor port should attach to every TCP listener on the Gateway, and traffic to each listener should reach the configured backend.',
  features: [SupportGateway, SupportTCPRoute],
  manifests: ['tests/tcproute-parentref-attach-all.yaml'],
  test: async (t, s) => {
    const ns = InfrastructureNamespace;
    const gwNN = { name: 'tcp-attach-all-gateway', namespace: ns };
    const routeNN = { name: 'tcp-route-attach-all', namespace: ns };
    await namespacesMustBeReady(t, s, [ns]);

    await t.run('TCPRoute is Accepted on the Gateway', (t) => tcpRouteMustHaveParents(t, s, routeNN,
      acceptedParents(s.controllerName, newResourceRef({ group: gatewayGroup, kind: 'Gateway' }, gwNN)), false));
    // The route is the Gateway's only one, so every listener leads to its backend.
    for (const listener of ['one', 'two', 'three', 'four']) {
      await t.run(`Listener ${listener} routes to the attach-all backend`, async (t) => {
        const gwAddr = await waitForGatewayAddress(t, s, newGatewayRef(gwNN, listener));
        await makeTCPRequestAndExpectEventuallyValidResponse(t, s, gwAddr, undefined, '', false, { backend: 'tcp-echo-attach-all', namespace: ns });
      });
    }
  },
};
