import assert from 'node:assert/strict';
import { once } from 'node:events';
import { describe, it } from 'node:test';
import { owned, ownCopy, readByNode, readInPlace } from '../../src/dataplane/read-in-place.js';
import { socketPair } from './helpers.js';

describe('reading accepted sockets in place', () => {
  it('is available on this Node, hands reads to the callback and not to data listeners, and pauses', async () => {
    const { accepted, client, close } = await socketPair();
    const reads: string[] = [];
    const viaData: Buffer[] = [];
    assert.equal(readInPlace(accepted, { onRead: (buffer, length) => void reads.push(buffer.toString('latin1', 0, length)) }), true, 'the onread slots were not found: Node changed them');
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

  it('reads into the buffer a reader gives back for the next read', async () => {
    const { accepted, client, close } = await socketPair();
    try {
      const first = Buffer.alloc(64);
      const second = Buffer.alloc(64);
      const into: Buffer[] = [];
      const reads: string[] = [];
      const reader = {
        onRead: (buffer: Buffer, length: number) => {
          into.push(buffer);
          reads.push(buffer.toString('latin1', 0, length));
          return buffer === first ? second : undefined;
        },
      };
      readInPlace(accepted, reader, first);
      accepted.resume();
      for (const [i, text] of ['one', 'two', 'three'].entries()) {
        client.write(text);
        while (reads.length === i) await new Promise((r) => setTimeout(r, 5));
      }
      assert.deepEqual(reads, ['one', 'two', 'three']);
      assert.deepEqual(into.map((b) => (b === first ? 'first' : b === second ? 'second' : 'other')), ['first', 'second', 'second']);
    } finally {
      close();
    }
  });

  it('gives reads back to Node, still to the reader, with the socket timeout kept up to date', async () => {
    const { accepted, client, close } = await socketPair();
    try {
      const reads: string[] = [];
      readInPlace(accepted, { onRead: (buffer, length) => void reads.push(buffer.toString('latin1', 0, length)) });
      readByNode(accepted);
      let timedOut = false;
      accepted.setTimeout(150, () => (timedOut = true));
      accepted.resume();
      // Reads every 50 ms for 400 ms: each one puts the 150 ms timeout off again.
      for (let i = 0; i < 8; i++) {
        client.write(String(i));
        await new Promise((r) => setTimeout(r, 50));
      }
      assert.equal(timedOut, false);
      assert.equal(reads.join(''), '01234567');
      await new Promise((r) => setTimeout(r, 300));
      assert.equal(timedOut, true);
    } finally {
      close();
    }
  });

  it('copies only bytes that are in the shared read buffer', async () => {
    const { accepted, client, close } = await socketPair();
    let kept: Buffer | undefined;
    let view: Buffer | undefined;
    readInPlace(accepted, {
      onRead: (buffer, length) => {
        view = buffer.subarray(0, length);
        kept = owned(view);
      },
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
