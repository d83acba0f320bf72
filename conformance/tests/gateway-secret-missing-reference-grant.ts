import { SupportGateway, SupportReferenceGrant } from '../features.js';
import { InfrastructureNamespace } from '../harness/suite.js';
import { gatewayGroup, gatewayStatusMustHaveListeners } from '../utils/kubernetes.js';
import type { ConformanceTest } from './types.js';

export const GatewaySecretMissingReferenceGrant: ConformanceTest = {
  shortName: 'GatewaySecretMissingReferenceGrant',
  description: 'A Gateway in the gateway-conformance-infra namespace should fail to become programmed if the Gateway has a certificateRef for a Secret in the gateway-conformance-web-backend namespace and a ReferenceGrant granting permission to the Secret does not exist',
  features: [SupportGateway, SupportReferenceGrant],
  manifests: ['tests/gateway-secret-missing-reference-grant.yaml'],
  test: async (t, s) => {
    const gwNN = { name: 'gateway-secret-missing-reference-grant', namespace: InfrastructureNamespace };
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
