import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { startEchoServer, type EchoServer } from '../../src/echo/index.js';
import { MAX_FRAME_PAYLOAD } from '../../src/echo/websocket.js';

interface Frame {
  fin: boolean;
  opcode: number;
  masked: boolean;
  payload: Buffer;
}

/** A client frame; `mask: null` sends it unmasked, which servers must reject. */
function frame(opcode: number, payload: Buffer | string, opts: { fin?: boolean; mask?: Buffer | null; rsv?: number } = {}): Buffer {
  const data = Buffer.from(payload);
  const mask = opts.mask === undefined ? randomBytes(4) : opts.mask;
  const len = data.length;
  const head = Buffer.alloc(len < 126 ? 2 : len < 65536 ? 4 : 10);
  head[0] = (opts.fin === false ? 0 : 0x80) | (opts.rsv ?? 0) | opcode;
  head[1] = (mask ? 0x80 : 0) | (len < 126 ? len : len < 65536 ? 126 : 127);
  if (len >= 126 && len < 65536) head.writeUInt16BE(len, 2);
  if (len >= 65536) head.writeBigUInt64BE(BigInt(len), 2);
  if (!mask) return Buffer.concat([head, data]);
  return Buffer.concat([head, mask, data.map((b, i) => b ^ mask[i % 4]!)]);
}

/** A raw socket speaking just enough HTTP/1.1 and RFC 6455 to check the server byte by byte. */
class RawClient {
  private buffer = Buffer.alloc(0);
  private waiters: (() => void)[] = [];
  closed = false;

  constructor(readonly socket: Socket) {
    socket.on('data', (c: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, c]);
      this.wake();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake();
    });
    socket.on('error', () => {});
  }

  static async open(port: number): Promise<RawClient> {
    const socket = connect(port, '127.0.0.1');
    await new Promise((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    return new RawClient(socket);
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  private async until<T>(take: () => T | undefined): Promise<T> {
    const deadline = Date.now() + 2_000;
    for (;;) {
      const value = take();
      if (value !== undefined) return value;
      if (this.closed) throw new Error('connection closed');
      if (Date.now() > deadline) throw new Error('timed out');
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 100);
      });
    }
  }

  /** The response head, and whatever body arrived before the server closed (refusals have no length). */
  async response(): Promise<{ head: string; rest: () => Promise<string> }> {
    const head = await this.until(() => {
      const end = this.buffer.indexOf('\r\n\r\n');
      if (end < 0) return undefined;
      const text = this.buffer.subarray(0, end).toString('latin1');
      this.buffer = this.buffer.subarray(end + 4);
      return text;
    });
    return {
      head,
      rest: async () => {
        await this.until(() => (this.closed ? true : undefined)).catch(() => {});
        return this.buffer.toString('latin1');
      },
    };
  }

  async frame(): Promise<Frame> {
    return this.until(() => {
      const b = this.buffer;
      if (b.length < 2) return undefined;
      let len = b[1]! & 0x7f;
      let off = 2;
      if (len === 126) {
        if (b.length < 4) return undefined;
        len = b.readUInt16BE(2);
        off = 4;
      } else if (len === 127) {
        if (b.length < 10) return undefined;
        len = Number(b.readBigUInt64BE(2));
        off = 10;
      }
      if (b.length < off + len) return undefined;
      this.buffer = b.subarray(off + len);
      return { fin: (b[0]! & 0x80) !== 0, opcode: b[0]! & 0x0f, masked: (b[1]! & 0x80) !== 0, payload: Buffer.from(b.subarray(off, off + len)) };
    });
  }

  async closedByServer(): Promise<void> {
    await this.until(() => (this.closed ? true : undefined));
  }
}

function handshake(path: string, key: string, extra: string[] = ['Origin: ws://gateway/test']): string {
  return [`GET ${path} HTTP/1.1`, 'Host: echo', 'Upgrade: websocket', 'Connection: Upgrade',
    `Sec-WebSocket-Key: ${key}`, 'Sec-WebSocket-Version: 13', ...extra, '', ''].join('\r\n');
}

