// The purpose-built upstream HTTP/1.1 client, against scripted raw TCP
// upstreams: framing split across reads, connection reuse, and the malformed
// or hostile responses that must fail an exchange instead of desynchronising
// a pooled connection.

import assert from 'node:assert/strict';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { after, describe, it } from 'node:test';
import { HOP_BY_HOP } from '../../src/dataplane/headers.js';
import { Http1Endpoint, parseResponseHead } from '../../src/dataplane/http1.js';
import type { UpstreamCall, UpstreamListener, UpstreamRequest, UpstreamResponse } from '../../src/dataplane/upstream.js';

interface Received { head: string; body: Buffer }

/** A TCP server that hands each parsed request (head, Content-Length or chunked body) to `reply` with its socket. */
async function scripted(reply: (socket: Socket, req: Received, index: number) => void): Promise<{ port: number; connections: () => number; requests: Received[]; close(): Promise<void> }> {
  let connections = 0;
  const requests: Received[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
    let buf = Buffer.alloc(0);
    socket.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      for (;;) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        const head = buf.toString('latin1', 0, end);
        const length = Number(/content-length: (\d+)/i.exec(head)?.[1] ?? 0);
        let body: Buffer;
        let used: number;
        if (/transfer-encoding: chunked/i.test(head)) {
          const parts: Buffer[] = [];
          let at = end + 4;
          for (;;) {
            const eol = buf.indexOf('\r\n', at);
            if (eol < 0) return;
            const size = parseInt(buf.toString('latin1', at, eol), 16);
            if (size === 0) {
              if (buf.length < eol + 4) return;
              used = eol + 4;
              break;
            }
            if (buf.length < eol + 2 + size + 2) return;
            parts.push(buf.subarray(eol + 2, eol + 2 + size));
            at = eol + 2 + size + 2;
          }
          body = Buffer.concat(parts);
        } else {
          if (buf.length < end + 4 + length) return;
          body = buf.subarray(end + 4, end + 4 + length);
          used = end + 4 + length;
        }
        buf = buf.subarray(used);
        const req = { head, body: Buffer.from(body) };
        requests.push(req);
        reply(socket, req, requests.length - 1);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    connections: () => connections,
    requests,
    close: () => new Promise((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    }),
  };
}

interface Outcome {
  head?: UpstreamResponse;
  body: Buffer;
  complete?: boolean;
  error?: NodeJS.ErrnoException;
  reused: boolean;
  bodyChunks: number;
  /** The memory behind the body chunks: one per chunk when each is a copy or a buffer of its own. */
  bodyBuffers: Set<ArrayBufferLike>;
}

/**
 * Sends one request and collects what the listener sees, piping the body into
 * a list that keeps the chunks as given. `holds` is what the destination says
 * of them: nothing (so it is taken to keep them), or holdsChunks(); with
 * `copiesUpTo`, copiesChunk() says it copies chunks up to that length.
 */
function exchange(endpoint: Http1Endpoint, r: Partial<UpstreamRequest> = {}, bodyChunks: Buffer[] = [], holds?: boolean, copiesUpTo?: number): Promise<Outcome> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const out: Outcome = { body: Buffer.alloc(0), reused: false, bodyChunks: 0, bodyBuffers: new Set() };
    const take = (c: Buffer): void => {
      // One that says it holds nothing, or that it copies, has sent the bytes on by the time it returns: here, copied them.
      chunks.push(holds === false || (copiesUpTo !== undefined && c.length <= copiesUpTo) ? Buffer.from(c) : c);
      out.bodyChunks++;
      out.bodyBuffers.add(c.buffer);
    };
    const dest = {
      write: (c: Buffer) => { take(c); return true; },
      end: (c?: Buffer) => { if (c) take(c); },
      once: () => dest,
      ...(holds === undefined ? {} : { holdsChunks: () => holds }),
      ...(copiesUpTo === undefined ? {} : { copiesChunk: (length: number) => length <= copiesUpTo }),
    };
    const listener: UpstreamListener = {
      onUpstreamResponse(call: UpstreamCall, head: UpstreamResponse) {
        out.head = head;
        call.pipe(dest);
      },
      onUpstreamBodyEnd(_call, complete) {
        out.complete = complete;
        out.body = Buffer.concat(chunks);
        resolve(out);
      },
      onUpstreamError(_call, err) {
        out.error = err;
        resolve(out);
      },
      onUpstreamUpgrade() {
        throw new Error('unexpected upgrade');
      },
    };
    const call = endpoint.request({ method: 'GET', path: '/', headers: { host: 'up' }, bodyless: bodyChunks.length === 0, chunked: false, upgrade: false, ...r }, listener);
    out.reused = call.reused();
    for (const c of bodyChunks) call.body.write(c);
    if (bodyChunks.length > 0) call.body.end();
  });
}

