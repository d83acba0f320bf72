import assert from 'node:assert/strict';
import cluster from 'node:cluster';
import { afterEach, describe, it } from 'node:test';
import { IR_VERSION } from '../../src/ir/types.js';
import { WorkerPool } from '../../src/runtime/workers.js';
import { silentLogger } from '../../src/util/log.js';

/** Resolves with whether `promise` settled within `ms`. */
function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<boolean>((resolve) => { timer = setTimeout(resolve, ms, false); });
  return Promise.race([promise.then(() => true), expired]).finally(() => clearTimeout(timer));
}

const liveWorkers = () => Object.values(cluster.workers ?? {}).filter((w) => w && !w.isDead()).length;

describe('WorkerPool', { timeout: 60_000 }, () => {
  // A shutdown that fails to end its workers must fail the test, not leave them keeping this process alive.
  afterEach(() => {
    for (const w of Object.values(cluster.workers ?? {})) if (w && !w.isDead()) w.process.kill('SIGKILL');
  });

  it('stops workers that are still starting', async () => {
    // Forked, but not yet listening for messages: a shutdown message sent now would be lost.
    const pool = new WorkerPool({ count: 2, logger: silentLogger, logLevel: 'silent' });
    assert.equal(liveWorkers(), 2);
    assert.ok(await settlesWithin(pool.shutdown(1_000), 20_000), 'shutdown waited on a worker that never heard of it');
    assert.equal(liveWorkers(), 0);
  });

  it('kills a worker that does not exit after its drain', async () => {
    const pool = new WorkerPool({ count: 1, logger: silentLogger, logLevel: 'silent' });
    await pool.apply({ irVersion: IR_VERSION, servers: [], clusters: {} });
    const [worker] = Object.values(cluster.workers ?? {});
    // Stopped, it can neither drain nor exit; only SIGKILL ends it.
    worker!.process.kill('SIGSTOP');
    assert.ok(await settlesWithin(pool.shutdown(100), 20_000), 'shutdown waited on a stuck worker');
    assert.equal(worker!.process.signalCode, 'SIGKILL');
  });
});
