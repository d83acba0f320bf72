import { SupportGateway } from '../features.js';
import { InfrastructureNamespace } from '../harness/suite.js';
import { gatewayMustHaveLatestConditions, namespacesMustBeReady } from '../utils/kubernetes.js';
import type { ConformanceTest } from './types.js';

export const GatewayObservedGenerationBump: ConformanceTest = {
  shortName: 'GatewayObservedGenerationBump',
  description: 'A Gateway in the gateway-conformance-infra namespace should update the observedGeneration in all of its Status.Conditions after an update to the spec',
  features: [SupportGateway],
  manifests: ['tests/gateway-observed-generation-bump.yaml'],
  test: async (t, s) => {
    const gwNN = { name: 'gateway-observed-generation-bump', namespace: InfrastructureNamespace };
    await t.run('observedGeneration should increment', async (t) => {
      const namespaces = [InfrastructureNamespace];
      await namespacesMustBeReady(t, s, namespaces);
      await gatewayMustHaveLatestConditions(t, s, gwNN);
      const original = await s.cluster.get('Gateway', gwNN.namespace, gwNN.name);

      await s.cluster.patch('Gateway', gwNN.namespace, gwNN.name, (gw) => {
        gw.spec.listeners.push({
          name: 'alternate', hostname: 'foo.com', port: 80, protocol: 'HTTP',
          allowedRoutes: { namespaces: { from: 'All' } },
        });
      }).catch((err: Error) => t.fatal(`error patching the Gateway: ${err.message}`));

      await namespacesMustBeReady(t, s, namespaces);
      await gatewayMustHaveLatestConditions(t, s, gwNN);
      const updated = await s.cluster.get('Gateway', gwNN.namespace, gwNN.name);
      if (original.metadata.generation === updated.metadata.generation) t.fatal('generation should change after an update');
    });
  },
};
