import { SupportGateway } from '../features.js';
import { InfrastructureNamespace } from '../harness/suite.js';
import { gatewayGroup, gatewayStatusMustHaveListeners } from '../utils/kubernetes.js';
import type { ConformanceTest } from './types.js';

export const GatewayInvalidRouteKind: ConformanceTest = {
  shortName: 'GatewayInvalidRouteKind',
  description: 'A Gateway in the gateway-conformance-infra namespace should fail to become ready an invalid Route kind is specified.',
  features: [SupportGateway],
  manifests: ['tests/gateway-invalid-route-kind.yaml'],
  test: async (t, s) => {
    const invalidRouteKinds = [{ type: 'ResolvedRefs', status: 'False', reason: 'InvalidRouteKinds' }];
    await t.run('Gateway listener should have a false ResolvedRefs condition with reason InvalidRouteKinds and no supportedKinds', async (t) => {
      await gatewayStatusMustHaveListeners(t, s, { name: 'gateway-only-invalid-route-kind', namespace: InfrastructureNamespace }, [
        { name: 'http', supportedKinds: [], conditions: invalidRouteKinds, attachedRoutes: 0 },
      ]);
    });
    await t.run('Gateway listener should have a false ResolvedRefs condition with reason InvalidRouteKinds and HTTPRoute must be put in the supportedKinds', async (t) => {
      await gatewayStatusMustHaveListeners(t, s, { name: 'gateway-supported-and-invalid-route-kind', namespace: InfrastructureNamespace }, [
        { name: 'http', supportedKinds: [{ group: gatewayGroup, kind: 'HTTPRoute' }], conditions: invalidRouteKinds, attachedRoutes: 0 },
      ]);
    });
  },
};
