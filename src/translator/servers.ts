import type {
  IRCertificate, IRCluster, IRRoute, IRServer, IRServerTLS, IRStreamRoute, IRTLSRoute, IRVirtualHost,
} from '../ir/types.js';
import type { ClusterUse, GatewayClusters } from './backendtlspolicies.js';
import {
  listenerServed, mergedListeners, terminatesTLS, transportOf, type GatewayState, type ListenerState,
} from './gateways.js';
import { compareHostnameSpecificity, mostSpecific } from './hostnames.js';
import type { Attachment, RouteEntry, RouteResult, RouteResults } from './httproutes.js';
import { nested } from './maps.js';
import type { GRPCPrecedence } from './rules.js';
import type { StreamRouteResult } from './streamroutes.js';

/** A route entry as a virtual host ranks it: by the route hostname that matched, then by precedence. */
interface Ranked {
  matched: string;
  entry: RouteEntry;
  /** The route's ageKey. */
  age: string;
  attachment: Attachment;
}

/** A virtual host as built: the attachments it draws on, their entries in precedence order, and the clusters its routes name. */
interface BuiltHost {
  attachments: Set<Attachment>;
  ranked: Ranked[];
  host: IRVirtualHost;
  /** In order of first mention: the order the IR lists them in. */
  clusters: string[];
  /** How many of the routes name each cluster. */
  clusterUses: Map<string, number>;
}

/**
 * The attachments that serve through each listener, and how many of them
 * name each hostname (which decides the listener's virtual hosts). Carried
 * from one build to the next, so that an edit updates them instead of
 * regrouping every route.
 */
export interface ServedAttachments {
  byListener: Map<ListenerState, Set<Attachment>>;
  hostnames: Map<ListenerState, Map<string, number>>;
}

// Each owning listener's virtual hosts as last built, by hostname. Listener
// states live on while their Gateway is unchanged (see translate), and so do
// the attachments of unchanged routes: an edit then places the few entries it
// touched by binary search instead of sorting every route again.
const builtHosts = new WeakMap<ListenerState, Map<string, BuiltHost>>();

const PATH_TYPE_RANK = { Exact: 0, RegularExpression: 1, PathPrefix: 2 } as const;

/**
 * Route precedence from the HTTPRoute spec: exact path, then longest prefix
 * (regular expressions, whose order is left to implementations, sit between),
 * method, most header matches, most query matches; then the oldest route,
 * then namespace/name, then rule and match order. GRPCRoutes rank by their
 * own spec's criteria and never merge with HTTPRoutes (an HTTPRoute and a
 * GRPCRoute whose hostnames meet on a listener are not both accepted, see
 * kind-conflicts.ts); a total order still needs one kind first.
 */
function comparePrecedence(x: Ranked, y: Ranked): number {
  const a = x.entry;
  const b = y.entry;
  if (a.grpc || b.grpc) {
    if (!a.grpc || !b.grpc) return a.grpc ? 1 : -1;
    return compareGRPCPrecedence(x, y, a.grpc, b.grpc);
  }
  const pa = a.ir.match.path;
  const pb = b.ir.match.path;
  if (pa.type !== pb.type) return PATH_TYPE_RANK[pa.type] - PATH_TYPE_RANK[pb.type];
  if (pa.value.length !== pb.value.length) return pb.value.length - pa.value.length;
  const ma = a.ir.match.method ? 1 : 0;
  const mb = b.ir.match.method ? 1 : 0;
  if (ma !== mb) return mb - ma;
  const ha = a.ir.match.headers?.length ?? 0;
  const hb = b.ir.match.headers?.length ?? 0;
  if (ha !== hb) return hb - ha;
  const qa = a.ir.match.queryParams?.length ?? 0;
  const qb = b.ir.match.queryParams?.length ?? 0;
  if (qa !== qb) return qb - qa;
  return compareOrder(x, y);
}

/** GRPCRoute spec: most characters of service, then of method (see GRPCPrecedence), then most header matches. */
function compareGRPCPrecedence(x: Ranked, y: Ranked, a: GRPCPrecedence, b: GRPCPrecedence): number {
  if (a.service !== b.service) return b.service - a.service;
  if (a.method !== b.method) return b.method - a.method;
  if (a.regex !== b.regex) return a.regex ? -1 : 1;
  const ha = x.entry.ir.match.headers?.length ?? 0;
  const hb = y.entry.ir.match.headers?.length ?? 0;
  if (ha !== hb) return hb - ha;
  return compareOrder(x, y);
}

/** The ties of both kinds: the oldest route, then namespace/name (both in ageKey), then rule and match order. */
function compareOrder(x: Ranked, y: Ranked): number {
  const a = x.entry;
  const b = y.entry;
  if (a.route !== b.route) return x.age < y.age ? -1 : x.age > y.age ? 1 : 0;
  if (a.ruleIndex !== b.ruleIndex) return a.ruleIndex - b.ruleIndex;
  return a.matchIndex - b.matchIndex;
}

