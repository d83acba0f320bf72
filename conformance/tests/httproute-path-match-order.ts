import { SupportGateway, SupportHTTPRoute } from '../features.js';
import { InfraBackendServiceNameV1, InfraBackendServiceNameV2, InfraBackendServiceNameV3, InfrastructureNamespace } from '../harness/suite.js';
import { expectEventuallyConsistentResponses } from '../utils/http.js';
import { gatewayAndHTTPRoutesMustBeAccepted, httpRouteMustHaveResolvedRefsConditionsTrue, newGatewayRef } from '../utils/kubernetes.js';
import type { ConformanceTest } from './types.js';

export const HTTPRoutePathMatchOrder: ConformanceTest = {
  shortName: 'HTTPRoutePathMatchOrder',
  description: 'An HTTPRoute where there are multiple matches routing to any given backend follows match order precedence',
  features: [SupportGateway, SupportHTTPRoute],
  manifests: ['tests/httproute-path-match-order.yaml'],
  test: async (t, s) => {
    const ns = InfrastructureNamespace;
    const routeNN = { namespace: ns, name: 'path-matching-order' };
    const gwNN = { namespace: ns, name: 'same-namespace' };
    const gwAddr = await gatewayAndHTTPRoutesMustBeAccepted(t, s, s.controllerName, newGatewayRef(gwNN), routeNN);
    await httpRouteMustHaveResolvedRefsConditionsTrue(t, s, routeNN, gwNN);

    const to = (path: string, backend: string) => ({ request: { path }, backend, namespace: ns });
    await expectEventuallyConsistentResponses(t, s, gwAddr, [
      to('/match/exact/one', InfraBackendServiceNameV3),
      to('/match/exact', InfraBackendServiceNameV2),
      to('/match', InfraBackendServiceNameV1),
      to('/match/prefix/one/any', InfraBackendServiceNameV2),
      to('/match/prefix/any', InfraBackendServiceNameV1),
      to('/match/any', InfraBackendServiceNameV3),
    ]);
  },
};