describe('websocket echo on /ws', () => {
  let echo: EchoServer;
  const logs: string[] = [];
  before(async () => {
    echo = await startEchoServer({ port: 0, host: '127.0.0.1', log: (line) => logs.push(line) });
  });
  after(() => echo.close());

  async function connected(extra?: string[]): Promise<RawClient> {
    const client = await RawClient.open(echo.port);
    const key = randomBytes(16).toString('base64');
    client.socket.write(handshake('/ws', key, extra));
    const { head } = await client.response();
    const lines = head.split('\r\n');
    assert.equal(lines[0], 'HTTP/1.1 101 Switching Protocols');
    const accept = createHash('sha1').update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`).digest('base64');
    assert.ok(lines.includes(`Sec-WebSocket-Accept: ${accept}`), head);
    assert.ok(lines.includes('Upgrade: websocket') && lines.includes('Connection: Upgrade'), head);
    return client;
  }

  test('echoes text and binary messages as the conformance test sends them', async () => {
    logs.length = 0;
    const client = await connected();
    client.socket.write(frame(0x1, 'Websocket Support!'));
    assert.deepEqual(await client.frame(), { fin: true, opcode: 0x1, masked: false, payload: Buffer.from('Websocket Support!') });
    client.socket.write(frame(0x2, Buffer.from([1, 2, 3, 4, 5, 6, 7])));
    assert.deepEqual(await client.frame(), { fin: true, opcode: 0x2, masked: false, payload: Buffer.from([1, 2, 3, 4, 5, 6, 7]) });
    assert.deepEqual(logs, ['established websocket connection ws://gateway/test']);
    client.socket.destroy();
  });

  test('handles 16- and 64-bit lengths, fragments, frames split across reads and bytes sent with the handshake', async () => {
    const client = await RawClient.open(echo.port);
    const big = randomBytes(70_000);
    const medium = randomBytes(300);
    // The first frame rides in the same packet as the handshake (the upgrade's "head").
    client.socket.write(Buffer.concat([Buffer.from(handshake('/ws', randomBytes(16).toString('base64'))), frame(0x2, medium)]));
    assert.match((await client.response()).head, /^HTTP\/1\.1 101 /);
    assert.deepEqual((await client.frame()).payload, medium);
    const bytes = frame(0x2, big);
    for (let i = 0; i < bytes.length; i += 1000) client.socket.write(bytes.subarray(i, i + 1000));
    assert.deepEqual((await client.frame()).payload, big);
    client.socket.write(Buffer.concat([frame(0x1, 'hel', { fin: false }), frame(0x0, 'lo')]));
    assert.deepEqual(await client.frame(), { fin: false, opcode: 0x1, masked: false, payload: Buffer.from('hel') });
    assert.deepEqual(await client.frame(), { fin: true, opcode: 0x0, masked: false, payload: Buffer.from('lo') });
    client.socket.destroy();
  });

  test('answers ping with pong, ignores pong, and echoes a close before closing', async () => {
    const client = await connected();
    client.socket.write(Buffer.concat([frame(0xa, 'unsolicited'), frame(0x9, 'are you there')]));
    assert.deepEqual(await client.frame(), { fin: true, opcode: 0xa, masked: false, payload: Buffer.from('are you there') });
    client.socket.write(frame(0x8, Buffer.from([0x03, 0xe8, 0x62, 0x79, 0x65])));
    assert.deepEqual(await client.frame(), { fin: true, opcode: 0x8, masked: false, payload: Buffer.from([0x03, 0xe8]) });
    client.socket.end();
    await client.closedByServer();
  });

  for (const [name, bytes, code] of [
    ['an unmasked frame', frame(0x1, 'hi', { mask: null }), 1002],
    ['a reserved bit', frame(0x1, 'hi', { rsv: 0x40 }), 1002],
    ['an unknown opcode', frame(0x3, 'hi'), 1002],
    ['a fragmented ping', frame(0x9, 'hi', { fin: false }), 1002],
    ['a continuation with no message', frame(0x0, 'hi'), 1002],
    ['a one-byte close', frame(0x8, Buffer.from([3])), 1002],
    ['a frame over the size limit', Buffer.concat([frame(0x2, Buffer.alloc(0)).subarray(0, 1), Buffer.from([0xff]), Buffer.alloc(8)]), 1009],
  ] as const) {
    test(`closes the connection on ${name}`, async () => {
      const client = await connected();
      const header = Buffer.from(bytes);
      // Patch in a 64-bit length just over the limit for the oversize case.
      if (code === 1009) header.writeBigUInt64BE(BigInt(MAX_FRAME_PAYLOAD + 1), 2);
      client.socket.write(header);
      const close = await client.frame();
      assert.equal(close.opcode, 0x8);
      assert.equal(close.payload.readUInt16BE(0), code);
      client.socket.end();
      await client.closedByServer();
    });
  }

  test('refuses handshakes the way x/net/websocket does', async () => {
    const cases: [string, RegExp, string][] = [
      [handshake('/ws', 'k', []), /^HTTP\/1\.1 403 Forbidden$/m, ''],
      [handshake('/ws', 'k', ['Origin: null']), /^HTTP\/1\.1 403 Forbidden$/m, ''],
      [handshake('/ws', 'k', ['Origin: ws://a', 'Sec-WebSocket-Version: 8']).replace('Sec-WebSocket-Version: 13\r\n', ''),
        /^HTTP\/1\.1 400 Bad Request\r\nSec-WebSocket-Version: 13$/, 'missing or bad WebSocket Version'],
      [handshake('/ws', '', ['Origin: ws://a']).replace('Sec-WebSocket-Key: \r\n', ''), /^HTTP\/1\.1 400 Bad Request$/, 'mismatch challenge/response'],
      [handshake('/ws', 'k', ['Origin: ws://a', 'Sec-WebSocket-Protocol: a, b']), /^HTTP\/1\.1 400 Bad Request$/, ''],
      [handshake('/ws', 'k', ['Origin: ws://a']).replace('GET', 'POST'), /^HTTP\/1\.1 405 Method Not Allowed$/, 'bad method'],
      ['GET /ws HTTP/1.1\r\nHost: echo\r\n\r\n', /^HTTP\/1\.1 400 Bad Request$/, 'not websocket protocol'],
    ];
    for (const [request, status, body] of cases) {
      const client = await RawClient.open(echo.port);
      client.socket.write(request);
      const { head, rest } = await client.response();
      assert.match(head, status, request);
      assert.equal(await rest(), body, request);
    }
  });

  test('accepts a single offered subprotocol', async () => {
    const client = await connected(['Origin: http://example.com', 'Sec-WebSocket-Protocol: chat']);
    client.socket.write(frame(0x1, 'x'));
    assert.equal((await client.frame()).payload.toString(), 'x');
    client.socket.destroy();
  });

  test('close() ends upgraded connections too', async () => {
    const other = await startEchoServer({ port: 0, host: '127.0.0.1' });
    const client = await RawClient.open(other.port);
    client.socket.write(handshake('/ws', 'a2V5'));
    await client.response();
    await other.close();
    await client.closedByServer();
  });
});
