// HTTP/2 clients that misbehave at frame level (issue 6): a flood or an
// oversized header block costs its own stream or connection, never other
// clients, the upstream or unbounded memory; an unacknowledged SETTINGS times
// out; the stream limit holds; a drain's GOAWAY lets the streams it names
// finish; and flow control holds both ways, so the gateway never buffers a
// body a slow side will not take.

import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { connect as connectH2, constants as h2, type ClientHttp2Session } from 'node:http2';
import { after, before, describe, it } from 'node:test';
import { DataPlane } from '../../src/dataplane/index.js';
import type { Http2Timeouts } from '../../src/dataplane/listener.js';
import { silentLogger } from '../../src/util/log.js';
import {
  ACK,
  CONTINUATION,
  DATA,
  END_STREAM,
  frame,
  GOAWAY,
  goawayOf,
  headerBlock,
  headers,
  HEADERS,
  hpackInt,
  RawH2,
  requestFields,
  RST_STREAM,
  rstStream,
  SETTINGS,
  SETTINGS_INITIAL_WINDOW_SIZE,
  SETTINGS_MAX_CONCURRENT_STREAMS,
  SETTINGS_MAX_HEADER_LIST_SIZE,
  settingOf,
  statusOf,
  windowUpdate,
  type Frame,
} from './h2-frames.js';
import { config, eventually, forwardTo, httpServer, route, send, sendH2, startUpstream, type Upstream } from './helpers.js';

const MiB = 1024 * 1024;

/** The bodies of the flow-control tests: far beyond what socket buffers and windows hold. */
const BODY = 256 * MiB;

/** What the backend behind every test's gateway has seen and holds. */
interface Backend {
  upstream: Upstream;
  /** Requests received, by path. */
  seen(path: string): number;
  /** Requests to /hold, unanswered until released. */
  held: ServerResponse[];
  release(): void;
  /** Response body bytes /big has handed to Node (each write() it made). */
  bigWritten(): number;
  /** Request bodies to /sink are not read until this is called. */
  readSinks(): void;
}

/**
 * /hold waits for release(), /big streams up to 256 MiB honouring backpressure,
 * /sink leaves its request body unread; anything else answers "ok".
 */
async function startBackend(): Promise<Backend> {
  const seen = new Map<string, number>();
  const held: ServerResponse[] = [];
  const sinks: { resume(): unknown }[] = [];
  let sinksRead = false;
  let big = 0;
  const chunk = Buffer.alloc(64 * 1024, 0x61);
  const upstream = await startUpstream((req, res) => {
    seen.set(req.url!, (seen.get(req.url!) ?? 0) + 1);
    switch (req.url) {
      case '/hold':
        req.resume();
        held.push(res);
        return;
      case '/big': {
        res.writeHead(200, { 'content-length': String(BODY) });
        const pump = (): void => {
          while (big < BODY && !res.destroyed) {
            big += chunk.length;
            if (!res.write(chunk)) {
              res.once('drain', pump);
              return;
            }
          }
        };
        pump();
        return;
      }
      case '/sink':
        req.pause();
        sinks.push(req);
        if (sinksRead) req.resume();
        return;
      default:
        req.resume();
        res.end('ok');
    }
  });
  return {
    upstream,
    seen: (path) => seen.get(path) ?? 0,
    held,
    release: () => {
      for (const res of held.splice(0)) res.end('released');
    },
    bigWritten: () => big,
    readSinks: () => {
      sinksRead = true;
      for (const s of sinks) s.resume();
    },
  };
}

async function startGateway(backend: Backend, opts: { http2Timeouts?: Partial<Http2Timeouts> } = {}): Promise<{ dp: DataPlane; port: number }> {
  const dp = new DataPlane({ logger: silentLogger, ...opts });
  const { failures } = await dp.apply(config([httpServer('s', [{ hostname: '*', routes: [route('r', {}, forwardTo('b'))] }])], { b: [backend.upstream.port] }));
  assert.deepEqual(failures, []);
  return { dp, port: dp.boundPort('s')! };
}

function h2Client(port: number): ClientHttp2Session {
  const s = connectH2(`http://127.0.0.1:${port}`);
  // Failures surface through the requests the tests await.
  s.on('error', () => undefined);
  return s;
}

