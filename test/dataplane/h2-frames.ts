// A raw HTTP/2 client for tests that need to misbehave at frame level, which
// node:http2's client will not do: write any frame sequence (RFC 9113 §4-6),
// see every frame the server sends back. Header blocks are HPACK literals
// without indexing and without Huffman coding (RFC 7541 §6.2.2), which every
// decoder must accept; nothing the server sends is HPACK-decoded beyond
// recognising an indexed `:status` (see statusOf).

import { connect, type Socket } from 'node:net';

const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

export const DATA = 0x0;
export const HEADERS = 0x1;
export const RST_STREAM = 0x3;
export const SETTINGS = 0x4;
export const GOAWAY = 0x7;
export const WINDOW_UPDATE = 0x8;
export const CONTINUATION = 0x9;

export const END_STREAM = 0x1;
export const ACK = 0x1;
const END_HEADERS = 0x4;

export const SETTINGS_MAX_CONCURRENT_STREAMS = 0x3;
export const SETTINGS_INITIAL_WINDOW_SIZE = 0x4;
export const SETTINGS_MAX_HEADER_LIST_SIZE = 0x6;

export interface Frame {
  type: number;
  flags: number;
  stream: number;
  payload: Buffer;
}

export function frame(type: number, flags: number, stream: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  const out = Buffer.allocUnsafe(9 + payload.length);
  out.writeUIntBE(payload.length, 0, 3);
  out[3] = type;
  out[4] = flags;
  out.writeUInt32BE(stream & 0x7fffffff, 5);
  payload.copy(out, 9);
  return out;
}

function settings(entries: [number, number][] = []): Buffer {
  const payload = Buffer.allocUnsafe(entries.length * 6);
  entries.forEach(([id, value], i) => {
    payload.writeUInt16BE(id, i * 6);
    payload.writeUInt32BE(value, i * 6 + 2);
  });
  return frame(SETTINGS, 0, 0, payload);
}

const SETTINGS_ACK = frame(SETTINGS, ACK, 0);

const EMPTY = Buffer.alloc(0);

export function rstStream(stream: number, code: number): Buffer {
  const payload = Buffer.allocUnsafe(4);
  payload.writeUInt32BE(code);
  return frame(RST_STREAM, 0, stream, payload);
}

export function windowUpdate(stream: number, increment: number): Buffer {
  const payload = Buffer.allocUnsafe(4);
  payload.writeUInt32BE(increment);
  return frame(WINDOW_UPDATE, 0, stream, payload);
}

/** An HPACK integer with an `n`-bit prefix, the prefix byte's other bits set to `high` (RFC 7541 §5.1). */
export function hpackInt(value: number, n: number, high: number): number[] {
  const max = (1 << n) - 1;
  if (value < max) return [high | value];
  const out = [high | max];
  value -= max;
  while (value >= 128) {
    out.push((value % 128) + 128);
    value = Math.floor(value / 128);
  }
  out.push(value);
  return out;
}

/** A header block of literal fields without indexing, new names, no Huffman coding. */
export function headerBlock(fields: [string, string][]): Buffer {
  const parts: Buffer[] = [];
  for (const [name, value] of fields) {
    const n = Buffer.from(name, 'latin1');
    const v = Buffer.from(value, 'latin1');
    parts.push(Buffer.from([0x00, ...hpackInt(n.length, 7, 0)]), n, Buffer.from(hpackInt(v.length, 7, 0)), v);
  }
  return Buffer.concat(parts);
}

export function requestFields(path: string, extra: [string, string][] = []): [string, string][] {
  return [[':method', 'GET'], [':scheme', 'http'], [':path', path], [':authority', 'example.com'], ...extra];
}

/** The largest frame payload a peer must accept (RFC 9113 §4.2). */
const MAX_FRAME = 16_384;

/** A HEADERS frame and as many CONTINUATION frames as `block` needs (RFC 9113 §6.10). */
export function headers(stream: number, block: Buffer, opts: { endStream?: boolean } = {}): Buffer {
  const frames: Buffer[] = [];
  for (let at = 0; at === 0 || at < block.length; at += MAX_FRAME) {
    const last = at + MAX_FRAME >= block.length;
    const flags = (at === 0 && opts.endStream ? END_STREAM : 0) | (last ? END_HEADERS : 0);
    frames.push(frame(at === 0 ? HEADERS : CONTINUATION, flags, stream, block.subarray(at, at + MAX_FRAME)));
  }
  return Buffer.concat(frames);
}

/** The :status of a response HEADERS payload when it is one of HPACK's indexed ones (RFC 7541 Appendix A: 200 ... 500). */
export function statusOf(payload: Buffer): number | undefined {
  const STATIC: Record<number, number> = { 8: 200, 9: 204, 10: 206, 11: 304, 12: 400, 13: 404, 14: 500 };
  return payload[0]! & 0x80 ? STATIC[payload[0]! & 0x7f] : undefined;
}

