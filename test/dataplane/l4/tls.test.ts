import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { compileStreamServer, StreamListener, type StreamListenerOptions } from '../../../src/dataplane/l4/index.js';
import type { ClusterLookup } from '../../../src/dataplane/l4/routes.js';
import { Counters } from '../../../src/dataplane/stats.js';
import type { IRCertificate, IRServer } from '../../../src/ir/types.js';
import { silentLogger } from '../../../src/util/log.js';
import {
  backends,
  captureHello,
  certificate,
  clusters,
  eventually,
  readUntil,
  tcpEcho,
  tcpRecorder,
  tlsEcho,
  tlsExchange,
  tlsRefused,
  tlsRoute,
  tlsServer,
  type Backend,
} from './helpers.js';

const listeners: StreamListener[] = [];

async function start(ir: IRServer, lookup: ClusterLookup, options: StreamListenerOptions = {}, counters = new Counters()) {
  const listener = new StreamListener(compileStreamServer(ir, lookup), silentLogger, counters, options);
  await listener.listen();
  listeners.push(listener);
  return { listener, port: listener.port()!, counters };
}

/** Opens a raw connection, writes `bytes`, and resolves with what came back once it closed (or ended). */
function rawExchange(port: number, bytes: Buffer | string): Promise<string> {
  return new Promise((resolve) => {
    const s: Socket = connect({ host: '127.0.0.1', port });
    let got = '';
    s.on('data', (d) => (got += d.toString('latin1')));
    s.on('error', () => undefined);
    s.on('close', () => resolve(got));
    s.write(bytes);
  });
}

