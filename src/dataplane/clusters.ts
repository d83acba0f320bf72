// Upstream clusters: a keep-alive connection pool per endpoint of an HTTP/1.1
// cluster, one multiplexed HTTP/2 session per endpoint of an h2c cluster,
// round-robin over the endpoints. Pools outlive route tables: an apply that only changes
// endpoints updates the pool in place, so requests already routed keep their
// connections.

import { connect, type ClientHttp2Session } from 'node:http2';
import type { ConnectionOptions } from 'node:tls';
import type { IRCluster, IREndpoint } from '../ir/types.js';
import { Http1Endpoint } from './http1.js';
import { compileUpstreamTls, endpointTlsOptions, sameUpstreamTls, type UpstreamTls } from './upstream-tls.js';

/**
 * Idle upstream sockets are dropped before Node's default server
 * keepAliveTimeout (5 s), so we rarely reuse a socket the upstream is closing.
 */
const IDLE_SOCKET_TIMEOUT_MS = 4_000;

const CONNECT_TIMEOUT_MS = 5_000;

export class ClusterPool {
  readonly name: string;
  readonly protocol: IRCluster['protocol'];
  /** Connections to the endpoints are TLS, made with this. */
  readonly tls: UpstreamTls | undefined;
  /** TLS only: each endpoint's connect options, for streams. */
  private readonly tlsByEndpoint = new WeakMap<IREndpoint, ConnectionOptions>();
  /** HTTP/1.1 only: each endpoint's connections, by endpointKey. */
  private readonly http1Endpoints = new Map<string, Http1Endpoint>();
  /** The same, by endpoint object: the per-request lookup, without building a key. */
  private readonly http1ByEndpoint = new WeakMap<IREndpoint, Http1Endpoint>();
  /** h2c only: the live session of each endpoint, by endpointKey. */
  private readonly sessions = new Map<string, ClientHttp2Session>();
  private endpoints: readonly IREndpoint[];
  private cursor = 0;
  private inFlight = 0;
  private retired = false;

  /** Throws when the cluster's TLS settings cannot be used. */
  constructor(cluster: IRCluster) {
    this.name = cluster.name;
    this.protocol = cluster.protocol;
    this.tls = cluster.tls && compileUpstreamTls(cluster.tls);
    this.endpoints = cluster.endpoints;
  }

  /** The endpoint's HTTP/1.1 connection pool. */
  http1(ep: IREndpoint): Http1Endpoint {
    const known = this.http1ByEndpoint.get(ep);
    if (known !== undefined) return known;
    const key = endpointKey(ep);
    let pool = this.http1Endpoints.get(key);
    if (pool === undefined) {
      pool = new Http1Endpoint(ep.address, ep.port, { connectTimeoutMs: CONNECT_TIMEOUT_MS, idleTimeoutMs: IDLE_SOCKET_TIMEOUT_MS }, this.tls);
      this.http1Endpoints.set(key, pool);
    }
    this.http1ByEndpoint.set(ep, pool);
    return pool;
  }

  /** How a stream connects to the endpoint over TLS; undefined when the cluster is not TLS. */
  tlsOptions(ep: IREndpoint): ConnectionOptions | undefined {
    if (this.tls === undefined) return undefined;
    let options = this.tlsByEndpoint.get(ep);
    if (options === undefined) {
      options = endpointTlsOptions(this.tls, ep.address, ep.port);
      this.tlsByEndpoint.set(ep, options);
    }
    return options;
  }

  /**
   * The endpoint's HTTP/2 session, connecting when there is none usable. A
   * session that received GOAWAY or closed is forgotten at once, so the next
   * request opens a fresh one while the old finishes its streams.
   */
  session(ep: IREndpoint): ClientHttp2Session {
    const key = endpointKey(ep);
    const live = this.sessions.get(key);
    if (live && !live.closed && !live.destroyed) return live;
    const host = ep.address.includes(':') ? `[${ep.address}]` : ep.address;
    // Over TLS, HTTP/2 is agreed by ALPN h2 (node:http2 offers it) rather than assumed.
    const session = this.tls ? connect(`https://${host}:${ep.port}`, this.tls.options) : connect(`http://${host}:${ep.port}`);
    const forget = (): void => {
      if (this.sessions.get(key) === session) this.sessions.delete(key);
    };
    // Failures reach the streams as their own errors; the session's copy only needs a listener.
    session.on('error', forget);
    session.on('goaway', forget);
    session.on('close', forget);
    session.setTimeout(IDLE_SOCKET_TIMEOUT_MS, () => session.close());
    const timer = setTimeout(() => {
      session.destroy(Object.assign(new Error('upstream connect timeout'), { code: 'ETIMEDOUT' }));
    }, CONNECT_TIMEOUT_MS);
    session.once('connect', () => clearTimeout(timer));
    session.once('close', () => clearTimeout(timer));
    this.sessions.set(key, session);
    return session;
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
    if (this.retired && this.inFlight === 0) this.destroy();
  }

  setEndpoints(endpoints: readonly IREndpoint[]): void {
    const kept = new Set(endpoints.map(endpointKey));
    for (const old of this.endpoints) {
      const key = endpointKey(old);
      if (kept.has(key)) continue;
      // Idle connections to an endpoint that left would otherwise linger until timeout; busy ones finish first.
      this.http1Endpoints.get(key)?.close();
      this.http1Endpoints.delete(key);
      this.http1ByEndpoint.delete(old);
      this.sessions.get(key)?.close();
      this.sessions.delete(key);
    }
    this.endpoints = endpoints;
  }

  /** Destroys the connections once the requests using them have finished. */
  retire(): void {
    this.retired = true;
    if (this.inFlight === 0) this.destroy();
  }

  destroy(): void {
    for (const e of this.http1Endpoints.values()) e.destroy();
    this.http1Endpoints.clear();
    for (const s of this.sessions.values()) s.destroy();
    this.sessions.clear();
  }
}

function endpointKey(e: IREndpoint): string {
  return `${e.address}|${e.port}`;
}

export interface ClusterFailure {
  cluster: string;
  error: string;
}

export class ClusterRegistry {
  private readonly pools = new Map<string, ClusterPool>();
  private failures: ClusterFailure[] = [];

  /** The clusters the last update could not create a pool for (their TLS settings cannot be used): their requests get 503. */
  get rejected(): readonly ClusterFailure[] {
    return this.failures;
  }

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
      // A protocol or TLS change needs other connections: the old pool retires like a removed one.
      const cluster = Object.hasOwn(clusters, name) ? clusters[name]! : undefined;
      if (!cluster || cluster.protocol !== pool.protocol || !sameUpstreamTls(cluster.tls, pool.tls?.source)) {
        this.pools.delete(name);
        removed.push(pool);
      }
    }
    this.failures = [];
    for (const [name, cluster] of Object.entries(clusters)) {
      const pool = this.pools.get(name);
      if (pool) {
        pool.setEndpoints(cluster.endpoints);
        continue;
      }
      try {
        this.pools.set(name, new ClusterPool(cluster));
      } catch (err) {
        this.failures.push({ cluster: name, error: `cluster ${name}: ${(err as Error).message}` });
      }
    }
    return removed;
  }

  destroyAll(): void {
    for (const pool of this.pools.values()) pool.destroy();
    this.pools.clear();
  }
}
