import { SupportBackendTLSPolicy, SupportGateway, SupportHTTPRoute } from '../features.js';
import { InfrastructureNamespace } from '../harness/suite.js';
import {
  backendTLSPolicyMustHaveCondition, backendTLSPolicyMustHaveLatestConditions, namespacesMustBeReady,
} from '../utils/kubernetes.js';
import type { ConformanceTest } from './types.js';

export const BackendTLSPolicyObservedGenerationBump: ConformanceTest = {
  shortName: 'BackendTLSPolicyObservedGenerationBump',
  description: 'A BackendTLSPolicy in the gateway-conformance-infra namespace should update the observedGeneration in all of its Status.Conditions after an update to the spec',
  features: [SupportGateway, SupportHTTPRoute, SupportBackendTLSPolicy],
  manifests: ['tests/backendtlspolicy-observed-generation-bump.yaml'],
  test: async (t, s) => {
    const ns = InfrastructureNamespace;
    const policyNN = { name: 'observed-generation-bump', namespace: ns };
    const gwNN = { name: 'same-namespace', namespace: ns };

    await t.run('observedGeneration should increment', async (t) => {
      await namespacesMustBeReady(t, s, [ns]);
      const original = await s.cluster.get('BackendTLSPolicy', ns, policyNN.name)
        .catch((err: Error) => t.fatal(`error getting BackendTLSPolicy: ${err.message}`));
      backendTLSPolicyMustHaveLatestConditions(t, original);

      await s.cluster.patch('BackendTLSPolicy', ns, policyNN.name, (p) => {
        p.spec.validation.hostname = 'foo.example.com';
      }).catch((err: Error) => t.fatal(`error patching the BackendTLSPolicy: ${err.message}`));

      await backendTLSPolicyMustHaveCondition(t, s, policyNN, gwNN, { type: 'Accepted', status: 'True' });
      const updated = await s.cluster.get('BackendTLSPolicy', ns, policyNN.name)
        .catch((err: Error) => t.fatal(`error getting BackendTLSPolicy: ${err.message}`));
      backendTLSPolicyMustHaveLatestConditions(t, updated);
      if (original.metadata.generation === updated.metadata.generation) t.fatal('generation should change after an update');
    });
  },
};
