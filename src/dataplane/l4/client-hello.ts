// Reading the server name (SNI) and ALPN list from a TLS ClientHello before
// deciding where a connection goes, without consuming it: the caller buffers
// the connection's first bytes and calls parseClientHello on all of them each
// time it has at least `needed` bytes. The hello may be split over several
// handshake records (RFC 8446 §5.1) and arrive in any number of reads.
//
// Hostile input is bounded: a record longer than TLS allows, a hello longer
// than MAX_CLIENT_HELLO_BYTES, or a hello fragmented into so many records
// that it would need more than MAX_BUFFERED_BYTES is invalid, and `needed` is
// always more than the caller has, so the caller holds at most
// MAX_BUFFERED_BYTES plus one read.

const RECORD_HEADER = 5;
const HANDSHAKE_HEADER = 4;
const CONTENT_HANDSHAKE = 0x16;
const HANDSHAKE_CLIENT_HELLO = 0x01;
const EXT_SERVER_NAME = 0x0000;
const EXT_ALPN = 0x0010;
const NAME_TYPE_HOST = 0x00;
/** TLSPlaintext.length may not exceed 2^14 (RFC 8446 §5.1). */
const MAX_RECORD_PAYLOAD = 16_384;

/** The whole handshake message, header included. Real hellos are a few KiB, post-quantum key shares included. */
export const MAX_CLIENT_HELLO_BYTES = 16_384;

/** The hello plus its record headers: room for it to be fragmented into a few dozen records, not one per byte. */
export const MAX_BUFFERED_BYTES = MAX_CLIENT_HELLO_BYTES + 64 * RECORD_HEADER;

export const NEED_MORE = 0;
export const HELLO = 1;
export const INVALID = 2;

export type ClientHelloResult =
  /** Call again once at least `needed` bytes (in total, from the first) have arrived. */
  | { status: typeof NEED_MORE; needed: number }
  | {
      status: typeof HELLO;
      /** The host_name, lower-cased; absent when the client sent none. */
      serverName: string | undefined;
      /** The client's ALPN protocols in its order; empty when it sent none. */
      alpn: string[];
    }
  | { status: typeof INVALID; reason: string };

function need(needed: number): ClientHelloResult {
  return needed > MAX_BUFFERED_BYTES ? invalid('client hello too large') : { status: NEED_MORE, needed };
}

function invalid(reason: string): ClientHelloResult {
  return { status: INVALID, reason };
}

/** `data` holds the connection's bytes from the first one on. */
export function parseClientHello(data: Buffer): ClientHelloResult {
  // Walks the records, checking each header as soon as it is there so that a
  // connection that is not TLS is refused on its first read.
  let off = 0;
  let fragments = 0;
  let handshakeBytes = 0;
  let messageLength = -1;
  for (;;) {
    const bad = checkRecordHeader(data, off);
    if (bad !== undefined) return bad;
    if (data.length < off + RECORD_HEADER) return need(off + RECORD_HEADER);
    const payload = data.readUInt16BE(off + 3);
    const present = Math.min(payload, data.length - off - RECORD_HEADER);
    fragments++;
    if (messageLength < 0) {
      // The message header is read as soon as its 4 bytes are in, so a hello too large is refused early.
      const available = handshakeBytes + present;
      if (available > 0 && handshakeByte(data, 0) !== HANDSHAKE_CLIENT_HELLO) return invalid('not a client hello');
      if (available >= HANDSHAKE_HEADER) {
        messageLength =
          HANDSHAKE_HEADER + ((handshakeByte(data, 1) << 16) | (handshakeByte(data, 2) << 8) | handshakeByte(data, 3));
        if (messageLength > MAX_CLIENT_HELLO_BYTES) return invalid('client hello too large');
      }
    }
    // Whatever the record holds past the hello is not needed to route it.
    if (messageLength >= 0 && handshakeBytes + present >= messageLength) break;
    if (present < payload) {
      const wanted = messageLength >= 0 ? messageLength - handshakeBytes : HANDSHAKE_HEADER - handshakeBytes;
      return need(off + RECORD_HEADER + Math.min(payload, wanted));
    }
    handshakeBytes += payload;
    off += RECORD_HEADER + payload;
  }
  const message =
    fragments === 1 ? data.subarray(RECORD_HEADER, RECORD_HEADER + messageLength) : reassemble(data, messageLength);
  return parseBody(message);
}

/** An INVALID result when the (possibly partial) record header at `off` cannot start or continue a hello. */
function checkRecordHeader(data: Buffer, off: number): ClientHelloResult | undefined {
  const n = data.length - off;
  if (n >= 1 && data[off] !== CONTENT_HANDSHAKE) return invalid('not a TLS handshake record');
  // legacy_record_version: 3.0 to 3.4 (SSL 3.0 to TLS 1.3).
  if (n >= 2 && data[off + 1] !== 0x03) return invalid('not a TLS record version');
  if (n >= 3 && data[off + 2]! > 0x04) return invalid('not a TLS record version');
  if (n >= RECORD_HEADER) {
    const payload = data.readUInt16BE(off + 3);
    // Zero-length handshake fragments are forbidden (RFC 8446 §5.1).
    if (payload === 0 || payload > MAX_RECORD_PAYLOAD) return invalid('bad TLS record length');
  }
  return undefined;
}

