import { SupportGateway, SupportTCPRoute } from '../features.js';
import { InfrastructureNamespace } from '../harness/suite.js';
import {
  gatewayAndTCPRoutesMustBeAccepted, gatewayGroup, gatewayStatusMustHaveListeners, namespacesMustBeReady, newGatewayRef, tcpRouteMustHaveCondition,
  type ExpectedCondition,
} from '../utils/kubernetes.js';
import { sleep } from '../utils/t.js';
import { echoSendOnce, makeTCPRequestAndExpectEventuallyValidResponse } from '../utils/tcp.js';
import type { ConformanceTest } from './types.js';

export const TCPRouteMultipleRoutesAttachment: ConformanceTest = {
  shortName: 'TCPRouteMultipleRoutesAttachment',
  description: 'When two TCPRoutes target the same Gateway listener, both must report Accepted=True. ' +
    "Only the oldest route is attached to the listener, and the listener's AttachedRoutes count must reflect this.",
  features: [SupportGateway, SupportTCPRoute],
  manifests: ['tests/tcproute-multiple-routes-attachment.yaml'],
  test: async (t, s) => {
    const ns = InfrastructureNamespace;
    const gwNN = { name: 'tcp-multi-route-attach-gateway', namespace: ns };
    const olderRouteNN = { name: 'tcproute-attach-older', namespace: ns };
    const newerRouteNN = { name: 'tcproute-attach-newer', namespace: ns };
    await namespacesMustBeReady(t, s, [ns]);
    // The older route is in place before the newer one exists, so their order is unambiguous.
    const gwAddr = await gatewayAndTCPRoutesMustBeAccepted(t, s, s.controllerName, newGatewayRef(gwNN, 'tcp'), olderRouteNN);
    // Creation timestamps have a one-second resolution.
    await sleep(1_000);
    await s.applyObjects(t, [{
      apiVersion: 'gateway.networking.k8s.io/v1',
      kind: 'TCPRoute',
      metadata: { name: newerRouteNN.name, namespace: newerRouteNN.namespace },
      spec: {
        parentRefs: [{ name: gwNN.name, sectionName: 'tcp' }],
        rules: [{ backendRefs: [{ name: 'tcp-attach-backend-2', port: 3000 }] }],
      },
    }]);
    const accepted: ExpectedCondition = { type: 'Accepted', status: 'True', reason: 'Accepted' };

    await t.run('Both TCPRoutes should be Accepted by the Gateway', async (t) => {
      // The newer route loses at the listener, not in its own Accepted condition.
      await tcpRouteMustHaveCondition(t, s, olderRouteNN, gwNN, accepted);
      await tcpRouteMustHaveCondition(t, s, newerRouteNN, gwNN, accepted);
    });
    await t.run('Gateway listener should report 2 attached Routes', (t) => gatewayStatusMustHaveListeners(t, s, gwNN, [{
      name: 'tcp',
      supportedKinds: [{ group: gatewayGroup, kind: 'TCPRoute' }],
      conditions: [{ type: 'Accepted', status: 'True', reason: 'Accepted' }],
      attachedRoutes: 2,
    }]));
    await t.run('Only the oldest TCPRoute should receive traffic', async (t) => {
      await makeTCPRequestAndExpectEventuallyValidResponse(t, s, gwAddr, undefined, '', false, { backend: 'tcp-attach-backend-1', namespace: ns });
      // One answer from the older route's backend could be luck; many make it a guarantee.
      const samples = 100;
      for (let i = 1; i <= samples; i++) {
        const pod = await echoSendOnce(gwAddr, 5_000).catch((err: Error) => t.fatal(`TCP echo request ${i}/${samples} failed: ${err.message}`));
        if (pod.startsWith('tcp-attach-backend-2-')) t.fatal(`request ${i}/${samples} reached newer route backend "${pod}"; only the oldest route should be attached`);
        if (!pod.startsWith('tcp-attach-backend-1-')) t.fatal(`request ${i}/${samples} reached unexpected backend "${pod}"; expected pod from "tcp-attach-backend-1-"`);
      }
    });
  },
};
