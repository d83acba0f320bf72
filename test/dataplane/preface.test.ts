import assert from 'node:assert/strict';
import { createServer, connect, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { detectProtocol } from '../../src/dataplane/preface.js';

const PREFACE = 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n';

interface Outcome {
  http2: boolean | undefined;
  /** What the server socket yields after the decision: the bytes put back, then whatever follows. */
  replay: Promise<string>;
  socket: Socket;
  client: Socket;
}

describe('detectProtocol', () => {
  let server: Server;
  let port = 0;
  let timeoutMs = 10_000;
  const outcomes: ((o: { http2: boolean | undefined; socket: Socket }) => void)[] = [];

  before(async () => {
    server = createServer((socket) => {
      const report = outcomes.shift()!;
      detectProtocol(socket, timeoutMs, (http2) => report({ http2, socket }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });
  after(() => new Promise<void>((r) => server.close(() => r())));

  /** Opens a connection, runs `drive` on the client side, and reports the decision. */
  async function decide(drive: (client: Socket) => void, timeout = 10_000): Promise<Outcome> {
    timeoutMs = timeout;
    const decided = new Promise<{ http2: boolean | undefined; socket: Socket }>((r) => outcomes.push(r));
    const client = connect(port, '127.0.0.1');
    client.on('error', () => undefined);
    drive(client);
    const { http2, socket } = await decided;
    const replay = new Promise<string>((resolve) => {
      let text = '';
      socket.setEncoding('latin1');
      socket.on('data', (d: string) => {
        text += d;
        if (text.endsWith('\n')) resolve(text);
      });
      socket.on('close', () => resolve(text));
      socket.resume();
    });
    return { http2, replay, socket, client };
  }

  it('takes the first byte that departs from the preface for HTTP/1.1 and puts the bytes back', async () => {
    const o = await decide((c) => c.write('GET / HTTP/1.1\r\n'));
    assert.equal(o.http2, false);
    assert.equal(await o.replay, 'GET / HTTP/1.1\r\n');
    o.client.destroy();
  });

  it('needs only the first bytes that differ, however few', async () => {
    const o = await decide((c) => c.write('PO'));
    assert.equal(o.http2, false);
    o.client.write('ST / HTTP/1.1\r\n');
    assert.equal(await o.replay, 'POST / HTTP/1.1\r\n');
    o.client.destroy();
  });

  it('recognises the preface whether it comes in one read or several, keeping what follows it', async () => {
    const o = await decide((c) => {
      c.write(PREFACE.slice(0, 5));
      setImmediate(() => c.write(`${PREFACE.slice(5)}frames\n`));
    });
    assert.equal(o.http2, true);
    assert.equal(await o.replay, `${PREFACE}frames\n`);
    o.client.destroy();
  });

  it('hands a silent connection to HTTP/1.1 when the wait is over', async () => {
    const o = await decide(() => undefined, 20);
    assert.equal(o.http2, false);
    o.client.write('late\n');
    assert.equal(await o.replay, 'late\n');
    o.client.destroy();
  });

  it('hands a trickled preface prefix to HTTP/1.1 when the wait is over', async () => {
    const o = await decide((c) => c.write('PRI * HTTP/2'), 20);
    assert.equal(o.http2, false);
    o.client.write('\n');
    assert.equal(await o.replay, 'PRI * HTTP/2\n');
    o.client.destroy();
  });

  it('destroys a connection that ends before showing its protocol', async () => {
    const o = await decide((c) => c.end('PRI'));
    assert.equal(o.http2, undefined);
    assert.equal(o.socket.destroyed, true);
  });
});
