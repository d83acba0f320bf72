import { SupportGateway, SupportHTTPRoute } from '../features.js';
import { InfraBackendServiceNameV1, InfraBackendServiceNameV2 } from '../harness/suite.js';
import { joinHostPort, type ExpectedResponse } from '../utils/http.js';
import {
  gatewayAndRoutesMustBeAccepted, gatewayMustHaveCondition, getTLSSecret, httpRouteMustHaveResolvedRefsConditionsTrue, newGatewayRef,
} from '../utils/kubernetes.js';
import { makeTLSRequestAndExpectEventuallyConsistentResponse } from '../utils/tls.js';
import type { ConformanceTest } from './types.js';

export const GatewayFrontendClientCertificateValidationInsecureFallback: ConformanceTest = {
  shortName: 'GatewayFrontendClientCertificateValidationInsecureFallback',
  description: "Gateway's client certificate validation set to AllowInsecureFallback allows any HTTPS traffic.",
  features: [
    SupportGateway, SupportHTTPRoute, 'GatewayFrontendClientCertificateValidation', 'GatewayFrontendClientCertificateValidationInsecureFallback',
  ],
  manifests: ['tests/gateway-with-clientcertificate-validation-insecure-fallback.yaml'],
  test: async (t, s) => {
    const ns = 'gateway-conformance-infra';
    const routeNNs = [
      { name: 'client-cert-validation-insecure-fallback-test', namespace: ns },
      { name: 'client-cert-validation-insecure-fallback-test-no-hostname', namespace: ns },
    ];
    const gwNN = { name: 'client-validation-insecure-fallback', namespace: ns };
    // Without a port: the two HTTPS listeners have different ones.
    const gwAddr = await gatewayAndRoutesMustBeAccepted(t, s, s.controllerName, newGatewayRef(gwNN), 'HTTPRoute', false, ...routeNNs);
    for (const routeNN of routeNNs) await httpRouteMustHaveResolvedRefsConditionsTrue(t, s, routeNN, gwNN);

    await t.run('Validate InsecureFrontendValidationMode status condition on the Gateway', (t) =>
      gatewayMustHaveCondition(t, s, gwNN, { type: 'InsecureFrontendValidationMode', reason: 'ConfigurationChanged', status: 'True' }));

    // The same server certificate serves both listeners.
    const { certPem: serverCertPem } = await getTLSSecret(t, s, { namespace: ns, name: 'tls-validity-checks-certificate' });
    if (serverCertPem === '') t.fatal('missing required server certificate pem for the test');
    const client = await getTLSSecret(t, s, { namespace: ns, name: 'tls-validity-checks-client-certificate' });
    if (client.certPem === '' || client.keyPem === '') t.fatal('missing required client certificate and private keypem for the test');
    const perPortClient = await getTLSSecret(t, s, { namespace: ns, name: 'tls-validity-checks-per-port-client-certificate' });
    if (perPortClient.certPem === '' || perPortClient.keyPem === '') t.fatal('missing required client certificate and private keypem for the test');

    await t.run('Validate default TLS configuration', async (t) => {
      const defaultAddr = joinHostPort(gwAddr, 443);
      const expectedSuccess: ExpectedResponse = {
        request: { host: 'example.org', path: '/' },
        response: { statusCode: 200 },
        backend: InfraBackendServiceNameV1,
        namespace: 'gateway-conformance-infra',
      };
      await t.run('Send request to the first listener with matching client certificate and validate that it is passing', (t) =>
        makeTLSRequestAndExpectEventuallyConsistentResponse(t, s, defaultAddr, serverCertPem, 'example.org', expectedSuccess, client));
      await t.run('Send request to the first listener with non-matching client certificate and validate that it is passing', (t) =>
        makeTLSRequestAndExpectEventuallyConsistentResponse(t, s, defaultAddr, serverCertPem, 'example.org', expectedSuccess, perPortClient));
      await t.run('Send request to the first listener without client certificate and validate that it is passing', (t) =>
        makeTLSRequestAndExpectEventuallyConsistentResponse(t, s, defaultAddr, serverCertPem, 'example.org', expectedSuccess));
    });

    await t.run('Validate per port TLS configuration', async (t) => {
      const perPortAddr = joinHostPort(gwAddr, 8443);
      const expectedSuccess: ExpectedResponse = {
        request: { host: 'second-example.org', path: '/' },
        response: { statusCode: 200 },
        backend: InfraBackendServiceNameV2,
        namespace: 'gateway-conformance-infra',
      };
      await t.run('Send request to the second listener with matching client certificate and validate that it is passing', (t) =>
        makeTLSRequestAndExpectEventuallyConsistentResponse(t, s, perPortAddr, serverCertPem, 'second-example.org', expectedSuccess, perPortClient));
      await t.run('Send request to the second listener with non-matching client certificate and validate that it is passing', (t) =>
        makeTLSRequestAndExpectEventuallyConsistentResponse(t, s, perPortAddr, serverCertPem, 'second-example.org', expectedSuccess, client));
      await t.run('Send request to the second listener without client certificate and validate that it is passing', (t) =>
        makeTLSRequestAndExpectEventuallyConsistentResponse(t, s, perPortAddr, serverCertPem, 'second-example.org', expectedSuccess));
    });
  },
};
