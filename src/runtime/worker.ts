// Entry point of a data-plane worker process (see workers.ts). It serves
// whatever IR the primary sends and drains on SIGTERM or when asked to stop;
// the primary starts a replacement for a worker that exits on its own.

import { DataPlane } from '../dataplane/index.js';
import { IRDecoder } from '../ir/delta.js';
import type { IRConfig } from '../ir/types.js';
import { createLogger } from '../util/log.js';
import { lowerHelperThreadPriority } from './helper-threads.js';
import type { FromWorker, ToWorker } from './workers.js';

const DRAIN_TIMEOUT_MS = 10_000;

const logger = createLogger().child({ worker: process.pid });
const dataPlane = new DataPlane({ logger, udp: process.env.ARCHWAY_WORKER_UDP === '1' });
const decoder = new IRDecoder();
let draining: Promise<void> | undefined;

function reply(msg: FromWorker): void {
  if (process.connected) process.send!(msg);
}

function drain(timeoutMs: number): Promise<void> {
  draining ??= (async () => {
    logger.info('data-plane worker draining');
    await dataPlane.shutdown(timeoutMs);
    process.disconnect?.();
    process.exit(0);
  })();
  return draining;
}

process.on('message', (msg: ToWorker) => {
  switch (msg.type) {
    case 'apply':
      if (draining) {
        reply({ type: 'applied', seq: msg.seq, failures: [], stale: [] });
        break;
      }
      let config: IRConfig;
      try {
        config = decoder.decode(msg.ir);
      } catch (err) {
        logger.warn({ err }, 'configuration delta not usable; asking for the whole configuration');
        reply({ type: 'applied', seq: msg.seq, failures: [], stale: [], resync: true });
        break;
      }
      dataPlane.apply(config).then(
        ({ failures, stale }) => {
          lowerHelperThreadPriority(logger);
          reply({ type: 'applied', seq: msg.seq, failures, stale });
        },
        (err: unknown) => {
          logger.error({ err }, 'apply failed');
          reply({ type: 'applied', seq: msg.seq, failures: [], stale: [] });
        },
      );
      break;
    case 'stats':
      reply({ type: 'stats', seq: msg.seq, stats: dataPlane.stats() });
      break;
    case 'shutdown':
      void drain(msg.timeoutMs);
      break;
  }
});

process.on('SIGTERM', () => void drain(DRAIN_TIMEOUT_MS));
// Ctrl-C reaches the whole process group; the primary decides when workers stop.
process.on('SIGINT', () => {});
// The primary is gone (killed outright): nothing will feed or stop this worker.
process.on('disconnect', () => void drain(DRAIN_TIMEOUT_MS));

reply({ type: 'ready' });