/** `address:port`, with `/udp` for UDP: a UDP socket may have the port number of a TCP one. */
export function serverId(address: string, port: number, transport: 'TCP' | 'UDP'): string {
  return `${address.includes(':') ? `[${address}]` : address}:${port}${transport === 'UDP' ? '/udp' : ''}`;
}

/**
 * Builds one IR server per bound address, port and transport from the
 * programmed listeners. Listener isolation falls out of virtual host
 * ownership: a hostname is served only by routes of the most specific
 * listener that covers it, and every listener hostname has a virtual host
 * (possibly empty) so that a less specific listener never catches its traffic.
 *
 * With `earlier` (what the previous build served, on the same listeners),
 * only the HTTPRoute attachments of `routes.removed` and `routes.added` are
 * regrouped; stream routes are placed afresh.
 */
export function buildServers(
  gateways: GatewayState[], routes: RouteResults, streams: StreamRouteResult[], use: ClusterUse,
  earlier?: ServedAttachments,
): { servers: IRServer[]; clusters: Record<string, IRCluster>; served: ServedAttachments } {
  const served: ServedAttachments = earlier ?? { byListener: new Map(), hostnames: new Map() };
  // Known only when building on `earlier`: per listener, what left and what came.
  const changes = earlier && new Map<ListenerState, { removed: Attachment[]; added: Attachment[] }>();
  const update = (results: RouteResult[], side: 'removed' | 'added') => {
    for (const r of results) {
      for (const a of r.attachments) {
        if (!a.serves) continue;
        const set = served.byListener.get(a.listener) ?? new Set();
        served.byListener.set(a.listener, set);
        const counts = nested(served.hostnames, a.listener);
        for (const h of a.hostnames) {
          const count = (counts.get(h) ?? 0) + (side === 'added' ? 1 : -1);
          if (count === 0) counts.delete(h);
          else counts.set(h, count);
        }
        if (side === 'added') set.add(a);
        else set.delete(a);
        if (changes) {
          const change = changes.get(a.listener) ?? { removed: [], added: [] };
          change[side].push(a);
          changes.set(a.listener, change);
        }
      }
    }
  };
  update(routes.removed, 'removed');
  update(routes.added, 'added');

  const streamsByListener = new Map<ListenerState, StreamServing[]>();
  for (const result of streams) {
    for (const { listener, hostnames } of result.attachments) {
      const list = streamsByListener.get(listener) ?? [];
      list.push({ result, hostnames });
      streamsByListener.set(listener, list);
    }
  }

  const servers: IRServer[] = [];
  for (const gw of gateways) {
    const reach = use.forGateway(gw);
    // Listeners that share a port and transport share a socket; conflicts have left them one protocol.
    const bySocket = new Map<string, ListenerState[]>();
    for (const l of mergedListeners(gw)) {
      if (!listenerServed(l)) continue;
      const key = `${l.spec.port}/${transportOf(l.spec.protocol)}`;
      const group = bySocket.get(key) ?? [];
      group.push(l);
      bySocket.set(key, group);
    }
    for (const listeners of bySocket.values()) {
      const port = listeners[0]!.spec.port;
      const protocol = listeners[0]!.spec.protocol as IRServer['protocol'];
      let virtualHosts: IRVirtualHost[] = [];
      let tlsRoutes: IRTLSRoute[] | undefined;
      let streamRoute: IRStreamRoute | undefined;
      if (protocol === 'HTTP' || protocol === 'HTTPS') {
        virtualHosts = buildVirtualHosts(listeners, served, changes).map((b) => reach.virtualHost(b.host, b.clusters));
      } else if (protocol === 'TLS') {
        tlsRoutes = serverNameRoutes(listeners, streamsByListener, reach);
      } else {
        streamRoute = oldestStreamRoute(listeners.flatMap((l) => streamsByListener.get(l) ?? []), reach);
      }
      const metadata = infrastructureMetadata(gw);
      for (const address of gw.addresses) {
        const id = serverId(address, port, transportOf(protocol));
        const server: IRServer = { id, address, port, protocol, owner: gw.key, metadata, virtualHosts };
        if (protocol === 'HTTPS') server.tls = httpsTLS(listeners);
        if (tlsRoutes) server.tlsRoutes = tlsRoutes;
        if (streamRoute) server.streamRoute = streamRoute;
        servers.push(server);
      }
    }
  }
  servers.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return { servers, clusters: use.clusters, served };
}

/**
 * Each virtual host holds, from its owning listener, every route whose
 * hostnames cover it: rules of routes with more specific matching hostnames
 * first (spec: HTTPRoute hostnames precedence), then match precedence.
 */
