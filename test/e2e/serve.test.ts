import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { startEchoServer, type EchoServer } from '../../src/echo/index.js';
import { BIN, childPids, eventually, freePort, serviceYaml, threadNiceValues } from './helpers.js';

const REPLY_WAIT_MS = 10_000;

interface Reply { status: number; body: string; headers: Record<string, string | string[] | undefined> }

function get(port: number, path: string, headers: Record<string, string> = {}, agent?: Agent): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers, agent: agent ?? false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => { body += c; });
      res.on('end', () => resolve({ status: res.statusCode!, body, headers: res.headers }));
    });
    // A server may close an idle keep-alive connection as a request goes out on it; such a request was never
    // accepted, and clients resend it (RFC 9112 §9.3.1). Marked so load loops can count those apart.
    req.on('error', (err) => reject(Object.assign(err, { reusedSocket: req.reusedSocket })));
    // A request the gateway never answers fails the test that sent it rather than stalling the run.
    req.setTimeout(REPLY_WAIT_MS, () => req.destroy(new Error(`no reply to GET ${path} on port ${port} within ${REPLY_WAIT_MS} ms`)));
    req.end();
  });
}

/** Load loops not yet stopped: a test that fails mid-load must not leave them running, which keeps this process (and the run) alive. */
const runningLoads = new Set<{ stop(): Promise<void> }>();

/** Keep-alive GET loops until stop(); counts 200s, resends of never-accepted requests, and everything else. */
function loadLoops(port: number, path: string, loops: number) {
  const agent = new Agent({ keepAlive: true, maxSockets: loops });
  let stopped = false;
  const counts = { ok: 0, resent: 0, failures: [] as string[] };
  const loop = async () => {
    while (!stopped) {
      try {
        const r = await get(port, path, {}, agent);
        if (r.status === 200) counts.ok += 1;
        else counts.failures.push(`status ${r.status}`);
      } catch (err) {
        const e = err as NodeJS.ErrnoException & { reusedSocket?: boolean };
        if (e.reusedSocket && e.code === 'ECONNRESET') counts.resent += 1;
        else counts.failures.push(e.message);
      }
    }
  };
  const running = Array.from({ length: loops }, loop);
  const load = {
    counts,
    async stop() {
      stopped = true;
      runningLoads.delete(load);
      await Promise.all(running);
      agent.destroy();
    },
  };
  runningLoads.add(load);
  return load;
}

interface StatusItem { kind: string; metadata: { name: string; namespace?: string; generation?: number }; status: any }

function gatewayYaml(port: number): string {
  return `apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: archway}
spec: {controllerName: archway.dev/gateway-controller}
---
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: someone-else}
spec: {controllerName: example.com/other}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: web, namespace: default}
spec:
  gatewayClassName: archway
  listeners:
  - {name: http, protocol: HTTP, port: ${port}}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: foreign, namespace: default}
spec:
  gatewayClassName: someone-else
  listeners:
  - {name: http, protocol: HTTP, port: ${port}}
`;
}


function routeYaml(name: string, path: string, service: string, tag: string): string {
  return `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: ${name}, namespace: default}
spec:
  parentRefs: [{name: web}]
  rules:
  - matches: [{path: {type: PathPrefix, value: ${path}}}]
    filters:
    - type: RequestHeaderModifier
      requestHeaderModifier:
        set: [{name: x-tag, value: "${tag}"}]
    backendRefs: [{name: ${service}, port: 80}]
`;
}

/** The event loop of data-plane process `pid` at `base` priority, every helper thread of it at the lowest. */
async function assertHelpersBelowEventLoop(pid: number, base: number): Promise<void> {
  const threads = await threadNiceValues(pid);
  assert.equal(threads.get(pid), base, 'the event loop keeps its priority');
  const helpers = [...threads].filter(([tid]) => tid !== pid).map(([, nice]) => nice);
  assert.ok(helpers.length >= 4, `V8's helper threads: found ${helpers.length}`);
  assert.deepEqual(new Set(helpers), new Set([19]));
}

