import { SupportGateway, SupportReferenceGrant } from '../features.js';
import { InfrastructureNamespace } from '../harness/suite.js';
import { gatewayGroup, gatewayStatusMustHaveListeners, type ExpectedCondition } from '../utils/kubernetes.js';
import type { ConformanceTest } from './types.js';

// Four upstream tests share one shape: a Gateway's HTTPS listener references a
// Secret in another namespace; only the manifest (and so the grant) differs.
function secretReferenceTest(shortName: string, manifest: string, description: string, granted: boolean): ConformanceTest {
  const conditions: ExpectedCondition[] = granted
    ? [{ type: 'Programmed', status: 'True', reason: 'Programmed' }, { type: 'ResolvedRefs', status: 'True' }]
    : [{ type: 'ResolvedRefs', status: 'False', reason: 'RefNotPermitted' }];
  const subtest = granted
    ? 'Gateway listener should have a true ResolvedRefs condition and a true Programmed condition'
    : 'Gateway listener should have a false ResolvedRefs condition with reason RefNotPermitted';
  return {
    shortName,
    description,
    features: [SupportGateway, SupportReferenceGrant],
    manifests: [`tests/${manifest}.yaml`],
    test: async (t, s) => {
      const gwNN = { name: manifest, namespace: InfrastructureNamespace };
      await t.run(subtest, async (t) => {
        await gatewayStatusMustHaveListeners(t, s, gwNN, [{
          name: 'https', supportedKinds: [{ group: gatewayGroup, kind: 'HTTPRoute' }], conditions, attachedRoutes: 0,
        }]);
      });
    },
  };
}

export const GatewaySecretInvalidReferenceGrant = secretReferenceTest('GatewaySecretInvalidReferenceGrant', 'gateway-secret-invalid-reference-grant',
  'A Gateway in the gateway-conformance-infra namespace should fail to become ready if the Gateway has a certificateRef for a Secret in the gateway-conformance-web-backend namespace and a ReferenceGrant exists but does not grant permission to that specific Secret', false);

export const GatewaySecretMissingReferenceGrant = secretReferenceTest('GatewaySecretMissingReferenceGrant', 'gateway-secret-missing-reference-grant',
  'A Gateway in the gateway-conformance-infra namespace should fail to become programmed if the Gateway has a certificateRef for a Secret in the gateway-conformance-web-backend namespace and a ReferenceGrant granting permission to the Secret does not exist', false);

export const GatewaySecretReferenceGrantAllInNamespace = secretReferenceTest('GatewaySecretReferenceGrantAllInNamespace', 'gateway-secret-reference-grant-all-in-namespace',
  'A Gateway in the gateway-conformance-infra namespace should become programmed if the Gateway has a certificateRef for a Secret in the gateway-conformance-web-backend namespace and a ReferenceGrant granting permission to all Secrets in the namespace exists', true);

export const GatewaySecretReferenceGrantSpecific = secretReferenceTest('GatewaySecretReferenceGrantSpecific', 'gateway-secret-reference-grant-specific',
  'A Gateway in the gateway-conformance-infra namespace should become programmed if the Gateway has a certificateRef for a Secret in the gateway-conformance-web-backend namespace and a ReferenceGrant granting permission to the specific Secret exists', true);
