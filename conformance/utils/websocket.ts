// The client side of upstream's conformance/utils/websocket (which wraps
// golang.org/x/net/websocket): an RFC 6455 handshake on a raw socket, then
// whole messages sent as single masked frames and read back unfragmented or
// reassembled from continuation frames.
import { createHash, randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

export const OpText = 0x1;
export const OpBinary = 0x2;
const OpContinuation = 0x0;
const OpClose = 0x8;
const OpPing = 0x9;
const OpPong = 0xa;

export interface WebSocketMessage {
  opcode: number;
  data: Buffer;
}

/** Sec-WebSocket-Accept for a key (RFC 6455 section 4.2.2). */
export function acceptKey(key: string): string {
  return createHash('sha1').update(key + GUID).digest('base64');
}

/** A client frame: FIN set, masked, with the 7/16/64-bit length forms. */
export function encodeFrame(opcode: number, payload: Buffer, mask: Buffer = randomBytes(4)): Buffer {
  const len = payload.length;
  const head = len < 126 ? Buffer.alloc(2) : len < 65536 ? Buffer.alloc(4) : Buffer.alloc(10);
  head[0] = 0x80 | opcode;
  if (len < 126) head[1] = 0x80 | len;
  else if (len < 65536) {
    head[1] = 0x80 | 126;
    head.writeUInt16BE(len, 2);
  } else {
    head[1] = 0x80 | 127;
    head.writeBigUInt64BE(BigInt(len), 2);
  }
  const body = Buffer.alloc(len);
  for (let i = 0; i < len; i++) body[i] = payload[i]! ^ mask[i % 4]!;
  return Buffer.concat([head, mask, body]);
}

interface Frame {
  fin: boolean;
  opcode: number;
  payload: Buffer;
  size: number;
}

/** Parses one frame at the start of buf, or undefined when more bytes are needed. */
export function decodeFrame(buf: Buffer): Frame | undefined {
  if (buf.length < 2) return undefined;
  const fin = (buf[0]! & 0x80) !== 0;
  const opcode = buf[0]! & 0x0f;
  const masked = (buf[1]! & 0x80) !== 0;
  let len = buf[1]! & 0x7f;
  let off = 2;
  if (len === 126) {
    if (buf.length < 4) return undefined;
    len = buf.readUInt16BE(2);
    off = 4;
  } else if (len === 127) {
    if (buf.length < 10) return undefined;
    len = Number(buf.readBigUInt64BE(2));
    off = 10;
  }
  const mask = masked ? buf.subarray(off, off + 4) : undefined;
  if (masked) off += 4;
  if (buf.length < off + len) return undefined;
  const payload = Buffer.from(buf.subarray(off, off + len));
  if (mask) for (let i = 0; i < len; i++) payload[i] = payload[i]! ^ mask[i % 4]!;
  return { fin, opcode, payload, size: off + len };
}

export class WebSocketConn {
  private buffer: Buffer;
  private waiter?: () => void;
  private ended?: Error;

  constructor(private readonly socket: Socket, leftover: Buffer) {
    this.buffer = leftover;
    socket.on('data', (c: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, c]);
      this.waiter?.();
    });
    const end = (err?: Error) => {
      this.ended ??= err ?? new Error('EOF');
      this.waiter?.();
    };
    socket.on('end', () => end());
    socket.on('close', () => end());
    socket.on('error', end);
  }

  send(opcode: number, data: Buffer | string): void {
    this.socket.write(encodeFrame(opcode, typeof data === 'string' ? Buffer.from(data, 'utf8') : data));
  }

  /** The next data message, answering pings on the way. */
  async receive(timeoutMs: number): Promise<WebSocketMessage> {
    const deadline = Date.now() + timeoutMs;
    let opcode: number | undefined;
    const parts: Buffer[] = [];
    for (;;) {
      const frame = decodeFrame(this.buffer);
      if (!frame) {
        if (this.ended) throw this.ended;
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`no websocket frame within ${timeoutMs}ms`);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, left);
          this.waiter = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        this.waiter = undefined;
        continue;
      }
      this.buffer = this.buffer.subarray(frame.size);
      if (frame.opcode === OpPing) {
        this.send(OpPong, frame.payload);
        continue;
      }
      if (frame.opcode === OpPong) continue;
      if (frame.opcode === OpClose) throw new Error(`websocket closed by peer${frame.payload.length >= 2 ? ` (code ${frame.payload.readUInt16BE(0)})` : ''}`);
      if (frame.opcode !== OpContinuation) opcode = frame.opcode;
      parts.push(frame.payload);
      if (frame.fin) return { opcode: opcode ?? OpContinuation, data: Buffer.concat(parts) };
    }
  }

  close(): void {
    if (!this.socket.destroyed) {
      this.socket.write(encodeFrame(OpClose, Buffer.from([0x03, 0xe8])));
      this.socket.end();
      this.socket.destroy();
    }
  }
}

/**
 * Dials `ws://host:port/path` like x/net/websocket's Dial: Host is the URL's
 * host, Origin the given origin, no subprotocol unless asked.
 */
export function dialWebSocket(url: string, protocol: string, origin: string, timeoutMs: number): Promise<WebSocketConn> {
  const u = new URL(url);
  if (u.protocol !== 'ws:') return Promise.reject(new Error(`unsupported websocket scheme in ${url}`));
  const key = randomBytes(16).toString('base64');
  return new Promise((resolve, reject) => {
    const socket = connect({ host: u.hostname.replace(/^\[|\]$/g, ''), port: Number(u.port || 80) });
    const timer = setTimeout(() => socket.destroy(new Error(`websocket handshake timed out after ${timeoutMs}ms`)), timeoutMs);
    let head = Buffer.alloc(0);
    const fail = (err: Error) => {
      clearTimeout(timer);
      socket.destroy();
      reject(err);
    };
    const onData = (c: Buffer) => {
      head = Buffer.concat([head, c]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      socket.off('data', onData);
      clearTimeout(timer);
      const lines = head.subarray(0, end).toString('latin1').split('\r\n');
      const status = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '');
      const fields = new Map<string, string>();
      for (const line of lines.slice(1)) {
        const i = line.indexOf(':');
        if (i > 0) fields.set(line.slice(0, i).trim().toLowerCase(), line.slice(i + 1).trim());
      }
      if (status?.[1] !== '101') return fail(new Error(`websocket: bad status: ${lines[0] ?? ''}`));
      if ((fields.get('upgrade') ?? '').toLowerCase() !== 'websocket') return fail(new Error('websocket: bad upgrade header'));
      if (!(fields.get('connection') ?? '').toLowerCase().split(/\s*,\s*/).includes('upgrade')) return fail(new Error('websocket: bad connection header'));
      if (fields.get('sec-websocket-accept') !== acceptKey(key)) return fail(new Error('websocket: mismatch challenge/response'));
      socket.off('error', fail);
      resolve(new WebSocketConn(socket, head.subarray(end + 4)));
    };
    socket.on('data', onData);
    socket.on('error', fail);
    socket.on('close', () => fail(new Error('websocket: connection closed during handshake')));
    socket.on('connect', () => {
      const lines = [
        `GET ${u.pathname}${u.search} HTTP/1.1`,
        `Host: ${u.host}`,
        'Upgrade: websocket',
        'Connection: Upgrade',
        `Sec-WebSocket-Key: ${key}`,
        `Origin: ${origin}`,
        ...(protocol ? [`Sec-WebSocket-Protocol: ${protocol}`] : []),
        'Sec-WebSocket-Version: 13',
      ];
      socket.write(`${lines.join('\r\n')}\r\n\r\n`);
    });
  });
}
