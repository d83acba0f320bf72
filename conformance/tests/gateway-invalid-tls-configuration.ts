import { SupportGateway } from '../features.js';
import { InfrastructureNamespace } from '../harness/suite.js';
import { gatewayGroup, gatewayStatusMustHaveListeners, type ListenerStatus } from '../utils/kubernetes.js';
import type { ConformanceTest } from './types.js';

export const GatewayInvalidTLSConfiguration: ConformanceTest = {
  shortName: 'GatewayInvalidTLSConfiguration',
  description: 'A Gateway should fail to become ready if the Gateway has an invalid TLS configuration',
  features: [SupportGateway],
  manifests: ['tests/gateway-invalid-tls-configuration.yaml'],
  test: async (t, s) => {
    const listeners: ListenerStatus[] = [{
      name: 'https',
      supportedKinds: [{ group: gatewayGroup, kind: 'HTTPRoute' }],
      conditions: [{ type: 'ResolvedRefs', status: 'False', reason: 'InvalidCertificateRef' }],
      attachedRoutes: 0,
    }];
    const cases: [string, string][] = [
      ['Nonexistent secret referenced as CertificateRef in a Gateway listener', 'gateway-certificate-nonexistent-secret'],
      ['Unsupported group resource referenced as CertificateRef in a Gateway listener', 'gateway-certificate-unsupported-group'],
      ['Unsupported kind resource referenced as CertificateRef in a Gateway listener', 'gateway-certificate-unsupported-kind'],
      ['Malformed secret referenced as CertificateRef in a Gateway listener', 'gateway-certificate-malformed-secret'],
    ];
    await t.parallel(cases.map(([name, gw]) => [name, (t) => gatewayStatusMustHaveListeners(t, s, { name: gw, namespace: InfrastructureNamespace }, listeners)] as const));
  },
};
