import { SupportGateway, SupportHTTPRoute, SupportListenerSet, SupportReferenceGrant, SupportTLSRoute } from '../features.js';
import { InfraBackendServiceNameV1 as V1, InfraBackendServiceNameV2 as V2, InfraBackendServiceNameV3 as V3, InfrastructureNamespace } from '../harness/suite.js';
import type { ConformanceSuite } from '../harness/suite.js';
import { expectEventuallyConsistentResponses, makeRequestAndExpectEventuallyConsistentResponse, type ExpectedResponse } from '../utils/http.js';
import {
  gatewayAndHTTPRoutesMustBeAccepted, gatewayGroup, gatewayListenersMustHaveConditions, gatewayMustHaveAttachedListeners,
  gatewayMustHaveCondition, httpRouteMustHaveCondition, httpRouteMustHaveParents, listenerSetListenersMustHaveConditions,
  listenerSetMustHaveCondition, listenerSetStatusMustHaveListeners, namespacesMustBeReady, newGatewayRef, newResourceRef,
  routesAndParentMustBeAccepted, waitForGatewayAddress, type ExpectedCondition, type NamespacedName,
} from '../utils/kubernetes.js';
import type { T } from '../utils/t.js';
import type { ConformanceTest } from './types.js';

// Upstream's listenerset-*.go.

const ns = InfrastructureNamespace;
const listenerSetGK = { group: gatewayGroup, kind: 'ListenerSet' };
const httpRouteKinds = [{ group: gatewayGroup, kind: 'HTTPRoute' }];

/** Upstream's generateAcceptedListenerConditions. */
const acceptedListener: ExpectedCondition[] = [
  { type: 'ResolvedRefs', status: 'True' },
  { type: 'Accepted', status: 'True' },
  { type: 'Programmed', status: 'True' },
];

const gatewayAccepted = { type: 'Accepted', status: 'True' };
const lsAccepted = (reason = 'Accepted') => ({ type: 'Accepted', status: 'True', reason });
const lsProgrammed = (reason = 'Programmed') => ({ type: 'Programmed', status: 'True', reason });
const lsRejected = (reason: string) => [{ type: 'Accepted', status: 'False', reason }, { type: 'Programmed', status: 'False', reason }];

async function lsMust(t: T, s: ConformanceSuite, ls: NamespacedName, ...conditions: ExpectedCondition[]): Promise<void> {
  for (const c of conditions) await listenerSetMustHaveCondition(t, s, ls, c);
}

/** ListenerSetAllowedNamespace{None,Same,Selector} and ListenerSetDefaultNotAllowed share one shape. */
function allowedNamespaceTest(o: {
  shortName: string; description: string; manifest: string; gateway: string; attached: number;
  allowed?: { ls: NamespacedName; listener: string }; disallowed: NamespacedName;
}): ConformanceTest {
  return {
    shortName: o.shortName,
    description: o.description,
    features: [SupportGateway, SupportListenerSet],
    manifests: [o.manifest],
    test: async (t, s) => {
      await namespacesMustBeReady(t, s, [ns]);
      const gwNN = { name: o.gateway, namespace: ns };
      await gatewayMustHaveCondition(t, s, gwNN, gatewayAccepted);
      await gatewayMustHaveAttachedListeners(t, s, gwNN, o.attached);
      if (o.allowed) {
        await lsMust(t, s, o.allowed.ls, lsAccepted(), lsProgrammed());
        await listenerSetListenersMustHaveConditions(t, s, o.allowed.ls, acceptedListener, o.allowed.listener);
      }
      await lsMust(t, s, o.disallowed, ...lsRejected('NotAllowed'));
    },
  };
}

export const ListenerSetAllowedNamespaceNone = allowedNamespaceTest({
  shortName: 'ListenerSetAllowedNamespaceNone',
  description: 'Listener Sets are not allowed on the Gateway when `allowedListeners` is set to `None`',
  manifest: 'tests/listenerset-allowed-namespace-none.yaml',
  gateway: 'gateway-does-not-allow-listenerset',
  attached: 0,
  disallowed: { name: 'listenerset-not-allowed', namespace: ns },
});

