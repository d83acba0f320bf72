import assert from 'node:assert/strict';
import { Agent, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { DataPlane } from '../../src/dataplane/index.js';
import { silentLogger } from '../../src/util/log.js';
import { config, direct, forwardTo, httpServer, route, send, sendJson, startUpstream, slowUpstream } from './helpers.js';

describe('apply', () => {
  it('serves continuous keep-alive traffic without a failure across 20 applies', async () => {
    const a = await startUpstream('a');
    const b = await startUpstream('b');
    const dp = new DataPlane({ logger: silentLogger });
    const irFor = (i: number) =>
      config(
        [
          httpServer('hot', [
            { hostname: `extra-${i}.example.com`, routes: [route(`extra-${i}`, {}, direct('extra'))] },
            {
              hostname: '*',
              routes: [
                route(`changing-${i}`, { path: { type: 'Exact', value: `/changing-${i}` } }, forwardTo(`c${i}`)),
                route('stable', { path: { type: 'PathPrefix', value: '/stable' } }, forwardTo('stable')),
              ],
            },
          ]),
        ],
        // The stable cluster's endpoint set changes too; both endpoints are healthy.
        { stable: i % 2 === 0 ? [a.port] : [a.port, b.port], [`c${i}`]: [b.port] },
      );
    await dp.apply(irFor(0));
    const port = dp.boundPort('hot')!;
    const agent = new Agent({ keepAlive: true, maxSockets: 8 });
    let stop = false;
    const statuses: number[] = [];
    const worker = async (): Promise<void> => {
      while (!stop) statuses.push((await send(port, '/stable', { agent })).status);
    };
    const workers = Array.from({ length: 8 }, worker);
    // Stopped however the applies end: running loops would keep the test process alive.
    try {
      for (let i = 1; i <= 20; i++) {
        assert.deepEqual((await dp.apply(irFor(i))).failures, []);
        assert.equal(dp.boundPort('hot'), port);
        // Let traffic interleave with the applies.
        await send(port, '/stable', { agent });
      }
    } finally {
      stop = true;
      await Promise.all(workers);
    }
    agent.destroy();
    assert.ok(statuses.length > 20);
    assert.deepEqual(
      statuses.filter((s) => s !== 200),
      [],
    );
    await dp.shutdown(1000);
    await Promise.all([a.close(), b.close()]);
  });

  it('sends new requests to the new endpoints of a cluster', async () => {
    const a = await startUpstream('a');
    const b = await startUpstream('b');
    const dp = new DataPlane({ logger: silentLogger });
    const ir = (ports: number[]) => config([httpServer('s', [{ hostname: '*', routes: [route('r', {}, forwardTo('x'))] }])], { x: ports });
    await dp.apply(ir([a.port]));
    const port = dp.boundPort('s')!;
    const agent = new Agent({ keepAlive: true });
    assert.equal((await sendJson(port, '/', { agent })).name, 'a');
    await dp.apply(ir([b.port]));
    assert.equal((await sendJson(port, '/', { agent })).name, 'b');
    agent.destroy();
    await dp.shutdown(1000);
    await Promise.all([a.close(), b.close()]);
  });

  it('closes the port of a removed server and keeps the others', async () => {
    const dp = new DataPlane({ logger: silentLogger });
    const one = httpServer('one', [{ hostname: '*', routes: [route('r', {}, direct('one'))] }]);
    const two = httpServer('two', [{ hostname: '*', routes: [route('r', {}, direct('two'))] }]);
    await dp.apply(config([one, two]));
    const p1 = dp.boundPort('one')!;
    const p2 = dp.boundPort('two')!;
    const agent = new Agent({ keepAlive: true });
    assert.equal((await send(p2, '/', { agent })).body, 'two');
    await dp.apply(config([one]));
    assert.equal(dp.boundPort('two'), undefined);
    await assert.rejects(send(p2, '/'), { code: 'ECONNREFUSED' });
    assert.equal((await send(p1, '/')).body, 'one');
    agent.destroy();
    await dp.shutdown(1000);
  });

  it('reports a port in use and binds it on a later apply once free', async () => {
    const squatter = createServer();
    await new Promise<void>((r) => squatter.listen(0, '127.0.0.1', r));
    const taken = (squatter.address() as AddressInfo).port;
    const dp = new DataPlane({ logger: silentLogger });
    const ir = config([
      httpServer('busy', [{ hostname: '*', routes: [route('r', {}, direct('busy'))] }], taken),
      httpServer('fine', [{ hostname: '*', routes: [route('r', {}, direct('fine'))] }]),
    ]);
    const first = await dp.apply(ir);
    assert.equal(first.failures.length, 1);
    assert.equal(first.failures[0]!.serverId, 'busy');
    assert.equal(first.failures[0]!.owner, 'default/gw');
    assert.match(first.failures[0]!.error, /EADDRINUSE/);
    assert.equal((await send(dp.boundPort('fine')!, '/')).body, 'fine');
    await new Promise((r) => squatter.close(r));
    assert.deepEqual((await dp.apply(ir)).failures, []);
    assert.equal((await send(taken, '/')).body, 'busy');
    await dp.shutdown(1000);
  });

  it('keeps the previous routes of a server whose new routes do not compile', async () => {
    const dp = new DataPlane({ logger: silentLogger });
    const ir = (value: string) =>
      config([httpServer('s', [{ hostname: '*', routes: [route('r', { path: { type: 'RegularExpression', value } }, direct(value))] }])]);
    await dp.apply(ir('/ok'));
    const result = await dp.apply(ir('/(broken'));
    assert.equal(result.failures.length, 1);
    assert.match(result.failures[0]!.error, /invalid regular expression/);
    assert.equal((await send(dp.boundPort('s')!, '/ok')).body, '/ok');
    await dp.shutdown(1000);
  });
});

describe('shutdown', () => {
  it('lets an in-flight request finish and refuses new connections', async () => {
    const { upstream, release, arrival } = await slowUpstream();
    const dp = new DataPlane({ logger: silentLogger });
    await dp.apply(config([httpServer('s', [{ hostname: '*', routes: [route('r', {}, forwardTo('slow'))] }])], { slow: [upstream.port] }));
    const port = dp.boundPort('s')!;
    const idle = new Agent({ keepAlive: true });
    // An idle keep-alive connection must not hold up the shutdown.
    assert.equal((await send(port, '/', { agent: idle })).body, 'fast');
    const inFlight = send(port, '/slow');
    await arrival;
    let shutDown = false;
    const stopping = dp.shutdown(10_000).then(() => (shutDown = true));
    await assert.rejects(send(port, '/'), { code: 'ECONNREFUSED' });
    assert.equal(shutDown, false);
    release();
    const reply = await inFlight;
    assert.equal(reply.status, 200);
    assert.equal(reply.body, 'done');
    assert.equal(reply.headers.connection, 'close');
    await stopping;
    idle.destroy();
    await upstream.close();
  });

  it('cuts requests still running when the timeout expires', async () => {
    const { upstream, release, arrival } = await slowUpstream();
    const dp = new DataPlane({ logger: silentLogger });
    await dp.apply(config([httpServer('s', [{ hostname: '*', routes: [route('r', {}, forwardTo('slow'))] }])], { slow: [upstream.port] }));
    const stuck = send(dp.boundPort('s')!, '/slow');
    await arrival;
    await dp.shutdown(50);
    await assert.rejects(stuck);
    release();
    await upstream.close();
  });

  it('rejects applies after shutdown', async () => {
    const dp = new DataPlane({ logger: silentLogger });
    await dp.shutdown(10);
    await assert.rejects(dp.apply(config([])));
  });
});
