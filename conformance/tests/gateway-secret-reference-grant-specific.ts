import { SupportGateway, SupportReferenceGrant } from '../features.js';
import { InfrastructureNamespace } from '../harness/suite.js';
import { gatewayGroup, gatewayStatusMustHaveListeners } from '../utils/kubernetes.js';
import type { ConformanceTest } from './types.js';

export const GatewaySecretReferenceGrantSpecific: ConformanceTest = {
  shortName: 'GatewaySecretReferenceGrantSpecific',
  description: 'A Gateway in the gateway-conformance-infra namespace should become programmed if the Gateway has a certificateRef for a Secret in the gateway-conformance-web-backend namespace and a ReferenceGrant granting permission to the specific Secret exists',
  features: [SupportGateway, SupportReferenceGrant],
  manifests: ['tests/gateway-secret-reference-grant-specific.yaml'],
  test: async (t, s) => {
    const gwNN = { name: 'gateway-secret-reference-grant-specific', namespace: InfrastructureNamespace };
    await t.run('Gateway listener should have a true ResolvedRefs condition and a true Programmed condition', async (t) => {
      await gatewayStatusMustHaveListeners(t, s, gwNN, [{
        name: 'https',
        supportedKinds: [{ group: gatewayGroup, kind: 'HTTPRoute' }],
        conditions: [
          { type: 'Programmed', status: 'True', reason: 'Programmed' },
          { type: 'ResolvedRefs', status: 'True' },
        ],
        attachedRoutes: 0,
      }]);
    });
  },
};