export const ListenerSetAllowedNamespaceSame = allowedNamespaceTest({
  shortName: 'ListenerSetAllowedNamespaceSame',
  description: 'ListenerSets in the same namespace as the Gateway are allowed when `allowedListeners` is set to `Same`',
  manifest: 'tests/listenerset-allowed-namespace-same.yaml',
  gateway: 'gateway-allows-listenerset-in-same-namespace',
  attached: 1,
  allowed: { ls: { name: 'listenerset-in-same-namespace', namespace: ns }, listener: 'listenerset-in-same-namespace-listener' },
  disallowed: { name: 'listenerset-in-different-namespace', namespace: 'gateway-api-listenerset-not-allowed-ns' },
});

export const ListenerSetAllowedNamespaceSelector = allowedNamespaceTest({
  shortName: 'ListenerSetAllowedNamespaceSelector',
  description: 'ListenerSets in the namespaces that match the labels are allowed when `allowedListeners` is set to `Selector`',
  manifest: 'tests/listenerset-allowed-namespace-selector.yaml',
  gateway: 'gateway-allows-listenerset-in-selected-namespace',
  attached: 1,
  allowed: { ls: { name: 'listenerset-in-selected-namespace', namespace: 'gateway-api-listenerset-selector-allowed-ns' }, listener: 'listenerset-in-selected-namespace-listener' },
  disallowed: { name: 'listenerset-not-in-selected-namespace', namespace: 'gateway-api-listenerset-selector-not-allowed-ns' },
});

export const ListenerSetDefaultNotAllowed = allowedNamespaceTest({
  shortName: 'ListenerSetDefaultNotAllowed',
  description: 'Listener Sets are not allowed on the Gateway by default (i.e. when `allowedListeners` is not set)',
  manifest: 'tests/listenerset-default-not-allowed.yaml',
  gateway: 'gateway-default-does-not-allow-listenerset',
  attached: 0,
  disallowed: { name: 'listenerset-default-not-allowed', namespace: ns },
});

const to = (host: string, path: string, backend: string): ExpectedResponse => ({ request: { host, path }, backend, namespace: ns });
const notFound = (host: string, path: string): ExpectedResponse => ({ request: { host, path }, response: { statusCode: 404 } });

export const ListenerSetAllowedRoutesNamespaces: ConformanceTest = {
  shortName: 'ListenerSetAllowedRoutesNamespaces',
  description: 'ListenerSet listeners allow routes from the specified namespace',
  features: [SupportGateway, SupportListenerSet, SupportHTTPRoute, SupportReferenceGrant],
  manifests: ['tests/listenerset-allowed-routes-namespaces.yaml'],
  test: async (t, s) => {
    await namespacesMustBeReady(t, s, [ns]);
    const gwNN = { name: 'gateway-with-listener-sets-test-allowed-routes', namespace: ns };
    const gwAddr = await waitForGatewayAddress(t, s, newGatewayRef(gwNN, 'gateway-listener'));
    await gatewayMustHaveCondition(t, s, gwNN, gatewayAccepted);
    await gatewayMustHaveAttachedListeners(t, s, gwNN, 2);

    await t.run('Same-namespace ListenerSet', async (t) => {
      const lsNN = { name: 'listenerset-test-allowed-routes-namespaces', namespace: ns };
      await routesAndParentMustBeAccepted(t, s, s.controllerName, newResourceRef(listenerSetGK, lsNN),
        { name: 'route-in-same-namespace', namespace: ns },
        { name: 'route-in-selected-namespace', namespace: 'gateway-api-routes-allowed-ns' },
        { name: 'route-not-in-selected-namespace', namespace: 'gateway-api-routes-not-allowed-ns' });
      await listenerSetStatusMustHaveListeners(t, s, lsNN, [
        { name: 'listener-set-listener-allowed-routes-all', supportedKinds: httpRouteKinds, attachedRoutes: 3, conditions: acceptedListener },
        { name: 'listener-set-listener-allowed-routes-same', supportedKinds: httpRouteKinds, attachedRoutes: 1, conditions: acceptedListener },
        { name: 'listener-set-listener-allowed-routes-selector', supportedKinds: httpRouteKinds, attachedRoutes: 1, conditions: acceptedListener },
      ]);
      const all = 'listener-set-listener-allowed-routes-all.com';
      const same = 'listener-set-listener-allowed-routes-same.com';
      const selector = 'listener-set-listener-allowed-routes-selector.com';
      await expectEventuallyConsistentResponses(t, s, gwAddr, [
        to(all, '/route-in-same-namespace', V1),
        to(all, '/route-in-selected-namespace', V2),
        to(all, '/route-not-in-selected-namespace', V3),
        to(same, '/route-in-same-namespace', V1),
        notFound(same, '/route-in-selected-namespace'),
        notFound(same, '/route-not-in-selected-namespace'),
        notFound(selector, '/route-in-same-namespace'),
        to(selector, '/route-in-selected-namespace', V2),
        notFound(selector, '/route-not-in-selected-namespace'),
      ]);
    });

    await t.run('Cross-namespace ListenerSet', async (t) => {
      const lsNS = 'gateway-api-ls-cross-ns';
      const lsNN = { name: 'listenerset-test-allowed-routes-cross-ns', namespace: lsNS };
      await routesAndParentMustBeAccepted(t, s, s.controllerName, newResourceRef(listenerSetGK, lsNN), { name: 'route-in-listenerset-namespace', namespace: lsNS });
      await httpRouteMustHaveCondition(t, s, { name: 'route-in-gateway-namespace', namespace: ns }, lsNN,
        { type: 'Accepted', status: 'False', reason: 'NotAllowedByListeners' });
      await listenerSetStatusMustHaveListeners(t, s, lsNN, [
        { name: 'listener-set-listener-allowed-routes-cross-ns-same', supportedKinds: httpRouteKinds, attachedRoutes: 1, conditions: acceptedListener },
      ]);
      const host = 'listener-set-listener-allowed-routes-cross-ns-same.com';
      await expectEventuallyConsistentResponses(t, s, gwAddr, [
        to(host, '/route-in-listenerset-namespace', V1),
        notFound(host, '/route-in-gateway-namespace'),
      ]);
    });
  },
};

