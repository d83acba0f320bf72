import { SupportGateway, SupportHTTPRoute } from '../features.js';
import { InfraBackendServiceNameV1 as V1, InfraBackendServiceNameV2 as V2, InfraBackendServiceNameV3 as V3, InfrastructureNamespace } from '../harness/suite.js';
import { expectEventuallyConsistentResponses, type ExpectedResponse } from '../utils/http.js';
import { gatewayAndHTTPRoutesMustBeAccepted, httpRouteMustHaveResolvedRefsConditionsTrue, newGatewayRef } from '../utils/kubernetes.js';
import type { ConformanceTest } from './types.js';

export const HTTPRouteQueryParamMatching: ConformanceTest = {
  shortName: 'HTTPRouteQueryParamMatching',
  description: 'A single HTTPRoute with query param matching for different backends',
  features: [SupportGateway, SupportHTTPRoute, 'HTTPRouteQueryParamMatching'],
  manifests: ['tests/httproute-query-param-matching.yaml'],
  test: async (t, s) => {
    const ns = InfrastructureNamespace;
    const routeNN = { name: 'query-param-matching', namespace: ns };
    const gwNN = { name: 'same-namespace', namespace: ns };
    const gwAddr = await gatewayAndHTTPRoutesMustBeAccepted(t, s, s.controllerName, newGatewayRef(gwNN), routeNN);
    await httpRouteMustHaveResolvedRefsConditionsTrue(t, s, routeNN, gwNN);

    const to = (path: string, backend: string, headers?: Record<string, string>): ExpectedResponse =>
      ({ request: { path, ...(headers ? { headers } : {}) }, backend, namespace: ns });
    const notFound = (path: string): ExpectedResponse => ({ request: { path }, response: { statusCode: 404 } });
    await expectEventuallyConsistentResponses(t, s, gwAddr, [
      to('/?animal=whale', V1),
      to('/?animal=dolphin', V2),
      to('/?animal=dolphin&color=blue', V3),
      to('/?ANIMAL=Whale', V3),
      to('/?animal=whale&otherparam=irrelevant', V1),
      to('/?animal=dolphin&color=yellow', V2),
      notFound('/?color=blue'),
      notFound('/?animal=dog'),
      notFound('/?animal=whaledolphin'),
      notFound('/'),
      // query params combined with other core matches
      to('/path1?animal=whale', V1),
      to('/?animal=whale', V2, { version: 'one' }),
      to('/path2?animal=whale', V3, { version: 'two' }),
      // ORed matches: one of them suffices
      to('/path3?animal=shark', V1),
      to('/path4?animal=kraken', V1, { version: 'three' }),
      // ANDed match types: a subset does not match
      notFound('/?animal=shark'),
      notFound('/path4?animal=kraken'),
      // precedence between several matching rules
      to('/path5?animal=hydra', V1),
      to('/?animal=hydra', V3, { version: 'four' }),
    ]);
  },
};