const timeouts = { connectTimeoutMs: 2000, idleTimeoutMs: 4000 };
const cleanup: (() => Promise<void>)[] = [];
after(async () => { for (const c of cleanup) await c(); });

async function setup(reply: Parameters<typeof scripted>[0]) {
  const up = await scripted(reply);
  const endpoint = new Http1Endpoint('127.0.0.1', up.port, timeouts);
  cleanup.push(async () => { endpoint.destroy(); await up.close(); });
  return { up, endpoint };
}

/** Writes `parts` one event-loop turn apart, so each arrives in its own read. */
function trickle(socket: Socket, parts: (string | Buffer)[]): void {
  socket.setNoDelay(true);
  let i = 0;
  const next = (): void => {
    if (i >= parts.length) return;
    socket.write(parts[i++]!);
    setTimeout(next, 5);
  };
  next();
}

/** Parses a head given as text, inside a larger buffer as a read would hold it. */
function head(text: string): NonNullable<ReturnType<typeof parseResponseHead>> {
  const buf = Buffer.from(`xx${text}\r\n\r\nyy`, 'latin1');
  const parsed = parseResponseHead(buf, 2, buf.length);
  assert.ok(parsed, 'a whole head parses');
  assert.equal(parsed.size, text.length + 4);
  return parsed;
}

