// Upstream clusters: one keep-alive agent per cluster, round-robin over its
// endpoints. Pools outlive route tables: an apply that only changes endpoints
// updates the pool in place, so requests already routed keep their sockets.

import { Agent } from 'node:http';
import type { IRCluster, IREndpoint } from '../ir/types.js';

/**
 * Idle upstream sockets are dropped before Node's default server
 * keepAliveTimeout (5 s), so we rarely reuse a socket the upstream is closing.
 */
const IDLE_SOCKET_TIMEOUT_MS = 4_000;

export class ClusterPool {
  readonly name: string;
  readonly agent: Agent;
  private endpoints: readonly IREndpoint[];
  private cursor = 0;
  private inFlight = 0;
  private retired = false;

  constructor(cluster: IRCluster) {
    this.name = cluster.name;
    this.endpoints = cluster.endpoints;
    // The agent timeout only destroys sockets sitting in the free list; active
    // requests just get an unobserved 'timeout' event.
    this.agent = new Agent({ keepAlive: true, timeout: IDLE_SOCKET_TIMEOUT_MS, scheduling: 'lifo' });
  }

  /** Next endpoint in round-robin order, or undefined when there are none. */
  pick(): IREndpoint | undefined {
    const eps = this.endpoints;
    if (eps.length === 0) return undefined;
    if (this.cursor >= eps.length) this.cursor = 0;
    return eps[this.cursor++];
  }

  acquire(): void {
    this.inFlight++;
  }

  release(): void {
    this.inFlight--;
    if (this.retired && this.inFlight === 0) this.agent.destroy();
  }

  setEndpoints(endpoints: readonly IREndpoint[]): void {
    const kept = new Set(endpoints.map(endpointKey));
    for (const old of this.endpoints) {
      if (kept.has(endpointKey(old))) continue;
      // Idle sockets to an endpoint that left would otherwise linger until timeout.
      const name = this.agent.getName({ host: old.address, port: old.port });
      for (const socket of this.agent.freeSockets[name] ?? []) socket.destroy();
    }
    this.endpoints = endpoints;
  }

  /** Destroys the agent once the requests using it have finished. */
  retire(): void {
    this.retired = true;
    if (this.inFlight === 0) this.agent.destroy();
  }
}

function endpointKey(e: IREndpoint): string {
  return `${e.address}|${e.port}`;
}

export class ClusterRegistry {
  private readonly pools = new Map<string, ClusterPool>();

  get(name: string): ClusterPool | undefined {
    return this.pools.get(name);
  }

  /**
   * Creates and updates pools for `clusters`; returns the pools that are no
   * longer wanted, for the caller to retire once no new table refers to them.
   */
  update(clusters: Record<string, IRCluster>): ClusterPool[] {
    const removed: ClusterPool[] = [];
    for (const [name, pool] of this.pools) {
      if (!Object.hasOwn(clusters, name)) {
        this.pools.delete(name);
        removed.push(pool);
      }
    }
    for (const [name, cluster] of Object.entries(clusters)) {
      const pool = this.pools.get(name);
      if (pool) pool.setEndpoints(cluster.endpoints);
      else this.pools.set(name, new ClusterPool(cluster));
    }
    return removed;
  }

  destroyAll(): void {
    for (const pool of this.pools.values()) pool.agent.destroy();
    this.pools.clear();
  }
}