function buildVirtualHosts(
  listeners: ListenerState[], served: ServedAttachments,
  changes: Map<ListenerState, { removed: Attachment[]; added: Attachment[] }> | undefined,
): BuiltHost[] {
  const owners = new Map<string, ListenerState>();
  for (const l of listeners) owners.set(l.spec.hostname ?? '*', l);
  for (const l of listeners) {
    for (const h of served.hostnames.get(l)?.keys() ?? []) if (!owners.has(h) && mostSpecific(listeners, (o) => o.spec.hostname ?? '*', h) === l) owners.set(h, l);
  }
  const built = new Map<ListenerState, Map<string, BuiltHost>>();
  const hosts = [...owners.keys()].sort(compareHostnameSpecificity).map((hostname) => {
    const owner = owners.get(hostname)!;
    const kept = builtHosts.get(owner)?.get(hostname);
    let host: BuiltHost;
    if (kept && changes) {
      const change = changes.get(owner);
      host = change ? rankHost(hostname, kept, change.removed, change.added) : kept;
    } else {
      // Everything the listener serves, against what the host was last built from.
      const current = served.byListener.get(owner) ?? new Set<Attachment>();
      host = rankHost(hostname, kept, [...kept?.attachments ?? []].filter((a) => !current.has(a)),
        [...current].filter((a) => !kept?.attachments.has(a)));
    }
    nested(built, owner).set(hostname, host);
    return host;
  });
  for (const [owner, byHostname] of built) builtHosts.set(owner, byHostname);
  return hosts;
}

/**
 * `kept` (if any) updated: the entries of `removed` attachments taken out,
 * those of `added` ones that cover the hostname put in place by binary
 * search, so that an edit costs no sort and no pass over every entry.
 */
function rankHost(hostname: string, kept: BuiltHost | undefined, removed: Attachment[], added: Attachment[]): BuiltHost {
  const gone = itemsFor(removed.filter((a) => kept?.attachments.has(a)), hostname);
  const come = itemsFor(added, hostname);
  if (kept && gone.length === 0 && come.length === 0) return kept;
  let ranked = kept?.ranked.slice() ?? [];
  let routes = kept?.host.routes.slice() ?? [];
  for (const item of gone) {
    let at = lowerBound(ranked, item);
    if (ranked[at]?.entry !== item.entry) at = ranked.findIndex((r) => r.entry === item.entry);
    ranked.splice(at, 1);
    routes.splice(at, 1);
  }
  if (come.length <= SPLICE_LIMIT) {
    for (const item of come) {
      const at = lowerBound(ranked, item);
      ranked.splice(at, 0, item);
      routes.splice(at, 0, item.entry.ir);
    }
  } else {
    ranked = mergeRanked(ranked, come);
    routes = ranked.map((r) => r.entry.ir);
  }
  const attachments = new Set(kept?.attachments);
  for (const item of gone) attachments.delete(item.attachment);
  for (const item of come) attachments.add(item.attachment);
  const clusterUses = new Map(kept?.clusterUses);
  for (const item of gone) eachCluster(item.entry.ir, (name) => count(clusterUses, name, -1));
  for (const item of come) eachCluster(item.entry.ir, (name) => count(clusterUses, name, 1));
  return { attachments, ranked, host: { hostname, routes }, clusters: clusterNames(routes, clusterUses.size), clusterUses };
}

function count(counts: Map<string, number>, key: string, delta: number): void {
  const n = (counts.get(key) ?? 0) + delta;
  if (n === 0) counts.delete(key);
  else counts.set(key, n);
}

/** Beyond this many new entries, one merge pass beats moving the array once per entry. */
const SPLICE_LIMIT = 16;

/** The entries of attachments that cover `hostname`, in precedence order. */
function itemsFor(attachments: Attachment[], hostname: string): Ranked[] {
  const items: Ranked[] = [];
  for (const attachment of attachments) {
    // The route's hostname that a request for this one matches.
    const matched = mostSpecific(attachment.hostnames, (h) => h, hostname);
    if (matched !== undefined) for (const entry of attachment.entries) items.push({ matched, entry, age: attachment.age, attachment });
  }
  return items.sort(compareRanked);
}

/**
 * Where `item` is or goes in `ranked`. Entries of distinct routes never
 * compare equal (routes are unique by namespace and name), so this is also
 * where sorting everything would put it.
 */
function lowerBound(ranked: Ranked[], item: Ranked, from = 0): number {
  let lo = from;
  let hi = ranked.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareRanked(ranked[mid]!, item) < 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}


function compareRanked(x: Ranked, y: Ranked): number {
  return compareHostnameSpecificity(x.matched, y.matched) || comparePrecedence(x, y);
}

