import type { Namespace, ParentReference } from '../resources/types.js';
import type { BackendProblem } from './backends.js';
import { CondType, Reason, condition, type PendingCondition } from './conditions.js';
import { GATEWAY_GROUP, type GatewayState, type ListenerState } from './gateways.js';
import { intersectHostnames } from './hostnames.js';
import { nested } from './maps.js';
import { namespaceSelected } from './namespaces.js';

// How routes of every kind bind to their parents: which listeners a
// parentRef selects, which of them take the route, and what status that gives.

export interface RouteParentStatus {
  parentRef: Record<string, unknown>;
  controllerName: string;
  conditions: PendingCondition[];
}

/** What a parentRef can point at: a Gateway or a ListenerSet, with the listeners it declares. */
export interface Parent {
  label: string;
  listeners: ListenerState[];
  /** Why nothing can attach to it at all. */
  problem?: { reason: string; message: string };
  /** Everything about the parent that attaching a route reads: equal signatures, equal outcomes. */
  signature: string;
}

export interface Target {
  ref: ParentReference;
  parent: Parent;
}

/** What routes can attach to: Gateways and ListenerSets by kind, namespace and name, and the namespaces that selectors look at. */
export interface ParentIndex {
  byKind: Map<string, Map<string, Map<string, Parent>>>;
  namespaces: Map<string, Namespace>;
}

export function parentIndex(gateways: GatewayState[], namespaces: Namespace[]): ParentIndex {
  let namespaceLabels: string | undefined;
  const parent = (label: string, listeners: ListenerState[], problem?: Parent['problem']): Parent => {
    // Which namespaces a selector admits depends on their labels.
    const selects = listeners.some((l) => l.spec.allowedRoutes?.namespaces?.from === 'Selector');
    if (selects) namespaceLabels ??= JSON.stringify(namespaces.map((n) => [n.metadata.name, n.metadata.labels]));
    const signature = JSON.stringify([label, problem, selects ? namespaceLabels : null, listeners.map((l) => [
      l.spec.name, l.spec.port, l.spec.hostname, l.spec.allowedRoutes?.namespaces, l.supportedKinds, l.owner.namespace,
    ])]);
    return problem ? { label, listeners, problem, signature } : { label, listeners, signature };
  };
  const byKind = new Map<string, Map<string, Map<string, Parent>>>();
  for (const g of gateways) {
    nested(nested(byKind, 'Gateway'), g.namespace).set(g.gateway.metadata.name, parent(`Gateway ${g.key}`, g.listeners));
    for (const ls of g.listenerSets) {
      nested(nested(byKind, 'ListenerSet'), ls.namespace).set(ls.listenerSet.metadata.name, parent(
        `ListenerSet ${ls.key}`, ls.listeners,
        ls.problem && { reason: Reason.NoMatchingParent, message: `ListenerSet ${ls.key} is not attached: ${ls.problem.message}` },
      ));
    }
  }
  return { byKind, namespaces: new Map(namespaces.map((n) => [n.metadata.name, n])) };
}

/** Every listener routes can attach to. */
export function* indexedListeners(parents: ParentIndex): Iterable<ListenerState> {
  for (const byNamespace of parents.byKind.values()) {
    for (const byName of byNamespace.values()) {
      for (const parent of byName.values()) yield* parent.listeners;
    }
  }
}

/** The parentRefs of a route that name a parent of ours; the others get no status from us. */
export function routeTargets(refs: ParentReference[] | undefined, routeNamespace: string, parents: ParentIndex): Target[] {
  const targets: Target[] = [];
  for (const ref of refs ?? []) {
    const parent = (ref.group ?? GATEWAY_GROUP) === GATEWAY_GROUP
      ? parents.byKind.get(ref.kind ?? 'Gateway')?.get(ref.namespace ?? routeNamespace)?.get(ref.name) : undefined;
    if (parent) targets.push({ ref, parent });
  }
  return targets;
}

