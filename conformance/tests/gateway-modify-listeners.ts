import { SupportGateway } from '../features.js';
import { InfrastructureNamespace } from '../harness/suite.js';
import {
  gatewayGroup, gatewayMustHaveLatestConditions, gatewayStatusMustHaveListeners, namespacesMustBeReady, type ListenerStatus,
} from '../utils/kubernetes.js';
import type { ConformanceTest } from './types.js';

const readyListener = (name: string): ListenerStatus => ({
  name,
  supportedKinds: [{ group: gatewayGroup, kind: 'HTTPRoute' }],
  conditions: [{ type: 'Accepted', status: 'True' }, { type: 'ResolvedRefs', status: 'True' }],
  attachedRoutes: 1,
});

export const GatewayModifyListeners: ConformanceTest = {
  shortName: 'GatewayModifyListeners',
  description: 'A Gateway in the gateway-conformance-infra namespace should handle adding and removing listeners.',
  features: [SupportGateway],
  manifests: ['tests/gateway-modify-listeners.yaml'],
  test: async (t, s) => {
    const namespaces = [InfrastructureNamespace];

    await t.run('should be able to add a listener that then becomes available for routing traffic', async (t) => {
      const gwNN = { name: 'gateway-add-listener', namespace: InfrastructureNamespace };
      await namespacesMustBeReady(t, s, namespaces);
      await gatewayMustHaveLatestConditions(t, s, gwNN);
      const original = await s.cluster.get('Gateway', gwNN.namespace, gwNN.name);

      await s.cluster.patch('Gateway', gwNN.namespace, gwNN.name, (gw) => {
        gw.spec.listeners.push({
          name: 'http', port: 80, protocol: 'HTTP', hostname: 'data.test.com',
          allowedRoutes: { namespaces: { from: 'All' } },
        });
      }).catch((err: Error) => t.fatal(`error patching the Gateway: ${err.message}`));

      await namespacesMustBeReady(t, s, namespaces);
      await gatewayStatusMustHaveListeners(t, s, gwNN, [readyListener('https'), readyListener('http')]);
      await gatewayMustHaveLatestConditions(t, s, gwNN);
      const updated = await s.cluster.get('Gateway', gwNN.namespace, gwNN.name);
      if (original.metadata.generation === updated.metadata.generation) t.fatal('generation should change after an update');
    });

    await t.run('should be able to remove listeners, which would then stop routing the relevant traffic', async (t) => {
      const gwNN = { name: 'gateway-remove-listener', namespace: InfrastructureNamespace };
      await namespacesMustBeReady(t, s, namespaces);
      await gatewayMustHaveLatestConditions(t, s, gwNN);
      const original = await s.cluster.get('Gateway', gwNN.namespace, gwNN.name);
      if (original.spec.listeners.length !== 2) t.fatal(`the gateway must have 2 listeners, has ${original.spec.listeners.length}`);

      await s.cluster.patch('Gateway', gwNN.namespace, gwNN.name, (gw) => {
        gw.spec.listeners = gw.spec.listeners.filter((l: { name: string }) => l.name === 'http');
      }).catch((err: Error) => t.fatal(`error patching the Gateway: ${err.message}`));

      await namespacesMustBeReady(t, s, namespaces);
      await gatewayStatusMustHaveListeners(t, s, gwNN, [readyListener('http')]);
      await gatewayMustHaveLatestConditions(t, s, gwNN);
      const updated = await s.cluster.get('Gateway', gwNN.namespace, gwNN.name);
      if (original.metadata.generation === updated.metadata.generation) t.fatal('generation should change after an update');
    });
  },
};
