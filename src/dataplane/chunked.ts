// The chunked transfer coding (RFC 9112 §7.1), decoded as it is read, in
// both directions: request bodies from clients and response bodies from
// upstreams. The framing is walked a byte at a time through a state kept
// between reads, so a chunk line split across reads needs no buffering and no
// copy of the shared read buffer; chunk data goes on as spans of the bytes
// read.
//
// Strict, because a proxy that reads framing differently from the server
// behind it lets requests be smuggled past it: the grammar exactly, whitespace
// only where the RFC allows it (around ';' and '=' in extensions), CRLF and
// never a bare LF, a bounded chunk size, bounded extension and trailer lengths.
// Extensions and trailer fields are checked and dropped, as node:http drops
// them; the body is re-framed, not relayed byte for byte (see chunkSizeLine).

import { isTokenByte } from './http-syntax.js';

/** A chunk-size line (size and extensions, without its CRLF) longer than this is refused. */
export const MAX_CHUNK_LINE = 4096;

/** The trailer section, all its lines together, longer than this is refused (node:http's maxHeaderSize). */
const MAX_TRAILER_BYTES = 16 * 1024;

/** Significant hex digits of a chunk size past this are refused: 13 of them stay an exact JS number. */
const MAX_SIZE_DIGITS = 13;

/** The line that opens a chunk of `length` bytes, as it is written: the size in hex and CRLF. */
export function chunkSizeLine(length: number): string {
  return `${length.toString(16)}\r\n`;
}

/** Malformed chunked framing. */
export class ChunkedSyntaxError extends Error {
  override readonly name = 'ChunkedSyntaxError';
}

/** Where decoded chunk data goes: buf[from, to), valid only during the call when buf is a reused read buffer. */
export interface ChunkDataSink {
  bodyRead(buf: Buffer, from: number, to: number): void;
}

// Decoder states: where in the framing the next byte falls. Those of a
// chunk-size line come first, up to EXT_AFTER_QUOTED (see step).
const SIZE_FIRST = 0;
const SIZE = 1;
/** Whitespace after the size or an extension: only ';' may follow. */
const BEFORE_SEMI = 2;
const EXT_NAME_START = 3;
const EXT_NAME = 4;
const EXT_AFTER_NAME = 5;
const EXT_VALUE_START = 6;
const EXT_VALUE = 7;
const EXT_QUOTED = 8;
const EXT_QUOTED_PAIR = 9;
const EXT_AFTER_QUOTED = 10;
const SIZE_LINE_LF = 11;
const DATA = 12;
const DATA_CR = 13;
const DATA_LF = 14;
const TRAILER_START = 15;
const TRAILER_NAME = 16;
const TRAILER_VALUE = 17;
const TRAILER_LF = 18;
const LAST_LF = 19;
const DONE = 20;

const CR = 0x0d;
const LF = 0x0a;
const SP = 0x20;
const HTAB = 0x09;
const DQUOTE = 0x22;

/** Hex digit values by byte; -1 for the rest. */
const HEX = new Int8Array(256).fill(-1);
for (let d = 0; d < 16; d++) {
  HEX['0123456789abcdef'.charCodeAt(d)] = d;
  HEX['0123456789ABCDEF'.charCodeAt(d)] = d;
}

/** A field value's bytes (and a quoted string's, less DQUOTE and backslash): HTAB, SP, VCHAR, obs-text. */
function isValueByte(c: number): boolean {
  return c === HTAB || (c >= SP && c !== 0x7f);
}

function isBlank(c: number): boolean {
  return c === SP || c === HTAB;
}

/** One chunked body's framing, fed its bytes in order, read after read. */
export class ChunkedDecoder {
  private state = SIZE_FIRST;
  /** Data bytes of the current chunk still to come, or the size being read. */
  private size = 0;
  private digits = 0;
  /** Bytes of the current chunk-size line so far, or of the trailer section. */
  private lineBytes = 0;

  /** The last chunk and the trailer section have been read: the body is whole. */
  get done(): boolean {
    return this.state === DONE;
  }

  /** Ready for the next body. */
  reset(): void {
    this.state = SIZE_FIRST;
    this.size = 0;
    this.digits = 0;
    this.lineBytes = 0;
  }

  /**
   * Decodes data[from, to), handing chunk data to `sink` as it goes. Returns
   * the offset just past the body's end once it is whole (see done), else
   * `to`. Throws ChunkedSyntaxError at the first byte the grammar refuses.
   */
  decode(data: Buffer, from: number, to: number, sink: ChunkDataSink): number {
    let i = from;
    while (i < to && this.state !== DONE) {
      if (this.state === DATA) {
        const end = Math.min(to, i + this.size);
        this.size -= end - i;
        if (this.size === 0) this.state = DATA_CR;
        sink.bodyRead(data, i, end);
        i = end;
      } else {
        this.step(data[i]!);
        i++;
      }
    }
    return i;
  }