describe('HTTP/1.1 response heads', () => {
  it('parses status, raw fields and framing', () => {
    const h = head('HTTP/1.1 201 Created\r\nContent-Length: 5, 5\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\nConnection: keep-alive');
    assert.equal(h.statusCode, 201);
    assert.equal(h.statusMessage, 'Created');
    assert.deepEqual(h.rawHeaders, ['Content-Length', '5, 5', 'Set-Cookie', 'a=1', 'Set-Cookie', 'b=2']);
    assert.equal(h.framing, 5);
    assert.equal(h.keepAlive, true);
    assert.equal(h.connection, 'keep-alive');
    assert.equal(head('HTTP/1.1 200 OK\r\nConnection: close').keepAlive, false);
    assert.equal(head('HTTP/1.0 200 OK\r\nContent-Length: 1').keepAlive, false);
    assert.equal(head('HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked').framing, 'chunked');
    assert.equal(head('HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip').framing, 'close');
    assert.equal(head('HTTP/1.1 200 OK').framing, 'close');
    assert.equal(head('HTTP/1.1 204').statusMessage, '');
    assert.equal(head('HTTP/1.1 101 Switching Protocols\r\nUPGRADE: websocket\r\nConnection: Upgrade').upgrade, 'websocket');
  });

  it('keeps field lines as received for relaying, without the hop-by-hop ones', () => {
    const h = head('HTTP/1.1 200 OK\r\nKeep-Alive: timeout=5\r\nServer:x\r\nDATE: today\r\nTE: trailers\r\nX-A: 1  \r\nContent-Length: 0\r\nproxy-connection: close');
    assert.equal(h.fieldLines, 'Server:x\r\nDATE: today\r\nX-A: 1  \r\nContent-Length: 0\r\n');
    assert.deepEqual(h.rawHeaders, ['Server', 'x', 'DATE', 'today', 'X-A', '1', 'Content-Length', '0']);
    assert.equal(h.hasDate, true);
    assert.equal(h.hasLength, true);
    const bare = head('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX-Dates: no');
    assert.equal(bare.fieldLines, 'X-Dates: no\r\n');
    assert.equal(bare.hasDate, false);
    assert.equal(bare.hasLength, false);
    assert.equal(head('HTTP/1.1 200 OK').fieldLines, '');
    // Hop-by-hop lines next to each other, as Node sends Connection and Keep-Alive, at the start, between others and last.
    const runs = head('HTTP/1.1 200 OK\r\nConnection: a\r\nTE: x\r\nX-A: 1\r\nConnection: keep-alive\r\nKeep-Alive: timeout=5\r\nUpgrade: h2c\r\nX-B: 2\r\nTrailer: x\r\nKeep-Alive: 1');
    assert.equal(runs.fieldLines, 'X-A: 1\r\nX-B: 2\r\n');
    const out = Buffer.alloc(runs.fieldBytes!.byteLength);
    runs.fieldBytes!.copyTo(out, 0);
    assert.equal(out.toString('latin1'), 'X-A: 1\r\nX-B: 2\r\n');
    // The parser tells hop-by-hop names apart in place, without the shared set: it must know every one of them.
    for (const name of HOP_BY_HOP) {
      const h = head(`HTTP/1.1 200 OK\r\nX-Before: 1\r\n${name.toUpperCase()}: x\r\nX-After: 2`);
      assert.equal(h.fieldLines, 'X-Before: 1\r\nX-After: 2\r\n', name);
    }
  });

  it('copies the same field lines as bytes, and reads none once their buffer is released', () => {
    const h = head('HTTP/1.1 200 OK\r\nConnection: keep-alive\r\nServer:x\r\nTE: trailers\r\nX-A: 1  \r\nContent-Length: 7\r\nKeep-Alive: timeout=5');
    const bytes = h.fieldBytes!;
    const out = Buffer.alloc(bytes.byteLength + 4, '.');
    assert.equal(bytes.copyTo(out, 2), 2 + bytes.byteLength);
    assert.equal(out.toString('latin1'), '..Server:x\r\nX-A: 1  \r\nContent-Length: 7\r\n..');
    assert.equal(h.bodyLength, 7);
    assert.equal(head('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked').bodyLength, undefined);
    h.release();
    assert.equal(h.fieldBytes, undefined);
    assert.throws(() => h.fieldLines, /released/);
    // Lines read as text before the release stay readable.
    const kept = head('HTTP/1.1 200 OK\r\nX-B: 2');
    assert.equal(kept.fieldLines, 'X-B: 2\r\n');
    kept.release();
    assert.deepEqual(kept.rawHeaders, ['X-B', '2']);
  });

  it('hands on the usual reason phrase as node\'s own string, and any other as sent', () => {
    assert.equal(head('HTTP/1.1 404 Not Found').statusMessage, 'Not Found');
    assert.equal(head('HTTP/1.1 404 Not found here').statusMessage, 'Not found here');
    assert.equal(head('HTTP/1.1 200 Ok').statusMessage, 'Ok');
    assert.equal(head('HTTP/1.1 599 Whatever').statusMessage, 'Whatever');
  });

  it('waits for the rest of a head cut anywhere, and refuses a bad one as soon as it shows', () => {
    const text = 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-A: b\r\n\r\nok';
    const whole = Buffer.from(text, 'latin1');
    for (let n = 0; n < text.length - 2; n++) assert.equal(parseResponseHead(whole, 0, n), undefined, `${n} bytes`);
    assert.equal(parseResponseHead(whole, 0, text.length - 2)?.size, text.length - 2);
    // Bytes that can begin no valid head are refused before the rest arrives.
    assert.throws(() => parseResponseHead(Buffer.from('HTTP/1.1 200 OK\r\nX-Bad: a\x00'), 0, 27), Error);
    assert.throws(() => parseResponseHead(Buffer.from('HTTP/1.1 200 OK\r\nX-Bad: a\nb'), 0, 28), Error);
  });

  it('refuses what could desynchronise or smuggle', () => {
    for (const bad of [
      'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked',
      'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6',
      'HTTP/1.1 200 OK\r\nContent-Length: 5, 6',
      'HTTP/1.1 200 OK\r\nContent-Length: -1',
      'HTTP/1.1 200 OK\r\nContent-Length: 0x10',
      'HTTP/1.1 200 OK\r\nX-Bad: a\nb',
      'HTTP/1.1 200 OK\r\nX-Bad: a\rb',
      'HTTP/1.1 200 OK\r\nX-Bad: a\x00b',
      'HTTP/1.1 200 OK\r\nX-Bad: a\x7fb',
      'HTTP/1.1 200 OK\r\nBad Name: x',
      'HTTP/1.1 200 OK\r\nBad\xe9: x',
      'HTTP/1.1 200 OK\r\n: x',
      'HTTP/1.1 200 OK\r\n folded: x',
      'HTTP/1.1 200 OK\r\nno-colon',
      'HTTP/1.1 200 O\x00K',
      'HTTP/1.1 200 O\rK\r\nX: y',
      'HTTP/2 200 OK',
      'HTTP/1.2 200 OK',
      'HTTP/1.1 20 OK',
      'HTTP/1.1 2000 OK',
      'HTTP/1.1 20',
      'ICY 200 OK',
    ]) {
      assert.throws(() => head(bad), Error, JSON.stringify(bad));
    }
    // A value may hold HTAB and obs-text.
    assert.equal(head('HTTP/1.1 200 OK\r\nX-Ok: a\tb\xe9').rawHeaders[1], 'a\tb\xe9');
  });
});

