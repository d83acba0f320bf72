// Port of upstream conformance/utils/kubernetes/helpers.go: status
// expectations polled against the gateway's /status. Where upstream logs and
// retries, these keep the last observation so a timeout says what was seen.
import { NotFoundError, type Cluster } from '../harness/cluster.js';
import type { KubeObject } from '../harness/manifests.js';
import type { TimeoutConfig } from './config.js';
import { joinHostPort, splitHostPort } from './http.js';
import { poll, type T } from './t.js';

export interface KubeContext {
  cluster: Cluster;
  timeouts: TimeoutConfig;
}

export interface NamespacedName {
  namespace?: string;
  name: string;
}

export const gatewayGroup = 'gateway.networking.k8s.io';

/** The route kinds whose status the suite reads; upstream passes the route's Go type instead. */
export type RouteKind = 'HTTPRoute' | 'GRPCRoute' | 'TLSRoute' | 'TCPRoute' | 'UDPRoute';

/** Upstream's XRouteMustHaveCondition timeouts, one per kind that has such a helper (GRPCRoute has none). */
const routeConditionTimeout: Record<Exclude<RouteKind, 'GRPCRoute'>, (tc: TimeoutConfig) => number> = {
  HTTPRoute: (tc) => tc.httpRouteMustHaveCondition,
  TLSRoute: (tc) => tc.tlsRouteMustHaveCondition,
  TCPRoute: (tc) => tc.tcpRouteMustHaveCondition,
  UDPRoute: (tc) => tc.udpRouteMustHaveCondition,
};

/** Upstream marks Gateways that are meant to stay unready with this annotation. */
const excludedFromReadiness = 'gateway-api/skip-this-for-readiness';

export interface Condition {
  type: string;
  status: string;
  reason?: string;
  observedGeneration?: number;
}

/** An expected condition; an empty or missing reason accepts any reason. */
export interface ExpectedCondition {
  type: string;
  status: string;
  reason?: string;
}

export interface GatewayRef extends NamespacedName {
  /** undefined stands for "no sectionName". */
  listenerNames: (string | undefined)[];
}

export function newGatewayRef(nn: NamespacedName, ...listenerNames: string[]): GatewayRef {
  return { ...nn, listenerNames: listenerNames.length > 0 ? listenerNames : [undefined] };
}

export interface ParentRef {
  group?: string;
  kind?: string;
  namespace?: string;
  name: string;
  sectionName?: string;
}

export interface RouteParentStatus {
  parentRef: ParentRef;
  controllerName: string;
  conditions: ExpectedCondition[];
}

export interface RouteGroupKind {
  group?: string;
  kind: string;
}

export interface ListenerStatus {
  name: string;
  supportedKinds: RouteGroupKind[];
  conditions: ExpectedCondition[];
  attachedRoutes: number;
}

const nnString = (nn: NamespacedName) => (nn.namespace ? `${nn.namespace}/${nn.name}` : nn.name);

function describeConditions(conditions: readonly Condition[] | undefined): string {
  if (!conditions || conditions.length === 0) return '[]';
  return `[${conditions.map((c) => `${c.type}=${c.status}/${c.reason ?? ''}(gen ${c.observedGeneration ?? '-'})`).join(', ')}]`;
}

function describeExpected(c: ExpectedCondition): string {
  return `${c.type}=${c.status}${c.reason ? `/${c.reason}` : ''}`;
}

/** Upstream's Get-error path: the poll ends at once with an error. */
async function fetch(t: T, s: KubeContext, kind: string, nn: NamespacedName): Promise<KubeObject> {
  try {
    return await s.cluster.get(kind, nn.namespace, nn.name);
  } catch (err) {
    if (err instanceof NotFoundError) t.fatal(`error fetching ${kind}: ${err.message}`);
    t.fatal(`error fetching ${kind} ${nnString(nn)}: ${(err as Error).message}`);
  }
}

/** Like fetch, for pollers that keep waiting: a failed read is explained, not fatal. */
async function fetchOrExplain(s: KubeContext, kind: string, nn: NamespacedName): Promise<KubeObject | string> {
  try {
    return await s.cluster.get(kind, nn.namespace, nn.name);
  } catch (err) {
    return `error fetching ${kind}: ${(err as Error).message}`;
  }
}

function staleConditions(obj: KubeObject, conditions: readonly Condition[] | undefined): Condition[] {
  return (conditions ?? []).filter((c) => c.observedGeneration !== obj.metadata.generation);
}

/** undefined when every condition is at the object's generation, otherwise why not. */
export function conditionsHaveLatestObservedGeneration(obj: KubeObject, conditions: readonly Condition[] | undefined): string | undefined {
  const stale = staleConditions(obj, conditions);
  if (stale.length === 0) return undefined;
  const all = conditions?.length ?? 0;
  return `expected observedGeneration to be updated to ${obj.metadata.generation} for all conditions, only ${all - stale.length}/${all} were updated. stale conditions are: ` +
    stale.map((c) => `${c.type} (generation ${c.observedGeneration})`).join(', ');
}

