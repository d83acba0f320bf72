import { SupportGateway, SupportTLSRoute, SupportTLSRouteModeTerminate } from '../features.js';
import { InfrastructureNamespace } from '../harness/suite.js';
import { gatewayAndTLSRoutesMustBeAccepted, getConfigMapData, namespacesMustBeReady, newGatewayRef } from '../utils/kubernetes.js';
import { makeTCPRequestAndExpectEventuallyValidResponse } from '../utils/tcp.js';
import type { ConformanceTest } from './types.js';

export const TLSRouteTerminateSimpleSameNamespace: ConformanceTest = {
  shortName: 'TLSRouteTerminateSimpleSameNamespace',
  description: 'A single TLSRoute in the gateway-conformance-infra namespace attaches to a Gateway using Terminate mode in the same namespace',
  features: [SupportGateway, SupportTLSRoute, SupportTLSRouteModeTerminate],
  manifests: ['tests/tlsroute-terminate-simple-same-namespace.yaml'],
  test: async (t, s) => {
    const ns = InfrastructureNamespace;
    const routeNN = { name: 'tlsroute-terminated-test', namespace: ns };
    const gwNN = { name: 'gateway-tlsroute-terminate', namespace: ns };
    const caCertNN = { name: 'tls-checks-ca-certificate', namespace: ns };
    await namespacesMustBeReady(t, s, [ns]);
    const { gwAddr, hostnames } = await gatewayAndTLSRoutesMustBeAccepted(t, s, s.controllerName, newGatewayRef(gwNN), routeNN);
    if (hostnames.length !== 1) t.fatal(`unexpected error in test configuration, found ${hostnames.length} hostnames`);
    const serverStr = hostnames[0]!;
    const caString = (await getConfigMapData(t, s, caCertNN))['ca.crt'] ?? t.fatal(`ca.crt not found in configmap: ${caCertNN.namespace}/${caCertNN.name}`);

    // Terminate: the client sees the gateway's certificate; the backend gets plain TCP, without SNI.
    await t.run('Simple TLS request matching terminated TLSRoute should reach tcp-backend with plain text', (t) => makeTCPRequestAndExpectEventuallyValidResponse(t, s, gwAddr, caString, serverStr, true, {
      backendIsTLS: false, backend: 'tcp-backend', namespace: ns,
    }));
  },
};
