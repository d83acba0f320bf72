// The data plane: serves an IRConfig. Knows nothing of Gateway API objects.

import type { IRConfig, IRServer } from '../ir/types.js';
import type { Logger } from '../util/log.js';
import { ClusterRegistry } from './clusters.js';
import { compileStreamServer, createL4Listener, isStreamProtocol, type CompiledStreamServer, type L4Listener } from './l4/index.js';
import { HTTP2_TIMEOUTS, Listener, type CompiledServer, type Http2Timeouts } from './listener.js';
import { compileRouteTable, RouteCompiler } from './router.js';
import { Counters, type DataPlaneStats } from './stats.js';
import { compileTls } from './tls.js';

export type { DataPlaneStats } from './stats.js';

export interface DataPlaneOptions {
  logger: Logger;
  /**
   * Whether this data plane binds UDP servers (default true). Of several
   * worker processes only one does: a UDP socket shared by all would hand one
   * client's datagrams to different workers, each with a session and an
   * upstream socket of its own.
   */
  udp?: boolean;
  /** Overrides of the HTTP/2 session clocks (defaults: HTTP2_TIMEOUTS). */
  http2Timeouts?: Partial<Http2Timeouts>;
}

/** A compiled server of either family, and the listener that serves it. */
type Compiled = { ir: IRServer } & ({ family: 'http'; server: CompiledServer } | { family: 'stream'; server: CompiledStreamServer });
type AnyListener = Listener | L4Listener;

export interface ServerFailure {
  serverId: string;
  owner: string;
  error: string;
}

export interface ApplyResult {
  failures: ServerFailure[];
  /** Servers that keep some older certificates because the new ones did not load (logged by their listener). */
  stale: string[];
}

/**
 * Node carves Buffers under half this size out of shared pools, each one
 * ArrayBuffer that every scavenge must sweep while it is young. The proxy
 * takes a few hundred pooled bytes a request (a response's head and body go
 * out as one buffer), so at Node's default of 8 KiB it made a pool every
 * few dozen requests, and sweeping them was a fifth of each scavenge's pause:
 * 0.19 of 1.0 ms at 22,400 req/s over 32 connections (--trace-gc-nvp). At
 * 64 KiB it is 0.05 of 0.8 ms. What a connection keeps while it waits is
 * copied out of the pools (ownCopy), so a slow client cannot pin one.
 */
const DATA_PLANE_BUFFER_POOL_BYTES = 64 * 1024;

export class DataPlane {
  private readonly logger: Logger;
  private readonly counters = new Counters();
  private readonly clusters = new ClusterRegistry();
  private readonly listeners = new Map<string, AnyListener>();
  private readonly udp: boolean;
  private readonly http2Timeouts: Http2Timeouts;
  private readonly routes = new RouteCompiler((name) => this.clusters.get(name));
  /** Applies run one at a time, in call order. */
  private queue: Promise<unknown> = Promise.resolve();
  private stopped = false;

  constructor(opts: DataPlaneOptions) {
    // Process-wide, and meant to be: a process runs one data plane, and the data plane is what allocates.
    Buffer.poolSize = DATA_PLANE_BUFFER_POOL_BYTES;
    this.logger = opts.logger;
    this.udp = opts.udp ?? true;
    this.http2Timeouts = { ...HTTP2_TIMEOUTS, ...opts.http2Timeouts };
  }

  /**
   * Compiles the IR and swaps it in. A server whose routes or certificates do
   * not compile, or whose socket cannot be bound, is reported in `failures`
   * and keeps its previous configuration (or stays closed if it had none);
   * a bind failure is retried on the next apply.
   */
  apply(ir: IRConfig): Promise<ApplyResult> {
    const run = this.queue.then(() => this.applyNow(ir));
    this.queue = run.catch(() => undefined);
    return run;
  }

  boundPort(serverId: string): number | undefined {
    return this.listeners.get(serverId)?.port();
  }

  stats(): DataPlaneStats {
    return this.counters.snapshot();
  }

