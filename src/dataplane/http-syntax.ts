// Character classes of HTTP/1.1 heads (RFC 9110 §5.6, RFC 9112), checked by
// table loops: heads are parsed on every request, and a loop over a few
// dozen characters costs less than a regex call on a sliced substring. Heads
// still in the Buffer they were read into are checked there, in one pass:
// indexing a Buffer costs a fraction of charCodeAt on a string.

const TCHAR = new Uint8Array(256);
for (const c of "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") TCHAR[c.charCodeAt(0)] = 1;

/** Whether text[start, end) is a non-empty token (a method or a field name). */
export function isToken(text: string, start: number, end: number): boolean {
  if (end <= start) return false;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c >= 256 || TCHAR[c] === 0) return false;
  }
  return true;
}

/** Where the token starting at buf[start] ends: the first byte before `end` that is not a token character. */
export function tokenEnd(buf: Uint8Array, start: number, end: number): number {
  let i = start;
  while (i < end && TCHAR[buf[i]!] === 1) i++;
  return i;
}

/** Whether buf holds `expected` at `at`. */
export function bytesAt(buf: Uint8Array, at: number, expected: Uint8Array): boolean {
  for (let i = 0; i < expected.length; i++) if (buf[at + i] !== expected[i]) return false;
  return true;
}

/** Whether a byte can begin a token: for telling a request line's start from other protocols' bytes. */
export function isTokenByte(c: number): boolean {
  return TCHAR[c] === 1;
}

/** Whether the token at buf[start, start + lower.length) is `lower`, compared case-insensitively (a token's other characters cannot fold onto a letter). */
export function nameIs(buf: Uint8Array, start: number, lower: string): boolean {
  for (let i = 0; i < lower.length; i++) if ((buf[start + i]! | 0x20) !== lower.charCodeAt(i)) return false;
  return true;
}

/**
 * Field names most requests carry. A name read as one of these is this
 * list's string, whose hash is already known, so keying an object or a Set by
 * it skips slicing, lowercasing and hashing a new string; and what a caller
 * needs to know of each can be kept by its index.
 */
export const COMMON_FIELD_NAMES: readonly string[] = [
  'te', 'dnt', 'host', 'accept', 'cookie', 'origin', 'pragma', 'expect', 'referer', 'upgrade', 'priority',
  'connection', 'user-agent', 'keep-alive', 'content-type', 'x-request-id', 'authorization', 'cache-control',
  'if-none-match', 'content-length', 'accept-encoding', 'accept-language', 'x-forwarded-for', 'sec-fetch-dest',
  'sec-fetch-mode', 'sec-fetch-site', 'sec-fetch-user', 'x-forwarded-host', 'x-forwarded-proto', 'transfer-encoding',
  'if-modified-since', 'sec-ch-ua', 'sec-ch-ua-mobile', 'sec-ch-ua-platform', 'upgrade-insecure-requests',
];

/** Indexes into COMMON_FIELD_NAMES, by the name's length. */
const COMMON_FIELDS_BY_LENGTH: (number[] | undefined)[] = [];
COMMON_FIELD_NAMES.forEach((name, i) => (COMMON_FIELDS_BY_LENGTH[name.length] ??= []).push(i));

/** Where the lowercase name of the token buf[start, end) is in COMMON_FIELD_NAMES; -1 when it is not a common one. */
export function commonFieldIndex(buf: Uint8Array, start: number, end: number): number {
  const indexes = COMMON_FIELDS_BY_LENGTH[end - start];
  if (indexes === undefined) return -1;
  for (let i = 0; i < indexes.length; i++) if (nameIs(buf, start, COMMON_FIELD_NAMES[indexes[i]!]!)) return indexes[i]!;
  return -1;
}

/** A field line's value: text[start, end) without surrounding spaces and tabs (RFC 9112 §5). */
export function fieldValue(text: string, start: number, end: number): string {
  while (start < end && (text.charCodeAt(start) === 0x20 || text.charCodeAt(start) === 0x09)) start++;
  while (end > start && (text.charCodeAt(end - 1) === 0x20 || text.charCodeAt(end - 1) === 0x09)) end--;
  return text.slice(start, end);
}

/** Where buf[start, end) begins once the spaces and tabs leading it are skipped. */
export function owsSkipped(buf: Uint8Array, start: number, end: number): number {
  while (start < end && (buf[start] === 0x20 || buf[start] === 0x09)) start++;
  return start;
}

/** Where buf[start, end) ends once the spaces and tabs trailing it are dropped. */
export function owsTrimmed(buf: Uint8Array, start: number, end: number): number {
  while (end > start && (buf[end - 1] === 0x20 || buf[end - 1] === 0x09)) end--;
  return end;
}

/** Whether buf[start, end) is exactly `text`. */
export function textIs(buf: Uint8Array, start: number, end: number, text: string): boolean {
  if (end - start !== text.length) return false;
  for (let i = 0; i < text.length; i++) if (buf[start + i] !== text.charCodeAt(i)) return false;
  return true;
}

/**
 * Buffer's native latin1 reader, which Buffer#toString reaches through a JS
 * wrapper that looks the encoding up and then the method, on a prototype V8
 * does not keep fast (a call to its generic property load). Undocumented,
 * hence the fallback where a Node has none.
 */
