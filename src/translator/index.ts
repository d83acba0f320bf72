import { IR_VERSION } from '../ir/types.js';
import type { Condition, ObjectMeta, Snapshot } from '../resources/types.js';
import { BackendResolver } from './backends.js';
import { ClusterUse } from './backendtlspolicies.js';
import { finaliseConditions, type PendingCondition } from './conditions.js';
import {
  GATEWAY_GROUP, gatewayConditions, listenerConditions, listenerSetAttached, listenerSetConditions,
  supportedFeaturesStatus, translateGatewayClasses, translateGateways,
  type GatewayClassState, type GatewayState, type ListenerState,
} from './gateways.js';
import { translateRequestRoutes, type RequestRoute, type RouteResult, type RouteResults } from './httproutes.js';
import { resolveKindConflicts } from './kind-conflicts.js';
import { nested } from './maps.js';
import { indexedListeners, parentIndex, type ParentIndex, type RouteParentStatus } from './routes.js';
import { buildServers, type ServedAttachments } from './servers.js';
import { translateStreamRoutes } from './streamroutes.js';
import type { StatusEntry, TranslateOptions, TranslateResult } from './types.js';

export type { StatusEntry, TranslateOptions, TranslateResult } from './types.js';

const API_VERSION = `${GATEWAY_GROUP}/v1`;

/** What the Gateway phase decides, for the route phase to attach to. */
interface GatewayPhase {
  classes: GatewayClassState[];
  gateways: GatewayState[];
  parents: ParentIndex;
}

/**
 * Work of the previous call, with the inputs it read. A phase is reused only
 * when each of its inputs is the very same frozen object, or an equal value,
 * so reuse cannot change the output; it spares an edit to one route of
 * thousands the work on all the rest. Objects that are not frozen might
 * change between calls and are never reused. The file provider deep-freezes
 * what it hands out; frozen objects are taken to be immutable all the way down.
 */
let lastGatewayPhase: { inputs: unknown[]; phase: GatewayPhase } | undefined;
let lastResolver: { inputs: unknown[]; resolver: BackendResolver } | undefined;

/** What the last call built, for the next one to build on. */
interface Translation {
  phase: GatewayPhase;
  backends: BackendResolver;
  controllerName: string;
  /** As translated, before HTTPRoute/GRPCRoute conflicts were taken out. */
  routes: RouteResults;
  /** Whether conflicts took anything out: then `served` and the statuses do not follow from `routes` alone. */
  conflicted: boolean;
  served: ServedAttachments;
  /** Aligned with routes.results. */
  routeStatuses: (StatusEntry | undefined)[];
  statuses: StatusEntry[];
  /** How many of `statuses` come before the HTTPRoutes' and GRPCRoutes'. */
  ownerStatuses: number;
}
let lastTranslation: Translation | undefined;

/**
 * The translator: a pure function from one snapshot of resources to the IR
 * the data plane serves and the status of every object we own. Phases run in
 * a fixed order because each reads what the previous one decided.
 */
