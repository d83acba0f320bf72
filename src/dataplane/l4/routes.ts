// Stream (TLS, TCP, UDP) servers compiled from the IR: cluster pools looked
// up, cumulative weights summed and terminate certificates loaded once per
// apply, so a connection only draws a number and compares names. Anything
// that cannot be served throws here, before a listener swaps tables.

import type { IRServer, IRStreamBackend, IRTLSRoute } from '../../ir/types.js';
import type { ClusterPool } from '../clusters.js';
import { firstMatch, indexHostnames, type HostnameIndex } from '../hostnames.js';
import { compileTls, type CompiledTls } from '../tls.js';

export type ClusterLookup = (name: string) => ClusterPool | undefined;

export interface CompiledStreamRoute {
  name: string;
  /** Per backend: its pool, or undefined when the backend is invalid or its cluster unknown (a pick of it is refused). */
  pools: readonly (ClusterPool | undefined)[];
  /** Running sums of the weights, for one random draw per connection or session. */
  cumulative: readonly number[];
  totalWeight: number;
}

export interface CompiledTlsRoute extends CompiledStreamRoute {
  /** Lower-cased; exact, `*.suffix` or `*`. */
  hostname: string;
  /** Set when TLS is terminated here; absent for passthrough. */
  terminate: CompiledTls | undefined;
}

export interface SniTable {
  routes: readonly CompiledTlsRoute[];
  hostnames: HostnameIndex;
  /** Position of the first `*` route: the one a client that sends no server name gets. */
  catchAll: number | undefined;
}

export interface CompiledStreamServer {
  ir: IRServer;
  /** TCP and UDP: undefined when no route is attached. */
  route: CompiledStreamRoute | undefined;
  /** TLS only. */
  sni: SniTable | undefined;
}

export function isStreamProtocol(protocol: IRServer['protocol']): protocol is 'TLS' | 'TCP' | 'UDP' {
  return protocol === 'TLS' || protocol === 'TCP' || protocol === 'UDP';
}

/**
 * Throws when the server cannot be served (unknown protocol, bad terminate
 * certificates). `previous`, the listener's current compilation, lets
 * unchanged certificates keep their contexts (and TLS session caches).
 */
export function compileStreamServer(ir: IRServer, lookup: ClusterLookup, previous?: CompiledStreamServer): CompiledStreamServer {
  switch (ir.protocol) {
    case 'TCP':
    case 'UDP':
      return { ir, route: ir.streamRoute && compileRoute(ir.streamRoute.name, ir.streamRoute.backends, lookup), sni: undefined };
    case 'TLS':
      return { ir, route: undefined, sni: compileSni(ir.tlsRoutes ?? [], lookup, previous?.sni) };
    default:
      throw new Error(`protocol ${ir.protocol} is not a stream protocol`);
  }
}

function compileRoute(name: string, backends: readonly IRStreamBackend[], lookup: ClusterLookup): CompiledStreamRoute {
  let total = 0;
  const cumulative: number[] = [];
  const pools = backends.map((b) => {
    total += Math.max(0, b.weight);
    cumulative.push(total);
    return b.cluster === undefined ? undefined : lookup(b.cluster);
  });
  return { name, pools, cumulative, totalWeight: total };
}

function compileSni(routes: readonly IRTLSRoute[], lookup: ClusterLookup, previous: SniTable | undefined): SniTable {
  const compiled = routes.map((r): CompiledTlsRoute => {
    const hostname = r.hostname.toLowerCase();
    let terminate: CompiledTls | undefined;
    if (r.terminate) {
      const before = previous?.routes.find((p) => p.name === r.name && p.hostname === hostname)?.terminate;
      try {
        terminate = compileTls(r.terminate, before);
      } catch (err) {
        throw new Error(`${r.name} (${r.hostname}): ${(err as Error).message}`);
      }
    }
    return { ...compileRoute(r.name, r.backends, lookup), hostname, terminate };
  });
  const hostnames = indexHostnames(compiled.map((r) => r.hostname));
  return { routes: compiled, hostnames, catchAll: hostnames.patterns.find((p) => p.suffix === undefined)?.index };
}

/** `serverName` is lower-case, or undefined when the client sent none: then only `*` matches. */
export function selectTlsRoute(table: SniTable, serverName: string | undefined): CompiledTlsRoute | undefined {
  const index = serverName === undefined ? table.catchAll : firstMatch(table.hostnames, serverName);
  return index === undefined ? undefined : table.routes[index];
}

/**
 * The pool of a weighted draw among the route's backends; undefined when the
 * draw lands on an invalid backend or the route has no weight at all.
 */
export function pickPool(route: CompiledStreamRoute): ClusterPool | undefined {
  const { pools, cumulative, totalWeight } = route;
  if (totalWeight <= 0) return undefined;
  if (pools.length === 1) return pools[0];
  const draw = Math.random() * totalWeight;
  for (let i = 0; i < cumulative.length; i++) {
    if (draw < cumulative[i]!) return pools[i];
  }
  return pools[pools.length - 1];
}
