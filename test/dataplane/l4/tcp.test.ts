import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { after, describe, it } from 'node:test';
import { compileStreamServer, createL4Listener, StreamListener } from '../../../src/dataplane/l4/index.js';
import type { ClusterLookup } from '../../../src/dataplane/l4/routes.js';
import { Counters } from '../../../src/dataplane/stats.js';
import type { IRServer } from '../../../src/ir/types.js';
import { silentLogger } from '../../../src/util/log.js';
import { backends, clusters, eventually, readUntil, tcpEcho, tcpExchange, tcpNamer, tcpServer, type Backend } from './helpers.js';

const open: { close(): Promise<void>; destroyConnections(): void }[] = [];

async function start(ir: IRServer, lookup: ClusterLookup, counters = new Counters()): Promise<{ listener: StreamListener; port: number; counters: Counters }> {
  const listener = createL4Listener(compileStreamServer(ir, lookup), silentLogger, counters) as StreamListener;
  await listener.listen();
  open.push(listener);
  return { listener, port: listener.port()!, counters };
}

function connected(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port, allowHalfOpen: true }, () => resolve(s));
    s.on('error', reject);
  });
}

describe('TCP listener', () => {
  const backendsToClose: Backend[] = [];
  after(async () => {
    for (const l of open) l.destroyConnections();
    await Promise.all(open.map((l) => l.close()));
    await Promise.all(backendsToClose.map((b) => b.close()));
  });

  it('echoes through the listener and passes the client half-close on', async () => {
    const echo = await tcpEcho('a');
    backendsToClose.push(echo);
    const { port, counters } = await start(tcpServer(backends('a')), clusters({ a: [echo.port] }));
    // The backend only writes bye after the client's FIN reached it, and the client still reads it.
    assert.deepEqual(await tcpExchange(port, 'hello'), { data: 'hellobye:a', error: false });
    await eventually(() => counters.snapshot().l4!.activeConnections === 0, 'every connection to close');
    assert.deepEqual(counters.snapshot().l4, { connections: 1, activeConnections: 0, rejectedConnections: 0, udpSessions: 0, activeUdpSessions: 0, udpDropped: 0 });
  });

  it('lets the client keep sending after the backend half-closes', async () => {
    let got = '';
    let gotEnd!: () => void;
    const ended = new Promise<void>((r) => (gotEnd = r));
    const server = createServer({ allowHalfOpen: true }, (s) => {
      s.end('greeting');
      s.on('data', (d) => (got += d.toString()));
      s.on('end', () => gotEnd());
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = await start(tcpServer(backends('g')), clusters({ g: [(server.address() as AddressInfo).port] }));
    const client = await connected(port);
    let read = '';
    client.on('data', (d) => (read += d.toString()));
    await new Promise<void>((r) => client.once('end', r));
    assert.equal(read, 'greeting');
    client.end('late words');
    await ended;
    assert.equal(got, 'late words');
    await new Promise<void>((r) => server.close(() => r()));
  });

  it('carries a large stream both ways without losing a byte', async () => {
    const echo = await tcpEcho('big');
    backendsToClose.push(echo);
    const { port } = await start(tcpServer(backends('big')), clusters({ big: [echo.port] }));
    const payload = randomBytes(8 * 1024 * 1024);
    const client = await connected(port);
    const hash = createHash('sha256');
    let length = 0;
    client.on('data', (d: Buffer) => {
      length += d.length;
      hash.update(d);
    });
    const done = new Promise<void>((r) => client.once('end', r));
    client.end(payload);
    await done;
    const expected = createHash('sha256').update(payload).update('bye:big').digest('hex');
    assert.equal(length, payload.length + 'bye:big'.length);
    assert.equal(hash.digest('hex'), expected);
  });

  it('splits connections by weight', async () => {
    const heavy = await tcpNamer('heavy');
    const light = await tcpNamer('light');
    backendsToClose.push(heavy, light);
    const { port } = await start(tcpServer(backends(['heavy', 80], ['light', 20])), clusters({ heavy: [heavy.port], light: [light.port] }));
    const counts: Record<string, number> = { heavy: 0, light: 0 };
    const total = 500;
    for (let i = 0; i < total; i += 25) {
      const batch = await Promise.all(Array.from({ length: 25 }, () => tcpExchange(port, undefined, { end: false })));
      for (const r of batch) counts[r.data] = (counts[r.data] ?? 0) + 1;
    }
    assert.equal(counts.heavy! + counts.light!, total);
    // Expected 400; the standard deviation is about 9.
    assert.ok(counts.heavy! > 340 && counts.heavy! < 460, JSON.stringify(counts));
  });

  it('closes connections that pick an invalid backend, a cluster without endpoints, or have no route', async () => {
    const counters = new Counters();
    const echo = await tcpEcho('ok');
    backendsToClose.push(echo);
    const lookup = clusters({ empty: [], ok: [echo.port] });
    for (const ir of [tcpServer(backends([undefined, 1])), tcpServer(backends('empty')), tcpServer(backends('unknown')), tcpServer(undefined)]) {
      const { port } = await start(ir, lookup, counters);
      const r = await tcpExchange(port, 'hello', { end: false });
      assert.equal(r.data, '');
    }
    // Half the weight on an invalid backend: about half the connections are closed, the others served.
    const { port } = await start(tcpServer(backends([undefined, 1], ['ok', 1])), lookup, counters);
    const results = await Promise.all(Array.from({ length: 40 }, () => tcpExchange(port, 'x')));
    const served = results.filter((r) => r.data === 'xbye:ok').length;
    const closed = results.filter((r) => r.data === '').length;
    assert.equal(served + closed, 40);
    assert.ok(served > 5 && closed > 5, `${served} served, ${closed} closed`);
    await eventually(() => counters.snapshot().l4!.activeConnections === 0, 'every connection to close');
    assert.equal(counters.snapshot().l4!.rejectedConnections, 4 + closed);
  });

  it('closes the client when the backend refuses, counting an upstream error', async () => {
    const gone = await tcpEcho('gone');
    await gone.close();
    const { port, counters } = await start(tcpServer(backends('gone')), clusters({ gone: [gone.port] }));
    const r = await tcpExchange(port, 'hello', { end: false });
    assert.equal(r.data, '');
    assert.equal(counters.snapshot().upstreamErrors, 1);
  });

  it('resets the client when the backend resets', async () => {
    const server = createServer((s) => s.on('data', () => s.resetAndDestroy()));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const { port } = await start(tcpServer(backends('rst')), clusters({ rst: [(server.address() as AddressInfo).port] }));
    const r = await tcpExchange(port, 'hello', { end: false });
    assert.equal(r.data, '');
    await new Promise<void>((r) => server.close(() => r()));
  });

  it('sends new connections to the new backend after update() while old ones keep theirs', async () => {
    const a = await tcpEcho('a');
    const b = await tcpEcho('b');
    backendsToClose.push(a, b);
    const lookup = clusters({ a: [a.port], b: [b.port] });
    const { listener, port } = await start(tcpServer(backends('a')), lookup);
    const old = await connected(port);
    old.write('one');
    await readUntil(old, 'one');
    listener.update(compileStreamServer(tcpServer(backends('b')), lookup, listener.compiled()));
    assert.equal((await tcpExchange(port, 'new')).data, 'newbye:b');
    old.write('two');
    await readUntil(old, 'two');
    const end = new Promise<string>((resolve) => {
      let rest = '';
      old.on('data', (d) => (rest += d.toString()));
      old.on('end', () => resolve(rest));
    });
    old.end();
    assert.equal(await end, 'bye:a');
    assert.equal(a.accepted(), 1);
    assert.equal(b.accepted(), 1);
  });

  it('close() waits for open connections; destroyConnections() ends them', async () => {
    const echo = await tcpEcho('drain');
    backendsToClose.push(echo);
    const { listener, port } = await start(tcpServer(backends('drain')), clusters({ drain: [echo.port] }));
    const client = await connected(port);
    client.write('x');
    await readUntil(client, 'x');
    let closed = false;
    const closing = listener.close().then(() => (closed = true));
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(closed, false);
    // New connections are refused once closing.
    await assert.rejects(connected(port));
    // The open connection still works.
    client.write('y');
    await readUntil(client, 'y');
    listener.destroyConnections();
    await closing;
    assert.equal(listener.port(), undefined);
  });

  it('closes a connection idle for the idle timeout', async () => {
    const echo = await tcpEcho('idle');
    backendsToClose.push(echo);
    const counters = new Counters();
    const listener = new StreamListener(compileStreamServer(tcpServer(backends('idle')), clusters({ idle: [echo.port] })), silentLogger, counters, {
      idleTimeoutMs: 150,
    });
    await listener.listen();
    open.push(listener);
    const client = await connected(listener.port()!);
    const started = Date.now();
    // A half-open client sees the FIN.
    await new Promise<void>((r) => client.on('end', () => r()));
    assert.ok(Date.now() - started >= 100);
    client.destroy();
    await eventually(() => counters.snapshot().l4!.activeConnections === 0, 'every connection to close');
  });

  it('refuses a non-stream server', () => {
    assert.throws(() => compileStreamServer({ ...tcpServer(undefined), protocol: 'HTTP' }, clusters({})), /not a stream protocol/);
  });
});
