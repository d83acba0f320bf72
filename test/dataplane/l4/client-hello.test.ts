import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import {
  HELLO,
  INVALID,
  MAX_BUFFERED_BYTES,
  NEED_MORE,
  parseClientHello,
  type ClientHelloResult,
} from '../../../src/dataplane/l4/client-hello.js';
import { captureHello, refragment } from './helpers.js';

function hello(r: ClientHelloResult): { serverName: string | undefined; alpn: string[] } {
  assert.equal(r.status, HELLO, JSON.stringify(r));
  return { serverName: r.serverName, alpn: r.alpn };
}

function invalidReason(r: ClientHelloResult): string {
  assert.equal(r.status, INVALID, JSON.stringify(r));
  return r.reason;
}

/** Feeds `data` in reads of the given sizes (cycled), parsing as a listener does: only once `needed` bytes are in. */
function feed(data: Buffer, sizes: number[]): { result: ClientHelloResult; parses: number } {
  let have = 0;
  let needed = 1;
  let parses = 0;
  for (let i = 0; have < data.length; i++) {
    have = Math.min(data.length, have + sizes[i % sizes.length]!);
    if (have < needed) continue;
    parses++;
    const r = parseClientHello(data.subarray(0, have));
    if (r.status !== NEED_MORE) return { result: r, parses };
    assert.ok(r.needed > have, `needed ${r.needed} with ${have} in hand`);
    needed = r.needed;
  }
  return { result: parseClientHello(data), parses };
}

/** A ClientHello record built by hand, for shapes node:tls never sends. */
function build(opts: { extensions?: Buffer[]; rawExtensions?: Buffer; sessionId?: number; recordVersion?: number } = {}): Buffer {
  const ext = opts.rawExtensions ?? frame16(Buffer.concat(opts.extensions ?? []));
  const body = Buffer.concat([
    Buffer.from([0x03, 0x03]),
    Buffer.alloc(32, 7),
    Buffer.from([opts.sessionId ?? 0]),
    Buffer.alloc(opts.sessionId ?? 0),
    frame16(Buffer.from([0x13, 0x01])),
    Buffer.from([1, 0]),
    ext,
  ]);
  const message = Buffer.concat([Buffer.from([1, body.length >> 16, (body.length >> 8) & 0xff, body.length & 0xff]), body]);
  const header = Buffer.from([0x16, 0x03, opts.recordVersion ?? 0x01, 0, 0]);
  header.writeUInt16BE(message.length, 3);
  return Buffer.concat([header, message]);
}

function frame16(b: Buffer): Buffer {
  const h = Buffer.alloc(2);
  h.writeUInt16BE(b.length);
  return Buffer.concat([h, b]);
}

function extension(type: number, data: Buffer): Buffer {
  const h = Buffer.alloc(4);
  h.writeUInt16BE(type, 0);
  h.writeUInt16BE(data.length, 2);
  return Buffer.concat([h, data]);
}

function sni(...names: string[]): Buffer {
  return extension(0, frame16(Buffer.concat(names.map((n) => Buffer.concat([Buffer.from([0]), frame16(Buffer.from(n, 'latin1'))])))));
}

function alpn(...protocols: string[]): Buffer {
  return extension(16, frame16(Buffer.concat(protocols.map((p) => Buffer.concat([Buffer.from([p.length]), Buffer.from(p)])))));
}