export function translate(snapshot: Snapshot, options: TranslateOptions): TranslateResult {
  const earlier = lastTranslation;
  const phase = gatewayPhase(snapshot, options);
  const { classes, gateways } = phase;
  const backends = resolver(snapshot);
  // This call updates what the kept phases hold (attached-route counts, served
  // attachments); it sets a new base once done, so one that throws leaves none.
  if (lastGatewayPhase?.phase === phase) lastTranslation = undefined;
  // Building on the last call needs the same Gateways, backends and controller; its routes were all frozen.
  const base = earlier?.phase === phase && earlier.backends === backends && earlier.controllerName === options.controllerName
    ? earlier : undefined;
  const requestRoutes: RequestRoute[] = [...snapshot.httpRoutes, ...snapshot.grpcRoutes];
  const routes = translateRequestRoutes(requestRoutes, phase.parents, backends, options.controllerName, base?.routes);
  // After the HTTPRoutes and GRPCRoutes, which may first zero every listener's count.
  const streams = translateStreamRoutes(snapshot, phase.parents, backends, options.controllerName);
  const conflicts = resolveKindConflicts(routes.results, indexedListeners(phase.parents));
  // Where conflicts took attachments out, now or last time, what is served and
  // the route statuses are rebuilt from every result rather than updated.
  const rebuild = conflicts !== undefined || base?.conflicted === true;
  const results = conflicts?.results ?? routes.results;
  const use = new ClusterUse(backends);
  const { servers, clusters, served } = rebuild
    ? buildServers(gateways, { ...routes, removed: [], added: results.filter((r) => r !== undefined) }, streams, use)
    : buildServers(gateways, routes, streams, use, base?.served);

  const { head, tail } = routes;
  // Given back the statuses it made, the routes carried over unseen keep
  // theirs, and any other route's previous status is among those of the
  // routes it replaced: the names of the carried-over ones are taken.
  const carried = base && !rebuild && options.previous === base.statuses ? base : undefined;
  const previous = new StatusIndex(carried
    ? carried.statuses.slice(0, carried.ownerStatuses).concat(
      carried.routeStatuses.slice(head, carried.routeStatuses.length - tail).filter((e) => e !== undefined))
    : options.previous ?? []);
  const prior = (kind: string, namespace: string | undefined, name: string) => previous.get(kind, namespace, name)?.status;
  const finalise = (next: PendingCondition[], before: unknown) => finaliseConditions(next, before as Condition[] | undefined, options.now);
  const listenerStatuses = (listeners: ListenerState[], generation: number | undefined, before: unknown) => {
    const prior = (before ?? []) as { name: string; conditions: Condition[] }[];
    return listeners.map((l) => ({
      name: l.spec.name,
      supportedKinds: l.supportedKinds,
      attachedRoutes: l.attachedRoutes - (conflicts?.rejected.get(l) ?? 0),
      conditions: finalise(listenerConditions(l, generation), prior.find((b) => b.name === l.spec.name)?.conditions),
    }));
  };

  const statuses: StatusEntry[] = [];
  for (const c of classes) {
    const meta = c.gatewayClass.metadata;
    const before = prior('GatewayClass', undefined, meta.name);
    statuses.push({
      apiVersion: API_VERSION,
      kind: 'GatewayClass',
      metadata: { name: meta.name, generation: meta.generation },
      status: { conditions: finalise(c.conditions, before?.conditions), supportedFeatures: supportedFeaturesStatus() },
    });
  }
  for (const gw of gateways) {
    const meta = gw.gateway.metadata;
    const before = prior('Gateway', gw.namespace, meta.name);
    const status: Record<string, unknown> = {
      addresses: gw.addresses.map((value) => ({ type: 'IPAddress', value })),
      conditions: finalise(gatewayConditions(gw), before?.conditions),
      listeners: listenerStatuses(gw.listeners, meta.generation, before?.listeners),
    };
    if (gw.listenerSets.length > 0) status.attachedListenerSets = gw.listenerSets.filter(listenerSetAttached).length;
    statuses.push({
      apiVersion: API_VERSION,
      kind: 'Gateway',
      metadata: { name: meta.name, namespace: gw.namespace, generation: meta.generation },
      status,
    });
    for (const ls of gw.listenerSets) {
      const lsMeta = ls.listenerSet.metadata;
      const lsBefore = prior('ListenerSet', ls.namespace, lsMeta.name);
      statuses.push({
        apiVersion: API_VERSION,
        kind: 'ListenerSet',
        metadata: { name: lsMeta.name, namespace: ls.namespace, generation: lsMeta.generation },
        status: {
          conditions: finalise(listenerSetConditions(ls), lsBefore?.conditions),
          listeners: listenerStatuses(ls.listeners, lsMeta.generation, lsBefore?.listeners),
        },
      });
    }
  }
  for (const r of streams) statuses.push(statusOfRoute(r.kind, r.route.metadata, r.parents, previous, finalise));
  statuses.push(...backends.backendTLS.statuses(use, options.controllerName, finalise, (ns, name) => prior('BackendTLSPolicy', ns, name)));
  const routeStatus = (r: RouteResult | undefined) =>
    (r ? statusOfRoute(r.route.kind, r.route.metadata, r.parents, previous, finalise) : undefined);
  const routeStatuses = carried
    ? carried.routeStatuses.slice(0, head).concat(
      results.slice(head, results.length - tail).map(routeStatus), carried.routeStatuses.slice(carried.routeStatuses.length - tail))
    : results.map(routeStatus);
  const ownerStatuses = statuses.length;
  const all = statuses.concat(routeStatuses.includes(undefined) ? routeStatuses.filter((e) => e !== undefined) : routeStatuses as StatusEntry[]);

  if (lastGatewayPhase?.phase === phase && lastResolver?.resolver === backends && routes.frozen) {
    lastTranslation = {
      phase, backends, controllerName: options.controllerName, routes, conflicted: conflicts !== undefined, served, routeStatuses,
      statuses: all, ownerStatuses,
    };
  }
  return { ir: { irVersion: IR_VERSION, servers, clusters }, statuses: all };
}