function findConditionInList(conditions: readonly Condition[] | undefined, type: string, status: string, reason: string | undefined): boolean {
  return (conditions ?? []).some((c) => c.type === type && (status === '' || c.status === status) && (!reason || c.reason === reason));
}

function conditionsMatch(expected: readonly ExpectedCondition[], actual: readonly Condition[] | undefined): boolean {
  if ((actual?.length ?? 0) < expected.length) return false;
  return expected.every((c) => findConditionInList(actual, c.type, c.status, c.reason));
}

async function gwcMustBeAccepted(t: T, s: KubeContext, name: string, expectedStatus: string): Promise<string> {
  let controllerName = '';
  let last = '';
  const ok = await poll(s.timeouts.defaultPollInterval, s.timeouts.gwcMustBeAccepted, async () => {
    const gwc = await fetch(t, s, 'GatewayClass', { name });
    controllerName = gwc.spec?.controllerName ?? '';
    const conditions = gwc.status?.conditions as Condition[] | undefined;
    last = `generation ${gwc.metadata.generation}, conditions ${describeConditions(conditions)}`;
    if (conditionsHaveLatestObservedGeneration(gwc, conditions)) return false;
    return findConditionInList(conditions, 'Accepted', expectedStatus, '');
  });
  if (!ok) t.fatal(`error waiting for ${name} GatewayClass to have Accepted condition${expectedStatus ? ` ${expectedStatus}` : ''} set; got ${last}`);
  return controllerName;
}

export function gwcMustHaveAcceptedConditionTrue(t: T, s: KubeContext, name: string): Promise<string> {
  return gwcMustBeAccepted(t, s, name, 'True');
}

export function gwcMustHaveAcceptedConditionAny(t: T, s: KubeContext, name: string): Promise<string> {
  return gwcMustBeAccepted(t, s, name, '');
}

async function mustHaveLatestConditions(t: T, s: KubeContext, kind: string, nn: NamespacedName, conditionLists: (obj: KubeObject) => Condition[][]): Promise<void> {
  let last = '';
  const ok = await poll(s.timeouts.defaultPollInterval, s.timeouts.latestObservedGenerationSet, async () => {
    const obj = await fetch(t, s, kind, nn);
    for (const conditions of conditionLists(obj)) {
      const err = conditionsHaveLatestObservedGeneration(obj, conditions);
      if (err) {
        last = err;
        return false;
      }
    }
    return true;
  });
  if (!ok) t.fatal(`error waiting for ${kind} ${nnString(nn)} to have Latest ObservedGeneration to be set: ${last}`);
}

export function gatewayMustHaveLatestConditions(t: T, s: KubeContext, nn: NamespacedName): Promise<void> {
  return mustHaveLatestConditions(t, s, 'Gateway', nn, (gw) => [gw.status?.conditions ?? []]);
}

export function gatewayClassMustHaveLatestConditions(t: T, s: KubeContext, nn: NamespacedName): Promise<void> {
  return mustHaveLatestConditions(t, s, 'GatewayClass', nn, (gwc) => [gwc.status?.conditions ?? []]);
}

export function httpRouteMustHaveLatestConditions(t: T, s: KubeContext, nn: NamespacedName): Promise<void> {
  return mustHaveLatestConditions(t, s, 'HTTPRoute', nn, (r) => ((r.status?.parents ?? []) as { conditions?: Condition[] }[]).map((p) => p.conditions ?? []));
}

/** Every Gateway in the namespaces Accepted and Programmed (unless excluded), every pod ready. */
export async function namespacesMustBeReady(t: T, s: KubeContext, namespaces: readonly string[]): Promise<void> {
  let last = '';
  const ok = await poll(s.timeouts.defaultPollInterval, s.timeouts.namespacesMustBeReady, async () => {
    for (const ns of namespaces) {
      let gateways: KubeObject[];
      try {
        gateways = await s.cluster.list('Gateway', ns);
      } catch (err) {
        last = `error listing Gateways: ${(err as Error).message}`;
        return false;
      }
      for (const gw of gateways) {
        if (gw.metadata.annotations?.[excludedFromReadiness] === 'true') continue;
        const conditions = gw.status?.conditions as Condition[] | undefined;
        const id = `Gateway ${ns}/${gw.metadata.name}`;
        const stale = conditionsHaveLatestObservedGeneration(gw, conditions);
        if (stale) {
          last = `${id}: ${stale}`;
          return false;
        }
        for (const type of ['Accepted', 'Programmed']) {
          if (!findConditionInList(conditions, type, 'True', '')) {
            last = `${id} not ${type} yet: ${describeConditions(conditions)}`;
            return false;
          }
        }
      }
      const pods = s.cluster.listPods(ns);
      if (pods.length === 0) {
        last = `no pods deployed yet in ${ns}`;
        return false;
      }
      const notReady = pods.find((p) => !p.ready());
      if (notReady) {
        last = `pod ${ns}/${notReady.name} not ready`;
        return false;
      }
    }
    return true;
  });
  if (!ok) t.fatal(`error waiting for ${namespaces.join(', ')} namespaces to be ready: ${last}`);
}

