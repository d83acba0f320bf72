// The chunked-coding decoder (chunked.ts), fed bodies whole and cut at every
// offset: what it hands on, where it says the body ends, and what it refuses.

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ChunkedDecoder, ChunkedSyntaxError, MAX_CHUNK_LINE } from '../../src/dataplane/chunked.js';

interface Decoded {
  data: string;
  /** Offset in the whole input just past the body's end, or undefined when it did not end. */
  end: number | undefined;
}

/** Decodes `input` fed in pieces cut at `cuts`, copying what the sink is handed (it is only valid during the call). */
function decode(input: string, cuts: number[] = []): Decoded {
  const bytes = Buffer.from(input, 'latin1');
  const decoder = new ChunkedDecoder();
  let data = '';
  const sink = { bodyRead: (buf: Buffer, from: number, to: number) => (data += buf.toString('latin1', from, to)) };
  let at = 0;
  for (const cut of [...cuts, bytes.length]) {
    // Each piece is a buffer of its own, with unrelated bytes around it, as reads into a reused buffer are.
    const piece = Buffer.concat([Buffer.from('##'), bytes.subarray(at, cut), Buffer.from('##')]);
    const used = decoder.decode(piece, 2, piece.length - 2, sink);
    if (decoder.done) return { data, end: at + used - 2 };
    assert.equal(used, piece.length - 2, 'all of a piece is used while the body goes on');
    at = cut;
  }
  return { data, end: undefined };
}

const VALID: [string, string, string][] = [
  ['one chunk', '5\r\nhello\r\n0\r\n\r\n', 'hello'],
  ['several chunks, hex sizes of either case', 'a\r\n0123456789\r\nB\r\nabcdefghijk\r\n0\r\n\r\n', '0123456789abcdefghijk'],
  ['leading zeros in sizes', '0005\r\nhello\r\n000\r\n\r\n', 'hello'],
  ['no data at all', '0\r\n\r\n', ''],
  ['an extension without a value', '5;last\r\nhello\r\n0\r\n\r\n', 'hello'],
  ['extensions with token and quoted values, whitespace around ; and =', '5 ; a = 1;b="x;y \\"z\\"" ;c\r\nhello\r\n0;d=e\r\n\r\n', 'hello'],
  ['trailer fields', '5\r\nhello\r\n0\r\nX-Sum: abc\r\nX-Empty:\r\n\r\n', 'hello'],
  ['CRLF and data bytes alike inside a chunk', '4\r\n\r\n\r\n\r\n0\r\n\r\n', '\r\n\r\n'],
];

describe('ChunkedDecoder', () => {
  for (const [what, body, data] of VALID) {
    it(`decodes ${what}, whole and cut at every offset`, () => {
      const input = `${body}GET /next`;
      assert.deepEqual(decode(input), { data, end: body.length });
      for (let cut = 1; cut < input.length; cut++) assert.deepEqual(decode(input, [cut]), { data, end: body.length }, `cut at ${cut}`);
      // A byte at a time.
      assert.deepEqual(decode(input, [...input].map((_, i) => i + 1).slice(0, -1)), { data, end: body.length });
    });
  }

  it('waits for more while the body is not whole', () => {
    for (const partial of ['', '5', '5\r\nhel', '5\r\nhello\r\n', '5\r\nhello\r\n0\r\n', '5\r\nhello\r\n0\r\nX-A: 1\r\n']) {
      assert.equal(decode(partial).end, undefined, JSON.stringify(partial));
    }
  });

  it('starts afresh after reset', () => {
    const decoder = new ChunkedDecoder();
    const sink = { bodyRead: () => {} };
    decoder.decode(Buffer.from('0\r\n\r\n'), 0, 5, sink);
    assert.ok(decoder.done);
    decoder.reset();
    assert.ok(!decoder.done);
    assert.equal(decoder.decode(Buffer.from('1\r\nx\r\n0\r\n\r\n'), 0, 11, sink), 11);
    assert.ok(decoder.done);
  });

  const REFUSED: [string, string][] = [
    ['an empty size', '\r\nhello\r\n0\r\n\r\n'],
    ['a size that is not hex', 'zz\r\n'],
    ['a signed size', '+5\r\nhello\r\n0\r\n\r\n'],
    ['a 0x prefix', '0x5\r\nhello\r\n0\r\n\r\n'],
    ['whitespace before the size', ' 5\r\nhello\r\n0\r\n\r\n'],
    ['whitespace after the size with no extension', '5 \r\nhello\r\n0\r\n\r\n'],
    ['a size of 14 significant hex digits', '10000000000000\r\n'],
    ['a bare LF after the size', '5\nhello\r\n0\r\n\r\n'],
    ['a bare CR after the size', '5\rhello\r\n0\r\n\r\n'],
    ['an extension without a name', '5;\r\nhello\r\n0\r\n\r\n'],
    ['an extension without a value after =', '5;a=\r\nhello\r\n0\r\n\r\n'],
    ['an extension name with a space inside', '5;a b\r\nhello\r\n0\r\n\r\n'],
    ['an unterminated quoted value', '5;a="x\r\nhello\r\n0\r\n\r\n'],
    ['a control byte in a quoted value', '5;a="\x01"\r\nhello\r\n0\r\n\r\n'],
    ['a NUL in an extension', '5;a\x00\r\nhello\r\n0\r\n\r\n'],
    ['data longer than its size', '5\r\nhello!\r\n0\r\n\r\n'],
    ['data not followed by CRLF', '5\r\nhelloX\r\n0\r\n\r\n'],
    ['data followed by a bare LF', '5\r\nhello\n0\r\n\r\n'],
    ['a trailer line without a colon', '0\r\nX-A\r\n\r\n'],
    ['a trailer name with a space', '0\r\nX A: 1\r\n\r\n'],
    ['a trailer value with a bare LF', '0\r\nX-A: 1\nGET /smuggled HTTP/1.1\r\n\r\n'],
    ['an obs-fold trailer', '0\r\nX-A: 1\r\n 2\r\n\r\n'],
    ['a bare LF ending the trailers', '0\r\n\n'],
    ['a chunk line longer than the limit', `5;a=${'x'.repeat(MAX_CHUNK_LINE)}\r\nhello\r\n0\r\n\r\n`],
    ['a trailer section longer than the limit', `0\r\n${'X-A: 1234567890\r\n'.repeat(1100)}\r\n`],
  ];
  for (const [what, input] of REFUSED) {
    it(`refuses ${what}, whole and cut anywhere`, () => {
      assert.throws(() => decode(input), ChunkedSyntaxError);
      for (const cut of [1, Math.floor(input.length / 2), input.length - 1]) assert.throws(() => decode(input, [cut]), ChunkedSyntaxError, `cut at ${cut}`);
    });
  }

  it('hands chunk data on as spans of the bytes read, not copies', () => {
    const read = Buffer.from('5\r\nhello\r\n0\r\n\r\n');
    const spans: [Buffer, number, number][] = [];
    new ChunkedDecoder().decode(read, 0, read.length, { bodyRead: (buf, from, to) => spans.push([buf, from, to]) });
    assert.deepEqual(spans, [[read, 3, 8]]);
  });
});
