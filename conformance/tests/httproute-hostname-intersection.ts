import { SupportGateway, SupportHTTPRoute } from '../features.js';
import { InfraBackendServiceNameV1, InfraBackendServiceNameV2, InfraBackendServiceNameV3, InfrastructureNamespace } from '../harness/suite.js';
import { expectEventuallyConsistentResponses, type ExpectedResponse } from '../utils/http.js';
import {
  gatewayAndHTTPRoutesMustBeAccepted, gatewayGroup, gatewayStatusMustHaveListeners, httpRouteMustHaveParents,
  httpRouteMustHaveResolvedRefsConditionsTrue, namespacesMustBeReady, newGatewayRef, type ListenerStatus, type NamespacedName,
} from '../utils/kubernetes.js';
import type { ConformanceTest } from './types.js';

const ns = InfrastructureNamespace;
const ok = (host: string, path: string, backend: string): ExpectedResponse => ({ request: { host, path }, backend, namespace: ns });
const notFound = (host: string, path: string): ExpectedResponse => ({ request: { host, path }, response: { statusCode: 404 } });

const listener = (name: string, attachedRoutes: number): ListenerStatus => ({
  name,
  supportedKinds: [{ group: gatewayGroup, kind: 'HTTPRoute' }],
  conditions: [{ type: 'Accepted', status: 'True' }, { type: 'ResolvedRefs', status: 'True' }],
  attachedRoutes,
});

export const HTTPRouteHostnameIntersection: ConformanceTest = {
  shortName: 'HTTPRouteHostnameIntersection',
  description: 'HTTPRoutes should attach to listeners only if they have intersecting hostnames, and should accept requests only for the intersecting hostnames',
  features: [SupportGateway, SupportHTTPRoute],
  manifests: ['tests/httproute-hostname-intersection.yaml'],
  test: async (t, s) => {
    const gwNN = { name: 'httproute-hostname-intersection', namespace: ns };
    await namespacesMustBeReady(t, s, [ns]);

    await t.run('HTTPRoutes that do intersect with listener hostnames', async (t) => {
      const routes: NamespacedName[] = [
        { namespace: ns, name: 'specific-host-matches-listener-specific-host' },
        { namespace: ns, name: 'specific-host-matches-listener-wildcard-host' },
        { namespace: ns, name: 'wildcard-host-matches-listener-specific-host' },
        { namespace: ns, name: 'wildcard-host-matches-listener-wildcard-host' },
      ];
      const gwAddr = await gatewayAndHTTPRoutesMustBeAccepted(t, s, s.controllerName, newGatewayRef(gwNN), ...routes);
      for (const routeNN of routes) await httpRouteMustHaveResolvedRefsConditionsTrue(t, s, routeNN, gwNN);

      await expectEventuallyConsistentResponses(t, s, gwAddr, [
        ok('very.specific.com', '/s1', InfraBackendServiceNameV1),
        ok('very.specific.com:1234', '/s1', InfraBackendServiceNameV1),
        notFound('non.matching.com', '/s1'),
        notFound('foo.nonmatchingwildcard.io', '/s1'),
        notFound('foo.wildcard.io', '/s1'),
        notFound('very.specific.com', '/non-matching-prefix'),

        ok('foo.wildcard.io', '/s2', InfraBackendServiceNameV2),
        ok('bar.wildcard.io', '/s2', InfraBackendServiceNameV2),
        ok('foo.bar.wildcard.io', '/s2', InfraBackendServiceNameV2),
        notFound('non.matching.com', '/s2'),
        notFound('wildcard.io', '/s2'),
        notFound('very.specific.com', '/s2'),
        notFound('foo.wildcard.io', '/non-matching-prefix'),

        ok('very.specific.com', '/s3', InfraBackendServiceNameV3),
        notFound('non.matching.com', '/s3'),
        notFound('foo.specific.com', '/s3'),
        notFound('foo.wildcard.io', '/s3'),
        notFound('very.specific.com', '/non-matching-prefix'),

        ok('foo.anotherwildcard.io', '/s4', InfraBackendServiceNameV1),
        ok('bar.anotherwildcard.io', '/s4', InfraBackendServiceNameV1),
        ok('foo.bar.anotherwildcard.io', '/s4', InfraBackendServiceNameV1),
        notFound('anotherwildcard.io', '/s4'),
        notFound('foo.wildcard.io', '/s4'),
        notFound('very.specific.com', '/s4'),
        notFound('foo.anotherwildcard.io', '/non-matching-prefix'),
      ]);
    });

    await t.run('HTTPRoutes that do not intersect with listener hostnames', async (t) => {
      const gwAddr = await gatewayAndHTTPRoutesMustBeAccepted(t, s, s.controllerName, newGatewayRef(gwNN));
      const routeNN = { namespace: ns, name: 'no-intersecting-hosts' };
      await httpRouteMustHaveParents(t, s, routeNN, [{
        parentRef: { group: gatewayGroup, kind: 'Gateway', namespace: gwNN.namespace, name: gwNN.name },
        controllerName: s.controllerName,
        conditions: [{ type: 'Accepted', status: 'False', reason: 'NoMatchingListenerHostname' }],
      }], true);

      await expectEventuallyConsistentResponses(t, s, gwAddr, [
        notFound('specific.but.wrong.com', '/s5'),
        notFound('wildcard.io', '/s5'),
      ]);
    });

    await t.run('HTTPRoutes have to be counted in AttachedRoutes only if they are Accepted', async (t) => {
      await gatewayStatusMustHaveListeners(t, s, gwNN, [
        // specific-host-matches-listener-specific-host and wildcard-host-matches-listener-specific-host
        listener('listener-1', 2),
        // wildcard-host-matches-listener-wildcard-host
        listener('listener-2', 1),
        listener('listener-3', 1),
      ]);
    });

    await t.run('HTTPRoutes intersects with an unspecified hostname listener', async (t) => {
      const routes: NamespacedName[] = [{ namespace: ns, name: 'httproute-hostname-intersection-all' }];
      const allNN = { name: 'httproute-hostname-intersection-all', namespace: ns };
      const gwAddr = await gatewayAndHTTPRoutesMustBeAccepted(t, s, s.controllerName, newGatewayRef(allNN), ...routes);
      for (const routeNN of routes) await httpRouteMustHaveResolvedRefsConditionsTrue(t, s, routeNN, allNN);

      await expectEventuallyConsistentResponses(t, s, gwAddr, [
        ok('first.com', '/', InfraBackendServiceNameV2),
        ok('sub.first.com', '/', InfraBackendServiceNameV2),
        ok('second.com', '/', InfraBackendServiceNameV2),
        ok('sub.second.com', '/', InfraBackendServiceNameV2),
        { request: { host: 'third.com', path: '/' }, namespace: ns, response: { statusCode: 404 } },
        { request: { host: 'sub.third.com', path: '/' }, namespace: ns, response: { statusCode: 404 } },
      ]);
    });
  },
};
