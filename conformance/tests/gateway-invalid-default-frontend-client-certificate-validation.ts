import { SupportGateway, SupportHTTPRoute } from '../features.js';
import { InfraBackendServiceNameV1, InfrastructureNamespace } from '../harness/suite.js';
import { joinHostPort, makeRequestAndExpectEventuallyConsistentResponse, splitHostPort, type ExpectedResponse } from '../utils/http.js';
import { gatewayListenersMustHaveConditions, getTLSSecret, newGatewayRef, waitForGatewayAddress } from '../utils/kubernetes.js';
import { makeTLSRequestAndExpectFailureResponse } from '../utils/tls.js';
import type { ConformanceTest } from './types.js';

export const GatewayFrontendInvalidDefaultClientCertificateValidation: ConformanceTest = {
  shortName: 'GatewayFrontendInvalidDefaultClientCertificateValidation',
  description: "Invalid Gateway's default Client Certificate Validation Config should only affect HTTPS traffic",
  features: [SupportGateway, SupportHTTPRoute, 'GatewayFrontendClientCertificateValidation'],
  manifests: ['tests/gateway-invalid-default-frontend-client-certificate-validation.yaml'],
  test: async (t, s) => {
    const ns = InfrastructureNamespace;
    const gwNN = { name: 'invalid-default-client-validation-config', namespace: ns };
    // Only the address: status is checked per listener below.
    const withPort = await waitForGatewayAddress(t, s, newGatewayRef(gwNN));
    const gwAddr = splitHostPort(withPort)?.host ?? t.fatal(`Failed to split host port from gateway VIP: ${withPort}`);

    // The same server certificate serves both listeners.
    const { certPem: serverCertPem } = await getTLSSecret(t, s, { namespace: ns, name: 'tls-validity-checks-certificate' });
    if (serverCertPem === '') t.fatal('missing required server certificate pem for the test');

    await t.run('Validate tls configuration does not impact HTTP listener', async (t) => {
      await gatewayListenersMustHaveConditions(t, s, gwNN, [
        { type: 'ResolvedRefs', status: 'True' },
        { type: 'Accepted', status: 'True' },
        { type: 'Programmed', status: 'True' },
      ], 'http');
      const expectedSuccess: ExpectedResponse = {
        request: { host: 'example.org', path: '/' },
        response: { statusCode: 200 },
        backend: InfraBackendServiceNameV1,
        namespace: InfrastructureNamespace,
      };
      await makeRequestAndExpectEventuallyConsistentResponse(t, s, joinHostPort(gwAddr, 80), expectedSuccess);
    });

    await t.run('Validate that invalid default configuration is impacting HTTPS listener', async (t) => {
      await gatewayListenersMustHaveConditions(t, s, gwNN, [
        { type: 'ResolvedRefs', status: 'False', reason: 'InvalidCACertificateRef' },
        { type: 'Accepted', status: 'False', reason: 'NoValidCACertificate' },
        { type: 'Programmed', status: 'False' },
      ], 'https');
      const expectedFailure: ExpectedResponse = { request: { host: 'example.org', path: '/' }, namespace: InfrastructureNamespace };
      await makeTLSRequestAndExpectFailureResponse(t, s, joinHostPort(gwAddr, 443), serverCertPem, 'example.org', expectedFailure);
    });
  },
};