/** Both protocols still get answers on fresh requests (and the given open session). */
async function othersServed(port: number, client: ClientHttp2Session): Promise<void> {
  const [viaH2, viaH1] = await Promise.all([sendH2(client, '/ok'), send(port, '/ok')]);
  assert.equal(viaH2.status, 200);
  assert.equal(viaH2.body, 'ok');
  assert.equal(viaH1.status, 200);
  assert.equal(viaH1.body, 'ok');
}

/** A connection whose SETTINGS exchange is done: everything we announce next is in force. */
async function settled(port: number, settings: [number, number][] = []): Promise<RawH2> {
  const raw = await RawH2.open(port, { settings });
  await raw.waitFor((f) => f.type === SETTINGS && (f.flags & ACK) !== 0);
  return raw;
}

function isRst(stream: number): (f: Frame) => boolean {
  return (f) => f.type === RST_STREAM && f.stream === stream;
}

function rstCode(f: Frame): number {
  return f.payload.readUInt32BE(0);
}

/** The :status of the stream's response head, if it is one of HPACK's indexed ones. */
async function status(raw: RawH2, stream: number): Promise<number | undefined> {
  return statusOf((await raw.waitFor((f) => f.type === HEADERS && f.stream === stream)).payload);
}

/** Resolves once `value()` has stopped changing for `quietMs` (or after `maxMs`), with its last value. */
async function settles(value: () => number, quietMs = 300, maxMs = 10_000): Promise<number> {
  const deadline = Date.now() + maxMs;
  let last = value();
  for (;;) {
    await new Promise((r) => setTimeout(r, quietMs));
    const now = value();
    if (now === last || Date.now() > deadline) return now;
    last = now;
  }
}

