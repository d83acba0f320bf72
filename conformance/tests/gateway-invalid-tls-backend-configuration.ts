import { SupportBackendTLSPolicy, SupportGateway, SupportGatewayBackendClientCertificate, SupportHTTPRoute } from '../features.js';
import { InfrastructureNamespace } from '../harness/suite.js';
import { gatewayMustHaveCondition, gatewayMustHaveLatestConditions } from '../utils/kubernetes.js';
import type { ConformanceTest } from './types.js';

export const GatewayInvalidTLSBackendConfiguration: ConformanceTest = {
  shortName: 'GatewayInvalidTLSBackendConfiguration',
  description: 'A Gateway should have ResolvedRefs condition set false if the Gateway has an invalid backend TLS configuration',
  features: [SupportGateway, SupportGatewayBackendClientCertificate, SupportHTTPRoute, SupportBackendTLSPolicy],
  manifests: ['tests/gateway-invalid-tls-backend-configuration.yaml'],
  test: async (t, s) => {
    const cases: [string, string, string][] = [
      ['Nonexistent secret referenced as ClientCertificateRef in Gateway backend TLS configuration', 'gateway-client-certificate-nonexistent-secret', 'InvalidClientCertificateRef'],
      ['Unsupported group resource referenced as ClientCertificateRef in Gateway backend TLS configuration', 'gateway-client-certificate-unsupported-group', 'InvalidClientCertificateRef'],
      ['Unsupported kind resource referenced as ClientCertificateRef inGateway backend TLS configuration', 'gateway-client-certificate-unsupported-kind', 'InvalidClientCertificateRef'],
      ['Malformed secret referenced as ClientCertificateRef in Gateway backend TLS configuration', 'gateway-client-certificate-malformed-secret', 'InvalidClientCertificateRef'],
      ['Secret referenced from another namespace without any ReferenceGrant as ClientCertificateRef in Gateway backend TLS configuration', 'gateway-client-certificate-missing-reference-grant', 'RefNotPermitted'],
    ];
    await t.parallel(cases.map(([name, gateway, reason]) => [name, async (t) => {
      const gwNN = { name: gateway, namespace: InfrastructureNamespace };
      await gatewayMustHaveLatestConditions(t, s, gwNN);
      await gatewayMustHaveCondition(t, s, gwNN, { type: 'ResolvedRefs', status: 'False', reason });
      await gatewayMustHaveCondition(t, s, gwNN, { type: 'Accepted', status: 'True', reason: 'Accepted' });
    }] as const));
  },
};