describe('archway serve', { timeout: 180_000 }, () => {
  let dir: string;
  let child: ChildProcess;
  let echoA: EchoServer;
  let echoB: EchoServer;
  let gatewayPort: number;
  let adminPort: number;
  let stderr = '';

  const status = async (): Promise<StatusItem[]> => {
    const r = await get(adminPort, '/status');
    return (JSON.parse(r.body) as { items: StatusItem[] }).items;
  };
  const find = async (kind: string, name: string) => (await status()).find((i) => i.kind === kind && i.metadata.name === name);

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'archway-e2e-'));
    echoA = await startEchoServer({ port: 0, host: '127.0.0.1', namespace: 'default', service: 'svc-a', pod: 'svc-a-0' });
    echoB = await startEchoServer({ port: 0, host: '127.0.0.1', namespace: 'default', service: 'svc-b', pod: 'svc-b-0' });
    gatewayPort = await freePort();
    adminPort = await freePort();
    await writeFile(join(dir, 'gateway.yaml'), gatewayYaml(gatewayPort));
    await writeFile(join(dir, 'backends.yaml'), `${serviceYaml('svc-a', echoA.port)}---\n${serviceYaml('svc-b', echoB.port)}`);
    await writeFile(join(dir, 'route.yaml'), routeYaml('app', '/app', 'svc-a', 'v0'));
    child = spawn(process.execPath, [BIN, 'serve', '--config', dir, '--admin', `127.0.0.1:${adminPort}`,
      '--bind-address', '127.0.0.1', '--log-level', 'warn', '--workers', '2'], { stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr!.on('data', (c: Buffer) => { stderr += c.toString(); });
    await eventually('readyz', async () => ((await get(adminPort, '/readyz')).status === 200 ? true : undefined));
  });

  afterEach(async () => {
    for (const load of runningLoads) await load.stop();
  });

  after(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
    }
    await echoA.close();
    await echoB.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('routes to the backend and reports status for our objects only', async () => {
    const r = await get(gatewayPort, '/app/x', { host: 'anything.example' });
    assert.equal(r.status, 200);
    const echoed = JSON.parse(r.body) as { service: string; path: string; headers: Record<string, string[]> };
    assert.equal(echoed.service, 'svc-a');
    assert.equal(echoed.path, '/app/x');
    assert.deepEqual(echoed.headers['X-Tag'], ['v0']);
    assert.equal((await get(gatewayPort, '/nothing-here')).status, 404);

    const items = await status();
    assert.ok(items.some((i) => i.kind === 'GatewayClass' && i.metadata.name === 'archway'));
    assert.ok(!items.some((i) => i.metadata.name === 'someone-else' || i.metadata.name === 'foreign'));
    const gw = items.find((i) => i.kind === 'Gateway' && i.metadata.name === 'web')!;
    assert.deepEqual(gw.status.addresses, [{ type: 'IPAddress', value: '127.0.0.1' }]);
    assert.equal(gw.status.listeners[0].attachedRoutes, 1);
    const programmed = gw.status.conditions.find((c: { type: string }) => c.type === 'Programmed');
    assert.equal(programmed.status, 'True');
    assert.equal(programmed.observedGeneration, gw.metadata.generation);
  });

  it('runs the helper threads of each data-plane worker below its event loop', async () => {
    const primary = await threadNiceValues(child.pid!);
    const base = primary.get(child.pid!)!;
    assert.deepEqual(new Set(primary.values()), new Set([base]), 'the primary translates and keeps its priorities');
    const workers = await childPids(child.pid!);
    assert.equal(workers.length, 2);
    for (const pid of workers) await assertHelpersBelowEventLoop(pid, base);
  });

  it('serves every request while a route is rewritten 20 times', async () => {
    const load = loadLoops(gatewayPort, '/app', 4);
    for (let i = 1; i <= 20; i++) {
      await writeFile(join(dir, 'route.yaml'), routeYaml('app', '/app', i % 2 ? 'svc-b' : 'svc-a', `v${i}`));
      const tag = `v${i}`;
      await eventually(`tag ${tag}`, async () => {
        const r = await get(gatewayPort, '/app');
        return (JSON.parse(r.body) as { headers: Record<string, string[]> }).headers['X-Tag']?.[0] === tag ? true : undefined;
      });
    }
    await load.stop();
    assert.deepEqual(load.counts.failures, []);
    assert.equal(load.counts.resent, 0);
    assert.ok(load.counts.ok > 20, `expected steady traffic, got ${load.counts.ok} responses`);
  });

  it('replaces a worker stopped under load without failing a request', async () => {
    const before = await childPids(child.pid!);
    assert.equal(before.length, 2, 'two data-plane workers');
    const load = loadLoops(gatewayPort, '/app', 4);
    await new Promise((r) => setTimeout(r, 200));
    process.kill(before[0]!, 'SIGTERM');
    const replaced = await eventually('a replacement worker', async () => {
      const now = await childPids(child.pid!);
      return now.length === 2 && !now.includes(before[0]!) ? now : undefined;
    });
    const okBefore = load.counts.ok;
    await eventually('traffic after the restart', async () => (load.counts.ok > okBefore + 50 ? true : undefined));
    await load.stop();
    assert.ok(replaced.includes(before[1]!), 'the other worker kept running');
    assert.deepEqual(load.counts.failures, []);
    assert.ok(load.counts.ok > 100, `expected steady traffic, got ${load.counts.ok} responses`);
  });

  it('keeps serving the last good objects of a file that no longer parses', async () => {
    await writeFile(join(dir, 'route.yaml'), `${routeYaml('app', '/app', 'svc-a', 'good')}  rules: [\n`);
    await eventually('parse problem logged', async () => (stderr.includes('route.yaml') ? true : undefined));
    const r = await get(gatewayPort, '/app');
    assert.equal(r.status, 200);
    assert.ok(await find('HTTPRoute', 'app'));
  });

  it('rejects a schema-invalid object and keeps the rest', async () => {
    await writeFile(join(dir, 'route.yaml'), routeYaml('app', '/app', 'svc-a', 'v-final'));
    await writeFile(join(dir, 'bad.yaml'), routeYaml('bad', '/bad', 'svc-a', 'x').replace('port: 80', 'port: 99999'));
    await eventually('route v-final', async () => {
      const r = await get(gatewayPort, '/app');
      return r.status === 200 && JSON.parse(r.body).headers['X-Tag']?.[0] === 'v-final' ? true : undefined;
    });
    await eventually('schema problem logged', async () => (/bad\.yaml:\d+/.test(stderr) && stderr.includes('65535') ? true : undefined));
    assert.equal(await find('HTTPRoute', 'bad'), undefined);
    assert.equal((await get(gatewayPort, '/bad')).status, 404);
  });

  it('answers 500 for a route to a missing Service and says why', async () => {
    await writeFile(join(dir, 'bad.yaml'), routeYaml('missing', '/missing', 'no-such-service', 'x'));
    const route = await eventually('missing route status', () => find('HTTPRoute', 'missing'));
    const conditions = route.status.parents[0].conditions as { type: string; status: string; reason: string; message: string }[];
    const resolved = conditions.find((c) => c.type === 'ResolvedRefs')!;
    assert.equal(resolved.status, 'False');
    assert.equal(resolved.reason, 'BackendNotFound');
    assert.match(resolved.message, /no-such-service/);
    assert.equal(conditions.find((c) => c.type === 'Accepted')!.status, 'True');
    assert.equal((await get(gatewayPort, '/missing')).status, 500);
    assert.equal((await get(gatewayPort, '/app')).status, 200);
  });

  it('reports a broken certificate on the listener and keeps serving HTTP', async () => {
    const httpsPort = await freePort();
    await writeFile(join(dir, 'tls.yaml'), `apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: secure, namespace: default}
spec:
  gatewayClassName: archway
  listeners:
  - name: https
    protocol: HTTPS
    port: ${httpsPort}
    tls:
      certificateRefs: [{name: broken-cert}]
---
apiVersion: v1
kind: Secret
metadata: {name: broken-cert, namespace: default}
type: kubernetes.io/tls
stringData:
  tls.crt: "-----BEGIN CERTIFICATE-----\\nnot a certificate\\n-----END CERTIFICATE-----\\n"
  tls.key: "-----BEGIN PRIVATE KEY-----\\nnot a key\\n-----END PRIVATE KEY-----\\n"
`);
    const gw = await eventually('secure gateway status', () => find('Gateway', 'secure'));
    const listener = gw.status.listeners[0];
    const refs = listener.conditions.find((c: { type: string }) => c.type === 'ResolvedRefs');
    assert.equal(refs.status, 'False');
    assert.equal(refs.reason, 'InvalidCertificateRef');
    assert.match(refs.message, /broken-cert/);
    assert.equal(listener.conditions.find((c: { type: string }) => c.type === 'Programmed').status, 'False');
    assert.equal((await get(gatewayPort, '/app')).status, 200);
  });

  it('exposes the IR, health and metrics', async () => {
    const config = JSON.parse((await get(adminPort, '/config')).body) as { irVersion: number; servers: { id: string }[] };
    assert.equal(config.irVersion, 1);
    assert.ok(config.servers.some((s) => s.id === `127.0.0.1:${gatewayPort}`));
    assert.equal((await get(adminPort, '/healthz')).status, 200);
    const metrics = await get(adminPort, '/metrics');
    assert.equal(metrics.status, 200);
    assert.match(metrics.body, /archway_config_applies_total/);
    assert.match(metrics.body, /archway_http_responses\{class="2xx"\} [1-9]/);
  });

  it('drains and exits cleanly on SIGTERM', async () => {
    child.kill('SIGTERM');
    const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
    assert.equal(code, 0);
  });
});

describe('archway serve --workers 1', { timeout: 60_000 }, () => {
  it('runs its helper threads below the event loop that serves', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'archway-e2e-'));
    const adminPort = await freePort();
    const child = spawn(process.execPath, [BIN, 'serve', '--config', dir, '--admin', `127.0.0.1:${adminPort}`,
      '--bind-address', '127.0.0.1', '--log-level', 'warn', '--workers', '1'], { stdio: 'ignore' });
    try {
      await eventually('readyz', async () => ((await get(adminPort, '/readyz')).status === 200 ? true : undefined));
      await assertHelpersBelowEventLoop(child.pid!, (await threadNiceValues(process.pid)).get(process.pid)!);
    } finally {
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
      await rm(dir, { recursive: true, force: true });
    }
  });
});