/** A listener counts a route once, however many parentRefs bind it there. */
export function countAttachedRoute(kind: string, attachments: { listener: ListenerState }[], delta: number): void {
  for (const listener of new Set(attachments.map((a) => a.listener))) {
    listener.attachedRoutes += delta;
    if (kind === 'GRPCRoute') listener.attachedGRPCRoutes += delta;
  }
}

/** The parentRef as written back in status: fully qualified, so clients can compare it field by field. */
export function statusParentRef(ref: ParentReference, routeNamespace: string): Record<string, unknown> {
  const out: Record<string, unknown> = {
    group: ref.group ?? GATEWAY_GROUP,
    kind: ref.kind ?? 'Gateway',
    namespace: ref.namespace ?? routeNamespace,
    name: ref.name,
  };
  if (ref.sectionName !== undefined) out.sectionName = ref.sectionName;
  if (ref.port !== undefined) out.port = ref.port;
  return out;
}

/** The ResolvedRefs condition of a route whose backend references had these problems. */
export function resolvedRefsCondition(problems: BackendProblem[], gen: number | undefined): PendingCondition {
  return problems.length === 0
    ? condition(CondType.ResolvedRefs, true, Reason.ResolvedRefs, 'All references are resolved', gen)
    : condition(CondType.ResolvedRefs, false, problems[0]!.reason, problems.map((p) => p.message).join('; '), gen);
}

export interface AttachOutcome {
  bound: { listener: ListenerState; hostnames: string[] }[];
  problem?: { reason: string; message: string };
}

/**
 * Finds the listeners of one parent that accept a route of `kind` from
 * `namespace` with these `hostnames` (absent for kinds without any), or why
 * none does.
 */
export function attach(
  kind: string, hostnames: string[] | undefined, namespace: string, ref: ParentReference, parent: Parent,
  namespaces: Map<string, Namespace>,
): AttachOutcome {
  if (parent.problem) return { bound: [], problem: parent.problem };
  const candidates = parent.listeners.filter((l) => (ref.sectionName === undefined || l.spec.name === ref.sectionName)
    && (ref.port === undefined || l.spec.port === ref.port));
  if (candidates.length === 0) {
    const target = [ref.sectionName !== undefined ? `sectionName ${ref.sectionName}` : '', ref.port !== undefined ? `port ${ref.port}` : '']
      .filter(Boolean).join(' and ');
    return { bound: [], problem: { reason: Reason.NoMatchingParent, message: `${parent.label} has no listener with ${target}` } };
  }
  // Listener status does not affect attachment (spec: ListenerStatus.AttachedRoutes);
  // listeners that cannot be programmed are left out of the IR instead.
  const allowed = candidates.filter((l) => l.supportedKinds.some((k) => k.group === GATEWAY_GROUP && k.kind === kind)
    && namespaceAllowed(l, namespace, namespaces));
  if (allowed.length === 0) {
    return {
      bound: [],
      problem: { reason: Reason.NotAllowedByListeners, message: `No listener of ${parent.label} allows ${kind}s from namespace ${namespace}` },
    };
  }
  const bound = allowed
    .map((listener) => ({ listener, hostnames: intersectHostnames(listener.spec.hostname, hostnames) }))
    .filter((b) => b.hostnames.length > 0);
  if (bound.length === 0) {
    return {
      bound,
      problem: {
        reason: Reason.NoMatchingListenerHostname,
        message: `No hostname of the route (${(hostnames ?? []).join(', ')}) matches a listener of ${parent.label}`,
      },
    };
  }
  return { bound };
}

function namespaceAllowed(listener: ListenerState, routeNamespace: string, namespaces: Map<string, Namespace>): boolean {
  const allowed = listener.spec.allowedRoutes?.namespaces;
  return namespaceSelected(allowed?.from ?? 'Same', allowed?.selector, listener.owner.namespace, routeNamespace, namespaces);
}
