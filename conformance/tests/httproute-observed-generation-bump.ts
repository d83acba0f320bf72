import { SupportGateway, SupportHTTPRoute } from '../features.js';
import { InfraBackendServiceNameV2, InfrastructureNamespace } from '../harness/suite.js';
import {
  httpRouteMustHaveCondition, httpRouteMustHaveLatestConditions, httpRouteMustHaveResolvedRefsConditionsTrue, namespacesMustBeReady,
} from '../utils/kubernetes.js';
import type { ConformanceTest } from './types.js';

export const HTTPRouteObservedGenerationBump: ConformanceTest = {
  shortName: 'HTTPRouteObservedGenerationBump',
  description: "A HTTPRoute in the gateway-conformance-infra namespace should update the observedGeneration in all of it's Status.Conditions after an update to the spec",
  features: [SupportGateway, SupportHTTPRoute],
  manifests: ['tests/httproute-observed-generation-bump.yaml'],
  test: async (t, s) => {
    const routeNN = { name: 'observed-generation-bump', namespace: InfrastructureNamespace };
    const gwNN = { name: 'same-namespace', namespace: InfrastructureNamespace };

    await t.run('observedGeneration should increment', async (t) => {
      await namespacesMustBeReady(t, s, [InfrastructureNamespace]);
      const original = await s.cluster.get('HTTPRoute', routeNN.namespace, routeNN.name);
      await httpRouteMustHaveLatestConditions(t, s, routeNN);

      await s.cluster.patch('HTTPRoute', routeNN.namespace, routeNN.name, (route) => {
        route.spec.rules[0].backendRefs[0].name = InfraBackendServiceNameV2;
      }).catch((err: Error) => t.fatal(`error patching the HTTPRoute: ${err.message}`));

      await httpRouteMustHaveCondition(t, s, routeNN, gwNN, { type: 'Accepted', status: 'True' });
      await httpRouteMustHaveResolvedRefsConditionsTrue(t, s, routeNN, gwNN);
      await httpRouteMustHaveLatestConditions(t, s, routeNN);
      const updated = await s.cluster.get('HTTPRoute', routeNN.namespace, routeNN.name);
      if (original.metadata.generation === updated.metadata.generation) t.fatal('generation should change after an update');
    });
  },
};
