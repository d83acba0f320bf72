import { SupportGateway, SupportUDPRoute } from '../features.js';
import { InfrastructureNamespace } from '../harness/suite.js';
import {
  acceptedParents, gatewayGroup, gatewayStatusMustHaveListeners, namespacesMustBeReady, newGatewayRef, newResourceRef, udpRouteMustHaveParents,
  waitForGatewayAddress, type ExpectedCondition,
} from '../utils/kubernetes.js';
import { expectEchoResponseFromBackend } from '../utils/udp.js';
import type { ConformanceTest } from './types.js';

export const UDPRouteParentRefAttachAllListeners: ConformanceTest = {
  shortName: 'UDPRouteParentRefAttachAllListeners',
  description: 'A UDPRoute whose parentRef sets neither `port` nor `sectionName` attaches to every UDP listener on the Gateway, and traffic to each listener reaches the configured backend.',
  features: [SupportGateway, SupportUDPRoute],
  manifests: ['tests/udproute-parentref-attach-all-listeners.yaml'],
  test: async (t, s) => {
    const ns = InfrastructureNamespace;
    const gwNN = { name: 'udp-attach-all-listeners-gateway', namespace: ns };
    const routeNN = { name: 'udp-route-attach-all', namespace: ns };
    const backend = 'udp-echo-attach-all';
    const listeners = ['udp-1', 'udp-2', 'udp-3'];
    await namespacesMustBeReady(t, s, [ns]);

    await t.run('UDPRoute is accepted by the Gateway', (t) => udpRouteMustHaveParents(t, s, routeNN,
      acceptedParents(s.controllerName, newResourceRef({ group: gatewayGroup, kind: 'Gateway' }, gwNN)), false));
    // Attaching implicitly to every listener counts once on each.
    await t.run('Every UDP listener on the Gateway has the UDPRoute attached', (t) => {
      const ready: ExpectedCondition[] = [{ type: 'Accepted', status: 'True' }, { type: 'ResolvedRefs', status: 'True' }];
      return gatewayStatusMustHaveListeners(t, s, gwNN, listeners.map((name) => ({
        name, supportedKinds: [{ group: gatewayGroup, kind: 'UDPRoute' }], attachedRoutes: 1, conditions: ready,
      })));
    });
    for (const listener of listeners) {
      await t.run(`UDP echo via listener ${listener} reaches the backend`, async (t) => {
        const gwAddr = await waitForGatewayAddress(t, s, newGatewayRef(gwNN, listener));
        await expectEchoResponseFromBackend(t, s, s.timeouts.defaultTestTimeout, gwAddr, { service: backend, namespace: ns });
      });
    }
  },
};