/** Both sorted: one pass, each of `added` placed by binary search. */
function mergeRanked(sorted: Ranked[], added: Ranked[]): Ranked[] {
  const out: Ranked[] = [];
  let from = 0;
  for (const item of added) {
    const at = lowerBound(sorted, item, from);
    for (; from < at; from++) out.push(sorted[from]!);
    out.push(item);
  }
  for (; from < sorted.length; from++) out.push(sorted[from]!);
  return out;
}

/**
 * The `distinct` clusters routes name, in order of first mention. Knowing how
 * many there are ends the scan at the last first mention, which with many
 * routes to few Services comes early.
 */
function clusterNames(routes: IRRoute[], distinct: number): string[] {
  const names = new Set<string>();
  const add = (name: string): void => { names.add(name); };
  for (let i = 0; i < routes.length && names.size < distinct; i++) eachCluster(routes[i]!, add);
  return [...names];
}

/** Calls `visit` with each cluster a route names: its mirrors', then its backends'. Called for every route of a changed host, so it builds no list. */
function eachCluster(route: IRRoute, visit: (name: string) => void): void {
  if (route.mirrors !== undefined) for (const m of route.mirrors) visit(m.cluster);
  if (route.action.type === 'forward') for (const b of route.action.backends) if (b.cluster) visit(b.cluster);
}

/** A stream route as one listener serves it: by these hostnames (TLS), or by its port alone. */
interface StreamServing {
  result: StreamRouteResult;
  hostnames: string[];
}

/**
 * The server names of TLS listeners on one socket, most specific first, each
 * with the route that serves it. As with virtual hosts, a name belongs to
 * the most specific listener that covers it; of the routes naming it there,
 * the oldest wins (spec: conflicts between Routes). An entry of a Terminate
 * listener carries that listener's certificate, so that Terminate and
 * Passthrough listeners can share the port.
 */
function serverNameRoutes(listeners: ListenerState[], served: Map<ListenerState, StreamServing[]>, reach: GatewayClusters): IRTLSRoute[] {
  const winners = new Map<string, { listener: ListenerState; result: StreamRouteResult }>();
  for (const listener of listeners) {
    for (const { result, hostnames } of served.get(listener) ?? []) {
      for (const hostname of hostnames) {
        if (mostSpecific(listeners, (l) => l.spec.hostname ?? '*', hostname) !== listener) continue;
        const held = winners.get(hostname);
        if (!held || result.age < held.result.age) winners.set(hostname, { listener, result });
      }
    }
  }
  return [...winners.keys()].sort(compareHostnameSpecificity).map((hostname) => {
    const { listener, result } = winners.get(hostname)!;
    const terminated = terminatesTLS(listener.spec);
    const route: IRTLSRoute = { hostname, name: result.name, backends: reach.streamBackends(result.backends, terminated) };
    if (terminated) route.terminate = { certificates: serverCertificates([listener]) };
    return route;
  });
}

/**
 * A TCP or UDP socket passes everything to one route: the oldest of those
 * attached (conformance TCPRouteMultipleRoutesAttachment), the others only
 * counting as attached.
 */
function oldestStreamRoute(attached: StreamServing[], reach: GatewayClusters): IRStreamRoute | undefined {
  let oldest: StreamRouteResult | undefined;
  for (const { result } of attached) if (!oldest || result.age < oldest.age) oldest = result;
  return oldest && { name: oldest.name, backends: reach.streamBackends(oldest.backends, false) };
}

const GATEWAY_NAME_LABEL = 'gateway.networking.k8s.io/gateway-name';

function infrastructureMetadata(gw: GatewayState): NonNullable<IRServer['metadata']> {
  const infrastructure = gw.gateway.spec!.infrastructure;
  return {
    labels: { ...(infrastructure?.labels ?? {}), [GATEWAY_NAME_LABEL]: gw.gateway.metadata.name },
    annotations: { ...(infrastructure?.annotations ?? {}) },
  };
}

/**
 * The listeners of one port share its client certificate validation (see
 * frontend-tls.ts). With several listeners, each one's hostname lets the
 * data plane tell a connection coalesced onto another listener's.
 */
function httpsTLS(listeners: ListenerState[]): IRServerTLS {
  const tls: IRServerTLS = { certificates: serverCertificates(listeners) };
  const clientValidation = listeners[0]!.clientValidation;
  if (clientValidation) tls.clientValidation = clientValidation;
  if (listeners.length > 1) tls.listenerHostnames = listeners.map((l) => l.spec.hostname ?? '*').sort(compareHostnameSpecificity);
  return tls;
}

function serverCertificates(listeners: ListenerState[]): IRCertificate[] {
  return listeners
    .filter((l) => l.certificate)
    .map((l) => ({ hostname: l.spec.hostname ?? '*', certPem: l.certificate!.certPem, keyPem: l.certificate!.keyPem }))
    .sort((a, b) => compareHostnameSpecificity(a.hostname, b.hostname));
}
