import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

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