  private step(c: number): void {
    // Every byte of a chunk-size line counts toward its limit, the CR that ends it included.
    if (this.state <= EXT_AFTER_QUOTED) this.countLine();
    switch (this.state) {
      case SIZE_FIRST:
      case SIZE: {
        const d = HEX[c]!;
        if (d >= 0) {
          if (this.size !== 0 || d !== 0) this.digits++;
          if (this.digits > MAX_SIZE_DIGITS) throw new ChunkedSyntaxError('chunk size too large');
          this.size = this.size * 16 + d;
          this.state = SIZE;
          return;
        }
        if (this.state === SIZE_FIRST) throw new ChunkedSyntaxError('chunk size expected');
        this.afterToken(c, 'chunk size');
        return;
      }
      case BEFORE_SEMI:
        if (c === 0x3b /* ; */) this.state = EXT_NAME_START;
        else if (!isBlank(c)) throw new ChunkedSyntaxError('only a chunk extension may follow whitespace in a chunk line');
        return;
      case EXT_NAME_START:
        if (isTokenByte(c)) this.state = EXT_NAME;
        else if (!isBlank(c)) throw new ChunkedSyntaxError('chunk extension name expected');
        return;
      case EXT_NAME:
        if (isTokenByte(c)) return;
        if (c === 0x3d /* = */) this.state = EXT_VALUE_START;
        else if (isBlank(c)) this.state = EXT_AFTER_NAME;
        else this.afterToken(c, 'chunk extension name');
        return;
      case EXT_AFTER_NAME:
        if (c === 0x3d) this.state = EXT_VALUE_START;
        else if (c === 0x3b) this.state = EXT_NAME_START;
        else if (!isBlank(c)) throw new ChunkedSyntaxError('unexpected byte after a chunk extension name');
        return;
      case EXT_VALUE_START:
        if (c === DQUOTE) this.state = EXT_QUOTED;
        else if (isTokenByte(c)) this.state = EXT_VALUE;
        else if (!isBlank(c)) throw new ChunkedSyntaxError('chunk extension value expected');
        return;
      case EXT_VALUE:
        if (!isTokenByte(c)) this.afterToken(c, 'chunk extension value');
        return;
      case EXT_QUOTED:
        if (c === DQUOTE) this.state = EXT_AFTER_QUOTED;
        else if (c === 0x5c /* \ */) this.state = EXT_QUOTED_PAIR;
        else if (!isValueByte(c)) throw new ChunkedSyntaxError('invalid byte in a quoted chunk extension');
        return;
      case EXT_QUOTED_PAIR:
        if (!isValueByte(c)) throw new ChunkedSyntaxError('invalid escaped byte in a quoted chunk extension');
        this.state = EXT_QUOTED;
        return;
      case EXT_AFTER_QUOTED:
        this.afterToken(c, 'quoted chunk extension');
        return;
      case SIZE_LINE_LF:
        // The last chunk is followed by the trailer section; its byte count starts here.
        this.require(c, LF, this.size === 0 ? TRAILER_START : DATA, 'chunk line not ended by CRLF');
        this.lineBytes = 0;
        this.digits = 0;
        return;
      case DATA_CR:
        this.require(c, CR, DATA_LF, 'chunk data not followed by CRLF');
        return;
      case DATA_LF:
        this.require(c, LF, SIZE_FIRST, 'chunk data not followed by CRLF');
        return;
      case TRAILER_START:
        if (c === CR) {
          this.state = LAST_LF;
          return;
        }
        this.countTrailer();
        if (!isTokenByte(c)) throw new ChunkedSyntaxError('trailer field name expected');
        this.state = TRAILER_NAME;
        return;
      case TRAILER_NAME:
        this.countTrailer();
        if (c === 0x3a /* : */) this.state = TRAILER_VALUE;
        else if (!isTokenByte(c)) throw new ChunkedSyntaxError('invalid trailer field name');
        return;
      case TRAILER_VALUE:
        this.countTrailer();
        if (c === CR) this.state = TRAILER_LF;
        else if (!isValueByte(c)) throw new ChunkedSyntaxError('invalid byte in a trailer field');
        return;
      case TRAILER_LF:
        this.countTrailer();
        this.require(c, LF, TRAILER_START, 'trailer field not ended by CRLF');
        return;
      case LAST_LF:
        this.require(c, LF, DONE, 'chunked body not ended by CRLF');
        return;
    }
  }

  /** Where the grammar allows one byte alone: `expected`, after which comes `next`. */
  private require(c: number, expected: number, next: number, problem: string): void {
    if (c !== expected) throw new ChunkedSyntaxError(problem);
    this.state = next;
  }

  /** What may follow a size, an extension name or an extension value on a chunk line. */
  private afterToken(c: number, what: string): void {
    if (c === 0x3b) this.state = EXT_NAME_START;
    else if (c === CR) this.state = SIZE_LINE_LF;
    else if (isBlank(c)) this.state = this.state === EXT_NAME ? EXT_AFTER_NAME : BEFORE_SEMI;
    else throw new ChunkedSyntaxError(`unexpected byte after a ${what}`);
  }

  private countLine(): void {
    if (++this.lineBytes > MAX_CHUNK_LINE) throw new ChunkedSyntaxError('chunk line too long');
  }

  private countTrailer(): void {
    if (++this.lineBytes > MAX_TRAILER_BYTES) throw new ChunkedSyntaxError('trailer section too long');
  }
}
