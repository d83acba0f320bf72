import type { IRServer } from '../ir/types.js';

/** Whether a listener bound for `current` can serve `next` on the same socket, updated in place. */
export function sameBinding(current: IRServer, next: IRServer): boolean {
  return next.protocol === current.protocol && next.address === current.address && next.port === current.port;
}