const latin1Slice = (Buffer.prototype as unknown as { latin1Slice?: (this: Buffer, start: number, end: number) => string }).latin1Slice;

/** buf[start, end) as latin1 text. */
export function latin1Text(buf: Buffer, start: number, end: number): string {
  return latin1Slice === undefined ? buf.toString('latin1', start, end) : latin1Slice.call(buf, start, end);
}

/** A field line's value read from its bytes: buf[start, end) without surrounding spaces and tabs, as latin1 text. */
export function valueAt(buf: Buffer, start: number, end: number): string {
  start = owsSkipped(buf, start, end);
  return latin1Text(buf, start, owsTrimmed(buf, start, end));
}

/** Validated field lines from text[start], each ending CRLF or the text, as a flat name/value list. */
export function fieldList(text: string, start = 0): string[] {
  const out: string[] = [];
  while (start < text.length) {
    let end = text.indexOf('\r', start);
    if (end < 0) end = text.length;
    const colon = text.indexOf(':', start);
    out.push(text.slice(start, colon), fieldValue(text, colon + 1, end));
    start = end + 2;
  }
  return out;
}

/** What scanLineEnd and FieldScan.scan return when the bytes so far stop before the line or head ends. */
export const HEAD_INCOMPLETE = -1;
/** What they return for a control character other than HTAB, a bare CR or LF among them, or a malformed field line. */
export const HEAD_INVALID = -2;

/**
 * Where the line holding buf[start] ends in buf[start, to), bytes still
 * arriving: the offset of its CRLF, or HEAD_INCOMPLETE or HEAD_INVALID.
 */
export function scanLineEnd(buf: Uint8Array, start: number, to: number): number {
  let i = start;
  while (i < to) {
    const c = buf[i]!;
    if (c >= 0x20 ? c === 0x7f : c !== 0x09) break;
    i++;
  }
  if (i + 1 >= to) return i < to && buf[i] !== 0x0d ? HEAD_INVALID : HEAD_INCOMPLETE;
  return buf[i] === 0x0d && buf[i + 1] === 0x0a ? i : HEAD_INVALID;
}

/**
 * Finds a head's field lines and its end in one pass over the bytes read so
 * far, checking each line as it goes: a separate search for the final
 * CRLFCRLF would read them once more, at the cost of a native call. One
 * instance serves every head; its positions are read before the next scan.
 */
class FieldScan {
  /** For field i: where its name starts (3i), its colon (3i + 1) and its line's CR (3i + 2). */
  private positions = new Int32Array(3 * 32);
  /** How many fields the last complete scan found. */
  count = 0;

  /** Where field i's name starts. */
  nameAt(i: number): number {
    return this.positions[3 * i]!;
  }

  /** Where field i's colon is. */
  colonAt(i: number): number {
    return this.positions[3 * i + 1]!;
  }

  /** Where field i's line ends: its CR. */
  endAt(i: number): number {
    return this.positions[3 * i + 2]!;
  }

  /**
   * Scans the field lines from buf[start] to the empty line that ends the
   * head; returns that line's offset (the head's final CRLF), or
   * HEAD_INCOMPLETE or HEAD_INVALID.
   */
  scan(buf: Uint8Array, start: number, to: number): number {
    let n = 0;
    let positions = this.positions;
    for (;;) {
      if (start + 1 >= to) return HEAD_INCOMPLETE;
      if (buf[start] === 0x0d) {
        if (buf[start + 1] !== 0x0a) return HEAD_INVALID;
        this.count = n;
        return start;
      }
      const colon = tokenEnd(buf, start, to);
      if (colon === to) return HEAD_INCOMPLETE;
      if (colon === start || buf[colon] !== 0x3a /* : */) return HEAD_INVALID;
      const end = scanLineEnd(buf, colon + 1, to);
      if (end < 0) return end;
      if (3 * n + 3 > positions.length) {
        const grown = new Int32Array(positions.length * 2);
        grown.set(positions);
        this.positions = positions = grown;
      }
      positions[3 * n] = start;
      positions[3 * n + 1] = colon;
      positions[3 * n + 2] = end;
      n++;
      start = end + 2;
    }
  }
}

export const fieldScan = new FieldScan();

const CRLFCRLF = Buffer.from('\r\n\r\n');

/**
 * Whether a head seen incomplete, its first `searched` bytes already known
 * to hold no end, may now have all arrived in buf. Such a head is parsed
 * again only once this says so: a head trickling in is then searched once,
 * by the native search, rather than parsed from its start on every read.
 */
export function headEndArrived(buf: Buffer, searched: number): boolean {
  return buf.indexOf(CRLFCRLF, Math.max(0, searched - 3)) >= 0;
}

/**
 * The value of buf(colon, end) (from after a field line's colon, or a list
 * item's comma, to its CR or the next comma) as a decimal number when it is
 * 1 to 15 digits between optional whitespace; -1 otherwise.
 */
export function decimalValue(buf: Uint8Array, colon: number, end: number): number {
  let i = owsSkipped(buf, colon + 1, end);
  end = owsTrimmed(buf, i, end);
  if (end === i || end - i > 15) return -1;
  let n = 0;
  for (; i < end; i++) {
    const d = buf[i]! - 0x30;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n;
}
