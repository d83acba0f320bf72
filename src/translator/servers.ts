import type { IRCertificate, IRCluster, IRServer, IRVirtualHost } from '../ir/types.js';
import {
  byAge, listenerProgrammed, mergedListeners, type GatewayState, type ListenerState,
} from './gateways.js';
import { compareHostnameSpecificity, hostnameCovers } from './hostnames.js';
import type { RouteEntry, RouteResult } from './httproutes.js';

const PATH_TYPE_RANK = { Exact: 0, RegularExpression: 1, PathPrefix: 2 } as const;

/**
 * Route precedence from the HTTPRoute spec: exact path, then longest prefix
 * (regular expressions, whose order is left to implementations, sit between),
 * method, most header matches, most query matches; then the oldest route,
 * then namespace/name, then rule and match order.
 */
function comparePrecedence(a: RouteEntry, b: RouteEntry): number {
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
  if (a.route !== b.route) return byAge(a.route, b.route);
  if (a.ruleIndex !== b.ruleIndex) return a.ruleIndex - b.ruleIndex;
  return a.matchIndex - b.matchIndex;
}

export function serverId(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

/** The listener that owns requests for `hostname`: the most specific one whose hostname covers it. */
function owningListener(listeners: ListenerState[], hostname: string): ListenerState | undefined {
  let best: ListenerState | undefined;
  for (const l of listeners) {
    const pattern = l.spec.hostname ?? '*';
    if (!hostnameCovers(pattern, hostname)) continue;
    if (!best || compareHostnameSpecificity(pattern, best.spec.hostname ?? '*') < 0) best = l;
  }
  return best;
}

/**
 * Builds one IR server per bound address:port from the programmed listeners.
 * Listener isolation falls out of virtual host ownership: a hostname is
 * served only by routes of the most specific listener that covers it, and
 * every listener hostname has a virtual host (possibly empty) so that a less
 * specific listener never catches its traffic.
 */
export function buildServers(
  gateways: GatewayState[], routes: RouteResult[], clusters: Record<string, IRCluster>,
): { servers: IRServer[]; clusters: Record<string, IRCluster> } {
  const attachmentsByListener = new Map<ListenerState, { hostnames: string[]; entries: RouteEntry[] }[]>();
  const seen = new Set<string>();
  for (const r of routes) {
    for (const a of r.attachments) {
      const { owner } = a.listener;
      const key = `${r.route.metadata.namespace}/${r.route.metadata.name}|${owner.kind}/${owner.namespace}/${owner.name}|${a.listener.spec.name}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const list = attachmentsByListener.get(a.listener) ?? [];
      list.push({ hostnames: a.hostnames, entries: a.entries });
      attachmentsByListener.set(a.listener, list);
    }
  }

  const servers: IRServer[] = [];
  const usedClusters: Record<string, IRCluster> = {};
  for (const gw of gateways) {
    const byPort = new Map<number, ListenerState[]>();
    for (const l of mergedListeners(gw)) {
      if (!listenerProgrammed(l)) continue;
      const group = byPort.get(l.spec.port) ?? [];
      group.push(l);
      byPort.set(l.spec.port, group);
    }
    for (const [port, listeners] of byPort) {
      const virtualHosts = buildVirtualHosts(listeners, attachmentsByListener);
      for (const vh of virtualHosts) {
        for (const route of vh.routes) {
          for (const m of route.mirrors ?? []) usedClusters[m.cluster] = clusters[m.cluster]!;
          if (route.action.type !== 'forward') continue;
          for (const b of route.action.backends) if (b.cluster) usedClusters[b.cluster] = clusters[b.cluster]!;
        }
      }
      const protocol = listeners[0]!.spec.protocol as IRServer['protocol'];
      const metadata = infrastructureMetadata(gw);
      for (const address of gw.addresses) {
        const server: IRServer = { id: serverId(address, port), address, port, protocol, owner: gw.key, metadata, virtualHosts };
        if (protocol === 'HTTPS') server.tls = { certificates: serverCertificates(listeners) };
        servers.push(server);
      }
    }
  }
  servers.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return { servers, clusters: usedClusters };
}

/**
 * Each virtual host holds, from its owning listener, every route whose
 * hostnames cover it: rules of routes with more specific matching hostnames
 * first (spec: HTTPRoute hostnames precedence), then match precedence.
 */
function buildVirtualHosts(
  listeners: ListenerState[], attachments: Map<ListenerState, { hostnames: string[]; entries: RouteEntry[] }[]>,
): IRVirtualHost[] {
  const owners = new Map<string, ListenerState>();
  for (const l of listeners) owners.set(l.spec.hostname ?? '*', l);
  for (const l of listeners) {
    for (const a of attachments.get(l) ?? []) {
      for (const h of a.hostnames) if (!owners.has(h) && owningListener(listeners, h) === l) owners.set(h, l);
    }
  }
  return [...owners.keys()].sort(compareHostnameSpecificity).map((hostname) => {
    const ranked: { matched: string; entry: RouteEntry }[] = [];
    for (const a of attachments.get(owners.get(hostname)!) ?? []) {
      const matched = a.hostnames.filter((h) => hostnameCovers(h, hostname)).sort(compareHostnameSpecificity)[0];
      if (matched !== undefined) for (const entry of a.entries) ranked.push({ matched, entry });
    }
    ranked.sort((x, y) => compareHostnameSpecificity(x.matched, y.matched) || comparePrecedence(x.entry, y.entry));
    return { hostname, routes: ranked.map((r) => r.entry.ir) };
  });
}

const GATEWAY_NAME_LABEL = 'gateway.networking.k8s.io/gateway-name';

function infrastructureMetadata(gw: GatewayState): NonNullable<IRServer['metadata']> {
  const infrastructure = gw.gateway.spec!.infrastructure;
  return {
    labels: { ...(infrastructure?.labels ?? {}), [GATEWAY_NAME_LABEL]: gw.gateway.metadata.name },
    annotations: { ...(infrastructure?.annotations ?? {}) },
  };
}

function serverCertificates(listeners: ListenerState[]): IRCertificate[] {
  return listeners
    .filter((l) => l.certificate)
    .map((l) => ({ hostname: l.spec.hostname ?? '*', certPem: l.certificate!.certPem, keyPem: l.certificate!.keyPem }))
    .sort((a, b) => compareHostnameSpecificity(a.hostname, b.hostname));
}