export const ListenerSetAllowedRoutesSupportedKinds: ConformanceTest = {
  shortName: 'ListenerSetAllowedRoutesSupportedKinds',
  description: 'ListenerSet listeners allow specific route kinds',
  features: [SupportGateway, SupportListenerSet, SupportTLSRoute],
  manifests: ['tests/listenerset-allowed-routes-supported-kinds.yaml'],
  test: async (t, s) => {
    await namespacesMustBeReady(t, s, [ns]);
    await gatewayMustHaveCondition(t, s, { name: 'gateway-with-listener-sets-test-supported-route-kinds', namespace: ns }, gatewayAccepted);
    // The TLS listener only allows HTTPRoute, a kind a TLS listener cannot carry.
    await listenerSetListenersMustHaveConditions(t, s, { name: 'listenerset-test-allowed-routes-supported-kinds', namespace: ns },
      [{ type: 'ResolvedRefs', status: 'False', reason: 'InvalidRouteKinds' }], 'listener-set-listener-allowed-routes-tls-only');
  },
};

export const ListenerSetDualParentRefIndependence: ConformanceTest = {
  shortName: 'ListenerSetDualParentRefIndependence',
  description: 'A Route with both Gateway and ListenerSet parentRefs has independently evaluated Accepted conditions for each parentRef',
  features: [SupportGateway, SupportListenerSet, SupportHTTPRoute],
  manifests: ['tests/listenerset-dual-parentref-independence.yaml'],
  test: async (t, s) => {
    await namespacesMustBeReady(t, s, [ns]);
    const gwNN = { name: 'gateway-dual-parentref', namespace: ns };
    const gwAddr = await waitForGatewayAddress(t, s, newGatewayRef(gwNN, 'gw-dual-parentref-listener'));
    await gatewayMustHaveCondition(t, s, gwNN, gatewayAccepted);
    await gatewayMustHaveAttachedListeners(t, s, gwNN, 1);
    const lsNN = { name: 'ls-dual-parentref', namespace: ns };
    await listenerSetStatusMustHaveListeners(t, s, lsNN, [
      { name: 'ls-dual-parentref-listener', supportedKinds: httpRouteKinds, attachedRoutes: 2, conditions: acceptedListener },
    ]);

    await t.run('Both parentRefs are Accepted', async (t) => {
      const routeNN = { name: 'route-dual-parentref-both', namespace: ns };
      await httpRouteMustHaveCondition(t, s, routeNN, gwNN, { type: 'Accepted', status: 'True' });
      await httpRouteMustHaveCondition(t, s, routeNN, lsNN, { type: 'Accepted', status: 'True' });
      await expectEventuallyConsistentResponses(t, s, gwAddr, [to('gw-dual.com', '/dualboth', V1), to('ls-dual.com', '/dualboth', V1)]);
    });

    await t.run('One of two parentRefs is Accepted', async (t) => {
      const routeNN = { name: 'route-dual-parentref-one', namespace: ns };
      await httpRouteMustHaveCondition(t, s, routeNN, gwNN, { type: 'Accepted', status: 'False', reason: 'NoMatchingParent' });
      await httpRouteMustHaveCondition(t, s, routeNN, lsNN, { type: 'Accepted', status: 'True' });
      await routesAndParentMustBeAccepted(t, s, s.controllerName, newResourceRef(listenerSetGK, lsNN), routeNN);
      await expectEventuallyConsistentResponses(t, s, gwAddr, [to('ls-dual.com', '/dualone', V2), notFound('gw-dual.com', '/dualone')]);
    });
  },
};

