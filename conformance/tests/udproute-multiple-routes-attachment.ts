import { SupportGateway, SupportUDPRoute } from '../features.js';
import { InfrastructureNamespace } from '../harness/suite.js';
import {
  gatewayAndUDPRoutesMustBeAccepted, gatewayGroup, gatewayStatusMustHaveListeners, namespacesMustBeReady, newGatewayRef, udpRouteMustHaveCondition,
  type ExpectedCondition,
} from '../utils/kubernetes.js';
import { poll, sleep } from '../utils/t.js';
import { udpEchoSendOnce } from '../utils/udp.js';
import { extractBackendName } from '../utils/weight.js';
import type { ConformanceTest } from './types.js';

export const UDPRouteMultipleRoutesAttachment: ConformanceTest = {
  shortName: 'UDPRouteMultipleRoutesAttachment',
  description: 'When two UDPRoutes target the same Gateway listener, both must report Accepted=True. ' +
    "Only the oldest route is attached and receives traffic; the listener's AttachedRoutes count must reflect both.",
  features: [SupportGateway, SupportUDPRoute],
  manifests: ['tests/udproute-multiple-routes-attachment.yaml'],
  test: async (t, s) => {
    const ns = InfrastructureNamespace;
    const gwNN = { name: 'udp-multi-route-attach-gateway', namespace: ns };
    const olderRouteNN = { name: 'udproute-attach-older', namespace: ns };
    const newerRouteNN = { name: 'udproute-attach-newer', namespace: ns };
    await namespacesMustBeReady(t, s, [ns]);
    // The older route is in place before the newer one exists, so their order is unambiguous.
    const gwAddr = await gatewayAndUDPRoutesMustBeAccepted(t, s, s.controllerName, newGatewayRef(gwNN, 'udp'), olderRouteNN);
    // Creation timestamps have a one-second resolution.
    await sleep(1_000);
    await s.applyObjects(t, [{
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'UDPRoute',
      metadata: { name: newerRouteNN.name, namespace: newerRouteNN.namespace },
      spec: {
        parentRefs: [{ name: gwNN.name, sectionName: 'udp' }],
        rules: [{ backendRefs: [{ name: 'udp-attach-backend-2', port: 8080 }] }],
      },
    }]);
    const accepted: ExpectedCondition = { type: 'Accepted', status: 'True', reason: 'Accepted' };

    await t.run('Both UDPRoutes should be Accepted by the Gateway', async (t) => {
      // The newer route loses at the listener, not in its own Accepted condition.
      await udpRouteMustHaveCondition(t, s, olderRouteNN, gwNN, accepted);
      await udpRouteMustHaveCondition(t, s, newerRouteNN, gwNN, accepted);
    });
    await t.run('Gateway listener should report 2 attached Routes', (t) => gatewayStatusMustHaveListeners(t, s, gwNN, [{
      name: 'udp',
      supportedKinds: [{ group: gatewayGroup, kind: 'UDPRoute' }],
      conditions: [{ type: 'Accepted', status: 'True', reason: 'Accepted' }],
      attachedRoutes: 2,
    }]));
    await t.run('Only the oldest UDPRoute should receive traffic', async (t) => {
      const probes = 20;
      let wrong: string | undefined;
      // Lost datagrams are retried; an answer from the wrong backend ends the wait at once.
      const ok = await poll(s.timeouts.convergenceRetryDelay, s.timeouts.defaultTestTimeout, async () => {
        for (let i = 1; i <= probes; i++) {
          let pod: string;
          try {
            pod = await udpEchoSendOnce(gwAddr, 2_000);
          } catch (err) {
            t.log(`UDP probe ${i} failed, will retry: ${(err as Error).message}`);
            return false;
          }
          const backend = extractBackendName(pod);
          if (backend !== 'udp-attach-backend-1') {
            wrong = `UDP traffic reached unexpected backend "${backend}" (pod "${pod}"); only udp-attach-backend-1 should receive traffic`;
            return true;
          }
        }
        return true;
      });
      if (wrong) t.fatal(`UDP traffic verification failed: ${wrong}`);
      if (!ok) t.fatal(`UDP traffic verification failed: no ${probes} consecutive answers within ${s.timeouts.defaultTestTimeout}ms`);
    });
  },
};
