import type { IRStreamBackend } from '../ir/types.js';
import type { BackendRef, ParentReference, Snapshot, StreamRouteRule } from '../resources/types.js';
import type { BackendProblem, BackendResolution, BackendResolver, Transport } from './backends.js';
import { CondType, Reason, condition } from './conditions.js';
import { ageKey, type ListenerState } from './gateways.js';
import {
  attach, countAttachedRoute, indexedListeners, resolvedRefsCondition, routeTargets, statusParentRef,
  type ParentIndex, type RouteParentStatus,
} from './routes.js';

export type StreamRouteKind = 'TLSRoute' | 'TCPRoute' | 'UDPRoute';

/** What a TLSRoute, TCPRoute or UDPRoute has that its translation reads. */
interface StreamRoute {
  metadata: { name: string; namespace?: string; generation?: number; creationTimestamp?: string };
  spec?: { parentRefs?: ParentReference[]; hostnames?: string[]; rules?: StreamRouteRule[] };
}

export interface StreamRouteResult {
  kind: StreamRouteKind;
  route: StreamRoute;
  /** `tlsroute/<namespace>/<name>` and the like, for the IR. */
  name: string;
  /** The route's ageKey: of the routes a listener could serve by a hostname or port, the oldest is. */
  age: string;
  parents: RouteParentStatus[];
  /** The listeners that accepted the route, each with the (intersected) hostnames it serves there. */
  attachments: { listener: ListenerState; hostnames: string[] }[];
  backends: IRStreamBackend[];
}

const STREAM_KINDS: [StreamRouteKind, 'tlsRoutes' | 'tcpRoutes' | 'udpRoutes', Transport][] = [
  ['TLSRoute', 'tlsRoutes', 'TCP'],
  ['TCPRoute', 'tcpRoutes', 'TCP'],
  ['UDPRoute', 'udpRoutes', 'UDP'],
];

/**
 * Binds every TLSRoute, TCPRoute and UDPRoute to the listeners it names and
 * counts them there. Done afresh on every call, unlike HTTPRoutes: these are
 * few, and no listener takes both kinds of route, so the counts of
 * HTTPRoutes and GRPCRoutes (which translateRequestRoutes may have only
 * updated) are untouched.
 */
export function translateStreamRoutes(
  snapshot: Snapshot, parents: ParentIndex, backends: BackendResolver, controllerName: string,
): StreamRouteResult[] {
  for (const l of indexedListeners(parents)) {
    if (l.supportedKinds.some((k) => STREAM_KINDS.some(([kind]) => kind === k.kind))) l.attachedRoutes = 0;
  }
  const results: StreamRouteResult[] = [];
  for (const [kind, collection, transport] of STREAM_KINDS) {
    for (const route of snapshot[collection]) {
      const result = translateRoute(kind, route, transport, parents, backends, controllerName);
      if (!result) continue;
      countAttachedRoute(kind, result.attachments, 1);
      results.push(result);
    }
  }
  return results;
}

function translateRoute(
  kind: StreamRouteKind, route: StreamRoute, transport: Transport, parents: ParentIndex, backends: BackendResolver,
  controllerName: string,
): StreamRouteResult | undefined {
  const namespace = route.metadata.namespace ?? 'default';
  const targets = routeTargets(route.spec?.parentRefs, namespace, parents);
  if (targets.length === 0) return undefined;
  const gen = route.metadata.generation;
  const problems: BackendProblem[] = [];
  const resolve = (ref: BackendRef) => backends.resolveStream(ref, { kind, namespace }, transport);
  const routeBackends = compileBackends(route.spec?.rules ?? [], resolve, problems);
  const resolvedRefs = resolvedRefsCondition(problems, gen);
  const hostnames = kind === 'TLSRoute' ? route.spec?.hostnames : undefined;
  const result: StreamRouteResult = {
    kind, route, name: `${kind.toLowerCase()}/${namespace}/${route.metadata.name}`, age: ageKey(route),
    parents: [], attachments: [], backends: routeBackends,
  };
  for (const { ref, parent } of targets) {
    const outcome = attach(kind, hostnames, namespace, ref, parent, parents.namespaces);
    const accepted = outcome.problem
      ? condition(CondType.Accepted, false, outcome.problem.reason, outcome.problem.message, gen)
      : condition(CondType.Accepted, true, Reason.Accepted, 'Route is accepted', gen);
    result.attachments.push(...outcome.bound);
    result.parents.push({ parentRef: statusParentRef(ref, namespace), controllerName, conditions: [accepted, resolvedRefs] });
  }
  return result;
}

/**
 * The weighted backends of all rules together: with nothing to match on, the
 * several rules v1alpha2 allows all take every connection. Invalid
 * references stay as backends without a cluster, so that connections picking
 * them are refused in proportion to their weight (spec: BackendRefs).
 */
function compileBackends(
  rules: StreamRouteRule[], resolve: (ref: BackendRef) => BackendResolution, problems: BackendProblem[],
): IRStreamBackend[] {
  const out: IRStreamBackend[] = [];
  for (const ref of rules.flatMap((r) => r.backendRefs ?? [])) {
    const resolution = resolve(ref);
    if (!resolution.ok) problems.push(resolution.problem);
    const weight = ref.weight ?? 1;
    if (weight === 0) continue;
    out.push(resolution.ok ? { weight, cluster: resolution.cluster.name } : { weight });
  }
  return out;
}
