import { SupportGateway } from '../features.js';
import { InfrastructureNamespace } from '../harness/suite.js';
import { gatewayGroup, gatewayMustHaveCondition, gatewayMustHaveLatestConditions, gatewayStatusMustHaveListeners } from '../utils/kubernetes.js';
import type { ConformanceTest } from './types.js';

export const GatewayListenerUnsupportedProtocol: ConformanceTest = {
  shortName: 'GatewayListenerUnsupportedProtocol',
  description: 'A Gateway should set the Accepted condition to False with reason UnsupportedProtocol on listeners whose protocol is not supported. The Gateway itself should only be Accepted if at least one of its listeners is accepted.',
  features: [SupportGateway],
  manifests: ['tests/gateway-invalid-listeners-unsupported-protocol.yaml'],
  test: async (t, s) => {
    const invalidListener = {
      name: 'invalid',
      supportedKinds: [],
      conditions: [{ type: 'Accepted', status: 'False', reason: 'UnsupportedProtocol' }],
      attachedRoutes: 0,
    };
    await t.parallel([
      ['Gateway with no accepted listeners should not be accepted and the listener should have the Accepted condition set to False with reason UnsupportedProtocol', async (t) => {
        const gwNN = { name: 'gateway-only-unsupported-protocols', namespace: InfrastructureNamespace };
        await gatewayMustHaveLatestConditions(t, s, gwNN);
        await gatewayMustHaveCondition(t, s, gwNN, { type: 'Accepted', status: 'False', reason: 'ListenersNotValid' });
        await gatewayStatusMustHaveListeners(t, s, gwNN, [invalidListener]);
      }],
      ['Gateway with at least one accepted listeners should be accepted and the listeners should have the Accepted condition set accordingly', async (t) => {
        const gwNN = { name: 'gateway-supported-and-unsupported-protocols', namespace: InfrastructureNamespace };
        await gatewayMustHaveLatestConditions(t, s, gwNN);
        await gatewayMustHaveCondition(t, s, gwNN, { type: 'Accepted', status: 'True', reason: 'ListenersNotValid' });
        await gatewayStatusMustHaveListeners(t, s, gwNN, [
          {
            name: 'http',
            supportedKinds: [{ group: gatewayGroup, kind: 'HTTPRoute' }],
            conditions: [{ type: 'Accepted', status: 'True', reason: 'Accepted' }],
            attachedRoutes: 0,
          },
          invalidListener,
        ]);
      }],
    ]);
  },
};