describe('HTTP/2 against frame-level abuse', () => {
  let backend: Backend;
  let dp: DataPlane;
  let port = 0;
  let client: ClientHttp2Session;

  before(async () => {
    backend = await startBackend();
    ({ dp, port } = await startGateway(backend));
    client = h2Client(port);
  });
  after(async () => {
    client.close();
    backend.release();
    await dp.shutdown(500);
    await backend.upstream.close();
  });

  const floods = [
    { method: 'GET', when: 'right behind the preface' },
    { method: 'GET', when: 'on an established connection' },
    // node:http2 never closes the response of a HEAD request reset before it ended.
    { method: 'HEAD', when: 'on an established connection' },
  ];
  for (const { method, when } of floods) {
    it(`ends a rapid-reset flood of ${method} requests sent ${when}, which reaches neither the upstream nor other clients`, { timeout: 30_000 }, async () => {
      const rssBefore = process.memoryUsage().rss;
      const seenBefore = backend.seen('/flood');
      const raw = when === 'right behind the preface' ? await RawH2.open(port) : await settled(port);
      const block = headerBlock([[':method', method], ...requestFields('/flood').slice(1)]);
      const pairs: Buffer[] = [];
      for (let i = 0; i < 10_000; i++) pairs.push(headers(1 + 2 * i, block, { endStream: true }), rstStream(1 + 2 * i, h2.NGHTTP2_CANCEL));
      raw.write(Buffer.concat(pairs));
      // Served while the flood is being read, and after.
      await othersServed(port, client);
      assert.ok(await raw.closesWithin(5_000), `connection still open: ${raw.describe()}`);
      const goaway = raw.goaway();
      assert.ok(goaway, `no GOAWAY: ${raw.describe()}`);
      assert.equal(goawayOf(goaway).code, h2.NGHTTP2_ENHANCE_YOUR_CALM);
      // nghttp2's own limit would have let a thousand or more through.
      const reached = backend.seen('/flood') - seenBefore;
      assert.ok(reached < 300, `${reached} flood requests reached the upstream`);
      const fresh = h2Client(port);
      await othersServed(port, fresh);
      fresh.close();
      await othersServed(port, client);
      await eventually(() => dp.stats().active === 0, 'every request to be closed', 5_000);
      const grown = process.memoryUsage().rss - rssBefore;
      assert.ok(grown < 128 * MiB, `rss grew by ${grown} bytes`);
    });
  }

  it('ends a connection that sends a 1 MiB header field over CONTINUATION frames', { timeout: 20_000 }, async () => {
    const rssBefore = process.memoryUsage().rss;
    const raw = await settled(port);
    raw.write(headers(1, headerBlock(requestFields('/huge', [['x-huge', 'a'.repeat(MiB)]])), { endStream: true }));
    // nghttp2 refuses a field over 64 KiB with a connection error, and then leaves the socket to the idle timeout.
    const goaway = await raw.waitFor((f) => f.type === GOAWAY);
    assert.notEqual(goawayOf(goaway).code, h2.NGHTTP2_NO_ERROR);
    assert.equal(raw.frames.filter((f) => f.stream === 1 && f.type === HEADERS).length, 0);
    assert.equal(backend.seen('/huge'), 0);
    await othersServed(port, client);
    raw.destroy();
    const grown = process.memoryUsage().rss - rssBefore;
    assert.ok(grown < 64 * MiB, `rss grew by ${grown} bytes`);
  });

  it('refuses a stream whose header list exceeds the advertised size, and keeps serving the connection', async () => {
    const raw = await settled(port);
    const settings = raw.frames.find((f) => f.type === SETTINGS && !(f.flags & ACK))!;
    const limit = settingOf(settings, SETTINGS_MAX_HEADER_LIST_SIZE)!;
    assert.ok(limit > 0 && limit < 40 * 1024, `advertised header list size ${limit}`);
    // Each field well under the HPACK bound, the list over the advertised one.
    const fields: [string, string][] = ['a', 'b', 'c'].map((n) => [`x-${n}`, 'v'.repeat(14 * 1024)]);
    raw.write(headers(1, headerBlock(requestFields('/long', fields)), { endStream: true }));
    const rst = await raw.waitFor(isRst(1));
    assert.equal(rstCode(rst), h2.NGHTTP2_ENHANCE_YOUR_CALM);
    raw.write(headers(3, headerBlock(requestFields('/ok')), { endStream: true }));
    assert.equal(await status(raw, 3), 200);
    assert.equal(backend.seen('/long'), 0);
    raw.destroy();
  });

  it('refuses a stream with more header fields than it allows, and keeps serving the connection', async () => {
    const raw = await settled(port);
    const fields = Array.from({ length: 200 }, (_, i): [string, string] => [`x-f${i}`, 'v']);
    raw.write(headers(1, headerBlock(requestFields('/many', fields)), { endStream: true }));
    assert.equal(rstCode(await raw.waitFor(isRst(1))), h2.NGHTTP2_ENHANCE_YOUR_CALM);
    // 116 of them and the 4 pseudo-header fields are within the limit.
    raw.write(headers(3, headerBlock(requestFields('/ok', fields.slice(0, 116))), { endStream: true }));
    assert.equal(await status(raw, 3), 200);
    assert.equal(backend.seen('/many'), 0);
    await othersServed(port, client);
    raw.destroy();
  });

  it('closes a connection that floods CONTINUATION frames without ever ending the header block', { timeout: 20_000 }, async () => {
    const rssBefore = process.memoryUsage().rss;
    const raw = await settled(port);
    // A literal field announcing a value HPACK takes (under 64 KiB), then 1 KiB fragments of it, and never END_HEADERS.
    const head = headerBlock(requestFields('/cont'));
    const start = Buffer.concat([head, Buffer.from([0x00, 0x05]), Buffer.from('x-big'), Buffer.from(hpackInt(60_000, 7, 0))]);
    const fragment = frame(CONTINUATION, 0, 1, Buffer.alloc(1024, 0x61));
    const flood = [frame(HEADERS, END_STREAM, 1, start)];
    for (let i = 0; i < 10_000; i++) flood.push(fragment);
    raw.write(Buffer.concat(flood));
    await othersServed(port, client);
    assert.ok(await raw.closesWithin(5_000), `connection still open: ${raw.describe()}`);
    assert.ok(raw.goaway(), `no GOAWAY: ${raw.describe()}`);
    assert.equal(backend.seen('/cont'), 0);
    const grown = process.memoryUsage().rss - rssBefore;
    assert.ok(grown < 64 * MiB, `rss grew by ${grown} bytes`);
  });

  it('advertises 100 concurrent streams and refuses the streams beyond', { timeout: 20_000 }, async () => {
    // All 110 written before our SETTINGS ACK: nghttp2 refuses the excess stream by stream.
    const raw = await RawH2.open(port);
    const block = headerBlock(requestFields('/hold'));
    raw.write(...Array.from({ length: 110 }, (_, i) => headers(1 + 2 * i, block, { endStream: true })));
    const settings = await raw.waitFor((f) => f.type === SETTINGS && !(f.flags & ACK));
    assert.equal(settingOf(settings, SETTINGS_MAX_CONCURRENT_STREAMS), 100);
    await eventually(() => backend.held.length === 100, '100 requests at the upstream', 5_000);
    const refused = raw.frames.filter((f) => f.type === RST_STREAM);
    assert.deepEqual(
      refused.map((f) => f.stream),
      Array.from({ length: 10 }, (_, i) => 201 + 2 * i),
    );
    for (const f of refused) assert.equal(rstCode(f), h2.NGHTTP2_REFUSED_STREAM);
    // Once the limit is acknowledged, exceeding it is a protocol error: the stream or the connection goes.
    await raw.waitFor((f) => f.type === SETTINGS && (f.flags & ACK) !== 0);
    raw.write(headers(221, block, { endStream: true }));
    const answer = await raw.waitFor((f) => isRst(221)(f) || f.type === GOAWAY);
    assert.notEqual(answer.type === GOAWAY ? goawayOf(answer).code : rstCode(answer), h2.NGHTTP2_NO_ERROR);
    assert.equal(backend.seen('/hold'), 100);
    raw.destroy();
    backend.release();
    await othersServed(port, client);
  });

  it('stops reading the upstream while the client grants no window, and resumes when it does', { timeout: 30_000 }, async () => {
    const buffersBefore = process.memoryUsage().arrayBuffers;
    const raw = await settled(port, [[SETTINGS_INITIAL_WINDOW_SIZE, 16 * 1024]]);
    raw.write(headers(1, headerBlock(requestFields('/big')), { endStream: true }));
    assert.equal(await status(raw, 1), 200);
    const stalledAt = await settles(() => backend.bigWritten());
    // What the client has allowed, and no more.
    assert.equal(raw.dataBytes.get(1), 16 * 1024);
    // Socket buffers on both sides of the gateway take a few MiB.
    assert.ok(stalledAt < 64 * MiB, `the upstream got to write ${stalledAt} bytes`);
    const buffered = process.memoryUsage().arrayBuffers - buffersBefore;
    assert.ok(buffered < 16 * MiB, `${buffered} bytes of buffers held`);
    raw.write(windowUpdate(0, 64 * MiB), windowUpdate(1, 64 * MiB));
    await eventually(() => (raw.dataBytes.get(1) ?? 0) > 32 * MiB, 'the body to flow again', 20_000);
    assert.ok(backend.bigWritten() > stalledAt);
    raw.destroy();
  });

  it('stops taking a request body the upstream does not read, and resumes when it does', { timeout: 30_000 }, async () => {
    const buffersBefore = process.memoryUsage().arrayBuffers;
    const uploader = h2Client(port);
    const stream = uploader.request({ ':method': 'POST', ':path': '/sink' });
    stream.on('error', () => undefined);
    const chunk = Buffer.alloc(64 * 1024, 0x62);
    let written = 0;
    let draining = false;
    const pump = (): void => {
      draining = false;
      while (written < BODY) {
        written += chunk.length;
        if (!stream.write(chunk)) {
          draining = true;
          stream.once('drain', pump);
          return;
        }
      }
    };
    pump();
    const stalledAt = await settles(() => written);
    assert.ok(draining, 'the whole body went out: nothing held the client back');
    assert.ok(stalledAt < 64 * MiB, `the client got to write ${stalledAt} bytes`);
    const buffered = process.memoryUsage().arrayBuffers - buffersBefore;
    assert.ok(buffered < 16 * MiB, `${buffered} bytes of buffers held`);
    backend.readSinks();
    await eventually(() => written > stalledAt + 32 * MiB, 'the body to flow again', 20_000);
    stream.close(h2.NGHTTP2_CANCEL);
    uploader.destroy();
  });
});