export async function gatewayMustHaveCondition(t: T, s: KubeContext, nn: NamespacedName, expected: ExpectedCondition): Promise<void> {
  let last = '';
  const ok = await poll(s.timeouts.defaultPollInterval, s.timeouts.gatewayMustHaveCondition, async () => {
    const gw = await fetch(t, s, 'Gateway', nn);
    const conditions = gw.status?.conditions as Condition[] | undefined;
    const stale = conditionsHaveLatestObservedGeneration(gw, conditions);
    if (stale) t.fatal(`error waiting for Gateway ${nnString(nn)} status to have a Condition matching expectations: ${stale}`);
    last = describeConditions(conditions);
    return findConditionInList(conditions, expected.type, expected.status, expected.reason);
  });
  if (!ok) t.fatal(`error waiting for Gateway ${nnString(nn)} status to have a Condition matching expectations: want ${describeExpected(expected)}, got ${last}`);
}

export async function waitForGatewayAddress(t: T, s: KubeContext, gwRef: GatewayRef): Promise<string> {
  let address = '';
  let port = '';
  let last = '';
  const ok = await poll(s.timeouts.defaultPollInterval, s.timeouts.gatewayMustHaveAddress, async () => {
    const gw = await fetch(t, s, 'Gateway', gwRef);
    const stale = conditionsHaveLatestObservedGeneration(gw, gw.status?.conditions);
    if (stale) {
      last = stale;
      return false;
    }
    const listeners = (gw.spec?.listeners ?? []) as { name: string; port: number }[];
    const wanted = gwRef.listenerNames[0];
    const listener = listeners.find((l) => wanted !== undefined && l.name === wanted) ?? listeners[0];
    port = String(listener?.port ?? '');
    const addresses = (gw.status?.addresses ?? []) as { type?: string; value: string }[];
    last = `status.addresses ${JSON.stringify(addresses)}`;
    const typed = addresses.find((a) => a.type !== undefined);
    if (!typed) return false;
    address = typed.value;
    return true;
  });
  if (!ok) t.fatal(`error waiting for Gateway ${nnString(gwRef)} to have at least one IP address in status: ${last}`);
  return joinHostPort(address, port);
}

/**
 * Upstream's GatewayAndRoutesMustBeAccepted: the Gateway has an address, each
 * route is Accepted by it and all its listeners are ready. Returns the
 * address with the port of the Gateway's first (or named) listener, or
 * without a port unless `usePort` (for Gateways with listeners on several).
 */
export async function gatewayAndRoutesMustBeAccepted(
  t: T, s: KubeContext, controllerName: string, gw: GatewayRef, kind: RouteKind, usePort: boolean, ...routes: NamespacedName[]
): Promise<string> {
  const gwAddr = await waitForGatewayAddress(t, s, gw);
  await routesOfKindAndParentMustBeAccepted(t, s, controllerName, { ...gw, group: gatewayGroup, kind: 'Gateway' }, kind, routes);
  return usePort ? gwAddr : splitHostPort(gwAddr)?.host ?? gwAddr;
}

export function gatewayAndHTTPRoutesMustBeAccepted(t: T, s: KubeContext, controllerName: string, gw: GatewayRef, ...routes: NamespacedName[]): Promise<string> {
  return gatewayAndRoutesMustBeAccepted(t, s, controllerName, gw, 'HTTPRoute', true, ...routes);
}

export function gatewayAndTCPRoutesMustBeAccepted(t: T, s: KubeContext, controllerName: string, gw: GatewayRef, ...routes: NamespacedName[]): Promise<string> {
  return gatewayAndRoutesMustBeAccepted(t, s, controllerName, gw, 'TCPRoute', true, ...routes);
}

export function gatewayAndUDPRoutesMustBeAccepted(t: T, s: KubeContext, controllerName: string, gw: GatewayRef, ...routes: NamespacedName[]): Promise<string> {
  return gatewayAndRoutesMustBeAccepted(t, s, controllerName, gw, 'UDPRoute', true, ...routes);
}

/**
 * Upstream's GatewayAndTLSRoutesMustBeAccepted: unlike the other kinds it does
 * not wait for the listeners, and it also returns the spec.hostnames of the
 * (last) route.
 */
