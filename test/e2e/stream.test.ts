// TCPRoute and UDPRoute through `archway serve` with two workers: a TCP and
// a UDP listener on the same port number, real echo backends, route status
// and the stream metrics summed over the workers.

import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { connect, createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { BIN, eventually, freePort } from './helpers.js';

async function adminGet(port: number, path: string): Promise<string> {
  const r = await fetch(`http://127.0.0.1:${port}${path}`);
  return r.text();
}

/** Sends `text` over a fresh connection, half-closes, and resolves with everything the far side wrote. */
function tcpExchange(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port }, () => s.end(text));
    let got = '';
    s.on('data', (d) => { got += d; });
    s.on('end', () => resolve(got));
    s.on('error', reject);
    s.setTimeout(3000, () => s.destroy(new Error('tcp exchange timed out')));
  });
}

function udpExchange(socket: UdpSocket, port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => { socket.off('message', onMessage); reject(new Error('no UDP reply')); }, 1000);
    const onMessage = (msg: Buffer): void => { clearTimeout(timer); resolve(msg.toString()); };
    socket.once('message', onMessage);
    socket.send(text, port, '127.0.0.1');
  });
}

describe('archway serve: TCPRoute and UDPRoute', () => {
  let dir: string;
  let child: ChildProcess;
  let tcpBackend: Server;
  let udpBackend: UdpSocket;
  let port: number;
  let adminPort: number;
  let stderr = '';

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'archway-stream-'));
    // The backends tag what they echo, so a reply proves which one answered.
    tcpBackend = createServer({ allowHalfOpen: true }, (s) => {
      let got = '';
      s.on('data', (d) => { got += d; });
      s.on('end', () => s.end(`tcp-backend:${got}`));
    });
    await new Promise<void>((r) => tcpBackend.listen(0, '127.0.0.1', r));
    udpBackend = createSocket('udp4');
    udpBackend.on('message', (msg, from) => udpBackend.send(`udp-backend:${msg}`, from.port, from.address));
    await new Promise<void>((r) => udpBackend.bind(0, '127.0.0.1', r));
    port = await freePort();
    adminPort = await freePort();
    await writeFile(join(dir, 'config.yaml'), `apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: archway}
spec: {controllerName: archway.dev/gateway-controller}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: l4, namespace: default}
spec:
  gatewayClassName: archway
  listeners:
  - {name: tcp, protocol: TCP, port: ${port}, allowedRoutes: {kinds: [{kind: TCPRoute}]}}
  - {name: udp, protocol: UDP, port: ${port}, allowedRoutes: {kinds: [{kind: UDPRoute}]}}
---
apiVersion: v1
kind: Service
metadata: {name: echo, namespace: default}
spec:
  ports:
  - {name: tcp, port: 7000, protocol: TCP}
  - {name: udp, port: 7000, protocol: UDP}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: echo-1, namespace: default, labels: {kubernetes.io/service-name: echo}}
addressType: IPv4
ports:
- {name: tcp, port: ${(tcpBackend.address() as { port: number }).port}, protocol: TCP}
- {name: udp, port: ${udpBackend.address().port}, protocol: UDP}
endpoints: [{addresses: [127.0.0.1]}]
---
apiVersion: gateway.networking.k8s.io/v1alpha2
kind: TCPRoute
metadata: {name: tcp, namespace: default}
spec:
  parentRefs: [{name: l4, sectionName: tcp}]
  rules: [{backendRefs: [{name: echo, port: 7000}]}]
---
apiVersion: gateway.networking.k8s.io/v1alpha2
kind: UDPRoute
metadata: {name: udp, namespace: default}
spec:
  parentRefs: [{name: l4, sectionName: udp}]
  rules: [{backendRefs: [{name: echo, port: 7000}]}]
`);
    child = spawn(process.execPath, [BIN, 'serve', '--config', dir, '--admin', `127.0.0.1:${adminPort}`,
      '--bind-address', '127.0.0.1', '--log-level', 'warn', '--workers', '2'], { stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr!.on('data', (c: Buffer) => { stderr += c.toString(); });
    await eventually('readyz', async () => ((await fetch(`http://127.0.0.1:${adminPort}/readyz`)).status === 200 ? true : undefined));
  });

  after(async () => {
    if (child.exitCode === null) {
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
    }
    await new Promise((r) => tcpBackend.close(r));
    udpBackend.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('accepts both routes on one port number and counts them on their listeners', async () => {
    const items = JSON.parse(await adminGet(adminPort, '/status')).items as { kind: string; metadata: { name: string }; status: Record<string, unknown> }[];
    for (const kind of ['TCPRoute', 'UDPRoute']) {
      const route = items.find((i) => i.kind === kind);
      const parents = route?.status.parents as { conditions: { type: string; status: string }[] }[];
      assert.equal(parents?.[0]?.conditions.find((c) => c.type === 'Accepted')?.status, 'True', `${kind} accepted (${stderr})`);
    }
    const gw = items.find((i) => i.kind === 'Gateway');
    const listeners = gw?.status.listeners as { name: string; attachedRoutes: number }[];
    assert.deepEqual(listeners.map((l) => [l.name, l.attachedRoutes]), [['tcp', 1], ['udp', 1]]);
  });

  it('carries TCP both ways with half-close, over many connections spread across workers', async () => {
    const replies = await Promise.all(Array.from({ length: 20 }, (_, i) => eventually('tcp echo', () => tcpExchange(port, `hello ${i}`))));
    replies.forEach((r, i) => assert.equal(r, `tcp-backend:hello ${i}`));
  });

  it('carries UDP datagrams back to the client that sent them', async () => {
    const client = createSocket('udp4');
    await new Promise<void>((r) => client.bind(0, '127.0.0.1', r));
    try {
      assert.equal(await eventually('udp echo', () => udpExchange(client, port, 'ping')), 'udp-backend:ping');
      for (let i = 0; i < 5; i++) assert.equal(await udpExchange(client, port, `n${i}`), `udp-backend:n${i}`);
    } finally {
      client.close();
    }
  });

  it('reports stream and UDP counters summed over the workers', async () => {
    const metrics = await adminGet(adminPort, '/metrics');
    const value = (name: string): number => Number(metrics.match(new RegExp(`^${name} (\\d+)`, 'm'))?.[1]);
    assert.ok(value('archway_stream_connections') >= 20, metrics.slice(0, 200));
    assert.ok(value('archway_udp_sessions') >= 1);
  });
});
