import assert from 'node:assert/strict';
import { once } from 'node:events';
import { describe, it } from 'node:test';
import { owned, ownCopy, readInPlace } from '../../src/dataplane/read-in-place.js';
import { socketPair } from './helpers.js';

describe('reading accepted sockets in place', () => {
  it('is available on this Node, hands reads to the callback and not to data listeners, and pauses', async () => {
    const { accepted, client, close } = await socketPair();
    const reads: string[] = [];
    const viaData: Buffer[] = [];
    assert.equal(readInPlace(accepted, (buffer, length) => reads.push(buffer.toString('latin1', 0, length))), true, 'the onread slots were not found: Node changed them');
    accepted.on('data', (b: Buffer) => viaData.push(b));
    accepted.resume();
    client.write('first');
    while (reads.length === 0) await new Promise((r) => setTimeout(r, 5));
    assert.deepEqual(reads, ['first']);

    accepted.pause();
    client.write('second');
    await new Promise((r) => setTimeout(r, 50));
    assert.deepEqual(reads, ['first'], 'nothing is read while paused');
    accepted.resume();
    while (reads.length === 1) await new Promise((r) => setTimeout(r, 5));
    assert.deepEqual(reads, ['first', 'second']);
    assert.deepEqual(viaData, []);

    client.end();
    await once(accepted, 'end');
    close();
  });

  it('copies only bytes that are in the shared read buffer', async () => {
    const { accepted, client, close } = await socketPair();
    let kept: Buffer | undefined;
    let view: Buffer | undefined;
    readInPlace(accepted, (buffer, length) => {
      view = buffer.subarray(0, length);
      kept = owned(view);
    });
    accepted.resume();
    client.write('in place');
    while (kept === undefined) await new Promise((r) => setTimeout(r, 5));
    assert.notEqual(kept.buffer, view!.buffer);
    assert.equal(kept.toString(), 'in place');
    // Not a slice of a shared pool, which it would keep alive for as long as it is kept.
    assert.equal(kept.buffer.byteLength, kept.length);
    const mine = Buffer.from('mine');
    assert.equal(owned(mine), mine);
    close();
  });

  it('joins kept bytes in memory of their own', () => {
    const joined = ownCopy(Buffer.from('GET / HT'), Buffer.from('TP/1.1\r\n'));
    assert.equal(joined.toString(), 'GET / HTTP/1.1\r\n');
    assert.equal(joined.buffer.byteLength, joined.length);
    assert.equal(ownCopy().length, 0);
  });
});