export async function gatewayAndTLSRoutesMustBeAccepted(t: T, s: KubeContext, controllerName: string, gw: GatewayRef, ...routes: NamespacedName[]): Promise<{ gwAddr: string; hostnames: string[] }> {
  const gwAddr = await waitForGatewayAddress(t, s, gw);
  let hostnames: string[] = [];
  for (const route of routes) {
    await routeMustHaveParents(t, s, 'TLSRoute', route, acceptedParents(controllerName, { ...gw, group: gatewayGroup, kind: 'Gateway' }), route.namespace !== gw.namespace);
    hostnames = ((await fetch(t, s, 'TLSRoute', route)).spec?.hostnames ?? []) as string[];
  }
  return { gwAddr, hostnames };
}

/** One expected status parent per listener name of the parent, each Accepted. */
export function acceptedParents(controllerName: string, parent: ResourceRef): RouteParentStatus[] {
  return parent.listenerNames.map((sectionName) => ({
    parentRef: { group: parent.group, kind: parent.kind, name: parent.name, namespace: parent.namespace, sectionName },
    controllerName,
    conditions: [{ type: 'Accepted', status: 'True', reason: 'Accepted' }],
  }));
}

interface ActualParent {
  parentRef?: ParentRef;
  controllerName?: string;
  conditions?: Condition[];
}

function describeParents(parents: readonly ActualParent[] | undefined): string {
  if (!parents || parents.length === 0) return '[]';
  return `[${parents.map((p) => {
    const r = p.parentRef;
    const ref = r ? `${r.group ?? '-'}/${r.kind ?? '-'} ${r.namespace ?? '-'}/${r.name}${r.sectionName ? `#${r.sectionName}` : ''}` : 'no parentRef';
    return `{${ref} controller=${p.controllerName ?? ''} ${describeConditions(p.conditions)}}`;
  }).join(', ')}]`;
}

/** Upstream's parentsForRouteMatch: section names are not compared. */
function parentsForRouteMatch(expected: readonly RouteParentStatus[], actual: readonly ActualParent[], namespaceRequired: boolean): boolean {
  return expected.every((e) => actual.some((a) => {
    const r = a.parentRef;
    if (!r || a.controllerName !== e.controllerName) return false;
    if (r.group !== e.parentRef.group || r.kind !== e.parentRef.kind || r.name !== e.parentRef.name) return false;
    if (r.namespace !== e.parentRef.namespace && (namespaceRequired || r.namespace !== undefined)) return false;
    return conditionsMatch(e.conditions, a.conditions);
  }));
}

async function routeMustHaveParents(t: T, s: KubeContext, kind: RouteKind, route: NamespacedName, parents: readonly RouteParentStatus[], namespaceRequired: boolean): Promise<void> {
  let last = '';
  const ok = await poll(s.timeouts.defaultPollInterval, s.timeouts.routeMustHaveParents, async () => {
    const r = await fetch(t, s, kind, route);
    const actual = (r.status?.parents ?? []) as ActualParent[];
    last = `generation ${r.metadata.generation}, status.parents ${describeParents(actual)}`;
    if (actual.some((p) => conditionsHaveLatestObservedGeneration(r, p.conditions))) return false;
    return parentsForRouteMatch(parents, actual, namespaceRequired);
  });
  if (!ok) {
    const want = parents.map((p) => `{${p.parentRef.namespace ?? '-'}/${p.parentRef.name} controller=${p.controllerName} ${p.conditions.map(describeExpected).join(',')}}`);
    t.fatal(`error waiting for ${kind} ${nnString(route)} to have parents matching expectations: want [${want.join(', ')}], got ${last}`);
  }
}

export function httpRouteMustHaveParents(t: T, s: KubeContext, route: NamespacedName, parents: readonly RouteParentStatus[], namespaceRequired: boolean): Promise<void> {
  return routeMustHaveParents(t, s, 'HTTPRoute', route, parents, namespaceRequired);
}

export function tcpRouteMustHaveParents(t: T, s: KubeContext, route: NamespacedName, parents: readonly RouteParentStatus[], namespaceRequired: boolean): Promise<void> {
  return routeMustHaveParents(t, s, 'TCPRoute', route, parents, namespaceRequired);
}

export function udpRouteMustHaveParents(t: T, s: KubeContext, route: NamespacedName, parents: readonly RouteParentStatus[], namespaceRequired: boolean): Promise<void> {
  return routeMustHaveParents(t, s, 'UDPRoute', route, parents, namespaceRequired);
}

/** Every given condition on every listener (or on the named ones, which must all exist). */
/** Why the named listeners (all, when none is named) lack an expected condition, or undefined when none does. */
function listenerConditionsMismatch(
  listeners: readonly ActualListener[], conditions: readonly ExpectedCondition[], listenerNames: readonly string[],
): string | undefined {
  const unmatched = new Set(listenerNames);
  for (const c of conditions) {
    for (const l of listeners) {
      if (listenerNames.length > 0 && !listenerNames.includes(l.name)) continue;
      if (!findConditionInList(l.conditions, c.type, c.status, c.reason)) {
        return `listener ${l.name} lacks ${describeExpected(c)}: ${describeConditions(l.conditions)}`;
      }
      unmatched.delete(l.name);
    }
  }
  if (unmatched.size > 0) return `listeners not in status: ${[...unmatched].join(', ')}; status.listeners ${describeListeners(listeners)}`;
  return undefined;
}