export function goawayOf(f: Frame): { lastStream: number; code: number } {
  return { lastStream: f.payload.readUInt32BE(0) & 0x7fffffff, code: f.payload.readUInt32BE(4) };
}

/** The first SETTINGS frame's value for `id`, if the server sent one. */
export function settingOf(f: Frame, id: number): number | undefined {
  for (let i = 0; i + 6 <= f.payload.length; i += 6) if (f.payload.readUInt16BE(i) === id) return f.payload.readUInt32BE(i + 2);
  return undefined;
}

export interface RawOptions {
  /** Acknowledge the server's SETTINGS (default true). */
  ackSettings?: boolean;
  /** Our own SETTINGS entries, sent after the preface. */
  settings?: [number, number][];
}

/** One connection speaking HTTP/2 frame by frame. */
export class RawH2 {
  readonly frames: Frame[] = [];
  /** DATA payload bytes received, per stream; the payloads themselves are not kept. */
  readonly dataBytes = new Map<number, number>();
  readonly closed: Promise<void>;
  private pending: Buffer = Buffer.alloc(0);
  private readonly waiters = new Set<{ match: (f: Frame) => boolean; resolve: (f: Frame) => void }>();

  private constructor(
    readonly socket: Socket,
    private readonly opts: RawOptions,
  ) {
    socket.on('data', (chunk: Buffer) => this.read(chunk));
    // The server may close while we are still writing a flood.
    socket.on('error', () => undefined);
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
  }

  static open(port: number, opts: RawOptions = {}): Promise<RawH2> {
    return new Promise((resolve, reject) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('error', reject);
      socket.once('connect', () => {
        socket.off('error', reject);
        const raw = new RawH2(socket, opts);
        raw.write(PREFACE, settings(opts.settings));
        resolve(raw);
      });
    });
  }

  write(...bufs: Buffer[]): boolean {
    return this.socket.write(bufs.length === 1 ? bufs[0]! : Buffer.concat(bufs));
  }

  /** The first frame (already received or yet to come) that matches; rejects after `timeoutMs` or when the connection closes first. */
  waitFor(match: (f: Frame) => boolean, timeoutMs = 5_000): Promise<Frame> {
    const seen = this.frames.find(match);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const waiter = {
        match,
        resolve: (f: Frame) => {
          clearTimeout(timer);
          this.waiters.delete(waiter);
          resolve(f);
        },
      };
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(new Error(`no matching frame within ${timeoutMs} ms; got ${this.describe()}`));
      }, timeoutMs);
      this.waiters.add(waiter);
      void this.closed.then(() => {
        // Frames read before the close have been matched already.
        if (!this.waiters.has(waiter)) return;
        clearTimeout(timer);
        this.waiters.delete(waiter);
        reject(new Error(`connection closed without a matching frame; got ${this.describe()}`));
      });
    });
  }

  /** Whether the server closes the connection within `timeoutMs`. */
  closesWithin(timeoutMs: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    return Promise.race([
      this.closed.then(() => true),
      new Promise<boolean>((resolve) => (timer = setTimeout(resolve, timeoutMs, false))),
    ]).finally(() => clearTimeout(timer));
  }

  goaway(): Frame | undefined {
    return this.frames.find((f) => f.type === GOAWAY);
  }

  /** The frames received, summarised for assertion messages. */
  describe(): string {
    const counts = new Map<string, number>();
    for (const f of this.frames) counts.set(`${f.type}`, (counts.get(`${f.type}`) ?? 0) + 1);
    const goaway = this.goaway();
    return `${JSON.stringify(Object.fromEntries(counts))}${goaway ? ` goaway ${JSON.stringify(goawayOf(goaway))}` : ''}`;
  }

  destroy(): void {
    this.socket.destroy();
  }

  private read(chunk: Buffer): void {
    this.pending = this.pending.length === 0 ? chunk : Buffer.concat([this.pending, chunk]);
    while (this.pending.length >= 9) {
      const length = this.pending.readUIntBE(0, 3);
      if (this.pending.length < 9 + length) break;
      const type = this.pending[3]!;
      const stream = this.pending.readUInt32BE(5) & 0x7fffffff;
      // DATA is only counted: a flow-control test may take in tens of MiB.
      const payload = type === DATA ? EMPTY : Buffer.from(this.pending.subarray(9, 9 + length));
      const f: Frame = { type, flags: this.pending[4]!, stream, payload };
      this.pending = this.pending.subarray(9 + length);
      if (type === DATA) this.dataBytes.set(stream, (this.dataBytes.get(stream) ?? 0) + length);
      if (type === SETTINGS && !(f.flags & ACK) && this.opts.ackSettings !== false) this.write(SETTINGS_ACK);
      this.frames.push(f);
      for (const w of this.waiters) if (w.match(f)) w.resolve(f);
    }
  }
}