describe('HTTP/2 SETTINGS timeout', () => {
  const TIMEOUT_MS = 200;
  let backend: Backend;
  let dp: DataPlane;
  let port = 0;

  before(async () => {
    backend = await startBackend();
    ({ dp, port } = await startGateway(backend, { http2Timeouts: { settingsMs: TIMEOUT_MS } }));
  });
  after(async () => {
    await dp.shutdown(500);
    await backend.upstream.close();
  });

  it('closes a connection that never acknowledges our SETTINGS with GOAWAY SETTINGS_TIMEOUT', async () => {
    const started = Date.now();
    const raw = await RawH2.open(port, { ackSettings: false });
    const goaway = await raw.waitFor((f) => f.type === GOAWAY);
    assert.ok(Date.now() - started >= TIMEOUT_MS - 5, `GOAWAY after ${Date.now() - started} ms`);
    assert.equal(goawayOf(goaway).code, h2.NGHTTP2_SETTINGS_TIMEOUT);
    assert.ok(await raw.closesWithin(2_000), 'connection still open');
  });

  it('keeps a connection that acknowledged them', async () => {
    const raw = await settled(port);
    const client = h2Client(port);
    assert.equal((await sendH2(client, '/ok')).status, 200);
    await new Promise((r) => setTimeout(r, 3 * TIMEOUT_MS));
    assert.equal(raw.goaway(), undefined);
    raw.write(headers(1, headerBlock(requestFields('/ok')), { endStream: true }));
    assert.equal(await status(raw, 1), 200);
    assert.equal((await sendH2(client, '/ok')).status, 200);
    raw.destroy();
    client.close();
  });
});