  async shutdown(timeoutMs: number): Promise<void> {
    this.stopped = true;
    await this.queue;
    const listeners = [...this.listeners.values()];
    this.listeners.clear();
    let timer: NodeJS.Timeout | undefined;
    const drained = Promise.all(listeners.map((l) => l.close()));
    const expired = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, timeoutMs);
    });
    await Promise.race([drained, expired]);
    clearTimeout(timer);
    for (const l of listeners) l.destroyConnections();
    await drained;
    this.clusters.destroyAll();
  }

  private async applyNow(ir: IRConfig): Promise<ApplyResult> {
    if (this.stopped) throw new Error('data plane has been shut down');
    const failures: ServerFailure[] = [];
    const fail = (s: IRServer, err: unknown): void => {
      const error = err instanceof Error ? err.message : String(err);
      failures.push({ serverId: s.id, owner: s.owner, error });
      this.logger.warn({ server: s.id, owner: s.owner, error }, 'server configuration rejected');
    };

    const retiredPools = this.clusters.update(ir.clusters);
    // Their requests get 503 rather than going out in plaintext or to an unverified peer.
    for (const f of this.clusters.rejected) this.logger.warn({ cluster: f.cluster, error: f.error }, 'cluster TLS configuration rejected');
    if (retiredPools.length > 0) this.routes.forget();
    const compiled: Compiled[] = [];
    const servers = this.udp ? ir.servers : ir.servers.filter((s) => s.protocol !== 'UDP');
    for (const s of servers) {
      try {
        compiled.push(this.compile(s));
      } catch (err) {
        fail(s, err);
      }
    }

    // Swap every surviving listener in one synchronous step.
    const toOpen: Compiled[] = [];
    const replaced: AnyListener[] = [];
    for (const c of compiled) {
      const existing = this.listeners.get(c.ir.id);
      if (existing?.accepts(c.ir)) {
        update(existing, c);
      } else {
        if (existing) {
          this.listeners.delete(c.ir.id);
          replaced.push(existing);
        }
        toOpen.push(c);
      }
    }
    const wanted = new Set(servers.map((s) => s.id));
    for (const [id, l] of this.listeners) {
      if (!wanted.has(id)) {
        this.listeners.delete(id);
        replaced.push(l);
      }
    }
    for (const pool of retiredPools) pool.retire();
    // Closed before opening: a new server may want the address an old one held.
    for (const l of replaced) void l.close();
    if (replaced.length > 0 && toOpen.length > 0) await new Promise(setImmediate);

    await Promise.all(
      toOpen.map(async (c) => {
        const l = c.family === 'http' ? new Listener(c.server, this.logger, this.counters, this.http2Timeouts) : createL4Listener(c.server, this.logger, this.counters);
        try {
          await l.listen();
          this.listeners.set(c.ir.id, l);
        } catch (err) {
          fail(c.ir, err);
        }
      }),
    );
    this.logger.debug({ servers: ir.servers.length, clusters: Object.keys(ir.clusters).length, failures: failures.length }, 'configuration applied');
    return { failures, stale: compiled.filter(keepsOlderCertificates).map((c) => c.ir.id) };
  }

  private compile(s: IRServer): Compiled {
    const previous = this.listeners.get(s.id);
    if (isStreamProtocol(s.protocol)) {
      const before = previous instanceof Listener ? undefined : previous?.compiled();
      return { ir: s, family: 'stream', server: compileStreamServer(s, (name) => this.clusters.get(name), before) };
    }
    const table = compileRouteTable(s, this.routes);
    const tls = s.protocol === 'HTTPS' ? compileTls(s.tls, previous instanceof Listener ? previous.compiledTls() : undefined) : undefined;
    return { ir: s, family: 'http', server: { ir: s, table, tls } };
  }
}

function keepsOlderCertificates(c: Compiled): boolean {
  if (c.family === 'http') return (c.server.tls?.problems.length ?? 0) > 0;
  return c.server.sni?.routes.some((r) => (r.terminate?.problems.length ?? 0) > 0) ?? false;
}

/** Called once `accepts` has said the socket fits, so the families match. */
function update(listener: AnyListener, c: Compiled): void {
  if (c.family === 'http' && listener instanceof Listener) listener.update(c.server);
  else if (c.family === 'stream' && !(listener instanceof Listener)) listener.update(c.server);
  else throw new Error(`listener of ${c.ir.id} cannot serve ${c.ir.protocol}`);
}