export async function gatewayListenersMustHaveConditions(t: T, s: KubeContext, gw: NamespacedName, conditions: readonly ExpectedCondition[], ...listenerNames: string[]): Promise<void> {
  let last = '';
  const ok = await poll(s.timeouts.defaultPollInterval, s.timeouts.gatewayListenersMustHaveConditions, async () => {
    const obj = await fetch(t, s, 'Gateway', gw);
    last = listenerConditionsMismatch((obj.status?.listeners ?? []) as ActualListener[], conditions, listenerNames) ?? '';
    return last === '';
  });
  if (!ok) t.fatal(`error waiting for Gateway ${nnString(gw)} status to have conditions matching expectations on the listeners: ${last}`);
}

/** Zero routes: no listeners in status, or one listener with no attached routes. A timeout is an error, not fatal. */
export async function gatewayMustHaveZeroRoutes(t: T, s: KubeContext, gw: NamespacedName): Promise<void> {
  let last = '';
  const ok = await poll(s.timeouts.defaultPollInterval, s.timeouts.gatewayStatusMustHaveListeners, async () => {
    const obj = await fetch(t, s, 'Gateway', gw);
    const stale = conditionsHaveLatestObservedGeneration(obj, obj.status?.conditions);
    if (stale) {
      last = stale;
      return false;
    }
    const listeners = (obj.status?.listeners ?? []) as { name: string; attachedRoutes?: number }[];
    last = `listeners ${JSON.stringify(listeners.map((l) => ({ name: l.name, attachedRoutes: l.attachedRoutes })))}`;
    return listeners.length === 0 || (listeners.length === 1 && (listeners[0]!.attachedRoutes ?? 0) === 0);
  });
  if (!ok) t.error(`Gateway ${nnString(gw)}: want zero listeners or exactly 1 listener with zero routes, got ${last}`);
}

/** No parents, or exactly one parent that is not Accepted; an empty list must be seen twice. */
async function routeMustHaveNoAcceptedParents(t: T, s: KubeContext, kind: RouteKind, route: NamespacedName): Promise<void> {
  let emptyChecked = false;
  let last = '';
  // Every kind uses the HTTPRoute timeout upstream.
  const ok = await poll(s.timeouts.negativePollInterval, s.timeouts.httpRouteMustNotHaveParents, async () => {
    const r = await fetch(t, s, kind, route);
    const actual = (r.status?.parents ?? []) as ActualParent[];
    last = describeParents(actual);
    if (actual.length === 0) {
      if (!emptyChecked) {
        emptyChecked = true;
        return false;
      }
      return true;
    }
    if (actual.length > 1) return false;
    if (actual.some((p) => conditionsHaveLatestObservedGeneration(r, p.conditions))) return false;
    return conditionsMatch([{ type: 'Accepted', status: 'False' }], actual[0]!.conditions);
  });
  if (!ok) t.fatal(`error waiting for ${kind} ${nnString(route)} to have no accepted parents: got status.parents ${last}`);
}

export function httpRouteMustHaveNoAcceptedParents(t: T, s: KubeContext, route: NamespacedName): Promise<void> {
  return routeMustHaveNoAcceptedParents(t, s, 'HTTPRoute', route);
}

export function tlsRouteMustHaveNoAcceptedParents(t: T, s: KubeContext, route: NamespacedName): Promise<void> {
  return routeMustHaveNoAcceptedParents(t, s, 'TLSRoute', route);
}

function describeListeners(actual: readonly ActualListener[]): string {
  return `[${actual.map((l) => `{${l.name} kinds=${(l.supportedKinds ?? []).map((k) => `${k.group ?? ''}/${k.kind}`).join(',') || '-'}` +
    ` attachedRoutes=${l.attachedRoutes ?? '-'} ${describeConditions(l.conditions)}}`).join(', ')}]`;
}

interface ActualListener {
  name: string;
  supportedKinds?: RouteGroupKind[];
  attachedRoutes?: number;
  conditions?: Condition[];
}

