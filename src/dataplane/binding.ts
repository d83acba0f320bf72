import type { Server } from 'node:net';
import type { IRServer } from '../ir/types.js';
import type { Logger } from '../util/log.js';

/** Whether a listener bound for `current` can serve `next` on the same socket, updated in place. */
export function sameBinding(current: IRServer, next: IRServer): boolean {
  return next.protocol === current.protocol && next.address === current.address && next.port === current.port;
}

/** Binds `server` to the IR server's address; rejects on a bind error, logs errors after that. */
export function listenOn(server: Server, ir: IRServer, logger: Logger): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: ir.address, port: ir.port }, () => {
      server.off('error', reject);
      server.on('error', (err) => logger.error({ err }, 'server error'));
      resolve();
    });
  });
}
