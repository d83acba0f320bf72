import { SupportGateway, SupportReferenceGrant } from '../features.js';
import { InfrastructureNamespace } from '../harness/suite.js';
import { gatewayGroup, gatewayStatusMustHaveListeners } from '../utils/kubernetes.js';
import type { ConformanceTest } from './types.js';

export const GatewaySecretInvalidReferenceGrant: ConformanceTest = {
  shortName: 'GatewaySecretInvalidReferenceGrant',
  description: 'A Gateway in the gateway-conformance-infra namespace should fail to become ready if the Gateway has a certificateRef for a Secret in the gateway-conformance-web-backend namespace and a ReferenceGrant exists but does not grant permission to that specific Secret',
  features: [SupportGateway, SupportReferenceGrant],
  manifests: ['tests/gateway-secret-invalid-reference-grant.yaml'],
  test: async (t, s) => {
    const gwNN = { name: 'gateway-secret-invalid-reference-grant', namespace: InfrastructureNamespace };
    await t.run('Gateway listener should have a false ResolvedRefs condition with reason RefNotPermitted', async (t) => {
      await gatewayStatusMustHaveListeners(t, s, gwNN, [{
        name: 'https',
        supportedKinds: [{ group: gatewayGroup, kind: 'HTTPRoute' }],
        conditions: [{ type: 'ResolvedRefs', status: 'False', reason: 'RefNotPermitted' }],
        attachedRoutes: 0,
      }]);
    });
  },
};
