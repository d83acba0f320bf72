// The client-side HTTP/1.1 fast path (http1-inbound.ts), driven over raw
// sockets so that framing, connection handling and pipelining can be checked
// byte for byte. Which requests the fast path took (and which it handed to
// node:http) is observed by wrapping two FastResponse methods: the answers of
// both paths look alike on the wire, so without that a fast path that took
// nothing would pass every test here.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { connect, createServer as createNetServer, Socket, type AddressInfo } from 'node:net';
import { after, afterEach, before, describe, it } from 'node:test';
import { DataPlane } from '../../src/dataplane/index.js';
import { HEAD_INCOMPLETE } from '../../src/dataplane/http-syntax.js';
import { FastConnection, FastResponse, KEEP_ALIVE_TIMEOUT_MS, parseRequestHead, REQUEST_TIMEOUT_MS, type FastRequest } from '../../src/dataplane/http1-inbound.js';
import { IdleSweep } from '../../src/dataplane/idle-sweep.js';
import { silentLogger } from '../../src/util/log.js';
import { answerDigest, config, digestOf, direct, forwardTo, httpServer, route, slowUpstream, startUpstream, type Echo, type Upstream } from './helpers.js';

// ---------------------------------------------------------------------------
// Which path served a request

/** "METHOD url" of every request the fast path wrote a response head for. */
const answeredFast = new Set<string>();
/** "METHOD url" of every fast-path response whose connection was lost before it ended. */
const lostFast = new Set<string>();

/** "METHOD url" of every fast-path response whose head was relayed as the upstream's bytes. */
const relayedAsBytes = new Set<string>();

const originalWriteFieldLines = FastResponse.prototype.writeFieldLines;
const originalRelayFieldBytes = FastResponse.prototype.relayFieldBytes;
const originalLost = FastResponse.prototype.lost;

function key(req: FastRequest): string {
  return `${req.method} ${req.url}`;
}

before(() => {
  // Every head goes through here, relayed from upstream lines or built from a field list.
  FastResponse.prototype.writeFieldLines = function (this: FastResponse, ...args: Parameters<FastResponse['writeFieldLines']>) {
    answeredFast.add(key(this.req));
    return originalWriteFieldLines.apply(this, args);
  };
  FastResponse.prototype.relayFieldBytes = function (this: FastResponse, ...args: Parameters<FastResponse['relayFieldBytes']>) {
    answeredFast.add(key(this.req));
    relayedAsBytes.add(key(this.req));
    return originalRelayFieldBytes.apply(this, args);
  };
  FastResponse.prototype.lost = function (this: FastResponse) {
    if (!this.writableEnded) lostFast.add(key(this.req));
    originalLost.call(this);
  };
});

after(() => {
  FastResponse.prototype.writeFieldLines = originalWriteFieldLines;
  FastResponse.prototype.relayFieldBytes = originalRelayFieldBytes;
  FastResponse.prototype.lost = originalLost;
});

// ---------------------------------------------------------------------------
// A raw client and a strict response parser

interface RawResponse {
  status: number;
  /** Fields in the order sent, names as sent. */
  fields: [string, string][];
  body: string;
  /** Chunk sizes as framed, when the body was chunked. */
  chunks: number[] | undefined;
  /** This response's bytes exactly as received. */
  raw: string;
}

/** Every value of a field, its name matched case-insensitively. */
function values(r: RawResponse, name: string): string[] {
  return r.fields.filter(([n]) => n.toLowerCase() === name).map(([, v]) => v);
}

function only(r: RawResponse, name: string): string | undefined {
  const v = values(r, name);
  assert.ok(v.length <= 1, `${name} sent ${v.length} times: ${r.raw}`);
  return v[0];
}

/**
 * One response from `at`, or undefined while incomplete. Throws on framing a
 * client could not parse (bad status line, bad chunk size, missing CRLF).
 */
function parseResponse(text: string, at: number, method: string, closed: boolean): [RawResponse, number] | undefined {
  const headEnd = text.indexOf('\r\n\r\n', at);
  if (headEnd < 0) return undefined;
  const lines = text.slice(at, headEnd).split('\r\n');
  const m = /^HTTP\/1\.[01] (\d{3})(?: |$)/.exec(lines[0]!);
  if (!m) throw new Error(`not a status line: ${JSON.stringify(lines[0])} in ${JSON.stringify(text)}`);
  const status = Number(m[1]);
  const fields = lines.slice(1).map((line): [string, string] => {
    const colon = line.indexOf(':');
    assert.ok(colon > 0, `bad field line ${JSON.stringify(line)}`);
    return [line.slice(0, colon), line.slice(colon + 1).trim()];
  });
  const partial: RawResponse = { status, fields, body: '', chunks: undefined, raw: '' };
  let pos = headEnd + 4;
  if (method === 'HEAD' || status === 204 || status === 304 || status < 200) {
    // No body, whatever the fields say.
  } else if (values(partial, 'transfer-encoding').length > 0) {
    const chunks: number[] = [];
    for (;;) {
      const eol = text.indexOf('\r\n', pos);
      if (eol < 0) return undefined;
      const sizeText = text.slice(pos, eol);
      if (!/^[0-9a-fA-F]+$/.test(sizeText)) throw new Error(`bad chunk size line ${JSON.stringify(sizeText)} in ${JSON.stringify(text)}`);
      const size = parseInt(sizeText, 16);
      if (size === 0) {
        if (text.length < eol + 4) return undefined;
        if (text.slice(eol + 2, eol + 4) !== '\r\n') throw new Error(`no CRLF after the last chunk in ${JSON.stringify(text)}`);
        pos = eol + 4;
        break;
      }
      if (text.length < eol + 2 + size + 2) return undefined;
      partial.body += text.slice(eol + 2, eol + 2 + size);
      if (text.slice(eol + 2 + size, eol + 4 + size) !== '\r\n') throw new Error(`no CRLF after a chunk in ${JSON.stringify(text)}`);
      chunks.push(size);
      pos = eol + 4 + size;
    }
    partial.chunks = chunks;
  } else if (values(partial, 'content-length').length > 0) {
    const length = Number(values(partial, 'content-length')[0]);
    if (text.length < pos + length) return undefined;
    partial.body = text.slice(pos, pos + length);
    pos += length;
  } else {
    // Delimited by the close of the connection.
    if (!closed) return undefined;
    partial.body = text.slice(pos);
    pos = text.length;
  }
  partial.raw = text.slice(at, pos);
  return [partial, pos];
}

/** How long a wait for responses or for a close may take before the test fails (rather than hangs). */
const WAIT_MS = 5_000;

/** Every client not yet destroyed, so that a failed test leaves no connection holding a server open. */
const openClients = new Set<RawClient>();
afterEach(() => {
  for (const c of openClients) c.destroy();
});

/** A cleartext client connection that writes raw bytes and reads raw responses. */
class RawClient {
  readonly socket: Socket;
  /** Resolves once the connection is fully closed. */
  readonly closed: Promise<void>;
  closedAt: number | undefined;
  /** Whether the server has ended its side (or the connection is gone). */
  serverEnded = false;
  private received = Buffer.alloc(0);
  private wake: () => void = () => undefined;

  constructor(port: number) {
    this.socket = connect(port, '127.0.0.1');
    openClients.add(this);
    this.socket.on('data', (d: Buffer) => {
      this.received = Buffer.concat([this.received, d]);
      this.wake();
    });
    this.socket.on('end', () => {
      this.serverEnded = true;
      this.wake();
    });
    // A reset surfaces as a close, which the tests observe.
    this.socket.on('error', () => undefined);
    this.closed = new Promise((resolve) =>
      this.socket.on('close', () => {
        this.closedAt = Date.now();
        openClients.delete(this);
        this.serverEnded = true;
        this.wake();
        resolve();
      }),
    );
  }

  /** Everything received so far. */
  get text(): string {
    return this.received.toString('latin1');
  }

  write(bytes: string): void {
    this.socket.write(bytes, 'latin1');
  }