describe('parseClientHello', () => {
  let withSni: Buffer;
  let withoutSni: Buffer;

  before(async () => {
    withSni = await captureHello({ servername: 'Sni.Example.COM', alpn: ['h2', 'http/1.1'] });
    withoutSni = await captureHello({});
  });

  it('reads the server name, lower-cased, and the ALPN list from a node:tls hello', () => {
    assert.deepEqual(hello(parseClientHello(withSni)), { serverName: 'sni.example.com', alpn: ['h2', 'http/1.1'] });
  });

  it('reports no server name and no ALPN when the client sent none', () => {
    assert.deepEqual(hello(parseClientHello(withoutSni)), { serverName: undefined, alpn: [] });
  });

  it('asks for more at every split point, never for bytes it has, and reads the hello once complete', () => {
    for (const data of [withSni, withoutSni]) {
      for (let i = 1; i < data.length; i++) {
        const r = parseClientHello(data.subarray(0, i));
        assert.equal(r.status, NEED_MORE, `prefix of ${i}`);
        assert.ok(r.needed > i && r.needed <= data.length, `prefix of ${i}: needed ${r.needed}`);
      }
      assert.equal(parseClientHello(data).status, HELLO);
    }
  });

  it('gets the same answer whatever the reads, parsing only when it can progress', () => {
    for (const sizes of [[1], [2, 3], [5], [7, 1, 100], [4096]]) {
      const { result, parses } = feed(withSni, sizes);
      assert.deepEqual(hello(result), { serverName: 'sni.example.com', alpn: ['h2', 'http/1.1'] }, `reads of ${sizes.join(',')}`);
      // Byte by byte, the parser still only runs when a header or the record is complete.
      assert.ok(parses <= 4, `reads of ${sizes.join(',')}: ${parses} parses`);
    }
  });

  it('reassembles a hello split over two records, at any point, the handshake header included', () => {
    const messageLength = withSni.length - 5;
    for (let split = 1; split < messageLength; split++) {
      const twoRecords = refragment(withSni, [split]);
      assert.equal(twoRecords.length, withSni.length + 5);
      assert.deepEqual(hello(parseClientHello(twoRecords)).serverName, 'sni.example.com', `split at ${split}`);
      // And read by pieces that do not line up with the records.
      assert.equal(feed(twoRecords, [3, 11]).result.status, HELLO, `split at ${split}, fed in pieces`);
    }
  });

  it('reads a hello spread over many small records', () => {
    const many = refragment(withSni, Array(40).fill(8));
    assert.equal(hello(parseClientHello(many)).serverName, 'sni.example.com');
  });

  it('refuses what is not a TLS handshake on its first byte or header', () => {
    assert.equal(invalidReason(parseClientHello(Buffer.from('G'))), 'not a TLS handshake record');
    assert.equal(invalidReason(parseClientHello(Buffer.from('GET / HTTP/1.1\r\n'))), 'not a TLS handshake record');
    assert.equal(invalidReason(parseClientHello(Buffer.from('PRI * HTTP/2.0\r\n'))), 'not a TLS handshake record');
    // SSL 2.0-style hello.
    assert.equal(parseClientHello(Buffer.from([0x80, 0x2e, 0x01])).status, INVALID);
    assert.equal(invalidReason(parseClientHello(Buffer.from([0x16, 0x02]))), 'not a TLS record version');
    assert.equal(invalidReason(parseClientHello(Buffer.from([0x16, 0x03, 0x09]))), 'not a TLS record version');
    // An alert record.
    assert.equal(parseClientHello(Buffer.from([0x15, 0x03, 0x01, 0x00, 0x02, 0x02, 0x28])).status, INVALID);
    // Only one byte in: still possibly TLS.
    assert.equal(parseClientHello(Buffer.from([0x16])).status, NEED_MORE);
  });

  it('refuses bad record lengths and handshake types', () => {
    assert.equal(invalidReason(parseClientHello(Buffer.from([0x16, 0x03, 0x01, 0x00, 0x00]))), 'bad TLS record length');
    assert.equal(invalidReason(parseClientHello(Buffer.from([0x16, 0x03, 0x01, 0x40, 0x01]))), 'bad TLS record length');
    // A ServerHello.
    assert.equal(invalidReason(parseClientHello(Buffer.from([0x16, 0x03, 0x03, 0x00, 0x04, 0x02, 0, 0, 0]))), 'not a client hello');
    // A second record that is not a handshake record.
    const twoRecords = refragment(withSni, [10]);
    twoRecords[5 + 10] = 0x17;
    assert.equal(invalidReason(parseClientHello(twoRecords)), 'not a TLS handshake record');
  });

  it('refuses a hello announcing more than the cap as soon as its length is in', () => {
    const header = Buffer.from([0x16, 0x03, 0x01, 0x40, 0x00, 0x01, 0x00, 0x40, 0x01]);
    assert.equal(invalidReason(parseClientHello(header)), 'client hello too large');
    const huge = Buffer.from([0x16, 0x03, 0x01, 0x00, 0x04, 0x01, 0xff, 0xff, 0xff]);
    assert.equal(invalidReason(parseClientHello(huge)), 'client hello too large');
  });

  it('refuses a hello fragmented into so many records that it would pass the buffer cap', () => {
    // A 4 KiB hello (padding extension), each byte in a record of its own: six bytes on the wire per byte of hello.
    const padded = build({ extensions: [sni('a.example'), extension(21, Buffer.alloc(4000))] });
    assert.equal(hello(parseClientHello(padded)).serverName, 'a.example');
    const tiny = refragment(padded, Array(padded.length).fill(1));
    assert.equal(invalidReason(feed(tiny, [4096]).result), 'client hello too large');
    // Decided without holding more than the cap.
    assert.equal(invalidReason(parseClientHello(tiny.subarray(0, MAX_BUFFERED_BYTES))), 'client hello too large');
    // The same hello in a few records is fine.
    assert.equal(hello(parseClientHello(refragment(padded, [1000, 1000, 1000]))).serverName, 'a.example');
  });

  it('refuses malformed bodies', () => {
    assert.equal(hello(parseClientHello(build({ extensions: [sni('a.example')] }))).serverName, 'a.example');
    // A TLS 1.2 hello without an extensions block is fine.
    assert.deepEqual(hello(parseClientHello(build({ rawExtensions: Buffer.alloc(0) }))), { serverName: undefined, alpn: [] });
    assert.equal(invalidReason(parseClientHello(build({ rawExtensions: Buffer.from([0x00]) }))), 'truncated extensions');
    assert.equal(invalidReason(parseClientHello(build({ rawExtensions: Buffer.from([0x00, 0x09, 0, 0, 0, 0]) }))), 'bad extensions length');
    assert.equal(invalidReason(parseClientHello(build({ sessionId: 33 }))), 'bad session id length');
    assert.equal(invalidReason(parseClientHello(build({ extensions: [extension(5, Buffer.alloc(2))].map((e) => e.subarray(0, 5)) }))), 'bad extension length');
    assert.equal(invalidReason(parseClientHello(build({ extensions: [sni('a.example'), sni('b.example')] }))), 'repeated server_name');
    assert.equal(invalidReason(parseClientHello(build({ extensions: [sni('a.example', 'b.example')] }))), 'bad server_name');
    assert.equal(invalidReason(parseClientHello(build({ extensions: [sni('a b.example')] }))), 'bad server_name');
    assert.equal(invalidReason(parseClientHello(build({ extensions: [sni('a\0.example')] }))), 'bad server_name');
    assert.equal(invalidReason(parseClientHello(build({ extensions: [sni('')] }))), 'bad server_name');
    assert.equal(invalidReason(parseClientHello(build({ extensions: [alpn('h2'), alpn('h2')] }))), 'repeated ALPN');
    assert.equal(invalidReason(parseClientHello(build({ extensions: [alpn()] }))), 'bad ALPN');
    assert.deepEqual(hello(parseClientHello(build({ extensions: [alpn('imap', 'x')], recordVersion: 0x03 }))), { serverName: undefined, alpn: ['imap', 'x'] });
    // An empty server_name extension (the form servers echo) names nothing.
    assert.equal(hello(parseClientHello(build({ extensions: [extension(0, Buffer.alloc(0))] }))).serverName, undefined);
    // A handshake message shorter than its fixed fields.
    assert.equal(invalidReason(parseClientHello(Buffer.from([0x16, 0x03, 0x01, 0x00, 0x06, 0x01, 0x00, 0x00, 0x02, 0x03, 0x03]))), 'truncated client hello');
  });

  it('never throws on corrupted hellos', () => {
    let seed = 42;
    const random = (): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed;
    };
    for (let i = 0; i < 20_000; i++) {
      const data = Buffer.from(withSni);
      const flips = 1 + (random() % 4);
      for (let f = 0; f < flips; f++) data[random() % data.length] = random() & 0xff;
      const cut = data.subarray(0, 1 + (random() % data.length));
      const r = parseClientHello(cut);
      if (r.status === NEED_MORE) assert.ok(r.needed > cut.length && r.needed <= MAX_BUFFERED_BYTES);
    }
  });
});