describe('HTTP/1.1 upstream client', () => {
  it('reuses one connection for sequential requests', async () => {
    const { up, endpoint } = await setup((s) => s.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok'));
    const first = await exchange(endpoint);
    const second = await exchange(endpoint);
    assert.equal(first.body.toString(), 'ok');
    assert.equal(second.body.toString(), 'ok');
    assert.equal(first.reused, false);
    assert.equal(second.reused, true);
    assert.equal(up.connections(), 1);
    assert.match(up.requests[0]!.head, /^GET \/ HTTP\/1\.1\r\nhost: up$/);
  });

  it('closes a pooled connection once it has been idle for the idle timeout, not before', { timeout: 5_000 }, async () => {
    const upstreamSides: Socket[] = [];
    const up = await scripted((s) => {
      upstreamSides.push(s);
      s.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
    });
    const endpoint = new Http1Endpoint('127.0.0.1', up.port, { connectTimeoutMs: 2000, idleTimeoutMs: 400 });
    cleanup.push(async () => { endpoint.destroy(); await up.close(); });
    await exchange(endpoint);
    await new Promise((resolve) => setTimeout(resolve, 200));
    // Idle for half its timeout: still pooled, and reused.
    assert.equal((await exchange(endpoint)).reused, true);
    const idleFrom = Date.now();
    const closedAt = await new Promise<number>((resolve) => upstreamSides[0]!.once('end', () => resolve(Date.now())));
    assert.equal(up.connections(), 1);
    assert.ok(closedAt - idleFrom >= 390, `closed after ${closedAt - idleFrom} ms`);
    assert.ok(closedAt - idleFrom < 2_000, `closed after ${closedAt - idleFrom} ms`);
  });

  it('reads into one buffer while the destination sends what it is given, and leaves that buffer to one that keeps it', async () => {
    // Chunks large enough to be lent rather than copied from Node's buffer pool.
    const [a, b, c] = ['a', 'b', 'c'].map((x) => x.repeat(5000));
    const body = a! + b! + c!;
    const { endpoint } = await setup((s) => trickle(s, [`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n`, a!, b!, c!]));
    const sent = await exchange(endpoint, {}, [], false);
    assert.equal(sent.body.toString(), body);
    assert.equal(sent.bodyChunks, 3);
    assert.equal(sent.bodyBuffers.size, 1);
    const kept = await exchange(endpoint, {}, [], true);
    assert.equal(kept.body.toString(), body);
    assert.equal(kept.bodyChunks, 3);
    assert.equal(kept.bodyBuffers.size, 3);
    // Taken to keep its chunks: it gets copies.
    const plain = await exchange(endpoint);
    assert.equal(plain.body.toString(), body);
    assert.equal(plain.reused, true);
  });

  it('gives small chunks as they were read to a destination that copies them, and copies of them to others', async () => {
    const parts = ['a', 'b', 'c'].map((x) => x.repeat(100));
    const body = parts.join('');
    const { endpoint } = await setup((s) => trickle(s, [`HTTP/1.1 200 OK\r\nContent-Length: ${body.length}\r\n\r\n`, ...parts]));
    const copying = await exchange(endpoint, {}, [], false, 200);
    assert.equal(copying.body.toString(), body);
    assert.equal(copying.bodyChunks, 3);
    // Each chunk a view of the one 64 KiB read buffer, not of a slab of Node's buffer pool.
    assert.deepEqual([...copying.bodyBuffers].map((b) => b.byteLength), [64 * 1024]);
    const sending = await exchange(endpoint, {}, [], false, 50);
    assert.equal(sending.body.toString(), body);
    assert.ok([...sending.bodyBuffers].every((b) => b.byteLength < 64 * 1024), 'copied from the pool');
  });

  it('parses heads and bodies split across reads, skipping interim responses', async () => {
    const { endpoint } = await setup((s, _r, i) => {
      if (i === 0) trickle(s, ['HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Le', 'ngth: 11\r\n\r', '\nhello', ' worl', 'd']);
      else trickle(s, ['HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhel', 'lo\r\n', '6\r', '\n world\r\n0\r\nTrailer: x\r\n', '\r\n']);
    });
    const cl = await exchange(endpoint);
    assert.equal(cl.head?.statusCode, 200);
    assert.equal(cl.body.toString(), 'hello world');
    assert.equal(cl.complete, true);
    const chunked = await exchange(endpoint);
    assert.equal(chunked.body.toString(), 'hello world');
    assert.equal(chunked.complete, true);
    assert.equal(chunked.reused, true, 'the connection survived both framings');
  });

  // Each second response's first read stops where the first response's bytes, still in the read buffer, would complete it.
  for (const [what, cut, rest] of [
    ['a head', 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-A: 1\r\n', '\r\nOK'],
    ['a chunk-size line', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2', '\r\nOK\r\n0\r\n\r\n'],
  ] as const) {
    it(`parses ${what} only from the bytes of its read, not from what an earlier, longer read left after them`, async () => {
      const { endpoint } = await setup((s, _req, i) => {
        if (i === 0) s.write(cut + rest.toLowerCase());
        else trickle(s, [cut, rest]);
      });
      assert.equal((await exchange(endpoint)).body.toString(), 'ok');
      const second = await exchange(endpoint);
      assert.equal(second.error, undefined);
      assert.equal(second.body.toString(), 'OK');
    });
  }

  it('hands nothing more on and tells no end once the destination aborts its exchange within a read of chunks', async () => {
    const { endpoint } = await setup((s) => s.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1\r\na\r\n1\r\nb\r\n0\r\n\r\n'));
    const seen: string[] = [];
    const listener: UpstreamListener = {
      onUpstreamResponse(call: UpstreamCall) {
        const dest = {
          write: (c: Buffer) => {
            seen.push(c.toString());
            call.abort();
            return true;
          },
          end: () => seen.push('end'),
          once: () => dest,
        };
        call.pipe(dest);
      },
      onUpstreamBodyEnd: () => seen.push('body end'),
      onUpstreamError: () => seen.push('error'),
      onUpstreamUpgrade() {},
    };
    endpoint.request({ method: 'GET', path: '/', headers: { host: 'up' }, bodyless: true, chunked: false, upgrade: false }, listener);
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.deepEqual(seen, ['a']);
  });

  it('reads a body without framing until the upstream closes, and does not reuse that connection', async () => {
    const { up, endpoint } = await setup((s) => { s.end('HTTP/1.1 200 OK\r\n\r\nuntil close'); });
    const r = await exchange(endpoint);
    assert.equal(r.body.toString(), 'until close');
    assert.equal(r.complete, true);
    await exchange(endpoint);
    assert.equal(up.connections(), 2);
  });

  it('knows HEAD, 204 and 304 responses have no body', async () => {
    const { up, endpoint } = await setup((s, _r, i) => {
      s.write(i === 0 ? 'HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n' : i === 1 ? 'HTTP/1.1 204 No Content\r\n\r\n' : 'HTTP/1.1 304 Not Modified\r\nContent-Length: 7\r\n\r\n');
    });
    for (const method of ['HEAD', 'GET', 'GET']) {
      const r = await exchange(endpoint, { method });
      assert.equal(r.complete, true);
      assert.equal(r.body.length, 0);
    }
    assert.equal(up.connections(), 1);
  });

  it('drops a connection whose upstream sent more than its response', async () => {
    const { up, endpoint } = await setup((s) => s.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nokHTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nsmugl'));
    assert.equal((await exchange(endpoint)).body.toString(), 'ok');
    await new Promise((r) => setTimeout(r, 20));
    assert.equal((await exchange(endpoint)).body.toString(), 'ok');
    assert.equal(up.connections(), 2);
  });

  it('reports a body cut short as incomplete', async () => {
    const { endpoint } = await setup((s) => { s.end('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort'); });
    const r = await exchange(endpoint);
    assert.equal(r.complete, false);
    assert.equal(r.body.toString(), 'short');
  });

  it('fails an exchange on a malformed response or a close before any response', async () => {
    const { endpoint } = await setup((s, _r, i) => {
      if (i === 0) s.write('HTTP/1.1 200 OK\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n');
      else if (i === 1) s.write('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n');
      else s.destroy();
    });
    assert.equal((await exchange(endpoint)).error?.code, 'HPE_INVALID_RESPONSE');
    const badChunk = await exchange(endpoint);
    assert.equal(badChunk.complete, false, 'a bad chunk after the head has gone out ends the body as incomplete');
    assert.equal((await exchange(endpoint)).error?.code, 'ECONNRESET');
  });

  it('frames request bodies as announced and never sends more than Content-Length', async () => {
    const { up, endpoint } = await setup((s, req) => s.write(`HTTP/1.1 200 OK\r\nContent-Length: ${req.body.length}\r\n\r\n${req.body.toString()}`));
    const chunked = await exchange(endpoint, { method: 'POST', headers: { host: 'up', 'transfer-encoding': 'chunked' }, chunked: true }, [Buffer.from('abc'), Buffer.from('defg')]);
    assert.equal(chunked.body.toString(), 'abcdefg');
    const exact = await exchange(endpoint, { method: 'POST', headers: { host: 'up', 'content-length': '4' } }, [Buffer.from('ab'), Buffer.from('cd')]);
    assert.equal(exact.body.toString(), 'abcd');
    assert.equal(up.connections(), 1);
    // Eight bytes against an announced four: the exchange is aborted before the extra bytes go out.
    const over = exchange(endpoint, { method: 'POST', headers: { host: 'up', 'content-length': '4' } }, [Buffer.from('abcdefgh')]);
    const outcome = await Promise.race([over, new Promise<'pending'>((r) => setTimeout(() => r('pending'), 300))]);
    assert.ok(outcome === 'pending' || outcome.error !== undefined || outcome.complete === false);
    assert.ok(up.requests.every((r) => !r.body.toString().includes('efgh')));
  });

  it('refuses a method or target it cannot write as is', async () => {
    const { endpoint } = await setup(() => {});
    const noop = { onUpstreamResponse() {}, onUpstreamBodyEnd() {}, onUpstreamError() {}, onUpstreamUpgrade() {} };
    const base = { headers: {}, bodyless: true, chunked: false, upgrade: false };
    assert.throws(() => endpoint.request({ ...base, method: 'GE T', path: '/' }, noop), { code: 'ERR_INVALID_HTTP_TOKEN' });
    assert.throws(() => endpoint.request({ ...base, method: 'GET', path: '/a b' }, noop), { code: 'ERR_UNESCAPED_CHARACTERS' });
    assert.throws(() => endpoint.request({ ...base, method: 'GET', path: '/a\r\nx' }, noop), { code: 'ERR_UNESCAPED_CHARACTERS' });
    assert.throws(() => endpoint.request({ ...base, method: 'GET', path: '/\u0100' }, noop), { code: 'ERR_UNESCAPED_CHARACTERS' });
  });

  it('sends every head intact: several before any connection is up, long ones, and field lines given in parts', { timeout: 5_000 }, async () => {
    const { up, endpoint } = await setup((s, req) => s.write(`HTTP/1.1 200 OK\r\nContent-Length: ${req.head.length}\r\n\r\n${req.head}`, 'latin1'));
    const long = 'v'.repeat(300);
    const huge = 'w'.repeat(20_000);
    const sent = [
      { path: '/one?q=\u00e9', fieldLines: ['host: up\r\n', 'x-a: ', '1', '\r\n'] },
      { path: '/two', fieldLines: [`host: up\r\nx-long: ${long}\r\n`, 'x-b: 2\r\n'] },
      { path: '/three', fieldLines: [`host: up\r\nx-huge: ${huge}\r\n`] },
    ];
    const want = (r: (typeof sent)[number]): string => `GET ${r.path} HTTP/1.1\r\n${r.fieldLines.join('')}`.slice(0, -2);
    // All three are written while their connections are still connecting, so each must keep its own bytes.
    const outcomes = await Promise.all(sent.map((r) => exchange(endpoint, r)));
    assert.deepEqual(outcomes.map((o) => o.body.toString('latin1')), sent.map(want));
    assert.equal(up.connections(), 3);
    // And again on the pooled connections, written at once.
    const again = await Promise.all(sent.map((r) => exchange(endpoint, r)));
    assert.deepEqual(again.map((o) => o.body.toString('latin1')), sent.map(want));
    assert.ok(again.every((o) => o.reused));
  });
});