/** Byte `index` of the handshake stream, skipping record headers; the records up to it are known to be present. */
function handshakeByte(data: Buffer, index: number): number {
  let off = 0;
  for (;;) {
    const payload = data.readUInt16BE(off + 3);
    if (index < payload) return data[off + RECORD_HEADER + index]!;
    index -= payload;
    off += RECORD_HEADER + payload;
  }
}

function reassemble(data: Buffer, messageLength: number): Buffer {
  const out = Buffer.allocUnsafe(messageLength);
  let off = 0;
  let copied = 0;
  while (copied < messageLength) {
    const payload = data.readUInt16BE(off + 3);
    const take = Math.min(payload, messageLength - copied);
    data.copy(out, copied, off + RECORD_HEADER, off + RECORD_HEADER + take);
    copied += take;
    off += RECORD_HEADER + payload;
  }
  return out;
}

/** `m` is the whole handshake message, its 4-byte header included. */
function parseBody(m: Buffer): ClientHelloResult {
  const end = m.length;
  // legacy_version, random
  let p = HANDSHAKE_HEADER + 2 + 32;
  if (p + 1 > end) return invalid('truncated client hello');
  const sessionId = m[p]!;
  if (sessionId > 32) return invalid('bad session id length');
  p += 1 + sessionId;
  if (p + 2 > end) return invalid('truncated client hello');
  const suites = m.readUInt16BE(p);
  if (suites < 2 || (suites & 1) !== 0) return invalid('bad cipher suites length');
  p += 2 + suites;
  if (p + 1 > end) return invalid('truncated client hello');
  const compression = m[p]!;
  if (compression < 1) return invalid('bad compression methods length');
  p += 1 + compression;
  if (p > end) return invalid('truncated client hello');
  let serverName: string | undefined;
  let alpn: string[] | undefined;
  // Extensions may be absent altogether in a TLS 1.2 hello.
  if (p < end) {
    if (p + 2 > end) return invalid('truncated extensions');
    const extEnd = p + 2 + m.readUInt16BE(p);
    if (extEnd !== end) return invalid('bad extensions length');
    p += 2;
    while (p < extEnd) {
      if (p + 4 > extEnd) return invalid('truncated extension');
      const type = m.readUInt16BE(p);
      const dataEnd = p + 4 + m.readUInt16BE(p + 2);
      if (dataEnd > extEnd) return invalid('bad extension length');
      p += 4;
      // A repeated extension is refused (RFC 8446 §4.2): the backend might read the other copy.
      if (type === EXT_SERVER_NAME) {
        if (serverName !== undefined) return invalid('repeated server_name');
        const name = readServerName(m, p, dataEnd);
        if (name === undefined) return invalid('bad server_name');
        serverName = name;
      } else if (type === EXT_ALPN) {
        if (alpn !== undefined) return invalid('repeated ALPN');
        const list = readAlpn(m, p, dataEnd);
        if (list === undefined) return invalid('bad ALPN');
        alpn = list;
      }
      p = dataEnd;
    }
  }
  // An empty server_name extension (as servers send it back) names nothing.
  return { status: HELLO, serverName: serverName || undefined, alpn: alpn ?? [] };
}

/** The host_name in a server_name extension's data (RFC 6066 §3): '' for an empty extension, undefined when malformed. */
function readServerName(m: Buffer, p: number, end: number): string | undefined {
  if (p === end) return '';
  if (p + 2 > end || p + 2 + m.readUInt16BE(p) !== end) return undefined;
  p += 2;
  let name = '';
  while (p < end) {
    if (p + 3 > end) return undefined;
    const type = m[p]!;
    const len = m.readUInt16BE(p + 1);
    p += 3;
    if (p + len > end) return undefined;
    if (type === NAME_TYPE_HOST) {
      // One host_name at most, 1 to 255 bytes of printable ASCII (OpenSSL refuses NUL, and a DNS name can hold no more).
      if (name !== '' || len === 0 || len > 255) return undefined;
      for (let i = p; i < p + len; i++) {
        const c = m[i]!;
        if (c <= 0x20 || c >= 0x7f) return undefined;
      }
      name = m.toString('latin1', p, p + len).toLowerCase();
    }
    p += len;
  }
  return name;
}

/** The protocol names of an ALPN extension's data (RFC 7301 §3.1), undefined when malformed. */
function readAlpn(m: Buffer, p: number, end: number): string[] | undefined {
  if (p + 2 > end || p + 2 + m.readUInt16BE(p) !== end) return undefined;
  p += 2;
  if (p === end) return undefined;
  const out: string[] = [];
  while (p < end) {
    const len = m[p]!;
    p += 1;
    if (len === 0 || p + len > end) return undefined;
    out.push(m.toString('latin1', p, p + len));
    p += len;
  }
  return out;
}
