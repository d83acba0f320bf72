import assert from 'node:assert/strict';
import { once } from 'node:events';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { describe, it } from 'node:test';
import { writeDirect } from '../../src/dataplane/direct-write.js';
import { socketPair } from './helpers.js';

/** Counts the chunks that go through the socket's Writable side. */
function countWritableWrites(socket: Socket): { count: number } {
  const seen = { count: 0 };
  const write = socket._write.bind(socket);
  const writev = socket._writev!.bind(socket);
  socket._write = (chunk, encoding, callback) => {
    seen.count++;
    write(chunk, encoding, callback);
  };
  socket._writev = (chunks, callback) => {
    seen.count += chunks.length;
    writev(chunks, callback);
  };
  return seen;
}

async function received(socket: Socket, length: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  let total = 0;
  socket.on('data', (b: Buffer) => { parts.push(b); total += b.length; });
  socket.resume();
  while (total < length) await new Promise((r) => setTimeout(r, 5));
  return Buffer.concat(parts);
}

describe('writing to a socket directly', () => {
  it('writes an idle socket without its Writable side, in order with the writes after it', async () => {
    const { accepted, client, close } = await socketPair();
    const viaWritable = countWritableWrites(client);
    assert.equal(writeDirect(client, 'head '), true);
    assert.equal(writeDirect(client, Buffer.from('body ')), true);
    assert.equal(viaWritable.count, 0, 'the direct path was not taken: Node changed its stream binding');
    client.write('tail');
    assert.equal((await received(accepted, 14)).toString(), 'head body tail');
    close();
  });

  it('leaves the write to the Writable side while it has bytes queued, and to a socket still connecting', async () => {
    const { accepted, client, close } = await socketPair();
    const viaWritable = countWritableWrites(client);
    client.cork();
    client.write('first ');
    assert.equal(writeDirect(client, 'second'), true);
    client.uncork();
    assert.equal(viaWritable.count, 2);
    assert.equal((await received(accepted, 12)).toString(), 'first second');
    close();

    const server = createServer();
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const early = connect((server.address() as AddressInfo).port, '127.0.0.1');
    assert.equal(early.connecting, true);
    writeDirect(early, 'before connect');
    const [socket] = (await once(server, 'connection')) as [Socket];
    assert.equal((await received(socket, 14)).toString(), 'before connect');
    early.destroy();
    socket.destroy();
    server.close();
  });

  it('returns false for what the kernel cannot take at once, keeps it whole and emits drain once it is out', async () => {
    const { accepted, client, close } = await socketPair();
    const big = Buffer.alloc(32 * 1024 * 1024);
    for (let i = 0; i < big.length; i += 4096) big[i] = (i / 4096) & 0xff;
    const drained = once(client, 'drain');
    assert.equal(writeDirect(client, big), false);
    assert.equal(writeDirect(client, 'after'), false, 'queued behind the first write');
    const bytes = await received(accepted, big.length + 5);
    await drained;
    assert.equal(bytes.length, big.length + 5);
    assert.ok(bytes.subarray(0, big.length).equals(big));
    assert.equal(bytes.subarray(big.length).toString(), 'after');
    close();
  });

  it('destroys the socket with the error of a write that fails', async () => {
    const { accepted, client, close } = await socketPair();
    // The accepted socket reads nothing, so only its write learns of the reset.
    client.resetAndDestroy();
    await new Promise((r) => setTimeout(r, 50));
    const failed = once(accepted, 'error');
    assert.equal(writeDirect(accepted, 'to nobody'), false);
    const [err] = (await failed) as [NodeJS.ErrnoException];
    assert.equal(err.syscall, 'write');
    assert.ok(err.code === 'ECONNRESET' || err.code === 'EPIPE', err.code);
    assert.equal(accepted.destroyed, true);
    close();
  });
});