/** Upstream's gatewayListenersMatch: returns the first mismatch, or undefined. */
function gatewayListenersMismatch(expected: readonly ListenerStatus[], actual: readonly ActualListener[]): string | undefined {
  if (expected.length !== actual.length) return `expected ${expected.length} Gateway status listeners, got ${actual.length}`;
  for (const e of expected) {
    const a = actual.find((l) => l.name === e.name);
    if (!a) return `expected status for listener ${e.name} to be present`;
    const aKinds = a.supportedKinds ?? [];
    if (e.supportedKinds.length === 0 && aKinds.length !== 0) {
      return `listener ${e.name}: expected supportedKinds to be empty, got ${JSON.stringify(aKinds)}`;
    }
    for (const k of e.supportedKinds) {
      const group = k.group ?? gatewayGroup;
      if (!aKinds.some((ak) => (ak.group ?? gatewayGroup) === group && ak.kind === k.kind)) {
        return `listener ${e.name}: expected Group:${group} Kind:${k.kind} to be present in supportedKinds`;
      }
    }
    if ((a.attachedRoutes ?? 0) !== e.attachedRoutes) return `listener ${e.name}: expected attachedRoutes to be ${e.attachedRoutes}, got ${a.attachedRoutes ?? 0}`;
    if (!conditionsMatch(e.conditions, a.conditions)) {
      return `listener ${e.name}: expected conditions ${e.conditions.map(describeExpected).join(', ')}, got ${describeConditions(a.conditions)}`;
    }
  }
  return undefined;
}

/** Polls until the object's status.listeners match; Gateways and ListenerSets compare the same way. */
async function statusMustHaveListeners(
  t: T, s: KubeContext, kind: 'Gateway' | 'ListenerSet', nn: NamespacedName, listeners: readonly ListenerStatus[], timeoutMs: number,
): Promise<void> {
  let last = '';
  const ok = await poll(s.timeouts.defaultPollInterval, timeoutMs, async () => {
    const obj = await fetch(t, s, kind, nn);
    const stale = conditionsHaveLatestObservedGeneration(obj, obj.status?.conditions);
    if (stale) {
      last = stale;
      return false;
    }
    const actual = (obj.status?.listeners ?? []) as ActualListener[];
    const mismatch = gatewayListenersMismatch(listeners, actual);
    last = mismatch ? `${mismatch}; status.listeners ${describeListeners(actual)}` : '';
    return mismatch === undefined;
  });
  if (!ok) t.fatal(`error waiting for ${kind} ${nnString(nn)} status to have listeners matching expectations: ${last}`);
}

export function gatewayStatusMustHaveListeners(t: T, s: KubeContext, gw: NamespacedName, listeners: readonly ListenerStatus[]): Promise<void> {
  return statusMustHaveListeners(t, s, 'Gateway', gw, listeners, s.timeouts.gatewayStatusMustHaveListeners);
}

/** The condition on the route's status for a parentRef naming the Gateway. */
async function routeMustHaveCondition(t: T, s: KubeContext, kind: keyof typeof routeConditionTimeout, route: NamespacedName, gw: NamespacedName, condition: ExpectedCondition): Promise<void> {
  let last = '';
  const ok = await poll(s.timeouts.defaultPollInterval, routeConditionTimeout[kind](s.timeouts), async () => {
    const r = await fetch(t, s, kind, route);
    const parents = (r.status?.parents ?? []) as ActualParent[];
    last = `generation ${r.metadata.generation}, status.parents ${describeParents(parents)}`;
    let found = false;
    for (const p of parents) {
      if (conditionsHaveLatestObservedGeneration(r, p.conditions)) return false;
      const ref = p.parentRef;
      if (ref && ref.name === gw.name && (ref.namespace === undefined || ref.namespace === gw.namespace) &&
        findConditionInList(p.conditions, condition.type, condition.status, condition.reason)) {
        found = true;
      }
    }
    return found;
  });
  if (!ok) t.fatal(`error waiting for ${kind} ${nnString(route)} status to have condition ${describeExpected(condition)} for parent ${nnString(gw)}: got ${last}`);
}

export function httpRouteMustHaveCondition(t: T, s: KubeContext, route: NamespacedName, gw: NamespacedName, condition: ExpectedCondition): Promise<void> {
  return routeMustHaveCondition(t, s, 'HTTPRoute', route, gw, condition);
}

export function tlsRouteMustHaveCondition(t: T, s: KubeContext, route: NamespacedName, gw: NamespacedName, condition: ExpectedCondition): Promise<void> {
  return routeMustHaveCondition(t, s, 'TLSRoute', route, gw, condition);
}

export function tcpRouteMustHaveCondition(t: T, s: KubeContext, route: NamespacedName, gw: NamespacedName, condition: ExpectedCondition): Promise<void> {
  return routeMustHaveCondition(t, s, 'TCPRoute', route, gw, condition);
}

export function udpRouteMustHaveCondition(t: T, s: KubeContext, route: NamespacedName, gw: NamespacedName, condition: ExpectedCondition): Promise<void> {
  return routeMustHaveCondition(t, s, 'UDPRoute', route, gw, condition);
}

const resolvedRefsTrue: ExpectedCondition = { type: 'ResolvedRefs', status: 'True', reason: 'ResolvedRefs' };

export function httpRouteMustHaveResolvedRefsConditionsTrue(t: T, s: KubeContext, route: NamespacedName, gw: NamespacedName): Promise<void> {
  return httpRouteMustHaveCondition(t, s, route, gw, resolvedRefsTrue);
}