export const ListenerSetGatewayParentSectionNameNotFound: ConformanceTest = {
  shortName: 'ListenerSetGatewayParentSectionNameNotFound',
  description: 'A Route must not be able to find a ListenerSet sectionName using a Gateway parentRef',
  features: [SupportGateway, SupportListenerSet, SupportHTTPRoute],
  manifests: ['tests/listenerset-gateway-parent-section-name-not-found.yaml'],
  test: async (t, s) => {
    await namespacesMustBeReady(t, s, [ns]);
    const gwNN = { name: 'gateway-section-name', namespace: ns };
    const gwAddr = await waitForGatewayAddress(t, s, newGatewayRef(gwNN, 'gw-listener'));
    await gatewayMustHaveCondition(t, s, gwNN, gatewayAccepted);
    await gatewayMustHaveAttachedListeners(t, s, gwNN, 1);
    const lsNN = { name: 'listenerset-section-name', namespace: ns };
    await routesAndParentMustBeAccepted(t, s, s.controllerName, newResourceRef(listenerSetGK, lsNN), { name: 'route-via-listenerset', namespace: ns });
    await httpRouteMustHaveCondition(t, s, { name: 'route-via-gateway', namespace: ns }, gwNN, { type: 'Accepted', status: 'False', reason: 'NoMatchingParent' });
    await makeRequestAndExpectEventuallyConsistentResponse(t, s, gwAddr, to('ls-section-name.com', '/goodsection', V1));
    await makeRequestAndExpectEventuallyConsistentResponse(t, s, gwAddr, notFound('gw-section.com', '/badsection'));
  },
};

/** ListenerSetHostnameConflict and ListenerSetProtocolConflict: listener precedence, Gateway first, then ListenerSets. */
function conflictTest(kind: 'hostname' | 'protocol'): ConformanceTest {
  const Kind = kind === 'hostname' ? 'Hostname' : 'Protocol';
  const reason = `${Kind}Conflict`;
  const conflicted: ExpectedCondition[] = [
    { type: 'Accepted', status: 'False', reason },
    { type: 'Programmed', status: 'False', reason },
    { type: 'Conflicted', status: 'True', reason },
  ];
  return {
    shortName: `ListenerSet${Kind}Conflict`,
    description: `Validate Listener Precedence when a ListenerSet listener has a ${kind} conflict`,
    features: [SupportGateway, SupportListenerSet],
    manifests: [`tests/listenerset-${kind}-conflict.yaml`],
    test: async (t, s) => {
      await namespacesMustBeReady(t, s, [ns]);
      const gwNN = { name: `gateway-with-listenerset-${kind}-conflict`, namespace: ns };
      await gatewayMustHaveCondition(t, s, gwNN, gatewayAccepted);
      await gatewayListenersMustHaveConditions(t, s, gwNN, acceptedListener, 'gateway-listener');
      await gatewayListenersMustHaveConditions(t, s, gwNN, acceptedListener, `${kind}-conflict-with-gateway-listener`);
      await gatewayMustHaveAttachedListeners(t, s, gwNN, 2);

      const ls = (suffix: string) => ({ name: `listenerset-with-${kind}-conflict-with-${suffix}`, namespace: ns });
      let lsNN = ls('gateway-1');
      await lsMust(t, s, lsNN, lsAccepted(''), lsProgrammed());
      await listenerSetListenersMustHaveConditions(t, s, lsNN, acceptedListener, 'listener-set-1-listener');
      await listenerSetListenersMustHaveConditions(t, s, lsNN, conflicted, `${kind}-conflict-with-gateway-listener`);
      await listenerSetListenersMustHaveConditions(t, s, lsNN, acceptedListener, `${kind}-conflict-with-listener-set-listener`);

      lsNN = ls('gateway-2');
      await lsMust(t, s, lsNN, ...lsRejected('ListenersNotValid'));
      await listenerSetListenersMustHaveConditions(t, s, lsNN, conflicted, `${kind}-conflict-with-gateway-listener`);

      lsNN = ls('listener-set-1');
      await lsMust(t, s, lsNN, lsAccepted(''), lsProgrammed());
      await listenerSetListenersMustHaveConditions(t, s, lsNN, acceptedListener, 'listener-set-2-listener');
      await listenerSetListenersMustHaveConditions(t, s, lsNN, conflicted, `${kind}-conflict-with-listener-set-listener`);

      lsNN = ls('listener-set-2');
      await lsMust(t, s, lsNN, ...lsRejected('ListenersNotValid'));
      await listenerSetListenersMustHaveConditions(t, s, lsNN, conflicted, `${kind}-conflict-with-listener-set-listener`);
    },
  };
}

