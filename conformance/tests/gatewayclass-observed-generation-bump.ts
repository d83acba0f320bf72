import { SupportGateway } from '../features.js';
import { gatewayClassMustHaveLatestConditions, gwcMustHaveAcceptedConditionAny } from '../utils/kubernetes.js';
import type { ConformanceTest } from './types.js';

export const GatewayClassObservedGenerationBump: ConformanceTest = {
  shortName: 'GatewayClassObservedGenerationBump',
  description: "A GatewayClass should update the observedGeneration in all of it's Status.Conditions after an update to the spec",
  features: [SupportGateway],
  manifests: ['tests/gatewayclass-observed-generation-bump.yaml'],
  test: async (t, s) => {
    const gwcNN = { name: 'gatewayclass-observed-generation-bump' };
    await t.run('observedGeneration should increment', async (t) => {
      await gwcMustHaveAcceptedConditionAny(t, s, gwcNN.name);
      const original = await s.cluster.get('GatewayClass', undefined, gwcNN.name);
      await gatewayClassMustHaveLatestConditions(t, s, gwcNN);

      await s.cluster.patch('GatewayClass', undefined, gwcNN.name, (gwc) => {
        gwc.spec.description = 'new';
      }).catch((err: Error) => t.fatal(`error patching the GatewayClass: ${err.message}`));

      await gwcMustHaveAcceptedConditionAny(t, s, gwcNN.name);
      await gatewayClassMustHaveLatestConditions(t, s, gwcNN);
      const updated = await s.cluster.get('GatewayClass', undefined, gwcNN.name);
      if (original.metadata.generation === updated.metadata.generation) t.fatal('generation should change after an update');
    });
  },
};
