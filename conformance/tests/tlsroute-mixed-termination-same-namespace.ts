import { SupportGateway, SupportTLSRoute, SupportTLSRouteModeMixed, SupportTLSRouteModeTerminate } from '../features.js';
import { InfrastructureNamespace } from '../harness/suite.js';
import {
  gatewayAndTLSRoutesMustBeAccepted, gatewayGroup, gatewayStatusMustHaveListeners, getConfigMapData, namespacesMustBeReady, newGatewayRef,
} from '../utils/kubernetes.js';
import { makeTCPRequestAndExpectEventuallyValidResponse } from '../utils/tcp.js';
import type { ConformanceTest } from './types.js';

export const TLSRouteMixedTerminationSameNamespace: ConformanceTest = {
  shortName: 'TLSRouteMixedTerminationSameNamespace',
  description: 'A Gateway with 2 TLS Listeners on different modes, on the same port must route the traffic correctly',
  features: [SupportGateway, SupportTLSRoute, SupportTLSRouteModeTerminate, SupportTLSRouteModeMixed],
  manifests: ['tests/tlsroute-mixed-termination-same-namespace.yaml'],
  test: async (t, s) => {
    const ns = InfrastructureNamespace;
    const routeTerminateNN = { name: 'gateway-conformance-mixed-terminateroute', namespace: ns };
    const routePassthroughNN = { name: 'gateway-conformance-mixed-passthroughroute', namespace: ns };
    const gwNN = { name: 'gateway-tlsroute-mixed-termination', namespace: ns };
    const caCertNN = { name: 'tls-checks-ca-certificate', namespace: ns };
    await namespacesMustBeReady(t, s, [ns]);
    const { gwAddr, hostnames: hostnamesPassthrough } = await gatewayAndTLSRoutesMustBeAccepted(t, s, s.controllerName, newGatewayRef(gwNN), routePassthroughNN);

    const accepted = { supportedKinds: [{ group: gatewayGroup, kind: 'TLSRoute' }], conditions: [{ type: 'Accepted', status: 'True', reason: 'Accepted' }], attachedRoutes: 1 };
    await gatewayStatusMustHaveListeners(t, s, gwNN, [{ name: 'tls-terminate', ...accepted }, { name: 'tls-passthrough', ...accepted }]);

    if (hostnamesPassthrough.length !== 1) t.fatal(`unexpected error in test configuration, found ${hostnamesPassthrough.length} passthrough hostnames`);
    const serverStrPassthrough = hostnamesPassthrough[0]!;
    const { hostnames: hostnamesTerminate } = await gatewayAndTLSRoutesMustBeAccepted(t, s, s.controllerName, newGatewayRef(gwNN), routeTerminateNN);
    if (hostnamesTerminate.length !== 1) t.fatal(`unexpected error in test configuration, found ${hostnamesTerminate.length} terminate hostnames`);
    const serverStrTerminate = hostnamesTerminate[0]!;
    const caString = (await getConfigMapData(t, s, caCertNN))['ca.crt'] ?? t.fatal(`ca.crt not found in configmap: ${caCertNN.namespace}/${caCertNN.name}`);

    await t.parallel([
      ['Simple TLS request matching terminated TLSRoute should reach tcp-backend unencrypted', (t) => makeTCPRequestAndExpectEventuallyValidResponse(t, s, gwAddr, caString, serverStrTerminate, true, {
        // Terminated at the gateway: plain TCP to the backend, which sees no SNI.
        backendIsTLS: false, backend: 'tcp-backend', namespace: ns,
      })],
      ['Simple TLS request matching TLSRoute Passthrough should reach infra-backend', (t) => makeTCPRequestAndExpectEventuallyValidResponse(t, s, gwAddr, caString, serverStrPassthrough, true, {
        backendIsTLS: true, backend: 'tcp-backend', namespace: ns, hostname: serverStrPassthrough,
      })],
    ]);
  },
};
