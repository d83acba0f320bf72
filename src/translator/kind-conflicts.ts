import { CondType, Reason, condition } from './conditions.js';
import type { ListenerState } from './gateways.js';
import { hostnamesOverlap } from './hostnames.js';
import type { Attachment, RouteResult } from './httproutes.js';

// GRPCRoute spec (spec.hostnames): when an HTTPRoute and a GRPCRoute attached
// to one listener have hostnames in common, exactly one of them is accepted
// there: the oldest, then the first by namespace/name. Merging the two kinds'
// rules under one hostname is not allowed, so the other is rejected.

/** The route results with the conflicts taken out, when a listener had any. */
export interface KindConflicts {
  /** Aligned with the results given; a route that lost somewhere has a result without those attachments. */
  results: (RouteResult | undefined)[];
  /** How many of each listener's attached routes lost there: attachedRoutes counts accepted routes only. */
  rejected: Map<ListenerState, number>;
}

/** A route's attachments on one listener, as the conflict sees it. */
interface Claim {
  result: RouteResult;
  attachments: Attachment[];
  hostnames: string[];
  label: string;
}

/**
 * Resolves HTTPRoute/GRPCRoute conflicts on the listeners that hold both
 * kinds (counted as routes attach, so that a configuration without such a
 * listener costs one pass over the listeners). Undefined when no route lost.
 */
export function resolveKindConflicts(
  results: (RouteResult | undefined)[], listeners: Iterable<ListenerState>,
): KindConflicts | undefined {
  const mixed = new Set<ListenerState>();
  for (const l of listeners) if (l.attachedGRPCRoutes > 0 && l.attachedRoutes > l.attachedGRPCRoutes) mixed.add(l);
  if (mixed.size === 0) return undefined;

  const claims = new Map<ListenerState, Map<RouteResult, Claim>>();
  for (const result of results) {
    if (!result) continue;
    for (const a of result.attachments) {
      if (!mixed.has(a.listener)) continue;
      let byRoute = claims.get(a.listener);
      if (!byRoute) claims.set(a.listener, byRoute = new Map());
      const claim = byRoute.get(result);
      if (claim) {
        claim.attachments.push(a);
        claim.hostnames.push(...a.hostnames);
      } else {
        const { metadata } = result.route;
        byRoute.set(result, {
          result, attachments: [a], hostnames: [...a.hostnames],
          label: `${result.route.kind} ${metadata.namespace ?? 'default'}/${metadata.name}`,
        });
      }
    }
  }

  const lost = new Map<RouteResult, Map<Attachment, string>>();
  const rejected = new Map<ListenerState, number>();
  for (const [listener, byRoute] of claims) {
    const accepted: Claim[] = [];
    for (const claim of [...byRoute.values()].sort(compareAge)) {
      const winner = accepted.find((a) => a.result.route.kind !== claim.result.route.kind
        && a.hostnames.some((h) => claim.hostnames.some((c) => hostnamesOverlap(h, c))));
      if (!winner) {
        accepted.push(claim);
        continue;
      }
      const why = `${winner.label} is older and serves hostnames in common on listener ${listener.spec.name}`;
      let routeLost = lost.get(claim.result);
      if (!routeLost) lost.set(claim.result, routeLost = new Map());
      for (const a of claim.attachments) routeLost.set(a, why);
      rejected.set(listener, (rejected.get(listener) ?? 0) + 1);
    }
  }
  if (lost.size === 0) return undefined;
  return { results: results.map((r) => (r && lost.has(r) ? withoutLost(r, lost.get(r)!) : r)), rejected };
}

/** Oldest first; for equal creation times, namespace/name, then kind, so the order is total. */
function compareAge(a: Claim, b: Claim): number {
  const x = a.attachments[0]!.age;
  const y = b.attachments[0]!.age;
  if (x !== y) return x < y ? -1 : 1;
  return a.result.route.kind < b.result.route.kind ? -1 : 1;
}

/** The result of a route that lost the attachments in `lost`: a parentRef that kept none is not Accepted. */
function withoutLost(result: RouteResult, lost: Map<Attachment, string>): RouteResult {
  const attachments = result.attachments.filter((a) => !lost.has(a));
  const gen = result.route.metadata.generation;
  const parents = result.parents.map((parent, target) => {
    const reasons = result.attachments.filter((a) => a.target === target).map((a) => lost.get(a));
    if (reasons.length === 0 || reasons.some((r) => r === undefined)) return parent;
    const rejected = condition(CondType.Accepted, false, Reason.HostnameConflict, [...new Set(reasons)].join('; '), gen);
    return { ...parent, conditions: parent.conditions.map((c) => (c.type === CondType.Accepted ? rejected : c)) };
  });
  return { ...result, attachments, parents };
}
