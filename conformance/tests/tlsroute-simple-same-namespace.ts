import { SupportGateway, SupportTLSRoute } from '../features.js';
import { InfrastructureGatewayName, InfrastructureNamespace } from '../harness/suite.js';
import { gatewayAndTLSRoutesMustBeAccepted, getConfigMapData, namespacesMustBeReady, newGatewayRef } from '../utils/kubernetes.js';
import { makeTCPRequestAndExpectEventuallyValidResponse } from '../utils/tcp.js';
import type { ConformanceTest } from './types.js';

export const TLSRouteSimpleSameNamespace: ConformanceTest = {
  shortName: 'TLSRouteSimpleSameNamespace',
  description: 'A single TLSRoute in the gateway-conformance-infra namespace attaches to a Gateway in the same namespace',
  features: [SupportGateway, SupportTLSRoute],
  manifests: ['tests/tlsroute-simple-same-namespace.yaml'],
  test: async (t, s) => {
    const ns = InfrastructureNamespace;
    const routeNN = { name: InfrastructureGatewayName, namespace: ns };
    const gwNN = { name: 'gateway-tlsroute', namespace: ns };
    const caCertNN = { name: 'tls-checks-ca-certificate', namespace: ns };
    await namespacesMustBeReady(t, s, [ns]);
    const { gwAddr, hostnames } = await gatewayAndTLSRoutesMustBeAccepted(t, s, s.controllerName, newGatewayRef(gwNN), routeNN);
    if (hostnames.length !== 1) t.fatal(`unexpected error in test configuration, found ${hostnames.length} hostnames`);
    const serverStr = hostnames[0]!;
    const caString = (await getConfigMapData(t, s, caCertNN))['ca.crt'] ?? t.fatal(`ca.crt not found in configmap: ${caCertNN.namespace}/${caCertNN.name}`);

    // Passthrough: the client sees tcp-backend's own certificate, and the backend sees the TLS connection and its SNI.
    await t.run('Simple TLS request matching TLSRoute should reach infra-backend', (t) => makeTCPRequestAndExpectEventuallyValidResponse(t, s, gwAddr, caString, serverStr, true, {
      backendIsTLS: true, backend: 'tcp-backend', namespace: ns, hostname: serverStr,
    }));
  },
};
