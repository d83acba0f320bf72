import { SupportGateway, SupportHTTPRoute, SupportReferenceGrant } from '../features.js';
import { InfrastructureNamespace } from '../harness/suite.js';
import { gatewayListenersMustHaveConditions, type ExpectedCondition } from '../utils/kubernetes.js';
import type { ConformanceTest } from './types.js';

export const GatewayInvalidFrontendClientCertificateValidation: ConformanceTest = {
  shortName: 'GatewayInvalidFrontendClientCertificateValidation',
  description: "Gateway's should reject invalid Client Certificate Validation Config",
  features: [SupportGateway, SupportHTTPRoute, SupportReferenceGrant, 'GatewayFrontendClientCertificateValidation'],
  manifests: ['tests/gateway-with-invalid-clientcertificate-validation.yaml'],
  test: async (t, s) => {
    // Invalid default and per-port validation affect only the status of the listeners they apply to.
    await t.run('Validate status for invalid client certificate configuration', async (t) => {
      const gwNN = { name: 'gateway-with-invalid-client-cert-validation', namespace: InfrastructureNamespace };
      const invalid = (resolvedRefsReason: string): ExpectedCondition[] => [
        { type: 'ResolvedRefs', status: 'False', reason: resolvedRefsReason },
        { type: 'Accepted', status: 'False', reason: 'NoValidCACertificate' },
        { type: 'Programmed', status: 'False' },
      ];
      const cases: [name: string, listener: string, conditions: ExpectedCondition[]][] = [
        ['default valid configuration', 'https', [
          { type: 'ResolvedRefs', status: 'True' },
          { type: 'Accepted', status: 'True' },
          { type: 'Programmed', status: 'True' },
        ]],
        ['unresolved reference', 'https-unresolved', invalid('InvalidCACertificateRef')],
        ['invalid kind', 'https-invalid-kind', invalid('InvalidCACertificateKind')],
        ['reference grant missing', 'https-grant-missing', invalid('RefNotPermitted')],
      ];
      for (const [name, listener, conditions] of cases) {
        await t.run(name, (t) => gatewayListenersMustHaveConditions(t, s, gwNN, conditions, listener));
      }
    });
  },
};