export function tlsRouteMustHaveResolvedRefsConditionsTrue(t: T, s: KubeContext, route: NamespacedName, gw: NamespacedName): Promise<void> {
  return tlsRouteMustHaveCondition(t, s, route, gw, resolvedRefsTrue);
}

/** Upstream's GetTLSSecret: the PEM certificate and key of a kubernetes.io/tls Secret. */
export async function getTLSSecret(t: T, s: KubeContext, nn: NamespacedName): Promise<{ certPem: string; keyPem: string }> {
  const secret = await s.cluster.get('Secret', nn.namespace, nn.name)
    .catch((err: Error) => t.fatal(`unexpected error finding TLS secret: ${err.message}`));
  const field = (key: string) => Buffer.from((secret.data?.[key] as string | undefined) ?? '', 'base64').toString('utf8');
  return { certPem: field('tls.crt'), keyPem: field('tls.key') };
}

/** Upstream's GetConfigMapData. */
export async function getConfigMapData(t: T, s: KubeContext, nn: NamespacedName): Promise<Record<string, string>> {
  const cm = await s.cluster.get('ConfigMap', nn.namespace, nn.name)
    .catch((err: Error) => t.fatal(`unexpected error finding ConfigMap: error fetching ConfigMap: ${err.message}`));
  return (cm.data ?? {}) as Record<string, string>;
}

// ---------------------------------------------------------------------------
// ListenerSet (GEP-1713, gateway.networking.k8s.io/v1 ListenerSet in v1.6.1)

/** Upstream's GatewayMustHaveAttachedListeners: status.attachedListenerSets reaches the count; a timeout is an error, not fatal. */
export async function gatewayMustHaveAttachedListeners(t: T, s: KubeContext, gw: NamespacedName, expectedCount: number): Promise<void> {
  let last = 'no status read';
  const ok = await poll(s.timeouts.defaultPollInterval, s.timeouts.gatewayStatusMustHaveListeners, async () => {
    let obj: KubeObject;
    try {
      obj = await s.cluster.get('Gateway', gw.namespace, gw.name);
    } catch (err) {
      last = `failed to get gateway: ${(err as Error).message}`;
      return false;
    }
    const stale = conditionsHaveLatestObservedGeneration(obj, obj.status?.conditions);
    if (stale) {
      last = stale;
      return false;
    }
    const attached = (obj.status?.attachedListenerSets as number | undefined) ?? 0;
    last = `status.attachedListenerSets ${obj.status?.attachedListenerSets ?? '(unset)'}`;
    return attached === expectedCount;
  });
  if (!ok) t.error(`error waiting for Gateway ${nnString(gw)} to have ${expectedCount} attached ListenerSets: got ${last}`);
}

/** Upstream's ListenerSetMustHaveCondition: conditions at the latest generation, one matching. */
export async function listenerSetMustHaveCondition(t: T, s: KubeContext, ls: NamespacedName, expected: ExpectedCondition): Promise<void> {
  let last = 'no status read';
  const ok = await poll(s.timeouts.defaultPollInterval, s.timeouts.listenerSetMustHaveCondition, async () => {
    const obj = await fetchOrExplain(s, 'ListenerSet', ls);
    if (typeof obj === 'string') {
      last = obj;
      return false;
    }
    const conditions = obj.status?.conditions as Condition[] | undefined;
    last = `generation ${obj.metadata.generation}, conditions ${describeConditions(conditions)}`;
    if (conditionsHaveLatestObservedGeneration(obj, conditions)) return false;
    return findConditionInList(conditions, expected.type, expected.status, expected.reason);
  });
  if (!ok) t.fatal(`error waiting for ListenerSet ${nnString(ls)} status to have a Condition matching expectations: want ${describeExpected(expected)}, got ${last}`);
}

/** Upstream's ListenerSetListenersMustHaveConditions: every (or every named, all present) listener entry has all conditions. */
export async function listenerSetListenersMustHaveConditions(t: T, s: KubeContext, ls: NamespacedName, conditions: readonly ExpectedCondition[], ...listenerNames: string[]): Promise<void> {
  let last = 'no status read';
  const ok = await poll(s.timeouts.defaultPollInterval, s.timeouts.listenerSetListenersMustHaveConditions, async () => {
    const obj = await fetchOrExplain(s, 'ListenerSet', ls);
    if (typeof obj === 'string') {
      last = obj;
      return false;
    }
    const stale = conditionsHaveLatestObservedGeneration(obj, obj.status?.conditions);
    if (stale) {
      last = `condition not yet at observed generation: ${stale}`;
      return false;
    }
    last = listenerConditionsMismatch((obj.status?.listeners ?? []) as ActualListener[], conditions, listenerNames) ?? '';
    return last === '';
  });
  if (!ok) t.fatal(`error waiting for ListenerSet ${nnString(ls)} status to have conditions matching expectations on the listeners: ${last}`);
}

