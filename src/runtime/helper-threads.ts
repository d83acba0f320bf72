// A data-plane process serves every request on one thread, its event loop.
// Its other threads are helpers: V8 marks and sweeps the heap concurrently and
// compiles optimised code on a pool of its own, and libuv runs file system and
// DNS work on another. When a helper shares a CPU with the event loop, the
// scheduler gives it time slices of a few milliseconds each, and every request
// waits them out: in the bench, with the process pinned to one CPU, the
// compiling and marking that follow start-up took 60–96 ms of the event loop's
// time that way within seconds, against 4–15 ms with the helpers at the lowest
// priority (perf sched_switch). At that
// priority they run when the event loop is idle, and it preempts them as soon
// as a request arrives. V8 finishes marking on the event loop itself when its
// helpers fall behind, so a saturated process loses nothing but the overlap.

import { readdirSync } from 'node:fs';
import { constants, getPriority, setPriority } from 'node:os';
import type { Logger } from '../util/log.js';

const LOWEST = constants.priority.PRIORITY_LOW;
const THREADS_DIR = '/proc/self/task';

/**
 * Moves every thread of this process but the event loop's to the lowest
 * scheduling priority. Linux gives each thread its own nice value, addressed
 * by thread id; elsewhere nothing changes. Helpers are started lazily (libuv's
 * pool on first use), so data-plane processes call this after every apply:
 * the first opens the listeners, later ones may have started new threads.
 */
export function lowerHelperThreadPriority(logger: Logger): void {
  let threads: string[];
  try {
    threads = readdirSync(THREADS_DIR);
  } catch {
    return;
  }
  for (const name of threads) {
    const tid = Number(name);
    if (tid === process.pid) continue;
    try {
      if (getPriority(tid) !== LOWEST) setPriority(tid, LOWEST);
    } catch (err) {
      // Usually a thread that ended since the listing.
      logger.debug({ err, tid }, 'helper thread priority unchanged');
    }
  }
}
