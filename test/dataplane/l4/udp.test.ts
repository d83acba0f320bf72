import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { compileStreamServer, createL4Listener, UdpListener, type UdpListenerOptions } from '../../../src/dataplane/l4/index.js';
import type { ClusterLookup } from '../../../src/dataplane/l4/routes.js';
import { Counters } from '../../../src/dataplane/stats.js';
import type { IRServer } from '../../../src/ir/types.js';
import { silentLogger } from '../../../src/util/log.js';
import { backends, clusters, eventually, tcpServer, udpClient, udpEcho, type UdpBackend, type UdpClient } from './helpers.js';

const listeners: UdpListener[] = [];
const clients: UdpClient[] = [];

async function start(ir: IRServer, lookup: ClusterLookup, options: UdpListenerOptions = {}) {
  const counters = new Counters();
  const listener = createL4Listener(compileStreamServer(ir, lookup), silentLogger, counters, options) as UdpListener;
  assert.ok(listener instanceof UdpListener);
  await listener.listen();
  listeners.push(listener);
  return { listener, port: listener.port()!, counters, l4: () => counters.snapshot().l4! };
}

async function client(port: number): Promise<UdpClient> {
  const c = await udpClient(port);
  clients.push(c);
  return c;
}

describe('UDP listener', () => {
  let a: UdpBackend;
  let b: UdpBackend;
  let lookup: ClusterLookup;

  before(async () => {
    [a, b] = await Promise.all([udpEcho('a'), udpEcho('b')]);
    lookup = clusters({ a: [a.port], b: [b.port], ab: [a.port, b.port], empty: [] });
  });

  after(async () => {
    await Promise.all(listeners.map((l) => l.close()));
    await Promise.all(clients.map((c) => c.close()));
    await Promise.all([a.close(), b.close()]);
  });

  it('echoes through a session per client, each sticking to its endpoint', async () => {
    const { port, l4 } = await start(tcpServer(backends('ab'), 'UDP'), lookup);
    const c1 = await client(port);
    const c2 = await client(port);
    const first1 = await c1.ask('ping');
    const first2 = await c2.ask('ping');
    // Round robin over the cluster's endpoints: the two sessions went to different ones.
    assert.deepEqual([first1, first2].sort(), ['a:ping', 'b:ping']);
    for (let i = 0; i < 10; i++) {
      assert.equal(await c1.ask(`m${i}`), `${first1!.slice(0, 1)}:m${i}`);
      assert.equal(await c2.ask(`m${i}`), `${first2!.slice(0, 1)}:m${i}`);
    }
    assert.equal(l4().udpSessions, 2);
    assert.equal(l4().activeUdpSessions, 2);
  });

  it('holds datagrams sent while the session connects, in order', async () => {
    const { port } = await start(tcpServer(backends('a'), 'UDP'), lookup);
    const c = await client(port);
    const replies: string[] = [];
    c.socket.on('message', (m) => replies.push(m.toString()));
    for (let i = 0; i < 5; i++) c.socket.send(`burst${i}`, port, '127.0.0.1');
    await eventually(() => replies.length >= 5, 'five replies');
    assert.deepEqual(replies, ['a:burst0', 'a:burst1', 'a:burst2', 'a:burst3', 'a:burst4']);
  });

  it('expires idle sessions with the sweep, and a later datagram opens a new one', async () => {
    const peersBefore = a.peers();
    const { port, l4 } = await start(tcpServer(backends('a'), 'UDP'), lookup, { idleTimeoutMs: 100 });
    const c = await client(port);
    assert.equal(await c.ask('one'), 'a:one');
    // Kept alive by traffic for longer than the timeout.
    for (let i = 0; i < 6; i++) {
      await new Promise((r) => setTimeout(r, 40));
      assert.equal(await c.ask(`keep${i}`), `a:keep${i}`);
    }
    assert.equal(l4().udpSessions, 1);
    await eventually(() => l4().activeUdpSessions === 0, 'the session to expire', 1_000);
    assert.equal(await c.ask('two'), 'a:two');
    assert.equal(l4().udpSessions, 2);
    // The backend saw each session from its own source port.
    assert.equal(a.peers() - peersBefore, 2);
  });

  it('bounds the sessions under a flood from many source ports; known clients are still served', async () => {
    const { port, l4 } = await start(tcpServer(backends('a'), 'UDP'), lookup, { maxSessions: 5 });
    const known = await Promise.all(Array.from({ length: 5 }, () => client(port)));
    for (const [i, c] of known.entries()) assert.equal(await c.ask(`hi${i}`), `a:hi${i}`);
    const flood = await Promise.all(Array.from({ length: 30 }, () => client(port)));
    const answers = await Promise.all(flood.map((c) => c.ask('flood', 200)));
    assert.deepEqual(new Set(answers), new Set([undefined]));
    assert.equal(l4().udpDropped, 30);
    assert.equal(l4().activeUdpSessions, 5);
    for (const [i, c] of known.entries()) assert.equal(await c.ask(`again${i}`), `a:again${i}`);
  });

  it('drops datagrams without a route, a valid backend or endpoints', async () => {
    for (const ir of [tcpServer(undefined, 'UDP'), tcpServer(backends([undefined, 1]), 'UDP'), tcpServer(backends('empty'), 'UDP')]) {
      const { port, l4 } = await start(ir, lookup);
      const c = await client(port);
      assert.equal(await c.ask('lost', 100), undefined);
      assert.equal(l4().udpDropped, 1);
      assert.equal(l4().udpSessions, 0);
    }
  });

  it('ends a session whose backend is unreachable; the next datagram opens a new one', async () => {
    const gone = await udpEcho('gone');
    await gone.close();
    const { port, l4, counters } = await start(tcpServer(backends('gone'), 'UDP'), clusters({ gone: [gone.port] }));
    const c = await client(port);
    // The ICMP port unreachable comes back as an error on the session's connected socket.
    assert.equal(await c.ask('anyone?', 200), undefined);
    assert.equal(await c.ask('anyone?', 200), undefined);
    await eventually(() => l4().activeUdpSessions === 0, 'every session to close');
    assert.ok(l4().udpSessions >= 1);
    assert.ok(counters.snapshot().upstreamErrors >= 1);
  });

  it('sends new sessions to the new backend after update(); open sessions keep theirs', async () => {
    const { listener, port } = await start(tcpServer(backends('a'), 'UDP'), lookup);
    const old = await client(port);
    assert.equal(await old.ask('x'), 'a:x');
    listener.update(compileStreamServer(tcpServer(backends('b'), 'UDP'), lookup, listener.compiled()));
    const fresh = await client(port);
    assert.equal(await fresh.ask('y'), 'b:y');
    assert.equal(await old.ask('z'), 'a:z');
  });

  it('close() closes the socket and every session', async () => {
    const { listener, port, l4 } = await start(tcpServer(backends('a'), 'UDP'), lookup);
    const c = await client(port);
    assert.equal(await c.ask('x'), 'a:x');
    await listener.close();
    assert.equal(l4().activeUdpSessions, 0);
    assert.equal(listener.port(), undefined);
    assert.equal(await c.ask('after', 100), undefined);
    // Idempotent.
    await listener.close();
  });

  it('reports a port already taken as a listen failure', async () => {
    const { port } = await start(tcpServer(backends('a'), 'UDP'), lookup);
    const clash = new UdpListener(compileStreamServer({ ...tcpServer(backends('a'), 'UDP'), port }, lookup), silentLogger, new Counters());
    await assert.rejects(clash.listen(), /EADDRINUSE/);
    await clash.close();
  });
});