describe('TLS listener', () => {
  let certs: Record<'a' | 'b' | 'term' | 'termWild', IRCertificate>;
  let a: Backend;
  let b: Backend;
  let plain: Backend;
  let lookup: ClusterLookup;

  before(async () => {
    const [ca, cb, ct, cw] = await Promise.all([
      certificate('a.example.com', 'a.example.com'),
      certificate('b.example.com', 'b.example.com'),
      certificate('t.example.com', 't.example.com'),
      certificate('*.t.example.com', 'wild.t.example.com'),
    ]);
    certs = { a: ca!, b: cb!, term: ct!, termWild: cw! };
    [a, b, plain] = await Promise.all([tlsEcho('a', certs.a), tlsEcho('b', certs.b), tcpEcho('plain')]);
    lookup = clusters({ a: [a.port], b: [b.port], plain: [plain.port], empty: [] });
  });

  after(async () => {
    for (const l of listeners) l.destroyConnections();
    await Promise.all(listeners.map((l) => l.close()));
    await Promise.all([a, b, plain].map((x) => x.close()));
  });

  it('passes TLS through by server name: each client sees its backend’s own certificate', async () => {
    const { port, counters } = await start(
      tlsServer([tlsRoute('a.example.com', backends('a')), tlsRoute('*.b.example.com', backends('b'))]),
      lookup,
    );
    const [ra, rb, rDeep] = await Promise.all([
      tlsExchange(port, 'a.example.com', 'hi', 'a:hi'),
      tlsExchange(port, 'x.b.example.com', 'hi', 'b:hi'),
      tlsExchange(port, 'X.Y.B.Example.com', 'deep', 'b:deep'),
    ]);
    assert.equal(ra.cn, 'a.example.com');
    assert.equal(rb.cn, 'b.example.com');
    assert.equal(rDeep.cn, 'b.example.com');
    // `*.b.example.com` does not match b.example.com itself, and nothing matches other names.
    await tlsRefused(port, 'b.example.com');
    await tlsRefused(port, 'c.example.com');
    // No SNI and no `*` route: closed.
    await tlsRefused(port, undefined);
    await eventually(() => counters.snapshot().l4!.activeConnections === 0, 'every connection to close');
    assert.equal(counters.snapshot().l4!.rejectedConnections, 3);
  });

  it('sends clients without SNI (and unmatched names) to a `*` route, after exact and wildcard ones', async () => {
    const { port } = await start(
      tlsServer([tlsRoute('a.example.com', backends('a')), tlsRoute('*.example.com', backends('b')), tlsRoute('*', backends('a'))]),
      lookup,
    );
    assert.equal((await tlsExchange(port, undefined, '1', 'a:1')).cn, 'a.example.com');
    assert.equal((await tlsExchange(port, 'other.org', '2', 'a:2')).cn, 'a.example.com');
    assert.equal((await tlsExchange(port, 'z.example.com', '3', 'b:3')).cn, 'b.example.com');
    assert.equal((await tlsExchange(port, 'a.example.com', '4', 'a:4')).cn, 'a.example.com');
  });

  it('forwards the buffered hello byte for byte, even when it trickles in', async () => {
    const recorder = await tcpRecorder();
    const { port } = await start(tlsServer([tlsRoute('rec.example.com', backends('rec'))]), clusters({ rec: [recorder.port] }));
    const hello = await captureHello({ servername: 'rec.example.com', alpn: ['h2'] });
    const s = connect({ host: '127.0.0.1', port });
    s.setNoDelay(true);
    for (let i = 0; i < hello.length; i += 50) {
      s.write(hello.subarray(i, i + 50));
      await new Promise((r) => setTimeout(r, 2));
    }
    s.write('after the hello');
    const expected = Buffer.concat([hello, Buffer.from('after the hello')]);
    await eventually(() => recorder.received.length === 1 && Buffer.concat(recorder.received[0]!).length >= expected.length, 'the whole exchange at the backend');
    assert.deepEqual(Buffer.concat(recorder.received[0]!), expected);
    s.destroy();
    await recorder.close();
  });

  it('terminates TLS with the route’s certificates and sends plaintext to the backend', async () => {
    const { port } = await start(
      tlsServer([
        tlsRoute('t.example.com', backends('plain'), [certs.term]),
        tlsRoute('*.t.example.com', backends('plain'), [certs.termWild, certs.term]),
        tlsRoute('a.example.com', backends('a')),
      ]),
      lookup,
    );
    const r = await tlsExchange(port, 't.example.com', 'clear', 'clear');
    assert.equal(r.cn, 't.example.com');
    // No ALPN is offered, so a client asking for h2 gets none rather than a refusal.
    assert.equal(r.alpn, false);
    const h2 = await tlsExchange(port, 't.example.com', 'x', 'x', ['h2']);
    assert.equal(h2.alpn, false);
    // Within the route, the certificate is chosen by SNI as for HTTPS.
    assert.equal((await tlsExchange(port, 'w.t.example.com', 'w', 'w')).cn, 'wild.t.example.com');
    // Passthrough on the same listener is unaffected.
    assert.equal((await tlsExchange(port, 'a.example.com', 'p', 'a:p')).cn, 'a.example.com');
  });

  it('passes the half-close on through a terminated connection', async () => {
    const { port } = await start(tlsServer([tlsRoute('t.example.com', backends('plain'), [certs.term])]), lookup);
    const reply = await new Promise<string>((resolve, reject) => {
      const s = tlsConnect({ host: '127.0.0.1', port, servername: 't.example.com', rejectUnauthorized: false }, () => {
        // Ending our side still lets us read theirs.
        s.end('half');
      });
      let got = '';
      s.on('data', (d) => (got += d.toString()));
      s.on('end', () => resolve(got));
      s.on('error', reject);
    });
    assert.equal(reply, 'halfbye:plain');
  });

  it('closes connections whose first bytes are not TLS, and keeps serving others', async () => {
    const { port, counters } = await start(tlsServer([tlsRoute('*', backends('a'))]), lookup);
    const garbage = await Promise.all([
      rawExchange(port, 'GET / HTTP/1.1\r\nHost: a.example.com\r\n\r\n'),
      rawExchange(port, Buffer.from([0x16, 0x03, 0x01, 0xff, 0xff])),
      rawExchange(port, Buffer.from([0x16, 0x03, 0x01, 0x00, 0x05, 0x01, 0xff, 0xff, 0xff, 0x00])),
      tlsExchange(port, 'a.example.com', 'meanwhile', 'a:meanwhile'),
    ]);
    assert.deepEqual(garbage.slice(0, 3), ['', '', '']);
    assert.equal((garbage[3] as { cn: string }).cn, 'a.example.com');
    await eventually(() => counters.snapshot().l4!.activeConnections === 0, 'every connection to close');
    assert.equal(counters.snapshot().l4!.rejectedConnections, 3);
  });

  it('closes a client that sends no hello within the timeout, or ends before finishing it', async () => {
    const { port } = await start(tlsServer([tlsRoute('*', backends('a'))]), lookup, { helloTimeoutMs: 150 });
    const started = Date.now();
    const silent = new Promise<number>((resolve) => {
      const s = connect({ host: '127.0.0.1', port });
      s.on('close', () => resolve(Date.now() - started));
      s.on('error', () => undefined);
    });
    const partial = await captureHello({ servername: 'a.example.com' });
    const trickled = rawExchange(port, partial.subarray(0, 20));
    assert.ok((await silent) >= 100);
    assert.equal(await trickled, '');
    const halfClosed = await new Promise<string>((resolve) => {
      const s = connect({ host: '127.0.0.1', port, allowHalfOpen: true });
      s.on('error', () => undefined);
      s.on('end', () => resolve('end'));
      s.end(partial.subarray(0, 20));
    });
    assert.equal(halfClosed, 'end');
    // Never silent for the timeout, but not done within it either.
    const slow = connect({ host: '127.0.0.1', port });
    slow.setNoDelay(true);
    slow.on('error', () => undefined);
    let sent = 0;
    const slowClosed = new Promise<void>((r) => slow.on('close', () => r()));
    const trickle = setInterval(() => {
      if (!slow.destroyed) slow.write(partial.subarray(sent, ++sent));
    }, 30);
    await slowClosed;
    clearInterval(trickle);
    assert.ok(sent < 20, `${sent} bytes sent`);
  });

  it('closes connections routed to an invalid backend or a cluster without endpoints', async () => {
    const { port } = await start(
      tlsServer([tlsRoute('bad.example.com', backends([undefined, 1])), tlsRoute('empty.example.com', backends('empty'))]),
      lookup,
    );
    await tlsRefused(port, 'bad.example.com');
    await tlsRefused(port, 'empty.example.com');
  });

  it('swaps routes and certificates on update(); established connections keep theirs', async () => {
    const { listener, port } = await start(tlsServer([tlsRoute('*', backends('a'))]), lookup);
    const old = await new Promise<TLSSocket>((resolve, reject) => {
      const s = tlsConnect({ host: '127.0.0.1', port, servername: 'a.example.com', rejectUnauthorized: false }, () => resolve(s));
      s.on('error', reject);
    });
    old.write('before');
    await readUntil(old, 'a:before');
    listener.update(compileStreamServer(tlsServer([tlsRoute('*', backends('plain'), [certs.term])]), lookup, listener.compiled()));
    assert.equal((await tlsExchange(port, 'a.example.com', 'new', 'new')).cn, 't.example.com');
    old.write('after');
    await readUntil(old, 'a:after');
    old.destroy();
  });

  it('close() waits for terminated and passthrough connections; destroyConnections() ends them', async () => {
    const { listener, port, counters } = await start(
      tlsServer([tlsRoute('t.example.com', backends('plain'), [certs.term]), tlsRoute('a.example.com', backends('a'))]),
      lookup,
    );
    const opened = await Promise.all(
      ['t.example.com', 'a.example.com'].map(
        (servername) =>
          new Promise<TLSSocket>((resolve, reject) => {
            const s = tlsConnect({ host: '127.0.0.1', port, servername, rejectUnauthorized: false }, () => resolve(s));
            s.on('error', reject);
          }),
      ),
    );
    opened[0]!.write('t');
    opened[1]!.write('a');
    await Promise.all([readUntil(opened[0]!, 't'), readUntil(opened[1]!, 'a:a')]);
    let closed = false;
    const closing = listener.close().then(() => (closed = true));
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(closed, false);
    const gone = opened.map((s) => new Promise((r) => s.once('close', r)));
    listener.destroyConnections();
    await closing;
    await Promise.all(gone);
    assert.equal(counters.snapshot().l4!.activeConnections, 0);
  });

  it('reuses unchanged terminate certificates and keeps the last one that loaded', () => {
    const ir = tlsServer([tlsRoute('t.example.com', backends('plain'), [certs.term])]);
    const first = compileStreamServer(ir, lookup);
    const again = compileStreamServer(ir, lookup, first);
    assert.equal(again.sni!.routes[0]!.terminate, first.sni!.routes[0]!.terminate);
    const bad = tlsServer([tlsRoute('t.example.com', backends('plain'), [{ ...certs.term, keyPem: 'not a key' }])]);
    const kept = compileStreamServer(bad, lookup, first).sni!.routes[0]!.terminate!;
    assert.equal(kept.defaultContext, first.sni!.routes[0]!.terminate!.defaultContext);
    assert.match(kept.problems[0]!, /previous one keeps serving/);
    // Nothing loaded before: no context, so handshakes fail.
    assert.equal(compileStreamServer(bad, lookup).sni!.routes[0]!.terminate!.defaultContext, undefined);
    assert.throws(() => compileStreamServer(tlsServer([tlsRoute('t.example.com', backends('plain'), [])]), lookup), /no certificates/);
  });
});
