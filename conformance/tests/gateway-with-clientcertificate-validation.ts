import { SupportGateway, SupportHTTPRoute } from '../features.js';
import { InfraBackendServiceNameV1, InfraBackendServiceNameV2, InfrastructureNamespace } from '../harness/suite.js';
import { joinHostPort, type ExpectedResponse } from '../utils/http.js';
import { gatewayAndRoutesMustBeAccepted, getTLSSecret, httpRouteMustHaveResolvedRefsConditionsTrue, newGatewayRef } from '../utils/kubernetes.js';
import { makeTLSRequestAndExpectEventuallyConsistentResponse, makeTLSRequestAndExpectFailureResponse } from '../utils/tls.js';
import type { ConformanceTest } from './types.js';

export const GatewayFrontendClientCertificateValidation: ConformanceTest = {
  shortName: 'GatewayFrontendClientCertificateValidation',
  description: "Gateway's client certificate validation config should be used for HTTPS traffic",
  features: [SupportGateway, SupportHTTPRoute, 'GatewayFrontendClientCertificateValidation'],
  manifests: ['tests/gateway-with-clientcertificate-validation.yaml'],
  test: async (t, s) => {
    const ns = InfrastructureNamespace;
    const routeNNs = [
      { name: 'client-certificate-validation-https-test', namespace: ns },
      { name: 'client-certificate-validation-https-test-no-hostname', namespace: ns },
    ];
    const gwNN = { name: 'client-validation-default', namespace: ns };
    // Without a port: the two HTTPS listeners have different ones.
    const gwAddr = await gatewayAndRoutesMustBeAccepted(t, s, s.controllerName, newGatewayRef(gwNN), 'HTTPRoute', false, ...routeNNs);
    for (const routeNN of routeNNs) await httpRouteMustHaveResolvedRefsConditionsTrue(t, s, routeNN, gwNN);

    // The same server certificate serves both listeners.
    const { certPem: serverCertPem } = await getTLSSecret(t, s, { namespace: ns, name: 'tls-validity-checks-certificate' });
    if (serverCertPem === '') t.fatal('missing required server certificate pem for the test');
    const client = await getTLSSecret(t, s, { namespace: ns, name: 'tls-validity-checks-client-certificate' });
    if (client.certPem === '' || client.keyPem === '') t.fatal('missing required client certificate and private keypem for the test');
    const perPortClient = await getTLSSecret(t, s, { namespace: ns, name: 'tls-validity-checks-per-port-client-certificate' });
    if (perPortClient.certPem === '' || perPortClient.keyPem === '') t.fatal('missing required client certificate and private keypem for the test');

    await t.run('Validate default configuration', async (t) => {
      const defaultAddr = joinHostPort(gwAddr, 443);
      const expectedSuccess: ExpectedResponse = {
        request: { host: 'example.org', path: '/' },
        response: { statusCode: 200 },
        backend: InfraBackendServiceNameV1,
        namespace: InfrastructureNamespace,
      };
      await makeTLSRequestAndExpectEventuallyConsistentResponse(t, s, defaultAddr, serverCertPem, 'example.org', expectedSuccess, client);
      const expectedFailure: ExpectedResponse = { request: { host: 'example.org', path: '/' }, namespace: InfrastructureNamespace };
      await makeTLSRequestAndExpectFailureResponse(t, s, defaultAddr, serverCertPem, 'example.org', expectedFailure, perPortClient);
    });

    await t.run('Validate per port configuration', async (t) => {
      const perPortAddr = joinHostPort(gwAddr, 8443);
      const expectedSuccess: ExpectedResponse = {
        request: { host: 'second-example.org', path: '/' },
        response: { statusCode: 200 },
        backend: InfraBackendServiceNameV2,
        namespace: InfrastructureNamespace,
      };
      await makeTLSRequestAndExpectEventuallyConsistentResponse(t, s, perPortAddr, serverCertPem, 'second-example.org', expectedSuccess, perPortClient);
      const expectedFailure: ExpectedResponse = { request: { host: 'second-example.org', path: '/' }, namespace: InfrastructureNamespace };
      await makeTLSRequestAndExpectFailureResponse(t, s, perPortAddr, serverCertPem, 'second-example.org', expectedFailure, client);
    });
  },
};