describe('HTTP/2 session idle timeout', () => {
  const IDLE_MS = 300;
  let backend: Backend;
  let dp: DataPlane;
  let port = 0;

  before(async () => {
    backend = await startBackend();
    ({ dp, port } = await startGateway(backend, { http2Timeouts: { sessionIdleMs: IDLE_MS } }));
  });
  after(async () => {
    backend.release();
    await dp.shutdown(500);
    await backend.upstream.close();
  });

  it('closes a session that sent nothing for the idle time with GOAWAY NO_ERROR', async () => {
    const raw = await settled(port);
    const quietSince = Date.now();
    const goaway = await raw.waitFor((f) => f.type === GOAWAY, 5_000);
    assert.ok(Date.now() - quietSince >= IDLE_MS - 20, `GOAWAY after ${Date.now() - quietSince} ms`);
    assert.deepEqual(goawayOf(goaway), { lastStream: 0, code: h2.NGHTTP2_NO_ERROR });
    assert.ok(await raw.closesWithin(2_000), 'connection still open');
  });

  it('keeps a session that sends requests more often than that', async () => {
    const raw = await settled(port);
    for (let stream = 1; stream <= 11; stream += 2) {
      raw.write(headers(stream, headerBlock(requestFields('/ok')), { endStream: true }));
      assert.equal(await status(raw, stream), 200);
      await new Promise((r) => setTimeout(r, IDLE_MS / 2));
    }
    assert.equal(raw.goaway(), undefined, raw.describe());
    raw.destroy();
  });

  it('lets a quiet stream still open finish after the GOAWAY, then closes', async () => {
    const raw = await settled(port);
    raw.write(headers(1, headerBlock(requestFields('/hold')), { endStream: true }));
    await eventually(() => backend.held.length === 1, 'the request at the upstream', 5_000);
    const goaway = await raw.waitFor((f) => f.type === GOAWAY, 5_000);
    assert.deepEqual(goawayOf(goaway), { lastStream: 1, code: h2.NGHTTP2_NO_ERROR });
    backend.release();
    assert.equal(await status(raw, 1), 200);
    await raw.waitFor((f) => f.type === DATA && f.stream === 1 && (f.flags & END_STREAM) !== 0);
    assert.ok(await raw.closesWithin(2_000), 'connection still open');
  });
});

describe('HTTP/2 drain', () => {
  let backend: Backend;
  let dp: DataPlane;
  let port = 0;

  before(async () => {
    backend = await startBackend();
    ({ dp, port } = await startGateway(backend));
  });
  after(async () => {
    backend.release();
    await dp.shutdown(100);
    await backend.upstream.close();
  });

  it('sends GOAWAY naming the last stream it took; those finish, later ones are not served', { timeout: 20_000 }, async () => {
    const raw = await settled(port);
    const block = headerBlock(requestFields('/hold'));
    raw.write(headers(1, block, { endStream: true }), headers(3, block, { endStream: true }));
    await eventually(() => backend.held.length === 2, 'both requests at the upstream', 5_000);
    const stopped = dp.shutdown(10_000);
    const goaway = goawayOf(await raw.waitFor((f) => f.type === GOAWAY));
    assert.deepEqual(goaway, { lastStream: 3, code: h2.NGHTTP2_NO_ERROR });
    raw.write(headers(5, block, { endStream: true }));
    backend.release();
    for (const stream of [1, 3]) {
      assert.equal(await status(raw, stream), 200);
      await raw.waitFor((f) => f.type === DATA && f.stream === stream && (f.flags & END_STREAM) !== 0);
    }
    await stopped;
    assert.ok(await raw.closesWithin(2_000), 'connection still open');
    assert.equal(raw.frames.filter((f) => f.stream === 5 && f.type === HEADERS).length, 0);
    assert.equal(backend.seen('/hold'), 2);
  });
});