export const ListenerSetHostnameConflict = conflictTest('hostname');
export const ListenerSetProtocolConflict = conflictTest('protocol');

export const ListenerSetHTTPRouting: ConformanceTest = {
  shortName: 'ListenerSetHTTPRouting',
  description: 'HTTP Routing works as expected with ListenerSets',
  features: [SupportGateway, SupportListenerSet, SupportHTTPRoute],
  manifests: ['tests/listenerset-http-routing.yaml'],
  test: async (t, s) => {
    await namespacesMustBeReady(t, s, [ns]);
    const gwNN = { name: 'gateway-with-listener-sets-http-routing', namespace: ns };
    const gwAddr = await gatewayAndHTTPRoutesMustBeAccepted(t, s, s.controllerName, newGatewayRef(gwNN, 'gateway-listener'),
      ...['attaches-to-all-listeners', 'gateway-route', 'gateway-section-route'].map((name) => ({ name, namespace: ns })));
    await gatewayMustHaveAttachedListeners(t, s, gwNN, 2);

    const ls1 = { name: 'listener-set-http-routing-1', namespace: ns };
    await routesAndParentMustBeAccepted(t, s, s.controllerName, newResourceRef(listenerSetGK, ls1),
      ...['attaches-to-all-listeners', 'listener-set-http-routing-1-route', 'listener-set-http-routing-1-section-route'].map((name) => ({ name, namespace: ns })));
    await listenerSetStatusMustHaveListeners(t, s, ls1, [
      { name: 'listener-set-http-routing-1-listener-1', supportedKinds: httpRouteKinds, attachedRoutes: 3, conditions: acceptedListener },
      { name: 'listener-set-http-routing-1-listener-2', supportedKinds: httpRouteKinds, attachedRoutes: 2, conditions: acceptedListener },
    ]);
    const ls2 = { name: 'listener-set-http-routing-2', namespace: ns };
    await routesAndParentMustBeAccepted(t, s, s.controllerName, newResourceRef(listenerSetGK, ls2),
      ...['attaches-to-all-listeners', 'listener-set-http-routing-2-route'].map((name) => ({ name, namespace: ns })));
    await listenerSetStatusMustHaveListeners(t, s, ls2, [
      { name: 'listener-set-http-routing-2-listener-1', supportedKinds: httpRouteKinds, attachedRoutes: 2, conditions: acceptedListener },
      { name: 'listener-set-http-routing-2-listener-2', supportedKinds: httpRouteKinds, attachedRoutes: 2, conditions: acceptedListener },
    ]);

    // Hosts of the Gateway's two listeners and of each ListenerSet's two listeners, in upstream's order.
    const hosts = [
      'gateway-listener-1.com', 'gateway-listener-2.com',
      'listener-set-http-routing-1-listener-1.com', 'listener-set-http-routing-1-listener-2.com',
      'listener-set-http-routing-2-listener-1.com', 'listener-set-http-routing-2-listener-2.com',
    ];
    // For each path, the hosts (by index) that reach a backend, and which one.
    const routing: [string, string, number[]][] = [
      ['/route', V1, [0, 1, 2, 3, 4, 5]],
      ['/gateway-route', V2, [0, 1]],
      ['/gateway-section-route', V3, [0]],
      ['/listener-set-http-routing-1-route', V2, [2, 3]],
      ['/listener-set-http-routing-1-section-route', V3, [2]],
      ['/listener-set-http-routing-2-route', V2, [4, 5]],
    ];
    await expectEventuallyConsistentResponses(t, s, gwAddr, routing.flatMap(([path, backend, reached]) =>
      hosts.map((host, i) => (reached.includes(i) ? to(host, path, backend) : notFound(host, path)))));
  },
};