/** Upstream's ListenerSetStatusMustHaveListeners: the same comparison as for a Gateway's listeners. */
export function listenerSetStatusMustHaveListeners(t: T, s: KubeContext, ls: NamespacedName, listeners: readonly ListenerStatus[]): Promise<void> {
  return statusMustHaveListeners(t, s, 'ListenerSet', ls, listeners, s.timeouts.listenerSetListenersMustHaveConditions);
}

/** Upstream's ResourceRef: a route parent of any kind (Gateway or ListenerSet). */
export interface ResourceRef extends NamespacedName {
  group: string;
  kind: string;
  listenerNames: (string | undefined)[];
}

export function newResourceRef(gk: { group: string; kind: string }, nn: NamespacedName, ...listenerNames: string[]): ResourceRef {
  return { ...gk, ...nn, listenerNames: listenerNames.length > 0 ? listenerNames : [undefined] };
}

/** Upstream's RoutesAndParentMustBeAccepted: each route Accepted by the parent, the parent's listeners ready. */
async function routesOfKindAndParentMustBeAccepted(t: T, s: KubeContext, controllerName: string, parent: ResourceRef, kind: RouteKind, routes: readonly NamespacedName[]): Promise<void> {
  for (const route of routes) {
    await routeMustHaveParents(t, s, kind, route, acceptedParents(controllerName, parent), route.namespace !== parent.namespace);
  }
  const required: ExpectedCondition[] = [
    { type: 'ResolvedRefs', status: 'True' },
    { type: 'Accepted', status: 'True' },
    { type: 'Programmed', status: 'True' },
  ];
  if (parent.kind === 'Gateway') await gatewayListenersMustHaveConditions(t, s, parent, required);
  else if (parent.kind === 'ListenerSet') await listenerSetListenersMustHaveConditions(t, s, parent, required);
  else t.error(`received unsupported resource kind ${parent.kind}. Supported kinds are \`Gateway\` and \`ListenerSet\``);
}

export function routesAndParentMustBeAccepted(t: T, s: KubeContext, controllerName: string, parent: ResourceRef, ...routes: NamespacedName[]): Promise<void> {
  return routesOfKindAndParentMustBeAccepted(t, s, controllerName, parent, 'HTTPRoute', routes);
}

interface ActualAncestor {
  ancestorRef?: ParentRef;
  controllerName?: string;
  conditions?: Condition[];
}

/**
 * Upstream's BackendTLSPolicyMustHaveCondition: the policy's ancestor entry
 * for the Gateway has the condition, and every ancestor's conditions are at
 * the policy's generation.
 */
export async function backendTLSPolicyMustHaveCondition(t: T, s: KubeContext, policy: NamespacedName, gw: NamespacedName, condition: ExpectedCondition): Promise<void> {
  let last = '';
  const ok = await poll(s.timeouts.defaultPollInterval, s.timeouts.httpRouteMustHaveCondition, async () => {
    const p = await fetch(t, s, 'BackendTLSPolicy', policy);
    const ancestors = (p.status?.ancestors ?? []) as ActualAncestor[];
    last = `generation ${p.metadata.generation}, status.ancestors ${describeParents(ancestors.map((a) => ({ ...a, parentRef: a.ancestorRef })))}`;
    for (const a of ancestors) {
      if (conditionsHaveLatestObservedGeneration(p, a.conditions)) return false;
      const ref = a.ancestorRef;
      if (ref && ref.name === gw.name && (ref.namespace === undefined || ref.namespace === gw.namespace) &&
        findConditionInList(a.conditions, condition.type, condition.status, condition.reason)) {
        return true;
      }
    }
    return false;
  });
  if (!ok) t.fatal(`error waiting for BackendTLSPolicy ${nnString(policy)} status to have a Condition ${describeExpected(condition)} for ancestor ${nnString(gw)}: got ${last}`);
}

export function backendTLSPolicyMustHaveAcceptedConditionTrue(t: T, s: KubeContext, policy: NamespacedName, gw: NamespacedName): Promise<void> {
  return backendTLSPolicyMustHaveCondition(t, s, policy, gw, { type: 'Accepted', status: 'True', reason: 'Accepted' });
}

/** Upstream's BackendTLSPolicyMustHaveLatestConditions: checks the object as fetched, without waiting. */
export function backendTLSPolicyMustHaveLatestConditions(t: T, policy: KubeObject): void {
  for (const a of (policy.status?.ancestors ?? []) as ActualAncestor[]) {
    const stale = conditionsHaveLatestObservedGeneration(policy, a.conditions);
    if (stale) t.fatal(`BackendTLSPolicy(controller=${a.controllerName ?? ''}, ancestorRef=${a.ancestorRef?.namespace ?? ''}/${a.ancestorRef?.name ?? ''}) ${stale}`);
  }
}