  /**
   * Resolves with the responses to requests of these methods (in order, from
   * the first byte received) once all have arrived whole; rejects if the
   * connection ends first or they take longer than WAIT_MS.
   */
  async responses(...methods: string[]): Promise<RawResponse[]> {
    const deadline = Date.now() + WAIT_MS;
    for (;;) {
      const out: RawResponse[] = [];
      let at = 0;
      while (out.length < methods.length) {
        const parsed = parseResponse(this.text, at, methods[out.length]!, this.serverEnded);
        if (parsed === undefined) break;
        out.push(parsed[0]);
        at = parsed[1];
      }
      if (out.length === methods.length) return out;
      if (this.serverEnded) throw new Error(`connection ended after ${out.length} of ${methods.length} responses: ${JSON.stringify(this.text)}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`${out.length} of ${methods.length} responses after ${WAIT_MS} ms: ${JSON.stringify(this.text)}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  }

  /** Resolves once the connection has closed; rejects if that takes longer than `ms`. */
  waitClosed(ms = WAIT_MS): Promise<void> {
    return Promise.race([this.closed, rejectAfter(ms, `connection still open after ${ms} ms: ${JSON.stringify(this.text)}`)]);
  }

  destroy(): void {
    this.socket.destroy();
  }
}

function get(path: string, extra = ''): string {
  return `GET ${path} HTTP/1.1\r\nHost: site.example\r\n${extra}\r\n`;
}

/** The head of a POST whose body of `length` bytes follows. */
function postHead(path: string, length: number): string {
  return `POST ${path} HTTP/1.1\r\nHost: site.example\r\nContent-Length: ${length}\r\n\r\n`;
}

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function echoOf(r: RawResponse): Echo {
  assert.equal(r.status, 200, r.raw);
  return JSON.parse(r.body) as Echo;
}

function rejectAfter(ms: number, what: string): Promise<never> {
  return new Promise((_, reject) => setTimeout(() => reject(new Error(what)), ms).unref());
}

const IMF_DATE = /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d\d (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d\d:\d\d:\d\d GMT$/;

// ---------------------------------------------------------------------------

/** Far more than socket buffers hold: a client that does not read makes the proxy queue what it was given. */
const BIG_BODY = randomBytes(8 * 1024 * 1024);

/** A raw response, or its parts, written 20 ms apart. */
const RAW_HEADS: Record<string, string | string[]> = {
  // Chunked and empty: relayed as a chunked body of no chunks.
  '/raw/relayed': 'HTTP/1.1 200 OK\r\nKEEP-ALIVE: timeout=99\r\nX-First: 1\r\nProxy-Connection: keep-alive\r\nTrailer: X-T\r\nX-Spaced:   two  words \r\n' +
    'DATE: Mon, 01 Jan 2024 00:00:00 GMT\r\ntransfer-encoding: chunked\r\nConnection: keep-alive\r\n\r\n0\r\n\r\n',
  '/raw/edited': 'HTTP/1.1 200 OK\r\nX-First: 1\r\nX-Spaced:   two  words \r\nX-Gone: 1\r\nX-SET: upstream\r\nContent-Length: 2\r\n\r\nok',
  '/raw/named-hop': 'HTTP/1.1 200 OK\r\nConnection: keep-alive, X-Hop\r\nX-Hop: gone\r\nX-Kept: here\r\nContent-Length: 2\r\n\r\nok',
  '/raw/reason': 'HTTP/1.0 299 Fine By Me\r\nX-A: 1\r\nContent-Length: 2\r\n\r\nok',
  // The body comes in later reads, into the buffer the head was read into.
  '/raw/late-body': ['HTTP/1.1 200 OK\r\nX-Late: yes\r\nConnection: keep-alive\r\nContent-Length: 5\r\n\r\n', 'he', 'llo'],
};

describe('HTTP/1.1 fast path on a cleartext listener', () => {
  const dp = new DataPlane({ logger: silentLogger });
  const upstreams: Upstream[] = [];
  let port = 0;
  /** Set by a test before it sends /shapes/hang: told of its arrival, with a promise of the upstream response's 'close'. */
  let onHang: ((closed: Promise<void>) => void) | undefined;

  before(async () => {
    const echo = await startUpstream('echo');
    const flakyTried = new Set<string>();
    const shapes = await startUpstream((req, res) => {
      const path = req.url!.split('?')[0];
      if (path === '/shapes/digest') {
        answerDigest(req, res, req.url!.includes('slow') ? 300 : 0);
        return;
      }
      if (path === '/shapes/flaky') {
        // The first attempt at each URL fails at once, its body unread.
        if (flakyTried.has(req.url!)) answerDigest(req, res, 0);
        else {
          flakyTried.add(req.url!);
          res.writeHead(500, { 'content-length': '0' });
          res.end();
        }
        return;
      }
      req.resume();
      switch (path) {
        case '/shapes/sized':
        case '/unsized':
          res.writeHead(200, { 'content-length': '5', 'content-type': 'text/plain' });
          res.end(req.method === 'HEAD' ? undefined : 'hello');
          return;
        case '/shapes/chunks':
          // No Content-Length: Node frames this with chunked encoding.
          res.writeHead(200, { 'content-type': 'text/plain' });
          res.write('abc');
          setTimeout(() => {
            res.write('defgh');
            res.end();
          }, 20);
          return;
        case '/shapes/big': {
          res.writeHead(200, { 'content-length': String(BIG_BODY.length) });
          // In pieces smaller than a socket's high-water mark, so the proxy keeps reading while the client's socket queues.
          const piece = (at: number): void => {
            if (at >= BIG_BODY.length) res.end();
            else if (res.write(BIG_BODY.subarray(at, at + 8192))) setImmediate(piece, at + 8192);
            else res.once('drain', () => piece(at + 8192));
          };
          piece(0);
          return;
        }
        case '/shapes/nocontent':
          res.writeHead(204, { 'x-empty': 'yes' });
          res.end();
          return;
        case '/shapes/hang': {
          const closed = new Promise<void>((resolve) => res.once('close', () => resolve()));
          onHang?.(closed);
          return;
        }
        default:
          res.writeHead(404, { 'content-length': '0' });
          res.end();
      }
    });
    upstreams.push(echo, shapes);
    // Answers every request with the raw response RAW_HEADS holds for its path, however its fields are cased and spaced.
    const raw = createNetServer((socket) => {
      let pending = '';
      socket.on('data', (chunk: Buffer) => {
        pending += chunk.toString('latin1');
        for (let end = pending.indexOf('\r\n\r\n'); end >= 0; end = pending.indexOf('\r\n\r\n')) {
          const path = pending.slice(0, end).split(' ')[1]!;
          pending = pending.slice(end + 4);
          const response = RAW_HEADS[path] ?? 'HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n';
          if (typeof response === 'string') socket.write(response);
          else response.forEach((part, i) => setTimeout(() => socket.write(part), 20 * i));
        }
      });
    });
    await new Promise<void>((resolve) => raw.listen(0, '127.0.0.1', resolve));
    upstreams.push({ port: (raw.address() as AddressInfo).port, close: () => new Promise<void>((resolve) => raw.close(() => resolve())) } as Upstream);
    const ir = config(
      [
        httpServer('s', [
          {
            hostname: '*',
            routes: [
              route('direct', { path: { type: 'Exact', value: '/direct' } }, direct('direct answer')),
              route('echo', { path: { type: 'PathPrefix', value: '/echo' } }, forwardTo('echo')),
              route('flaky', { path: { type: 'Exact', value: '/shapes/flaky' } }, forwardTo('shapes'), { retry: { codes: [500], attempts: 2, backoffMs: 200 } }),
              route('shapes', { path: { type: 'PathPrefix', value: '/shapes' } }, forwardTo('shapes')),
              // Routes are tried in order: the translator sorts them by precedence.
              route('raw-edited', { path: { type: 'Exact', value: '/raw/edited' } }, forwardTo('raw'), {
                responseHeaders: { set: [{ name: 'x-set', value: 'filter' }], add: [{ name: 'X-Added', value: '1' }], remove: ['x-gone'] },
              }),
              route('raw', { path: { type: 'PathPrefix', value: '/raw' } }, forwardTo('raw')),
              // The upstream's Content-Length is filtered out, so the body that came with it ends the response.
              route('unsized', { path: { type: 'PathPrefix', value: '/unsized' } }, forwardTo('shapes'), {
                responseHeaders: { remove: ['content-length'] },
              }),
            ],
          },
        ]),
      ],
      { echo: [echo.port], shapes: [shapes.port], raw: [upstreams[2]!.port] },
    );
    assert.deepEqual((await dp.apply(ir)).failures, []);
    port = dp.boundPort('s')!;
  });
  after(async () => {
    await dp.shutdown(1000);
    await Promise.all(upstreams.map((u) => u.close()));
  });

  it('answers pipelined keep-alive GETs in order on one connection, with keep-alive fields and a Date', async () => {
    const c = new RawClient(port);
    // Both requests in one write: the second waits, parsed, behind the first.
    c.write(get('/direct') + get('/echo/pipelined-2', 'X-Seen: yes\r\n'));
    const [first, second] = await c.responses('GET', 'GET');
    assert.equal(c.text, first!.raw + second!.raw, 'nothing but the two responses');

    assert.equal(first!.status, 200);
    assert.equal(first!.body, 'direct answer');
    assert.equal(only(first!, 'connection'), 'keep-alive');
    assert.equal(only(first!, 'keep-alive'), `timeout=${KEEP_ALIVE_TIMEOUT_MS / 1000}`);
    assert.equal(only(first!, 'keep-alive'), 'timeout=5');
    // A direct response has no upstream Date to relay: the fast path adds its own.
    const date = only(first!, 'date');
    assert.match(date ?? '', IMF_DATE);
    assert.ok(Math.abs(Date.parse(date!) - Date.now()) < 5_000, date);
    assert.equal(only(first!, 'transfer-encoding'), undefined);

    const e = echoOf(second!);
    assert.equal(e.url, '/echo/pipelined-2');
    assert.equal(e.headers.host, 'site.example');
    assert.equal(e.headers['x-seen'], 'yes');
    assert.equal(only(second!, 'connection'), 'keep-alive');
    assert.equal(only(second!, 'keep-alive'), 'timeout=5');
    assert.match(only(second!, 'date') ?? '', IMF_DATE);

    assert.ok(answeredFast.has('GET /direct'));
    assert.ok(answeredFast.has('GET /echo/pipelined-2'));
    // Still open: a third request on the same connection is answered too.
    assert.equal(c.serverEnded, false);
    c.write(get('/echo/pipelined-3'));
    const [, , third] = await c.responses('GET', 'GET', 'GET');
    assert.equal(echoOf(third!).url, '/echo/pipelined-3');
    assert.ok(answeredFast.has('GET /echo/pipelined-3'));
    c.destroy();
  });

  it('serves a head that arrives in pieces, its last CRLFCRLF split too, on the fast path', async () => {
    const c = new RawClient(port);
    const head = get('/echo/in-pieces', 'X-Piece: a\r\n');
    const cuts = [3, 20, head.length - 3, head.length - 1];
    let from = 0;
    for (const cut of cuts) {
      c.write(head.slice(from, cut));
      from = cut;
      await new Promise((resolve) => setTimeout(resolve, 15));
    }
    c.write(head.slice(from) + get('/echo/after-pieces'));
    const [first, second] = await c.responses('GET', 'GET');
    assert.equal(echoOf(first!).url, '/echo/in-pieces');
    assert.equal(echoOf(first!).headers['x-piece'], 'a');
    assert.equal(echoOf(second!).url, '/echo/after-pieces');
    assert.ok(answeredFast.has('GET /echo/in-pieces'));
    assert.ok(answeredFast.has('GET /echo/after-pieces'));
    c.destroy();
  });

  it("emits a response's 'finish' and 'close' before end() returns, a direct answer's and a proxied one's", async () => {
    const events: string[] = [];
    const originalEnd = FastResponse.prototype.end;
    FastResponse.prototype.end = function (this: FastResponse, chunk?: Buffer) {
      this.once('finish', () => events.push(`finish ${this.req.url}`));
      this.once('close', () => events.push(`close ${this.req.url}`));
      originalEnd.call(this, chunk);
      events.push(`returned ${this.req.url}`);
      return this;
    };
    try {
      const c = new RawClient(port);
      c.write(get('/direct') + get('/echo/events'));
      await c.responses('GET', 'GET');
      c.destroy();
    } finally {
      FastResponse.prototype.end = originalEnd;
    }
    assert.deepEqual(events, [
      'finish /direct', 'close /direct', 'returned /direct',
      'finish /echo/events', 'close /echo/events', 'returned /echo/events',
    ]);
  });

  it('relays upstream fields as sent, without its hop-by-hop ones, in place of its own framing and connection fields', async () => {
    const c = new RawClient(port);
    c.write(get('/raw/relayed') + get('/raw/named-hop'));
    const [relayed, named] = await c.responses('GET', 'GET');
    assert.deepEqual(relayed!.fields.map(([n]) => n), ['X-First', 'X-Spaced', 'DATE', 'Transfer-Encoding', 'Connection', 'Keep-Alive']);
    assert.equal(only(relayed!, 'x-spaced'), 'two  words');
    assert.equal(only(relayed!, 'date'), 'Mon, 01 Jan 2024 00:00:00 GMT');
    assert.equal(only(relayed!, 'keep-alive'), 'timeout=5');
    assert.equal(relayed!.body, '');
    assert.ok(relayed!.raw.includes('\r\nX-Spaced:   two  words \r\n'), 'the line as the upstream sent it');
    // A Connection field naming another field takes the path that reads each field: that one is dropped too.
    assert.deepEqual(named!.fields.map(([n]) => n), ['X-Kept', 'Content-Length', 'Date', 'Connection', 'Keep-Alive']);
    assert.equal(named!.body, 'ok');
    assert.ok(answeredFast.has('GET /raw/relayed') && answeredFast.has('GET /raw/named-hop'));
    assert.ok(relayedAsBytes.has('GET /raw/relayed'), 'lines no field names are copied as bytes');
    c.destroy();
  });

  it('relays a head as bytes with its own reason phrase and a Date of ours, and keeps it while the body comes in later reads', async () => {
    const c = new RawClient(port);
    c.write(get('/raw/reason') + get('/raw/late-body'));
    const [reason, late] = await c.responses('GET', 'GET');
    assert.ok(reason!.raw.startsWith('HTTP/1.1 299 Fine By Me\r\nX-A: 1\r\nContent-Length: 2\r\nDate: '), reason!.raw);
    assert.match(only(reason!, 'date') ?? '', IMF_DATE);
    assert.equal(reason!.body, 'ok');
    assert.deepEqual(late!.fields.map(([n]) => n), ['X-Late', 'Content-Length', 'Date', 'Connection', 'Keep-Alive']);
    assert.equal(only(late!, 'x-late'), 'yes');
    assert.equal(late!.body, 'hello');
    assert.ok(relayedAsBytes.has('GET /raw/reason') && relayedAsBytes.has('GET /raw/late-body'));
    c.destroy();
  });

  it('relays the upstream lines a response filter leaves alone as sent, and its own after them', async () => {
    const c = new RawClient(port);
    c.write(get('/raw/edited'));
    const [edited] = await c.responses('GET');
    assert.deepEqual(edited!.fields.map(([n]) => n), ['X-First', 'X-Spaced', 'Content-Length', 'x-set', 'x-added', 'Date', 'Connection', 'Keep-Alive']);
    assert.ok(edited!.raw.includes('\r\nX-Spaced:   two  words \r\n'), 'the line as the upstream sent it');
    assert.equal(only(edited!, 'x-set'), 'filter');
    assert.equal(edited!.body, 'ok');
    c.destroy();
  });

  it('parses only the bytes of each read, not what an earlier, longer read left in the shared read buffer', async () => {
    const late = new RawClient(port);
    late.write(get('/direct'));
    await late.responses('GET');
    const earlier = new RawClient(port);
    earlier.write(get('/direct'));
    await earlier.responses('GET');
    // This whole head lies in the shared buffer when the shorter read below, the same bytes less the final CRLF, lands over it.
    const whole = get('/echo/stale-tail');
    earlier.write(whole);
    await earlier.responses('GET', 'GET');
    late.write(whole.slice(0, -2));
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(late.text.split('HTTP/1.1 ').length - 1, 1, 'a head without its final CRLF was answered');
    late.write('X-Late: 1\r\n\r\n');
    const [, answer] = await late.responses('GET', 'GET');
    assert.equal(echoOf(answer!).headers['x-late'], '1');
    for (const c of [late, earlier]) c.destroy();
  });

  it('keeps a pipelined request intact while other connections read into the shared read buffer', async () => {
    // Connections read into the shared buffer once their first bytes have shown them to be HTTP/1.1.
    const others = Array.from({ length: 4 }, () => new RawClient(port));
    for (const c of others) c.write(get('/direct'));
    for (const c of others) assert.equal((await c.responses('GET'))[0]!.body, 'direct answer');
    const a = new RawClient(port);
    a.write(get('/direct'));
    await a.responses('GET');
    // The second request waits, parsed later, behind a response the upstream sends in two parts 20 ms apart.
    a.write(get('/shapes/chunks') + get('/echo/pipelined-behind-chunks', 'X-Marker: kept\r\n'));
    await new Promise((r) => setTimeout(r, 5));
    others.forEach((c, i) => c.write(get(`/echo/other-${i}-${'x'.repeat(2000)}`, `X-Filler: ${'y'.repeat(2000)}\r\n`)));
    for (const [i, c] of others.entries()) assert.ok(echoOf((await c.responses('GET', 'GET'))[1]!).url.startsWith(`/echo/other-${i}-x`));
    const [, chunks, behind] = await a.responses('GET', 'GET', 'GET');
    assert.equal(chunks!.body, 'abcdefgh');
    const e = echoOf(behind!);
    assert.equal(e.url, '/echo/pipelined-behind-chunks');
    assert.equal(e.headers['x-marker'], 'kept');
    for (const c of [a, ...others]) c.destroy();
  });

  it('relays a large body intact to a client that stops reading for a while', { timeout: 20_000 }, async () => {
    const c = connect(port, '127.0.0.1');
    c.write(get('/shapes/big'));
    c.pause();
    await new Promise((r) => setTimeout(r, 300));
    const chunks: Buffer[] = [];
    let length = 0;
    const headEnd = Buffer.from('\r\n\r\n');
    await new Promise<void>((resolve, reject) => {
      c.on('data', (b: Buffer) => {
        chunks.push(b);
        length += b.length;
        if (length >= BIG_BODY.length) {
          const all = Buffer.concat(chunks);
          const start = all.indexOf(headEnd) + 4;
          if (start >= 4 && all.length - start >= BIG_BODY.length) resolve();
        }
      });
      c.on('error', reject);
      c.resume();
    });
    const all = Buffer.concat(chunks);
    const body = all.subarray(all.indexOf(headEnd) + 4);
    assert.equal(body.length, BIG_BODY.length);
    assert.ok(body.equals(BIG_BODY), 'the body arrives as the upstream sent it');
    c.destroy();
  });

  it('closes the connection after a response to Connection: close, leaving a pipelined request unanswered', async () => {
    const c = new RawClient(port);
    const sentAt = Date.now();
    c.write(get('/echo/close-1', 'Connection: close\r\n') + get('/echo/close-2'));
    await c.waitClosed();
    // At once, not when the keep-alive timeout would have closed it anyway.
    assert.ok(c.closedAt! - sentAt < KEEP_ALIVE_TIMEOUT_MS / 5, `closed after ${c.closedAt! - sentAt} ms`);
    const [r] = await c.responses('GET');
    assert.equal(echoOf(r!).url, '/echo/close-1');
    assert.equal(only(r!, 'connection'), 'close');
    assert.equal(only(r!, 'keep-alive'), undefined);
    assert.equal(c.text, r!.raw, 'nothing after the response');
    assert.ok(answeredFast.has('GET /echo/close-1'));
    assert.ok(!answeredFast.has('GET /echo/close-2'));
  });

  it('answers HEAD with the upstream Content-Length and no body', async () => {
    const c = new RawClient(port);
    const headOf = (path: string): string => `HEAD ${path} HTTP/1.1\r\nHost: site.example\r\n\r\n`;
    c.write(headOf('/shapes/sized') + get('/shapes/sized') + headOf('/direct') + headOf('/shapes/chunks') + get('/direct'));
    const replies = await c.responses('HEAD', 'GET', 'HEAD', 'HEAD', 'GET');
    const [head, full, localHead, unsizedHead, last] = replies;
    assert.equal(c.text, replies.map((r) => r!.raw).join(''), 'nothing but the five responses');
    assert.equal(head!.status, 200);
    assert.equal(only(head!, 'content-length'), '5');
    assert.equal(only(head!, 'transfer-encoding'), undefined);
    // The next response starts right after the head: no body bytes in between.
    assert.ok(head!.raw.endsWith('\r\n\r\n'));
    assert.ok(c.text.startsWith(head!.raw + 'HTTP/1.1 200 '), JSON.stringify(c.text));
    assert.equal(full!.body, 'hello');
    // A local response to HEAD keeps the length of the body it does not send.
    assert.equal(localHead!.status, 200);
    assert.equal(only(localHead!, 'content-length'), String('direct answer'.length));
    // Without a length from the upstream: no chunked framing either, since no body follows.
    assert.equal(unsizedHead!.status, 200);
    assert.equal(only(unsizedHead!, 'transfer-encoding'), undefined);
    assert.equal(last!.body, 'direct answer');
    for (const k of ['HEAD /shapes/sized', 'GET /shapes/sized', 'HEAD /direct', 'HEAD /shapes/chunks']) assert.ok(answeredFast.has(k), k);
    c.destroy();
  });

  it('relays a body without Content-Length in chunked framing, and a 204 with no framing at all', async () => {
    const c = new RawClient(port);
    c.write(get('/shapes/chunks') + get('/shapes/nocontent') + get('/unsized') + get('/direct'));
    const [chunked, empty, unsized, next] = await c.responses('GET', 'GET', 'GET', 'GET');
    assert.equal(c.text, chunked!.raw + empty!.raw + unsized!.raw + next!.raw);

    assert.equal(chunked!.status, 200);
    assert.equal(only(chunked!, 'transfer-encoding'), 'chunked');
    assert.equal(only(chunked!, 'content-length'), undefined);
    assert.equal(chunked!.body, 'abcdefgh');
    // Each upstream chunk is relayed as it comes, in a chunk of its own.
    assert.deepEqual(chunked!.chunks, [3, 5]);
    assert.ok(chunked!.raw.endsWith('\r\n0\r\n\r\n'));

    assert.equal(empty!.status, 204);
    assert.equal(only(empty!, 'x-empty'), 'yes');
    assert.equal(only(empty!, 'transfer-encoding'), undefined);
    assert.equal(only(empty!, 'content-length'), undefined);
    assert.ok(empty!.raw.endsWith('\r\n\r\n'));

    // The whole body arrives with the end of the response: one chunk, then the last-chunk.
    assert.equal(only(unsized!, 'transfer-encoding'), 'chunked');
    assert.equal(only(unsized!, 'content-length'), undefined);
    assert.equal(unsized!.body, 'hello');
    assert.deepEqual(unsized!.chunks, [5]);
    assert.ok(unsized!.raw.endsWith('\r\n0\r\n\r\n'));

    assert.equal(next!.body, 'direct answer');
    assert.ok(answeredFast.has('GET /unsized'));
    assert.ok(answeredFast.has('GET /shapes/chunks'));
    assert.ok(answeredFast.has('GET /shapes/nocontent'));
    c.destroy();
  });

  describe('request bodies', () => {
    it('proxies a Content-Length body with its field as sent', async () => {
      const c = new RawClient(port);
      c.write(`${postHead('/echo/post-cl', 5)}hello`);
      const [r] = await c.responses('POST');
      const e = echoOf(r!);
      assert.equal(e.method, 'POST');
      assert.equal(e.bodyLength, 5);
      assert.equal(e.headers['content-length'], '5');
      assert.ok(answeredFast.has('POST /echo/post-cl'));
      c.destroy();
    });

    it('answers Expect: 100-continue itself, and does not pass the expectation on', async () => {
      const c = new RawClient(port);
      c.write('POST /echo/expect HTTP/1.1\r\nHost: site.example\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n');
      const [interim] = await c.responses('POST');
      assert.equal(interim!.status, 100);
      c.write('hello');
      const [, r] = await c.responses('POST', 'POST');
      const e = echoOf(r!);
      assert.equal(e.bodyLength, 5);
      assert.equal(e.headers.expect, undefined);
      assert.ok(answeredFast.has('POST /echo/expect'));
      c.destroy();
    });

    it('carries a body byte for byte, with its head or after it in pieces, and serves the request behind it', { timeout: 20_000 }, async () => {
      const small = randomBytes(1000);
      const big = randomBytes(3 * 1024 * 1024 + 17);
      const c = new RawClient(port);
      // Head, body and the next request in one write.
      c.socket.write(Buffer.concat([Buffer.from(postHead('/shapes/digest?with-head', small.length)), small, Buffer.from(get('/echo/behind-body'))]));
      const [first, behind] = await c.responses('POST', 'GET');
      assert.equal(first!.body, digestOf(small));
      assert.equal(echoOf(behind!).url, '/echo/behind-body');
      // The head alone, then the body in pieces of growing sizes, each its own read.
      c.write(postHead('/shapes/digest?pieces', big.length));
      for (let at = 0, n = 1; at < big.length; at += n, n = n * 3 + 1) {
        c.socket.write(big.subarray(at, at + n));
        await pause(2);
      }
      const [, , pieces] = await c.responses('POST', 'GET', 'POST');
      assert.equal(pieces!.body, digestOf(big));
      for (const path of ['/shapes/digest?with-head', '/shapes/digest?pieces']) assert.ok(answeredFast.has(`POST ${path}`), path);
      c.destroy();
    });

    it('keeps each upload intact while others read into the shared buffer, and while its upstream reads slowly', { timeout: 30_000 }, async () => {
      // The slow one: far more than socket buffers hold, so what the kernel does not take at once is copied and waits.
      const slow = { body: randomBytes(16 * 1024 * 1024), client: new RawClient(port) };
      const others = [0, 1, 2].map(() => ({ body: randomBytes(2 * 1024 * 1024), client: new RawClient(port) }));
      slow.client.socket.write(Buffer.concat([Buffer.from(postHead('/shapes/digest?slow', slow.body.length)), slow.body]));
      for (const [i, o] of others.entries()) o.client.write(postHead(`/shapes/digest?other-${i}`, o.body.length));
      // Interleaved writes, so the connections' reads take turns in the shared read buffer.
      for (let at = 0; at < others[0]!.body.length; at += 64 * 1024) {
        for (const o of others) o.client.socket.write(o.body.subarray(at, at + 64 * 1024));
        await pause(1);
      }
      for (const { body, client } of [slow, ...others]) {
        const [r] = await client.responses('POST');
        assert.equal(r!.body, digestOf(body));
        client.destroy();
      }
    });

    it('replays a body that came in while the first attempt failed, to the retry', async () => {
      const body = randomBytes(2000);
      const c = new RawClient(port);
      c.socket.write(Buffer.concat([Buffer.from(postHead('/shapes/flaky?late-tail', body.length)), body.subarray(0, 1000)]));
      // The first attempt has had its 500 by now; the retry waits out its backoff.
      await pause(50);
      c.socket.write(body.subarray(1000));
      const [r] = await c.responses('POST');
      assert.equal(r!.body, digestOf(body));
      c.destroy();
    });

    it('drops the rest of a body answered without being read, and serves the next request on the connection', async () => {
      const c = new RawClient(port);
      for (const path of ['/direct', '/nowhere']) {
        c.write(`${postHead(path, 100_000)}${'x'.repeat(10)}`);
        await pause(20);
        c.write(`${'y'.repeat(99_990)}${get(`/echo/after${path}`)}`);
      }
      const [answered, after, missing, afterMissing] = await c.responses('POST', 'GET', 'POST', 'GET');
      assert.equal(answered!.body, 'direct answer');
      assert.equal(echoOf(after!).url, '/echo/after/direct');
      assert.equal(missing!.status, 404);
      assert.equal(echoOf(afterMissing!).url, '/echo/after/nowhere');
      assert.ok(!c.serverEnded);
      c.destroy();
    });

    it('closes the connection after answering a request whose unread body is past the discard limit', async () => {
      const c = new RawClient(port);
      c.write(`${postHead('/direct', 5 * 1024 * 1024)}${'x'.repeat(1000)}`);
      const [r] = await c.responses('POST');
      assert.equal(r!.body, 'direct answer');
      assert.equal(only(r!, 'connection'), 'close');
      await c.waitClosed();
    });
  });

  describe('chunked request bodies', () => {
    const chunkedHead = (path: string): string => `POST ${path} HTTP/1.1\r\nHost: site.example\r\nTransfer-Encoding: chunked\r\n\r\n`;

    /** `body` framed chunked: chunks of the given sizes, the rest in one, each with an extension, then a trailer field. */
    function chunkedOf(body: Buffer, sizes: number[] = []): Buffer {
      const parts: Buffer[] = [];
      let at = 0;
      for (const n of [...sizes, body.length]) {
        const piece = body.subarray(at, at + n);
        if (piece.length === 0) break;
        parts.push(Buffer.from(`${piece.length.toString(16)};piece=${parts.length / 3}\r\n`), piece, Buffer.from('\r\n'));
        at += piece.length;
      }
      parts.push(Buffer.from('0\r\nX-Checksum: none\r\n\r\n'));
      return Buffer.concat(parts);
    }

    it('decodes a body on the way and frames it afresh for the upstream, with its head or after it in pieces, and serves the request behind it', { timeout: 20_000 }, async () => {
      const small = randomBytes(3000);
      const big = randomBytes(2 * 1024 * 1024 + 5);
      const c = new RawClient(port);
      // Head, body and the next request in one write.
      c.socket.write(Buffer.concat([Buffer.from(chunkedHead('/shapes/digest?chunked-with-head')), chunkedOf(small, [1, 100, 1000]), Buffer.from(get('/echo/behind-chunked'))]));
      const [first, behind] = await c.responses('POST', 'GET');
      assert.equal(first!.body, digestOf(small));
      assert.equal(echoOf(behind!).url, '/echo/behind-chunked');
      // The head alone, then 64 KiB chunks written in pieces of growing sizes, each its own read, cutting the framing anywhere.
      const framed = chunkedOf(big, new Array<number>(32).fill(64 * 1024));
      c.write(chunkedHead('/shapes/digest?chunked-pieces'));
      for (let at = 0, n = 1; at < framed.length; at += n, n = n * 3 + 1) {
        c.socket.write(framed.subarray(at, at + n));
        await pause(2);
      }
      c.write(`${chunkedHead('/echo/chunked-fields')}3\r\nabc\r\n0\r\n\r\n`);
      const [, , pieces, fields] = await c.responses('POST', 'GET', 'POST', 'POST');
      assert.equal(pieces!.body, digestOf(big));
      const e = echoOf(fields!);
      assert.equal(e.bodyLength, 3);
      assert.equal(e.headers['transfer-encoding'], 'chunked');
      assert.equal(e.headers['content-length'], undefined);
      for (const path of ['/shapes/digest?chunked-with-head', '/shapes/digest?chunked-pieces', '/echo/chunked-fields']) assert.ok(answeredFast.has(`POST ${path}`), path);
      assert.ok(!c.serverEnded);
      c.destroy();
    });

    it('keeps a chunked upload intact while its upstream reads slowly, framed chunks cut where the kernel stopped taking them', { timeout: 30_000 }, async () => {
      // Far more than socket buffers hold, in chunks of odd sizes, so what the kernel does not take at once waits, cut mid-chunk.
      const body = randomBytes(16 * 1024 * 1024);
      const c = new RawClient(port);
      c.socket.write(Buffer.concat([Buffer.from(chunkedHead('/shapes/digest?chunked-slow')), chunkedOf(body, new Array<number>(300).fill(50_001))]));
      const [r] = await c.responses('POST');
      assert.equal(r!.body, digestOf(body));
      c.destroy();
    });

    it('keeps a body of many small chunks intact, those of a read going on together, to an upstream that reads at once and one that waits', { timeout: 30_000 }, async () => {
      const body = randomBytes(3 * 1024 * 1024);
      // Chunks of 1 to 700 bytes in turn: a read holds hundreds of them, past the most that are gathered before they go on.
      const sizes: number[] = [];
      for (let i = 0, total = 0; total < body.length; i++) total += sizes[sizes.push(1 + ((i * 37) % 700)) - 1]!;
      const framed = chunkedOf(body, sizes);
      for (const path of ['/shapes/digest?chunked-many', '/shapes/digest?chunked-many-slow']) {
        const c = new RawClient(port);
        c.socket.write(Buffer.concat([Buffer.from(chunkedHead(path)), framed]));
        const [r] = await c.responses('POST');
        assert.equal(r!.body, digestOf(body), path);
        assert.ok(answeredFast.has(`POST ${path}`), path);
        c.destroy();
      }
    });

    it('replays a chunked body that came in while the first attempt failed, to the retry', async () => {
      const body = randomBytes(2000);
      const framed = chunkedOf(body, [500]);
      const c = new RawClient(port);
      c.socket.write(Buffer.concat([Buffer.from(chunkedHead('/shapes/flaky?chunked')), framed.subarray(0, 700)]));
      await pause(50);
      c.socket.write(framed.subarray(700));
      const [r] = await c.responses('POST');
      assert.equal(r!.body, digestOf(body));
      assert.ok(answeredFast.has('POST /shapes/flaky?chunked'));
      c.destroy();
    });

    for (const [what, framing] of [
      ['a chunk size that is not hex', '5\r\nhello\r\nzz\r\n'],
      ['a bare LF', '5\nhello\r\n0\r\n\r\n'],
      ['data past its chunk size, with a request after it', `2\r\nhello\r\n0\r\n\r\n${get('/echo/smuggled')}`],
      ['a trailer line that hides a request', `0\r\nX-A: 1\n${get('/echo/smuggled')}`],
    ]) {
      it(`answers 400 to ${what}, abandons the upstream request and closes the connection`, async () => {
        const path = `/shapes/digest?bad-${what.replaceAll(' ', '-')}`;
        const c = new RawClient(port);
        c.write(chunkedHead(path) + framing);
        await c.waitClosed();
        assert.equal(c.text, 'HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n');
        assert.ok(lostFast.has(`POST ${path}`), 'the request in progress was abandoned');
      });
    }

    it('says the connection closes when it answers before the end of a chunked body', async () => {
      const c = new RawClient(port);
      c.write(`${chunkedHead('/direct')}5\r\nhello\r\n`);
      const [r] = await c.responses('POST');
      assert.equal(r!.body, 'direct answer');
      assert.equal(only(r!, 'connection'), 'close');
      await c.waitClosed();
    });
  });

  describe('hand-off to node:http', () => {
    /** POST `path` with a five-byte body and a repeated field: node:http's to serve. */
    const post = (path: string): string => `POST ${path} HTTP/1.1\r\nHost: site.example\r\nX-A: 1\r\nX-A: 2\r\nContent-Length: 5\r\n\r\nhello`;

    it('proxies a body in a transfer coding other than chunked alone', async () => {
      const c = new RawClient(port);
      c.write('POST /echo/post-coded HTTP/1.1\r\nHost: site.example\r\nTransfer-Encoding: identity, chunked\r\n\r\n3\r\nabc\r\n4\r\ndefg\r\n0\r\n\r\n');
      const [r] = await c.responses('POST');
      assert.equal(echoOf(r!).bodyLength, 7);
      assert.ok(!answeredFast.has('POST /echo/post-coded'));
      c.destroy();
    });

    it('passes both values of a repeated field to the upstream', async () => {
      const c = new RawClient(port);
      c.write(get('/echo/dup', 'X-A: 1\r\nx-a: 2\r\n'));
      const [r] = await c.responses('GET');
      assert.equal(echoOf(r!).headers['x-a'], '1, 2');
      assert.ok(!answeredFast.has('GET /echo/dup'));
      c.destroy();
    });

    it('answers 400 to a request line that is not one, and to an HTTP/1.1 request without Host', async () => {
      for (const bytes of ['GARBAGE\r\n\r\n', 'GET /echo/no-host HTTP/1.1\r\n\r\n']) {
        const c = new RawClient(port);
        c.write(bytes);
        await c.waitClosed();
        assert.match(c.text, /^HTTP\/1\.1 400 /, JSON.stringify(bytes));
      }
      assert.ok(!answeredFast.has('GET /echo/no-host'));
    });

    it('answers an HTTP/1.0 request', async () => {
      const c = new RawClient(port);
      c.write('GET /echo/http10 HTTP/1.0\r\nHost: site.example\r\n\r\n');
      const [r] = await c.responses('GET');
      assert.equal(echoOf(r!).url, '/echo/http10');
      assert.ok(!answeredFast.has('GET /echo/http10'));
      await c.waitClosed();
    });

    /** The replies to GET /echo/<name>-1 (fast), POST /echo/<name>-2 and GET /echo/<name>-3 (node:http's, which has the connection from the POST on). */
    function assertHandedOffAfterFirst(c: RawClient, replies: RawResponse[], name: string): void {
      const urls = [1, 2, 3].map((i) => `/echo/${name}-${i}`);
      assert.deepEqual(
        replies.map((r) => echoOf(r).url),
        urls,
      );
      assert.equal(echoOf(replies[1]!).bodyLength, 5);
      assert.equal(c.text, replies.map((r) => r.raw).join(''), 'nothing but the three responses');
      assert.ok(answeredFast.has(`GET ${urls[0]}`));
      assert.ok(!answeredFast.has(`POST ${urls[1]}`));
      assert.ok(!answeredFast.has(`GET ${urls[2]}`));
    }

    it('serves the rest of a connection after a hand-off between requests', async () => {
      const c = new RawClient(port);
      c.write(get('/echo/mid-1'));
      await c.responses('GET');
      c.write(post('/echo/mid-2'));
      await c.responses('GET', 'POST');
      c.write(get('/echo/mid-3'));
      assertHandedOffAfterFirst(c, await c.responses('GET', 'POST', 'GET'), 'mid');
      c.destroy();
    });

    it('puts pipelined bytes back: a fast GET, a POST with a body and a GET in one write', async () => {
      const c = new RawClient(port);
      c.write(get('/echo/pipe-1') + post('/echo/pipe-2') + get('/echo/pipe-3'));
      assertHandedOffAfterFirst(c, await c.responses('GET', 'POST', 'GET'), 'pipe');
      c.destroy();
    });
  });

  // Closing sends a FIN, as half-closing does (the listener allows half-open sockets, so the fast path must act on it); a reset sends an RST.
  for (const how of ['closes', 'half-closes', 'resets'] as const) {
    it(`aborts the upstream request when the client ${how} its connection mid-request`, { timeout: 10_000 }, async () => {
      const path = `/shapes/hang?${how}`;
      // Wrapped: a promise resolved with a promise would wait for that one.
      const arrived = new Promise<{ closed: Promise<void> }>((resolve) => (onHang = (closed) => resolve({ closed })));
      const c = new RawClient(port);
      c.write(get(path));
      const { closed: upstreamClosed } = await Promise.race([arrived, rejectAfter(WAIT_MS, 'the request never reached the upstream')]);
      if (how === 'closes') c.destroy();
      else if (how === 'half-closes') c.socket.end();
      else c.socket.resetAndDestroy();
      await Promise.race([upstreamClosed, rejectAfter(3_000, 'the upstream response was never closed')]);
      assert.ok(lostFast.has(`GET ${path}`), 'the fast-path response was reported lost');
      await c.waitClosed();
      assert.equal(c.text, '');
      onHang = undefined;
    });
  }

  it('closes an idle keep-alive connection after the keep-alive timeout', { timeout: 15_000 }, async () => {
    const c = new RawClient(port);
    c.write(get('/echo/idle'));
    await c.responses('GET');
    const answeredAt = Date.now();
    assert.ok(answeredFast.has('GET /echo/idle'));
    await c.waitClosed(KEEP_ALIVE_TIMEOUT_MS + 3_000);
    const idleFor = c.closedAt! - answeredAt;
    assert.ok(idleFor >= KEEP_ALIVE_TIMEOUT_MS - 500, `closed after ${idleFor} ms`);
    assert.ok(idleFor < KEEP_ALIVE_TIMEOUT_MS + 2_000, `closed after ${idleFor} ms`);
  });
});

describe('HTTP/1.1 fast path while draining', () => {
  it('finishes a request in flight with Connection: close and closes an idle connection after the grace', { timeout: 15_000 }, async () => {
    const { upstream, release, arrival } = await slowUpstream();
    const dp = new DataPlane({ logger: silentLogger });
    await dp.apply(config([httpServer('s', [{ hostname: '*', routes: [route('r', {}, forwardTo('slow'))] }])], { slow: [upstream.port] }));
    const port = dp.boundPort('s')!;
    let stopping: Promise<unknown> | undefined;
    try {
      const idle = new RawClient(port);
      idle.write(get('/drain-idle'));
      const [warm] = await idle.responses('GET');
      assert.equal(warm!.body, 'fast');
      assert.equal(only(warm!, 'connection'), 'keep-alive');
      // Idle too, but sends a request during the grace: it is answered, with Connection: close.
      const late = new RawClient(port);
      late.write(get('/drain-late-1'));
      await late.responses('GET');
      const busy = new RawClient(port);
      busy.write(get('/slow'));
      await arrival;
      assert.ok(answeredFast.has('GET /drain-idle') && answeredFast.has('GET /drain-late-1'));

      const startedAt = Date.now();
      let shutDown = false;
      stopping = dp.shutdown(5_000).then(() => (shutDown = true));

      late.write(get('/drain-late-2'));
      const [, lateReply] = await late.responses('GET', 'GET');
      assert.equal(lateReply!.body, 'fast');
      assert.equal(only(lateReply!, 'connection'), 'close');
      assert.ok(answeredFast.has('GET /drain-late-2'));
      await late.waitClosed();
      // Closed after its response, not swept with the idle ones.
      assert.equal(idle.closedAt, undefined);

      await idle.waitClosed(3_000);
      const idleFor = idle.closedAt! - startedAt;
      assert.ok(idleFor >= 900 && idleFor < 2_000, `idle connection closed ${idleFor} ms into the drain`);
      assert.equal(idle.text, warm!.raw, 'nothing more was sent on the idle connection');

      // The busy connection outlived the idle-connection sweep.
      assert.equal(busy.serverEnded, false);
      assert.equal(shutDown, false);
      release();
      const [reply] = await busy.responses('GET');
      const repliedAt = Date.now();
      assert.equal(reply!.status, 200);
      assert.equal(reply!.body, 'done');
      assert.equal(only(reply!, 'connection'), 'close');
      assert.equal(only(reply!, 'keep-alive'), undefined);
      assert.ok(answeredFast.has('GET /slow'));
      await busy.waitClosed();
      assert.ok(busy.closedAt! - repliedAt < 1_000, `closed ${busy.closedAt! - repliedAt} ms after its response`);
      assert.equal(busy.text, reply!.raw);
      await stopping;
      assert.equal(dp.stats().active, 0);
    } finally {
      release();
      for (const c of openClients) c.destroy();
      await (stopping ?? dp.shutdown(100));
      await upstream.close();
    }
  });
});

describe('parseRequestHead', () => {
  const socket = new Socket();
  after(() => socket.destroy());
  const VALID = ['GET /p?q=1 HTTP/1.1', 'Host: a.example', 'X-Mixed-Case:  V1 ', 'Accept: */*', 'USER-AGENT: t'];
  const head = (lines: string[]): string => lines.join('\r\n');
  const withField = (field: string): string => head([...VALID, field]);
  /** As the connection has it: the head, its final CRLFCRLF, and perhaps more bytes behind. */
  const parse = (text: string): FastRequest | undefined => {
    const req = parseRequestHead(Buffer.from(`${text}\r\n\r\nGET`, 'latin1'), text.length + 7, socket);
    assert.notEqual(req, HEAD_INCOMPLETE, 'a whole head is never incomplete');
    if (req !== undefined && req !== HEAD_INCOMPLETE) assert.equal(req.headSize, text.length + 4);
    return req === HEAD_INCOMPLETE ? undefined : req;
  };

  it('parses a valid head into lower-case headers, raw headers as sent and distinct values', () => {
    const req = parse(head(VALID));
    assert.ok(req !== undefined);
    assert.equal(req.method, 'GET');
    assert.equal(req.url, '/p?q=1');
    assert.equal(req.httpVersion, '1.1');
    assert.equal(req.socket, socket);
    assert.deepEqual({ ...req.headers }, { host: 'a.example', 'x-mixed-case': 'V1', accept: '*/*', 'user-agent': 't' });
    assert.deepEqual(req.rawHeaders, ['Host', 'a.example', 'X-Mixed-Case', 'V1', 'Accept', '*/*', 'USER-AGENT', 't']);
    assert.deepEqual({ ...req.headersDistinct }, { host: ['a.example'], 'x-mixed-case': ['V1'], accept: ['*/*'], 'user-agent': ['t'] });
  });

  it('waits for the rest of a head cut anywhere', () => {
    const whole = Buffer.from(`${head(VALID)}\r\n\r\n`, 'latin1');
    for (let n = 0; n < whole.length; n++) assert.equal(parseRequestHead(whole, n, socket), HEAD_INCOMPLETE, `${n} bytes`);
    assert.notEqual(parseRequestHead(whole, whole.length, socket), HEAD_INCOMPLETE);
  });

  it('reads the method as sent, case and all, common or not', () => {
    for (const method of ['GET', 'DELETE', 'OPTIONS', 'PURGE', 'get', 'GETS', 'PUX', 'CONNECT']) {
      assert.equal(parse(head([`${method} / HTTP/1.1`, 'Host: a.example']))?.method, method);
    }
  });

  it('reads each Host value as sent, the same host in a row or not, whatever the spaces around it', () => {
    const hosts = ['a.example', 'b.example', 'b.examplf', 'a.example', 'a.example', 'A.example', 'A.example:8080', 'a.example', 'x'.repeat(300), 'x'.repeat(300), 'a.example'];
    for (const host of hosts) assert.equal(parse(head(['GET / HTTP/1.1', `Host: ${host}`]))?.headers.host, host);
    assert.equal(parse(head(['GET / HTTP/1.1', 'HOST: \t a.example \t']))?.headers.host, 'a.example');
    assert.equal(parse(head(['GET / HTTP/1.1', 'host:a.examp']))?.headers.host, 'a.examp');
  });

  it('takes a plain Content-Length as the length of a body to come', () => {
    for (const [value, length] of [['0', 0], ['5', 5], ['1048576', 1048576], ['999999999999999', 999999999999999]] as const) {
      assert.equal(parse(withField(`Content-Length: ${value}`))?.bodyLeft, length, value);
    }
  });

  it('takes Transfer-Encoding: chunked, in any case, as a body of unknown length to decode, and does not pass the field on', () => {
    for (const value of ['chunked', 'Chunked']) {
      const req = parse(withField(`Transfer-Encoding: ${value}`));
      assert.ok(req !== undefined, value);
      assert.equal(req.bodyLeft, Infinity);
      assert.ok(req.chunks !== undefined);
      assert.doesNotMatch(req.forwardLines, /transfer-encoding/i);
    }
    assert.equal(parse(withField('Content-Length: 5'))?.chunks, undefined);
  });

  it('accepts Content-Length: 0 and Connection: keep-alive or close', () => {
    for (const field of ['Content-Length: 0', 'Connection: keep-alive', 'Connection: Close', 'X-Obs-Text: caf\xe9', 'Expect: 100-Continue']) {
      assert.ok(parse(withField(field)) !== undefined, field);
    }
  });

  const rejected: [string, string][] = [
    ['HTTP/1.0', head(['GET / HTTP/1.0', 'Host: a.example'])],
    ['lower-case version', head(['GET / http/1.1', 'Host: a.example'])],
    ['space in the target', head(['GET /a b HTTP/1.1', 'Host: a.example'])],
    ['control character in a value', withField('X-A: a\x01b')],
    ['DEL in a value', withField('X-A: a\x7fb')],
    ['obs-fold line', head([...VALID, 'X-A: one', ' two'])],
    ['obs-fold line with a colon', head([...VALID, 'X-A: one', '\tX-B: two'])],
    ['Content-Length 00', withField('Content-Length: 00')],
    ['Content-Length with a leading zero', withField('Content-Length: 05')],
    ['Content-Length with a sign', withField('Content-Length: +5')],
    ['Content-Length not a number', withField('Content-Length: 1e3')],
    ['Content-Length of 16 digits', withField('Content-Length: 1000000000000000')],
    ['Content-Length list', withField('Content-Length: 5, 5')],
    ['a transfer coding list', withField('Transfer-Encoding: gzip, chunked')],
    ['a transfer coding other than chunked', withField('Transfer-Encoding: gzip')],
    ['chunked with a Content-Length', head([...VALID, 'Transfer-Encoding: chunked', 'Content-Length: 5'])],
    ['Content-Length with chunked', head([...VALID, 'Content-Length: 5', 'Transfer-Encoding: chunked'])],
    ['Transfer-Encoding twice', head([...VALID, 'Transfer-Encoding: chunked', 'Transfer-Encoding: chunked'])],
    ['an expectation other than 100-continue', withField('Expect: 200-ok')],
    ['Upgrade', withField('Upgrade: websocket')],
    ['Connection: upgrade', withField('Connection: upgrade')],
    ['Connection naming another field', withField('Connection: keep-alive, X-Hop')],
    ['duplicate name, differing case', head([...VALID, 'X-A: 1', 'x-a: 2'])],
    ['duplicate Host', withField('host: b.example')],
    ['duplicate User-Agent, differing case', withField('User-Agent: u')],
    ['missing Host', head(['GET / HTTP/1.1', 'Accept: */*'])],
    ['field name with a space', withField('X A: 1')],
    ['line without a colon', withField('X-A')],
    ['empty field name', withField(': x')],
    ['bare CR in a value', withField('X-A: a\rb')],
    ['bare LF in a value', withField('X-A: a\nb')],
    ['control character in the target', head(['GET /a\x01 HTTP/1.1', 'Host: a.example'])],
    ['no target', head(['GET  HTTP/1.1', 'Host: a.example'])],
    ['no method', head([' / HTTP/1.1', 'Host: a.example'])],
    ['more after the version', head(['GET / HTTP/1.1x', 'Host: a.example'])],
    ['no version', head(['GET /', 'Host: a.example'])],
  ];
  for (const [what, text] of rejected) {
    it(`hands off: ${what}`, () => {
      assert.equal(parse(text), undefined);
    });
  }
});

describe("FastResponse 'close' listeners", () => {
  /** Just what a response uses of its connection when it has no body to send. */
  function fakeConnection(closedBy: string[]) {
    const socket = { write: () => true, cork: () => {}, uncork: () => {}, writableLength: 0, writableHighWaterMark: 16384 };
    return { keepAlive: true, socket, responseEnded: () => {}, responseClosed: () => closedBy.push('connection') };
  }

  const parsed = (socket: Socket): FastRequest => {
    const text = 'GET /c HTTP/1.1\r\nHost: a.example';
    return parseRequestHead(Buffer.from(`${text}\r\n\r\n`, 'latin1'), text.length + 4, socket) as FastRequest;
  };

  for (const how of ['end', 'lost'] as const) {
    it(`calls each once, with the response as this, when it ${how === 'end' ? 'ends' : 'is lost'}`, () => {
      const socket = new Socket();
      try {
        const calls: string[] = [];
        const res = new FastResponse(parsed(socket), fakeConnection(calls) as never);
        const seen = (name: string) => function (this: unknown) {
          calls.push(this === res ? name : `${name} with another this`);
        };
        res.onClose(seen('first'));
        res.onClose(seen('second'));
        res.on('close', seen('emitter'));
        res.once('finish', () => calls.push('finish'));
        if (how === 'end') {
          res.end();
          // The connection closing later does not close the response again.
          res.lost();
        } else {
          res.lost();
        }
        assert.deepEqual(calls, how === 'end' ? ['finish', 'connection', 'first', 'second', 'emitter'] : ['connection', 'first', 'second', 'emitter']);
      } finally {
        socket.destroy();
      }
    });
  }
});

describe('FastRequest body', () => {
  const socket = new Socket();
  after(() => socket.destroy());

  /** A request announcing a body of `length` bytes, and what its reader is given. */
  function request(length: number) {
    const text = `POST /b HTTP/1.1\r\nHost: a.example\r\nContent-Length: ${length}`;
    const req = parseRequestHead(Buffer.from(`${text}\r\n\r\n`, 'latin1'), text.length + 4, socket) as FastRequest;
    const seen: string[] = [];
    req.readBody({
      onRequestData: (chunk, transient) => seen.push(`${chunk.toString('latin1')}${transient ? ' (transient)' : ''}`),
      onRequestEnd: () => seen.push('end'),
    });
    return { req, seen };
  }

  /** `text` as the connection hands it on: in a buffer it goes on to reuse. */
  function readInto(req: FastRequest, text: string): void {
    const shared = Buffer.from(`..${text}..`, 'latin1');
    req.bodyRead(shared, 2, 2 + text.length);
    shared.fill(0x2a);
  }

  it('keeps what arrives before the first resume, as copies, and hands it on in order, then the end once', () => {
    const { req, seen } = request(6);
    readInto(req, 'ab');
    readInto(req, 'cd');
    assert.deepEqual(seen, []);
    req.resume();
    readInto(req, 'ef');
    req.resume();
    assert.deepEqual(seen, ['ab', 'cd', 'ef (transient)', 'end']);
    assert.equal(req.bodyLeft, 0);
  });

  it('keeps what arrives while paused, and tells the end only after it has been handed on', () => {
    const { req, seen } = request(4);
    req.resume();
    readInto(req, 'ab');
    req.pause();
    readInto(req, 'cd');
    assert.deepEqual(seen, ['ab (transient)']);
    req.resume();
    assert.deepEqual(seen, ['ab (transient)', 'cd', 'end']);
  });

  it('hands nothing more on once detached, what it kept included', () => {
    const { req, seen } = request(4);
    readInto(req, 'ab');
    req.detach();
    readInto(req, 'cd');
    req.resume();
    assert.deepEqual(seen, []);
    assert.equal(req.bodyLeft, 0);
  });
});

describe('FastConnection request timeout', () => {
  it('closes a connection whose request body has not all arrived within the request timeout of its head', async () => {
    let conn: FastConnection | undefined;
    let arrived!: (req: FastRequest) => void;
    const request = new Promise<FastRequest>((resolve) => (arrived = resolve));
    const server = createNetServer((socket) => {
      conn = new FastConnection(socket, (req) => arrived(req), () => socket.destroy(), new IdleSweep<FastConnection>(60_000), () => {});
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const client = connect((server.address() as AddressInfo).port, '127.0.0.1');
    client.on('error', () => {});
    try {
      const sentAt = Date.now();
      client.write(`${postHead('/slow-body', 100)}${'x'.repeat(10)}`);
      const req = await request;
      conn!.closeIfIdle(sentAt + REQUEST_TIMEOUT_MS - 1_000);
      assert.ok(!req.socket.destroyed, 'closed before the request timeout');
      conn!.closeIfIdle(Date.now() + REQUEST_TIMEOUT_MS + 1_000);
      assert.ok(req.socket.destroyed, 'still open after the request timeout');
    } finally {
      client.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
