import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { IRConfig } from '../../src/ir/types.js';
import { emptySnapshot, type Gateway, type Snapshot } from '../../src/resources/types.js';
import { AddressPool } from '../../src/runtime/address-pool.js';
import { Controller, type ServerFailure } from '../../src/runtime/controller.js';
import { silentLogger } from '../../src/util/log.js';

const CONTROLLER = 'archway.dev/gateway-controller';

function snapshotWith(gateways: Gateway[]): Snapshot {
  const s = emptySnapshot();
  s.gatewayClasses.push({ apiVersion: 'gateway.networking.k8s.io/v1', kind: 'GatewayClass', metadata: { name: 'archway', generation: 1 }, spec: { controllerName: CONTROLLER } });
  s.gateways.push(...gateways);
  return s;
}

function gateway(name: string, port: number, generation = 1): Gateway {
  return {
    apiVersion: 'gateway.networking.k8s.io/v1', kind: 'Gateway',
    metadata: { name, namespace: 'default', generation, creationTimestamp: '2026-01-01T00:00:00Z' },
    spec: { gatewayClassName: 'archway', listeners: [{ name: 'http', protocol: 'HTTP', port }] },
  };
}

class FakeDataPlane {
  applied: IRConfig[] = [];
  failures: ServerFailure[] = [];
  async apply(ir: IRConfig) {
    this.applied.push(ir);
    await new Promise((r) => setImmediate(r));
    return { failures: this.failures };
  }
}

const condition = (conditions: { type: string }[], type: string) => conditions.find((c) => c.type === type) as
  { status: string; reason: string; message: string; lastTransitionTime: string } | undefined;

describe('Controller', () => {
  it('applies the translated IR and publishes status', async () => {
    const dp = new FakeDataPlane();
    const c = new Controller({ logger: silentLogger, controllerName: CONTROLLER, bindAddress: '127.0.0.1', dataPlane: dp });
    assert.equal(c.ready, false);
    await c.submit(snapshotWith([gateway('a', 8080)]));
    assert.equal(c.ready, true);
    assert.equal(dp.applied.length, 1);
    assert.deepEqual(dp.applied[0]!.servers.map((s) => s.id), ['127.0.0.1:8080']);
    assert.ok(c.statuses.some((s) => s.kind === 'Gateway' && s.metadata.name === 'a'));
  });

  it('collapses a burst of snapshots and ends on the newest', async () => {
    const dp = new FakeDataPlane();
    const c = new Controller({ logger: silentLogger, controllerName: CONTROLLER, bindAddress: '127.0.0.1', dataPlane: dp });
    const done = [8081, 8082, 8083, 8084].map((port) => c.submit(snapshotWith([gateway('a', port)])));
    await Promise.all(done);
    assert.ok(dp.applied.length <= 2, `applied ${dp.applied.length} times`);
    assert.deepEqual(c.ir!.servers.map((s) => s.id), ['127.0.0.1:8084']);
  });

  it('keeps the previous configuration when translation throws', async () => {
    const dp = new FakeDataPlane();
    const c = new Controller({ logger: silentLogger, controllerName: CONTROLLER, bindAddress: '127.0.0.1', dataPlane: dp });
    await c.submit(snapshotWith([gateway('a', 8080)]));
    const broken = gateway('b', 8081);
    (broken.spec as { listeners?: unknown }).listeners = undefined;
    await c.submit(snapshotWith([broken]));
    assert.equal(dp.applied.length, 1);
    assert.deepEqual(c.ir!.servers.map((s) => s.id), ['127.0.0.1:8080']);
  });

  it('reports sockets the data plane could not open on the owning Gateway', async () => {
    const dp = new FakeDataPlane();
    dp.failures = [{ serverId: '127.0.0.1:8080', owner: 'default/a', error: 'listen EADDRINUSE' }];
    const c = new Controller({ logger: silentLogger, controllerName: CONTROLLER, bindAddress: '127.0.0.1', dataPlane: dp });
    await c.submit(snapshotWith([gateway('a', 8080)]));
    const gw = c.statuses.find((s) => s.kind === 'Gateway')!.status as { conditions: { type: string }[]; listeners: { conditions: { type: string }[] }[] };
    const programmed = condition(gw.conditions, 'Programmed')!;
    assert.equal(programmed.status, 'False');
    assert.equal(programmed.reason, 'AddressNotUsable');
    assert.match(programmed.message, /EADDRINUSE/);
    assert.equal(condition(gw.listeners[0]!.conditions, 'Programmed')!.status, 'False');
  });

  it('keeps pool addresses stable across changes and lastTransitionTime when nothing changed', async () => {
    const dp = new FakeDataPlane();
    let now = '2026-01-01T00:00:00.000Z';
    const c = new Controller({
      logger: silentLogger, controllerName: CONTROLLER, bindAddress: '0.0.0.0',
      addressPool: new AddressPool('127.77.0.0/24'), dataPlane: dp, now: () => now,
    });
    await c.submit(snapshotWith([gateway('a', 80)]));
    const first = c.ir!.servers[0]!.address;
    assert.ok(first.startsWith('127.77.0.'));
    now = '2026-01-01T01:00:00.000Z';
    await c.submit(snapshotWith([gateway('z', 80), gateway('a', 80, 2)]));
    const servers = c.ir!.servers;
    assert.equal(servers.find((s) => s.owner === 'default/a')!.address, first);
    assert.notEqual(servers.find((s) => s.owner === 'default/z')!.address, first);
    const gwA = c.statuses.find((s) => s.kind === 'Gateway' && s.metadata.name === 'a')!.status as { conditions: { type: string }[] };
    const accepted = condition(gwA.conditions, 'Accepted')!;
    assert.equal(accepted.lastTransitionTime, '2026-01-01T00:00:00.000Z');
  });
});