export const ListenerSetReferenceGrant: ConformanceTest = {
  shortName: 'ListenerSetReferenceGrant',
  description: 'ListenerSet with reference grant support',
  features: [SupportGateway, SupportListenerSet, SupportReferenceGrant],
  manifests: ['tests/listenerset-reference-grant.yaml'],
  test: async (t, s) => {
    await namespacesMustBeReady(t, s, [ns]);
    const gwNN = { name: 'gateway-with-listener-sets-test-reference-grant', namespace: ns };
    await gatewayMustHaveCondition(t, s, gwNN, gatewayAccepted);

    let lsNN = { name: 'listenerset-with-reference-grant', namespace: ns };
    await lsMust(t, s, lsNN, lsAccepted(''), lsProgrammed(''));
    await listenerSetListenersMustHaveConditions(t, s, lsNN, [{ type: 'ResolvedRefs', status: 'True' }], 'listenerset-with-reference-grant-listener');

    lsNN = { name: 'listenerset-without-reference-grant', namespace: 'gateway-api-listener-sets-test-reference-grant-ns' };
    await lsMust(t, s, lsNN, ...lsRejected('ListenersNotValid'));
    await listenerSetListenersMustHaveConditions(t, s, lsNN, [{ type: 'ResolvedRefs', status: 'False', reason: 'RefNotPermitted' }], 'listenerset-without-reference-grant-listener');
  },
};

export const ListenerSetRouteStatusScopedToParentRef: ConformanceTest = {
  shortName: 'ListenerSetRouteStatusScopedToParentRef',
  description: "A Route's status.parents must contain entries only for its explicitly declared parentRefs",
  features: [SupportGateway, SupportListenerSet, SupportHTTPRoute],
  manifests: ['tests/listenerset-route-status-scoped-to-parentref.yaml'],
  test: async (t, s) => {
    await namespacesMustBeReady(t, s, [ns]);
    const gwNN = { name: 'gateway-parentref', namespace: ns };
    await gatewayMustHaveCondition(t, s, gwNN, gatewayAccepted);
    await gatewayMustHaveAttachedListeners(t, s, gwNN, 1);
    const lsNN = { name: 'listenerset-parentref', namespace: ns };
    await listenerSetStatusMustHaveListeners(t, s, lsNN, [
      { name: 'listenerset-parentref-listener', supportedKinds: httpRouteKinds, attachedRoutes: 1, conditions: acceptedListener },
    ]);

    await t.run('Gateway-only parentRef', async (t) => {
      const routeNN = { name: 'route-parentref-gwonly', namespace: ns };
      await httpRouteMustHaveCondition(t, s, routeNN, gwNN, { type: 'Accepted', status: 'True' });
      await httpRouteMustHaveParents(t, s, routeNN, [{
        parentRef: { group: gatewayGroup, kind: 'Gateway', name: 'gateway-parentref', namespace: ns },
        controllerName: s.controllerName,
        conditions: [{ type: 'Accepted', status: 'True' }],
      }], true);
    });

    await t.run('ListenerSet-only parentRef', async (t) => {
      const routeNN = { name: 'route-parentref-lsonly', namespace: ns };
      await routesAndParentMustBeAccepted(t, s, s.controllerName, newResourceRef(listenerSetGK, lsNN), routeNN);
      await httpRouteMustHaveParents(t, s, routeNN, [{
        parentRef: { group: gatewayGroup, kind: 'ListenerSet', name: 'listenerset-parentref', namespace: ns },
        controllerName: s.controllerName,
        conditions: [{ type: 'Accepted', status: 'True' }],
      }], true);
    });
  },
};
