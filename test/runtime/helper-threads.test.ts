import assert from 'node:assert/strict';
import { once } from 'node:events';
import { describe, it } from 'node:test';
import { Worker } from 'node:worker_threads';
import { lowerHelperThreadPriority } from '../../src/runtime/helper-threads.js';
import { silentLogger } from '../../src/util/log.js';
import { threadNiceValues } from '../e2e/helpers.js';

const LOWEST = 19;

// Node runs each test file in a process of its own, so this one's threads are free to change.
describe('lowerHelperThreadPriority', { skip: process.platform !== 'linux' && 'thread priorities are per thread on Linux only' }, () => {
  it('moves every thread but the event loop to the lowest priority, including threads started since', async () => {
    const base = (await threadNiceValues(process.pid)).get(process.pid);
    lowerHelperThreadPriority(silentLogger);
    const first = await threadNiceValues(process.pid);
    assert.equal(first.get(process.pid), base);
    assert.ok(first.size >= 5, `V8's helper threads: found ${first.size - 1}`);
    for (const [tid, nice] of first) if (tid !== process.pid) assert.equal(nice, LOWEST, `thread ${tid}`);

    const late = new Worker('setInterval(() => {}, 1000)', { eval: true });
    try {
      await once(late, 'online');
      const started = [...(await threadNiceValues(process.pid))].filter(([tid]) => !first.has(tid));
      assert.ok(started.length > 0, 'the worker runs on a thread of its own');
      assert.ok(started.every(([, nice]) => nice === base), 'a new thread starts at the priority of the process');
      lowerHelperThreadPriority(silentLogger);
      const again = await threadNiceValues(process.pid);
      for (const [tid] of started) assert.equal(again.get(tid), LOWEST, `thread ${tid}`);
      assert.equal(again.get(process.pid), base);
    } finally {
      await late.terminate();
    }
  });
});