/** An unchanged status is the previous entry itself: no copy for the thousands of routes an edit did not touch. */
function statusOfRoute(
  kind: string, meta: ObjectMeta, routeParents: RouteParentStatus[], previous: StatusIndex,
  finalise: (next: PendingCondition[], before: Condition[] | undefined) => Condition[],
): StatusEntry {
  const before = previous.get(kind, meta.namespace, meta.name);
  const beforeParents = (before?.status.parents ?? []) as RouteParentEntry[];
  let unchanged = before !== undefined && before.metadata.generation === meta.generation && beforeParents.length === routeParents.length;
  const parents: RouteParentEntry[] = [];
  for (const p of routeParents) {
    const prior = beforeParents.find((b) => sameParentRef(b.parentRef, p.parentRef));
    const conditions = finalise(p.conditions, prior?.conditions);
    const entry = prior && conditions === prior.conditions && prior.controllerName === p.controllerName
      ? prior : { parentRef: p.parentRef, controllerName: p.controllerName, conditions };
    unchanged &&= entry === beforeParents[parents.length];
    parents.push(entry);
  }
  return unchanged ? before! : {
    apiVersion: API_VERSION,
    kind,
    metadata: { name: meta.name, namespace: meta.namespace, generation: meta.generation },
    status: { parents },
  };
}

function gatewayPhase(snapshot: Snapshot, options: TranslateOptions): GatewayPhase {
  const inputs = frozenInputs(
    [snapshot.gatewayClasses, snapshot.gateways, snapshot.listenerSets, snapshot.namespaces, snapshot.secrets, snapshot.configMaps, snapshot.referenceGrants],
    [options.controllerName, options.bindAddress, JSON.stringify(options.poolAssignments ?? null)],
  );
  if (inputs && lastGatewayPhase && sameItems(inputs, lastGatewayPhase.inputs)) {
    return lastGatewayPhase.phase;
  }
  const classes = translateGatewayClasses(snapshot, options);
  const gateways = translateGateways(snapshot, classes, options);
  const phase = { classes, gateways, parents: parentIndex(gateways, snapshot.namespaces) };
  if (inputs) lastGatewayPhase = { inputs, phase };
  return phase;
}

function resolver(snapshot: Snapshot): BackendResolver {
  const inputs = frozenInputs(
    [snapshot.services, snapshot.endpointSlices, snapshot.referenceGrants, snapshot.backendTLSPolicies, snapshot.configMaps], [],
  );
  if (inputs && lastResolver && sameItems(inputs, lastResolver.inputs)) return lastResolver.resolver;
  const resolver = new BackendResolver(snapshot);
  if (inputs) lastResolver = { inputs, resolver };
  return resolver;
}

/** The values and then each list's length and objects, or undefined if an object is not frozen. */
function frozenInputs(lists: readonly (readonly object[])[], values: unknown[]): unknown[] | undefined {
  const out = [...values];
  for (const list of lists) {
    out.push(list.length);
    for (const o of list) {
      if (!Object.isFrozen(o)) return undefined;
      out.push(o);
    }
  }
  return out;
}

function sameItems(a: unknown[], b: unknown[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

interface RouteParentEntry {
  parentRef: Record<string, unknown>;
  controllerName: string;
  conditions: Condition[];
}

/** Parent references as statusParentRef writes them, which always has the same fields in the same order. */
function sameParentRef(a: Record<string, unknown>, b: Record<string, unknown>): boolean {
  return a.name === b.name && a.namespace === b.namespace && a.kind === b.kind && a.group === b.group
    && a.sectionName === b.sectionName && a.port === b.port;
}

/**
 * Previous statuses by kind, namespace and name. A kind is indexed when first
 * asked for: looking up a few Gateways must not cost indexing every route.
 */
class StatusIndex {
  private readonly byKind = new Map<string, Map<string, Map<string, StatusEntry>>>();

  constructor(private readonly entries: StatusEntry[]) {}

  get(kind: string, namespace: string | undefined, name: string): StatusEntry | undefined {
    let byNamespace = this.byKind.get(kind);
    if (!byNamespace) {
      byNamespace = new Map();
      for (const e of this.entries) if (e.kind === kind) nested(byNamespace, e.metadata.namespace ?? '').set(e.metadata.name, e);
      this.byKind.set(kind, byNamespace);
    }
    return byNamespace.get(namespace ?? '')?.get(name);
  }
}
