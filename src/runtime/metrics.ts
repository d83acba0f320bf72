import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { DataPlaneStats } from '../dataplane/index.js';

export interface RuntimeMetrics {
  registry: Registry;
  reloads: Counter<'result'>;
  translationSeconds: Histogram;
  servers: Gauge;
}

export function createMetrics(): RuntimeMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'archway_' });
  return {
    registry,
    reloads: new Counter({
      name: 'archway_config_applies_total', help: 'Configurations applied, by result', labelNames: ['result'], registers: [registry],
    }),
    translationSeconds: new Histogram({
      name: 'archway_translation_seconds', help: 'Time to translate a snapshot into IR and status',
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1], registers: [registry],
    }),
    servers: new Gauge({ name: 'archway_servers', help: 'Listening sockets (address:port) in the current IR', registers: [registry] }),
  };
}

/**
 * Publishes the data plane's own counters, read at scrape time so the
 * request path pays nothing for metrics.
 */
export function exposeDataPlaneStats(metrics: RuntimeMetrics, read: () => Promise<DataPlaneStats>): void {
  const registers = [metrics.registry];
  new Gauge({
    name: 'archway_http_responses', help: 'HTTP responses completed since start, by status class (a counter read at scrape time)',
    labelNames: ['class'], registers,
    async collect() {
      for (const [cls, n] of Object.entries((await read()).responses)) this.set({ class: cls }, n);
    },
  });
  new Gauge({ name: 'archway_http_requests_active', help: 'Requests in flight', registers, async collect() { this.set((await read()).active); } });
  new Gauge({ name: 'archway_http_requests_aborted', help: 'Responses that closed before completing', registers, async collect() { this.set((await read()).aborted); } });
  new Gauge({ name: 'archway_upstream_errors', help: 'Upstream connect failures, timeouts and resets', registers, async collect() { this.set((await read()).upstreamErrors); } });
  const l4 = (name: string, help: string, key: keyof DataPlaneStats['l4']): void => {
    new Gauge({ name, help, registers, async collect() { this.set((await read()).l4[key]); } });
  };
  l4('archway_stream_connections', 'TLS and TCP connections accepted since start (a counter read at scrape time)', 'connections');
  l4('archway_stream_connections_active', 'TLS and TCP connections open', 'activeConnections');
  l4('archway_stream_connections_rejected', 'TLS and TCP connections closed before reaching a backend (no route, no match, invalid backend, bad hello)', 'rejectedConnections');
  l4('archway_udp_sessions', 'UDP client sessions opened since start', 'udpSessions');
  l4('archway_udp_sessions_active', 'UDP client sessions open', 'activeUdpSessions');
  l4('archway_udp_datagrams_dropped', 'UDP datagrams dropped (no route, invalid backend, session limit)', 'udpDropped');
}
