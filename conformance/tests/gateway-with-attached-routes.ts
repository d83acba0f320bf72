import { SupportGateway, SupportHTTPRoute } from '../features.js';
import { InfrastructureNamespace } from '../harness/suite.js';
import { gatewayGroup, gatewayStatusMustHaveListeners, httpRouteMustHaveCondition, type ExpectedCondition } from '../utils/kubernetes.js';
import type { ConformanceTest } from './types.js';

const httpRouteKind = [{ group: gatewayGroup, kind: 'HTTPRoute' }];
const acceptedAndResolved: ExpectedCondition[] = [{ type: 'Accepted', status: 'True' }, { type: 'ResolvedRefs', status: 'True' }];

export const GatewayWithAttachedRoutes: ConformanceTest = {
  shortName: 'GatewayWithAttachedRoutes',
  description: 'A Gateway in the gateway-conformance-infra namespace should be attached to routes.',
  features: [SupportGateway, SupportHTTPRoute],
  manifests: ['tests/gateway-with-attached-routes.yaml'],
  test: async (t, s) => {
    await t.run('Gateway listener should have one valid http routes attached', async (t) => {
      const gwNN = { name: 'gateway-with-one-attached-route', namespace: InfrastructureNamespace };
      await gatewayStatusMustHaveListeners(t, s, gwNN, [{ name: 'http', supportedKinds: httpRouteKind, conditions: acceptedAndResolved, attachedRoutes: 1 }]);
    });

    await t.run('Gateway listener should have two valid http routes attached', async (t) => {
      const gwNN = { name: 'gateway-with-two-attached-routes', namespace: InfrastructureNamespace };
      await gatewayStatusMustHaveListeners(t, s, gwNN, [{ name: 'http', supportedKinds: httpRouteKind, conditions: acceptedAndResolved, attachedRoutes: 2 }]);
      await httpRouteMustHaveCondition(t, s, { name: 'http-route-not-accepted', namespace: InfrastructureNamespace }, gwNN,
        { type: 'Accepted', status: 'False', reason: 'NoMatchingListenerHostname' });
    });

    await t.run('Gateway listener should have AttachedRoutes set even when Gateway has unresolved refs', async (t) => {
      const gwNN = { name: 'unresolved-gateway-with-one-attached-unresolved-route', namespace: InfrastructureNamespace };
      await gatewayStatusMustHaveListeners(t, s, gwNN, [{
        name: 'tls',
        supportedKinds: httpRouteKind,
        conditions: [{ type: 'Programmed', status: 'False' }, { type: 'ResolvedRefs', status: 'False' }],
        attachedRoutes: 1,
      }]);
      await httpRouteMustHaveCondition(t, s, { name: 'http-route-4', namespace: InfrastructureNamespace }, gwNN, { type: 'ResolvedRefs', status: 'False' });
    });
  },
};

export const GatewayWithAttachedRoutesWithPort8080: ConformanceTest = {
  shortName: 'GatewayWithAttachedRoutesWithPort8080',
  description: 'A Gateway in the gateway-conformance-infra namespace should be attached to routes.',
  features: [SupportGateway, 'GatewayPort8080', SupportHTTPRoute],
  manifests: ['tests/gateway-with-attached-routes-with-port-8080.yaml'],
  test: async (t, s) => {
    await t.run('Gateway listener should have attached route by specifying the sectionName', async (t) => {
      const gwNN = { name: 'gateway-with-two-listeners-and-one-attached-route', namespace: InfrastructureNamespace };
      await gatewayStatusMustHaveListeners(t, s, gwNN, [
        { name: 'http-unattached', supportedKinds: httpRouteKind, conditions: acceptedAndResolved, attachedRoutes: 0 },
        { name: 'http', supportedKinds: httpRouteKind, conditions: acceptedAndResolved, attachedRoutes: 1 },
      ]);
    });
  },
};
