import { createHash } from 'node:crypto';
import { STATUS_CODES, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { goHeaderGet } from './go-compat.js';

/**
 * The `/ws` endpoint of upstream echo-basic: golang.org/x/net/websocket's
 * Handler (same handshake checks and refusals) around a loop echoing every
 * data frame back. Unlike upstream, which io.Copy's payload bytes into text
 * frames, each frame keeps its opcode and FIN bit so binary stays binary.
 */

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
// Frames are echoed whole, so this bounds the memory one connection can hold.
export const MAX_FRAME_PAYLOAD = 1 << 20;
// How long a peer gets to finish the closing handshake before the socket is dropped.
const CLOSE_GRACE_MS = 5_000;

const OP_CONTINUATION = 0x0;
const OP_TEXT = 0x1;
const OP_BINARY = 0x2;
const OP_CLOSE = 0x8;
const OP_PING = 0x9;
const OP_PONG = 0xa;

const CLOSE_PROTOCOL_ERROR = 1002;
const CLOSE_TOO_BIG = 1009;

interface Refusal {
  code: number;
  header?: string;
  body?: string;
}

function acceptKey(key: string): string {
  return createHash('sha1').update(key + GUID).digest('base64');
}

function firstHeader(req: IncomingMessage, name: string): string {
  return goHeaderGet(req.rawHeaders, name);
}

/** url.ParseRequestURI's verdict on an Origin: an absolute path or a URI with a scheme, with valid escapes. */
function parsableOrigin(origin: string): boolean {
  return (origin.startsWith('/') || /^[A-Za-z][A-Za-z0-9+.-]*:/.test(origin))
    && !/[\x00-\x20\x7f]/.test(origin) && !/%(?![0-9A-Fa-f]{2})/.test(origin);
}

/** x/net/websocket's checks, in its order: a refusal, or the subprotocol (if any) to accept with. */
function refusal(req: IncomingMessage): Refusal | { protocol?: string } {
  if (req.method !== 'GET') return { code: 405, body: 'bad method' };
  if (firstHeader(req, 'upgrade').toLowerCase() !== 'websocket'
    || !firstHeader(req, 'connection').toLowerCase().includes('upgrade')) {
    return { code: 400, body: 'not websocket protocol' };
  }
  if (firstHeader(req, 'sec-websocket-key') === '') return { code: 400, body: 'mismatch challenge/response' };
  if (firstHeader(req, 'sec-websocket-version') !== '13') {
    return { code: 400, header: 'Sec-WebSocket-Version: 13\r\n', body: 'missing or bad WebSocket Version' };
  }
  const origin = firstHeader(req, 'origin');
  if (origin === '' || !parsableOrigin(origin)) return { code: 403 };
  const offered = firstHeader(req, 'sec-websocket-protocol').trim();
  if (offered === '') return {};
  const protocols = offered.split(',').map((p) => p.trim());
  // x/net/websocket cannot pick one of several subprotocols without a custom Handshake.
  return protocols.length === 1 ? { protocol: protocols[0] } : { code: 400 };
}

function refuse(socket: Duplex, r: Refusal): void {
  socket.end(`HTTP/1.1 ${r.code} ${STATUS_CODES[r.code]}\r\n${r.header ?? ''}\r\n${r.body ?? ''}`);
}

/**
 * Answers a request for `/ws` that Node did not treat as an upgrade: it still
 * owns the socket, so there is no switching protocols, only upstream's refusal.
 */
export function refuseWebSocket(req: IncomingMessage, socket: Duplex): void {
  const verdict = refusal(req);
  refuse(socket, 'code' in verdict ? verdict : { code: 400, body: 'not websocket protocol' });
}

/** Completes (or refuses) the handshake on an upgraded socket and echoes frames until either side closes. */
export function serveWebSocket(req: IncomingMessage, socket: Duplex, head: Buffer, log: (line: string) => void): void {
  socket.on('error', () => socket.destroy());
  const verdict = refusal(req);
  if ('code' in verdict) {
    refuse(socket, verdict);
    return;
  }
  socket.write([
    'HTTP/1.1 101 Switching Protocols',
    'Upgrade: websocket',
    'Connection: Upgrade',
    `Sec-WebSocket-Accept: ${acceptKey(firstHeader(req, 'sec-websocket-key'))}`,
    ...(verdict.protocol !== undefined ? [`Sec-WebSocket-Protocol: ${verdict.protocol}`] : []),
    '', '',
  ].join('\r\n'));
  log(`established websocket connection ${firstHeader(req, 'origin')}`);
  new FrameEchoer(socket).receive(head);
}

function encodeFrame(fin: boolean, opcode: number, payload: Buffer): Buffer {
  const len = payload.length;
  const head = Buffer.alloc(len < 126 ? 2 : len < 65536 ? 4 : 10);
  head[0] = (fin ? 0x80 : 0) | opcode;
  if (len < 126) head[1] = len;
  else if (len < 65536) {
    head[1] = 126;
    head.writeUInt16BE(len, 2);
  } else {
    head[1] = 127;
    head.writeBigUInt64BE(BigInt(len), 2);
  }
  return Buffer.concat([head, payload]);
}

function closePayload(code: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(code);
  return b;
}

class FrameEchoer {
  private buffer: Buffer = Buffer.alloc(0);
  private inMessage = false;
  private closed = false;

  constructor(private readonly socket: Duplex) {
    socket.on('data', (chunk: Buffer) => this.receive(chunk));
    socket.on('end', () => socket.destroy());
    socket.on('drain', () => socket.resume());
  }

  receive(chunk: Buffer): void {
    if (this.closed) return;
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    while (!this.closed && this.step());
  }

  /** Handles the frame at the head of the buffer; false when more bytes are needed. */
  private step(): boolean {
    const buf = this.buffer;
    if (buf.length < 2) return false;
    const fin = (buf[0] & 0x80) !== 0;
    const opcode = buf[0] & 0x0f;
    const masked = (buf[1] & 0x80) !== 0;
    const control = opcode >= 0x8;
    let length = buf[1] & 0x7f;
    // No extensions are negotiated, so RSV bits and unknown opcodes are protocol errors (RFC 6455 5.2).
    if ((buf[0] & 0x70) !== 0 || ![OP_CONTINUATION, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG].includes(opcode)
      || (control && (!fin || length > 125)) || !masked
      || (!control && (opcode === OP_CONTINUATION) !== this.inMessage)) {
      return this.fail(CLOSE_PROTOCOL_ERROR);
    }
    let offset = 2;
    if (length === 126) {
      if (buf.length < 4) return false;
      length = buf.readUInt16BE(2);
      offset = 4;
    } else if (length === 127) {
      if (buf.length < 10) return false;
      const long = buf.readBigUInt64BE(2);
      if (long > BigInt(MAX_FRAME_PAYLOAD)) return this.fail(CLOSE_TOO_BIG);
      length = Number(long);
      offset = 10;
    }
    if (length > MAX_FRAME_PAYLOAD) return this.fail(CLOSE_TOO_BIG);
    if (buf.length < offset + 4 + length) return false;
    const mask = buf.subarray(offset, offset + 4);
    const payload = Buffer.from(buf.subarray(offset + 4, offset + 4 + length));
    for (let i = 0; i < length; i++) payload[i] ^= mask[i & 3];
    this.buffer = buf.subarray(offset + 4 + length);

    switch (opcode) {
      case OP_PING:
        this.send(encodeFrame(true, OP_PONG, payload));
        break;
      case OP_PONG:
        break;
      case OP_CLOSE:
        if (payload.length === 1) return this.fail(CLOSE_PROTOCOL_ERROR);
        this.close(payload.subarray(0, 2));
        break;
      default:
        this.inMessage = !fin;
        this.send(encodeFrame(fin, opcode, payload));
    }
    return true;
  }

  private send(frame: Buffer): void {
    // A client that sends faster than it reads would otherwise grow our write buffer without bound.
    if (!this.socket.write(frame)) this.socket.pause();
  }

  private fail(code: number): false {
    this.close(closePayload(code));
    return false;
  }

  private close(payload: Buffer): void {
    this.closed = true;
    this.buffer = Buffer.alloc(0);
    this.socket.end(encodeFrame(true, OP_CLOSE, payload));
    setTimeout(() => this.socket.destroy(), CLOSE_GRACE_MS).unref();
  }
}
