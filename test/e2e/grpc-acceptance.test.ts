// gRPC acceptance through `archway serve`: GRPCRoutes on an HTTP and an HTTPS
// listener to backends that are @grpc/grpc-js servers (one over TLS, under a
// BackendTLSPolicy), called by @grpc/grpc-js clients and by node:http2 and
// h2load. Unary and server-streaming calls with metadata and trailers; method,
// header and hostname matching; weights; many streams on one connection;
// status; requests that are not gRPC; h2load over h2.

import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants as fsConstants } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { connect as connectH2, type ClientHttp2Session } from 'node:http2';
import { connect as netConnect, createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { generate } from 'selfsigned';
import { startEchoServer, type EchoServer } from '../../src/echo/index.js';
import {
  EchoClient, clientOptions, grpcFrame, parseGrpcFrames, startGrpcBackend, streamCall, unaryCall,
  type EchoReply, type EchoRequest, type GrpcBackend,
} from './grpc-backends.js';
import { BIN, eventually, freePort, serviceYaml } from './helpers.js';

interface Pair { cert: string; key: string }

async function issue(cn: string, ca: Pair | undefined, extensions: object[]): Promise<Pair> {
  const pems = await generate([{ name: 'commonName', value: cn }], {
    keyType: 'ec',
    algorithm: 'sha256',
    extensions,
    ...(ca ? { ca: { cert: ca.cert, key: ca.key } } : {}),
  } as Parameters<typeof generate>[1]);
  return { cert: pems.cert, key: pems.private };
}

const CA_EXTENSIONS = [{ name: 'basicConstraints', cA: true }, { name: 'keyUsage', keyCertSign: true, digitalSignature: true }];
const leafExtensions = (...names: string[]) => [
  { name: 'basicConstraints', cA: false },
  { name: 'extKeyUsage', serverAuth: true },
  { name: 'subjectAltName', altNames: names.map((value) => ({ type: 2, value })) },
];

/** A PEM block as an indented YAML literal. */
const block = (pem: string, indent: string) => pem.trim().split('\n').map((l) => `${indent}${l}`).join('\n');


const BOTH_LISTENERS = '[{name: grpc-gw, sectionName: http}, {name: grpc-gw, sectionName: https}]';

interface Ports { http: number; https: number; web: number }

function tlsSecretYaml(name: string, pair: Pair): string {
  return `apiVersion: v1
kind: Secret
metadata: {name: ${name}, namespace: default}
type: kubernetes.io/tls
stringData:
  tls.crt: |
${block(pair.cert, '    ')}
  tls.key: |
${block(pair.key, '    ')}
`;
}

interface Certificates { gateway: Pair; gatewayClient: Pair; backendCa: string }

function configYaml(p: Ports, certs: Certificates, backends: Record<string, number>, echoPort: number): string {
  const services = Object.entries(backends).map(([name, port]) => serviceYaml(name, port, 'grpc', 50051)).join('---\n');
  return `apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: archway}
spec: {controllerName: archway.dev/gateway-controller}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: grpc-gw, namespace: default}
spec:
  gatewayClassName: archway
  listeners:
  - {name: http, protocol: HTTP, port: ${p.http}}
  - name: https
    protocol: HTTPS
    port: ${p.https}
    tls: {certificateRefs: [{name: gateway-cert}]}
  - name: web
    protocol: HTTPS
    port: ${p.web}
    tls: {certificateRefs: [{name: gateway-cert}]}
  tls:
    backend:
      clientCertificateRef: {name: gateway-client-cert}
---
${tlsSecretYaml('gateway-cert', certs.gateway)}---
${tlsSecretYaml('gateway-client-cert', certs.gatewayClient)}---
apiVersion: gateway.networking.k8s.io/v1
kind: GRPCRoute
metadata: {name: methods, namespace: default}
spec:
  parentRefs: ${BOTH_LISTENERS}
  rules:
  - matches:
    - method: {service: archway.test.Echo, method: Unary}
      headers: [{name: x-variant, value: beta}]
    backendRefs: [{name: beta, port: 50051}]
  - matches:
    - method: {service: archway.test.Echo, method: Unary}
      headers: [{name: x-tier, type: RegularExpression, value: "^gold-[0-9]+$"}]
    backendRefs: [{name: delta, port: 50051}]
  - matches:
    - method: {service: archway.test.Echo, method: Unary}
    backendRefs: [{name: alpha, port: 50051}]
  - matches:
    - method: {service: archway.test.Echo}
    backendRefs: [{name: gamma, port: 50051}]
  - matches:
    - method: {method: Ping}
    backendRefs: [{name: beta, port: 50051}]
  - matches:
    - method: {type: RegularExpression, service: "archway\\\\.test\\\\.Reg[a-z]+", method: "Get.*"}
    backendRefs: [{name: delta, port: 50051}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: GRPCRoute
metadata: {name: weighted, namespace: default}
spec:
  parentRefs: ${BOTH_LISTENERS}
  rules:
  - matches: [{method: {service: archway.test.Weighted}}]
    backendRefs:
    - {name: alpha, port: 50051, weight: 3}
    - {name: beta, port: 50051, weight: 1}
---
apiVersion: gateway.networking.k8s.io/v1
kind: GRPCRoute
metadata: {name: host-a, namespace: default}
spec:
  parentRefs: ${BOTH_LISTENERS}
  hostnames: [a.grpc.example]
  rules:
  - matches: [{method: {service: archway.test.Host}}]
    backendRefs: [{name: alpha, port: 50051}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: GRPCRoute
metadata: {name: host-b, namespace: default}
spec:
  parentRefs: ${BOTH_LISTENERS}
  hostnames: [b.grpc.example, "*.wild.example"]
  rules:
  - matches: [{method: {service: archway.test.Host}}]
    backendRefs: [{name: beta, port: 50051}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: GRPCRoute
metadata: {name: secure, namespace: default}
spec:
  parentRefs: ${BOTH_LISTENERS}
  rules:
  - matches: [{method: {service: archway.test.Secure, method: Unary}}]
    backendRefs: [{name: secure, port: 50051}]
  - matches: [{method: {service: archway.test.Secure, method: Stream}}]
    backendRefs: [{name: secure, port: 50051}]
  - matches: [{method: {service: archway.test.Secure, method: WrongName}}]
    backendRefs: [{name: secure-wrong-name, port: 50051}]
  - matches: [{method: {service: archway.test.Secure, method: WrongCa}}]
    backendRefs: [{name: secure-wrong-ca, port: 50051}]
  - matches: [{method: {service: archway.test.Secure, method: Plain}}]
    backendRefs: [{name: secure-no-policy, port: 50051}]
---
apiVersion: v1
kind: ConfigMap
metadata: {name: backend-ca, namespace: default}
data:
  ca.crt: |
${block(certs.backendCa, '    ')}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: unrelated-ca, namespace: default}
data:
  ca.crt: |
${block(certs.gateway.cert, '    ')}
---
apiVersion: gateway.networking.k8s.io/v1
kind: BackendTLSPolicy
metadata: {name: secure, namespace: default}
spec:
  targetRefs: [{group: "", kind: Service, name: secure}]
  validation:
    caCertificateRefs: [{group: "", kind: ConfigMap, name: backend-ca}]
    hostname: secure.backend.example
---
apiVersion: gateway.networking.k8s.io/v1
kind: BackendTLSPolicy
metadata: {name: secure-wrong-name, namespace: default}
spec:
  targetRefs: [{group: "", kind: Service, name: secure-wrong-name}]
  validation:
    caCertificateRefs: [{group: "", kind: ConfigMap, name: backend-ca}]
    hostname: someone-else.backend.example
---
apiVersion: gateway.networking.k8s.io/v1
kind: BackendTLSPolicy
metadata: {name: secure-wrong-ca, namespace: default}
spec:
  targetRefs: [{group: "", kind: Service, name: secure-wrong-ca}]
  validation:
    caCertificateRefs: [{group: "", kind: ConfigMap, name: unrelated-ca}]
    hostname: secure.backend.example
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: web, namespace: default}
spec:
  parentRefs: [{name: grpc-gw, sectionName: web}]
  rules:
  - matches: [{path: {type: PathPrefix, value: /h2load}}]
    backendRefs: [{name: web-echo, port: 80}]
---
apiVersion: v1
kind: Service
metadata: {name: web-echo, namespace: default}
spec:
  ports: [{name: http, port: 80}]
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: web-echo-1
  namespace: default
  labels: {kubernetes.io/service-name: web-echo}
addressType: IPv4
ports: [{name: http, port: ${echoPort}}]
endpoints: [{addresses: [127.0.0.1]}]
---
${services}`;
}

/** A TCP relay in front of a port that counts the connections made through it. */
async function countingRelay(target: number): Promise<{ port: number; connections: () => number; close: () => void }> {
  let connections = 0;
  const sockets = new Set<Socket>();
  const server: NetServer = createNetServer((downstream) => {
    connections += 1;
    const upstream = netConnect(target, '127.0.0.1');
    for (const s of [downstream, upstream]) {
      sockets.add(s);
      s.on('error', () => { downstream.destroy(); upstream.destroy(); });
      s.on('close', () => sockets.delete(s));
    }
    downstream.pipe(upstream).pipe(downstream);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as { port: number }).port,
    connections: () => connections,
    close: () => {
      for (const s of sockets) s.destroy();
      server.close();
    },
  };
}

interface H2Reply { status: number; headers: Record<string, unknown>; trailers: Record<string, unknown>; body: Buffer }

/** One request on an HTTP/2 session; rejects on a stream error or after `timeoutMs` (a hang is a failure). */
function h2Request(session: ClientHttp2Session, headers: Record<string, string>, body?: Buffer, timeoutMs = 15_000): Promise<H2Reply> {
  return new Promise((resolve, reject) => {
    const stream = session.request(headers, { endStream: body === undefined });
    const timer = setTimeout(() => { stream.close(); reject(new Error(`no answer within ${timeoutMs} ms`)); }, timeoutMs);
    let responseHeaders: Record<string, unknown> = {};
    let trailers: Record<string, unknown> = {};
    const chunks: Buffer[] = [];
    stream.on('response', (h) => { responseHeaders = h; });
    stream.on('trailers', (t) => { trailers = t; });
    stream.on('data', (c: Buffer) => chunks.push(c));
    stream.on('end', () => {
      clearTimeout(timer);
      resolve({ status: Number(responseHeaders[':status']), headers: responseHeaders, trailers, body: Buffer.concat(chunks) });
    });
    stream.on('error', (err) => { clearTimeout(timer); reject(err); });
    if (body !== undefined) stream.end(body);
  });
}

/** An HTTP/1.1 request; rejects when no answer comes within `timeoutMs`. */
function http1Request(port: number, method: string, path: string, headers: Record<string, string>, body?: Buffer, timeoutMs = 15_000) {
  return new Promise<{ status: number; headers: Record<string, unknown>; body: string }>((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, method, path, headers, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => { text += c; });
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: text }));
      res.on('error', reject);
    });
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(body);
  });
}

/** Runs `n` calls with at most `width` in flight. */
async function inBatches<T>(n: number, width: number, call: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = new Array(n);
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(width, n) }, async () => {
    while (next < n) {
      const i = next++;
      out[i] = await call(i);
    }
  }));
  return out;
}

/** Where h2load is on PATH, if it is. */
function h2loadPath(): string | undefined {
  for (const d of (process.env.PATH ?? '').split(delimiter)) {
    if (!d) continue;
    const candidate = join(d, 'h2load');
    try {
      accessSync(candidate, fsConstants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

interface H2loadSummary { protocol: string | undefined; total: number; succeeded: number; failed: number; errored: number; status2xx: number; output: string }

function runH2load(args: string[]): Promise<H2loadSummary> {
  return new Promise((resolve, reject) => {
    const child = spawn(h2loadPath()!, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (c: Buffer) => { output += c.toString(); });
    child.stderr.on('data', (c: Buffer) => { output += c.toString(); });
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('error', reject);
    child.on('exit', (code) => {
      clearTimeout(timer);
      const requests = /requests: (\d+) total, \d+ started, \d+ done, (\d+) succeeded, (\d+) failed, (\d+) errored/.exec(output);
      const codes = /status codes: (\d+) 2xx/.exec(output);
      if (code !== 0 || !requests || !codes) {
        reject(new Error(`h2load exited ${code}:\n${output}`));
        return;
      }
      resolve({
        protocol: /Application protocol: (\S+)/.exec(output)?.[1],
        total: Number(requests[1]), succeeded: Number(requests[2]), failed: Number(requests[3]), errored: Number(requests[4]),
        status2xx: Number(codes[1]), output,
      });
    });
  });
}

interface StatusItem { kind: string; metadata: { name: string; generation?: number }; status: any }
interface Cond { type: string; status: string; reason: string; message: string }

describe('gRPC acceptance through archway serve', { timeout: 300_000 }, () => {
  let dir: string;
  let child: ChildProcess;
  let stderr = '';
  let ports: Ports;
  let adminPort: number;
  let gatewayCa: Pair;
  const backends: Record<string, GrpcBackend> = {};
  let echo: EchoServer;
  const clients: grpc.Client[] = [];

  /** A grpc-js client of the HTTP listener (cleartext HTTP/2), closed after the suite. */
  const plainClient = (options: grpc.ChannelOptions = {}, port = ports.http): grpc.Client => {
    const c = new EchoClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), clientOptions(options));
    clients.push(c);
    return c;
  };
  /** A grpc-js client of the HTTPS listener, trusting the test CA, with grpc.example as the TLS server name. */
  const tlsClient = (options: grpc.ChannelOptions = {}): grpc.Client => {
    const c = new EchoClient(`127.0.0.1:${ports.https}`, grpc.credentials.createSsl(Buffer.from(gatewayCa.cert)),
      clientOptions({ 'grpc.ssl_target_name_override': 'grpc.example', ...options }));
    clients.push(c);
    return c;
  };

  const status = async (): Promise<StatusItem[]> => {
    const r = await fetch(`http://127.0.0.1:${adminPort}/status`);
    return ((await r.json()) as { items: StatusItem[] }).items;
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'archway-grpc-'));
    gatewayCa = await issue('Gateway Test CA', undefined, CA_EXTENSIONS);
    const backendCa = await issue('Backend Test CA', undefined, CA_EXTENSIONS);
    const [gatewayCert, backendCert, gatewayClient] = await Promise.all([
      issue('grpc.example', gatewayCa, leafExtensions('grpc.example', '*.grpc.example')),
      issue('secure.backend.example', backendCa, leafExtensions('secure.backend.example')),
      issue('archway-gateway-client', backendCa, [{ name: 'basicConstraints', cA: false }, { name: 'extKeyUsage', clientAuth: true }]),
    ]);
    for (const name of ['alpha', 'beta', 'gamma', 'delta']) backends[name] = await startGrpcBackend(name);
    // It requires a client certificate: the one the Gateway's spec.tls.backend names.
    backends.secure = await startGrpcBackend('secure', { ...backendCert, clientCa: backendCa.cert });
    echo = await startEchoServer({ port: 0, host: '127.0.0.1', namespace: 'default', service: 'web-echo', pod: 'web-echo-0' });
    ports = { http: await freePort(), https: await freePort(), web: await freePort() };
    adminPort = await freePort();
    const endpoints: Record<string, number> = {
      alpha: backends.alpha!.port, beta: backends.beta!.port, gamma: backends.gamma!.port, delta: backends.delta!.port,
      secure: backends.secure!.port, 'secure-wrong-name': backends.secure!.port, 'secure-wrong-ca': backends.secure!.port,
      'secure-no-policy': backends.secure!.port,
    };
    await writeFile(join(dir, 'config.yaml'), configYaml(ports, { gateway: gatewayCert, gatewayClient, backendCa: backendCa.cert }, endpoints, echo.port));
    child = spawn(process.execPath, [BIN, 'serve', '--config', dir, '--admin', `127.0.0.1:${adminPort}`,
      '--bind-address', '127.0.0.1', '--log-level', 'warn', '--workers', '1'], { stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr!.on('data', (c: Buffer) => { stderr += c.toString(); });
    await eventually('readyz', async () => ((await fetch(`http://127.0.0.1:${adminPort}/readyz`)).status === 200 ? true : undefined));
    // Programmed: a call through each listener reaches its backend.
    const probe = plainClient();
    await eventually('a call through the HTTP listener', async () => ((await unaryCall(probe, '/archway.test.Echo/Unary', {}, {}, 2000)).reply ? true : undefined));
    const probeTls = tlsClient();
    await eventually('a call through the HTTPS listener', async () => ((await unaryCall(probeTls, '/archway.test.Echo/Unary', {}, {}, 2000)).reply ? true : undefined));
  });

  after(async () => {
    for (const c of clients) c.close();
    if (child && child.exitCode === null) {
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
    }
    for (const b of Object.values(backends)) await b.close();
    await echo?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('reports the GRPCRoutes Accepted with resolved references on both listeners, and the BackendTLSPolicy Accepted', async () => {
    const items = await status();
    const routes = items.filter((i) => i.kind === 'GRPCRoute');
    assert.deepEqual(routes.map((r) => r.metadata.name).sort(), ['host-a', 'host-b', 'methods', 'secure', 'weighted']);
    for (const route of routes) {
      const parents = route.status.parents as { parentRef: { sectionName?: string }; controllerName: string; conditions: Cond[] }[];
      assert.deepEqual(parents.map((p) => p.parentRef.sectionName).sort(), ['http', 'https'], route.metadata.name);
      for (const parent of parents) {
        assert.equal(parent.controllerName, 'archway.dev/gateway-controller');
        for (const type of ['Accepted', 'ResolvedRefs']) {
          const c = parent.conditions.find((x) => x.type === type);
          assert.equal(c?.status, 'True', `${route.metadata.name} on ${parent.parentRef.sectionName}: ${type} ${JSON.stringify(c)}`);
          assert.equal((c as Cond & { observedGeneration?: number }).observedGeneration, route.metadata.generation);
        }
      }
    }
    const gateway = items.find((i) => i.kind === 'Gateway' && i.metadata.name === 'grpc-gw')!;
    const listeners = gateway.status.listeners as { name: string; attachedRoutes: number; supportedKinds: { kind: string }[]; conditions: Cond[] }[];
    for (const name of ['http', 'https']) {
      const l = listeners.find((x) => x.name === name)!;
      assert.equal(l.attachedRoutes, 5, name);
      assert.ok(l.supportedKinds.some((k) => k.kind === 'GRPCRoute'), name);
      assert.equal(l.conditions.find((c) => c.type === 'Programmed')?.status, 'True', name);
    }
    const policy = items.find((i) => i.kind === 'BackendTLSPolicy' && i.metadata.name === 'secure')!;
    const ancestor = policy.status.ancestors[0] as { ancestorRef: { name: string }; conditions: Cond[] };
    assert.equal(ancestor.ancestorRef.name, 'grpc-gw');
    assert.equal(ancestor.conditions.find((c) => c.type === 'Accepted')?.status, 'True');
  });

  it('carries a unary call with its metadata, response headers and trailers', async () => {
    const client = plainClient();
    const r = await new Promise<{ reply: EchoReply; headers: grpc.Metadata; status: grpc.StatusObject }>((resolve, reject) => {
      let headers: grpc.Metadata | undefined;
      let reply: EchoReply | undefined;
      const md = new grpc.Metadata();
      md.set('x-request-tag', 'unary-1');
      md.set('x-blob-bin', Buffer.from([9, 8, 7]));
      // The typed method of the generic client constructor.
      const call = (client as unknown as Record<string, Function>).Unary!.call(client, { text: 'hello' }, md, (err: grpc.ServiceError | null, value: EchoReply) => {
        if (err) reject(err);
        else reply = value;
      }) as grpc.ClientUnaryCall;
      call.on('metadata', (h: grpc.Metadata) => { headers = h; });
      call.on('status', (s: grpc.StatusObject) => {
        if (s.code === grpc.status.OK) resolve({ reply: reply!, headers: headers!, status: s });
      });
    });
    assert.equal(r.reply.backend, 'alpha');
    assert.equal(r.reply.path, '/archway.test.Echo/Unary');
    assert.equal(r.reply.text, 'hello');
    assert.equal(r.reply.metadata['x-request-tag'], 'unary-1');
    assert.equal(r.reply.metadata['x-blob-bin'], Buffer.from([9, 8, 7]).toString('base64'));
    assert.deepEqual(r.headers.get('x-initial'), ['alpha']);
    assert.deepEqual(r.status.metadata.get('x-served-by'), ['alpha']);
  });

  it('carries a non-OK status from the backend with its message and trailer metadata, binary included', async () => {
    for (const client of [plainClient(), tlsClient()]) {
      const r = await unaryCall(client, '/archway.test.Echo/Fail', {});
      assert.equal(r.status.code, grpc.status.NOT_FOUND);
      // Echo/Fail is routed by the service-only match, to gamma.
      assert.equal(r.status.details, 'thing not found at gamma');
      assert.deepEqual(r.status.metadata.get('x-reason'), ['missing-at-gamma']);
      assert.deepEqual(r.status.metadata.get('x-blob-bin'), [Buffer.from([0, 1, 2, 0xfe, 0xff])]);
      assert.equal(r.error?.code, grpc.status.NOT_FOUND);
    }
  });

  // grpc-js and grpc-go send an error that comes before any message or header as one HEADERS frame with
  // END_STREAM; relayed as a head and an empty end of stream, the client would find no status (INTERNAL).
  it('carries an error status the backend sends trailers-only (no response headers before it)', async () => {
    for (const client of [plainClient(), tlsClient()]) {
      const r = await unaryCall(client, '/archway.test.Echo/FailFast', {});
      assert.equal(r.status.code, grpc.status.PERMISSION_DENIED, `FailFast: ${r.status.code} ${r.status.details}`);
      assert.equal(r.status.details, 'refused at gamma');
      assert.deepEqual(r.status.metadata.get('x-reason'), ['refused-at-gamma']);
      // Routed (service-only match) to gamma, whose grpc-js server lacks the method: its UNIMPLEMENTED, not the gateway's.
      const missing = await unaryCall(client, '/archway.test.Echo/Missing', {});
      assert.equal(missing.status.code, grpc.status.UNIMPLEMENTED, `Missing: ${missing.status.code} ${missing.status.details}`);
      assert.match(missing.status.details, /does not implement the method \/archway\.test\.Echo\/Missing/);
    }
  });

  it('streams 50 messages in order, then the trailers and an OK status', async () => {
    for (const client of [plainClient(), tlsClient()]) {
      const r = await streamCall(client, '/archway.test.Echo/Stream', { count: 50, text: 'tick' }, { 'x-request-tag': 'stream-1' });
      assert.equal(r.status.code, grpc.status.OK, r.status.details);
      assert.equal(r.messages.length, 50);
      assert.deepEqual(r.messages.map((m) => m.i), Array.from({ length: 50 }, (_, i) => i));
      assert.ok(r.messages.every((m) => m.backend === 'gamma' && m.text === 'tick' && m.metadata['x-request-tag'] === 'stream-1'));
      assert.deepEqual(r.headers?.get('x-initial'), ['gamma']);
      assert.deepEqual(r.status.metadata.get('x-sent'), ['50']);
    }
  });

  it('ends a stream that fails midway with the backend\'s status after the messages sent before', async () => {
    const r = await streamCall(plainClient(), '/archway.test.Echo/Stream', { count: 10, failAfter: 3 });
    assert.deepEqual(r.messages.map((m) => m.i), [0, 1, 2]);
    assert.equal(r.status.code, grpc.status.ABORTED);
    assert.equal(r.status.details, 'stream aborted at gamma after 3');
    assert.deepEqual(r.status.metadata.get('x-failed-at'), ['3']);
  });

  it('chooses the backend by method: exact, service only, method only and regular expression', async () => {
    const client = plainClient();
    const served = async (path: string) => {
      const r = await unaryCall(client, path, {});
      assert.equal(r.status.code, grpc.status.OK, `${path}: ${r.status.details}`);
      return r.reply!.backend;
    };
    assert.equal(await served('/archway.test.Echo/Unary'), 'alpha');
    // Service only; and it outranks the method-only match of Ping (service characters first).
    assert.equal(await served('/archway.test.Echo/GetThing'), 'gamma');
    assert.equal(await served('/archway.test.Echo/Ping'), 'gamma');
    assert.equal(await served('/archway.test.Anything/Ping'), 'beta');
    assert.equal(await served('/archway.test.Regional/GetThing'), 'delta');
    // The gateway's UNIMPLEMENTED for what no route matches.
    for (const path of ['/archway.test.Regional/PutThing', '/archway.test.Nope/Unary', '/archway.test.Host/Unary']) {
      const r = await unaryCall(client, path, {});
      assert.equal(r.status.code, grpc.status.UNIMPLEMENTED, path);
      assert.match(r.status.details, /gateway answered HTTP 404/, path);
    }
  });

  it('chooses the backend by metadata headers, exact and regular expression', async () => {
    const client = tlsClient();
    const backend = async (metadata: Record<string, string>) => (await unaryCall(client, '/archway.test.Echo/Unary', {}, metadata)).reply?.backend;
    assert.equal(await backend({ 'x-variant': 'beta' }), 'beta');
    assert.equal(await backend({ 'x-variant': 'gamma' }), 'alpha');
    assert.equal(await backend({ 'x-tier': 'gold-42' }), 'delta');
    assert.equal(await backend({ 'x-tier': 'gold-42x' }), 'alpha');
    assert.equal(await backend({}), 'alpha');
  });

  it('chooses the route by the channel\'s authority', async () => {
    const served = async (authority: string, tls: boolean) => {
      const client = tls ? tlsClient({ 'grpc.default_authority': authority }) : plainClient({ 'grpc.default_authority': authority });
      const r = await unaryCall(client, '/archway.test.Host/Unary', {});
      return { code: r.status.code, backend: r.reply?.backend, authority: r.reply?.authority };
    };
    for (const tls of [false, true]) {
      assert.deepEqual(await served('a.grpc.example', tls), { code: grpc.status.OK, backend: 'alpha', authority: 'a.grpc.example' });
      assert.deepEqual(await served('b.grpc.example', tls), { code: grpc.status.OK, backend: 'beta', authority: 'b.grpc.example' });
      assert.deepEqual(await served('x.wild.example', tls), { code: grpc.status.OK, backend: 'beta', authority: 'x.wild.example' });
      assert.equal((await served('c.grpc.example', tls)).code, grpc.status.UNIMPLEMENTED);
    }
  });

  it('splits calls 3:1 by weight', async () => {
    const client = plainClient();
    const results = await inBatches(400, 20, () => unaryCall(client, '/archway.test.Weighted/Unary', {}));
    const counts: Record<string, number> = {};
    for (const r of results) {
      assert.equal(r.status.code, grpc.status.OK, r.status.details);
      counts[r.reply!.backend] = (counts[r.reply!.backend] ?? 0) + 1;
    }
    assert.deepEqual(Object.keys(counts).sort(), ['alpha', 'beta']);
    // Expected 300:100; a binomial spread has a standard deviation of about 9.
    assert.ok(counts.alpha! >= 250 && counts.alpha! <= 350, JSON.stringify(counts));
  });

  it('multiplexes 500 concurrent grpc-js calls on one connection', async () => {
    const relay = await countingRelay(ports.http);
    try {
      const client = plainClient({}, relay.port);
      const group = 'grpc-js-mux';
      const calls: Promise<{ ok: boolean; what: string }>[] = [];
      for (let i = 0; i < 500; i++) {
        if (i % 10 === 0) {
          // 50 calls the backend answers only once all 50 are open at once.
          calls.push(unaryCall(client, '/archway.test.Echo/Barrier', { group, size: 50 }, {}, 60_000)
            .then((r) => ({ ok: r.reply?.released === 50, what: `barrier: ${r.status.details}` })));
        } else if (i % 3 === 0) {
          calls.push(streamCall(client, '/archway.test.Echo/Stream', { count: 5, text: `s${i}` }, {}, 60_000)
            .then((r) => ({ ok: r.status.code === grpc.status.OK && r.messages.length === 5 && r.messages.every((m) => m.text === `s${i}`), what: `stream: ${r.status.details}` })));
        } else {
          calls.push(unaryCall(client, '/archway.test.Echo/Unary', { text: `u${i}` }, {}, 60_000)
            .then((r) => ({ ok: r.reply?.text === `u${i}` && r.reply.backend === 'alpha', what: `unary: ${r.status.details}` })));
        }
      }
      const results = await Promise.all(calls);
      assert.deepEqual(results.filter((r) => !r.ok).map((r) => r.what), []);
      assert.equal(relay.connections(), 1);
    } finally {
      relay.close();
    }
  });

  it('multiplexes 500 concurrent streams of one node:http2 session', async () => {
    const relay = await countingRelay(ports.http);
    const session = connectH2(`http://127.0.0.1:${relay.port}`);
    session.on('error', () => undefined);
    try {
      await new Promise<void>((resolve, reject) => { session.once('connect', () => resolve()); session.once('error', reject); });
      const group = 'h2-mux';
      const headers = (path: string) => ({ ':method': 'POST', ':path': path, 'content-type': 'application/grpc', te: 'trailers' });
      const requests = Array.from({ length: 500 }, async (_, i) => {
        const barrier = i % 10 === 0;
        const request: EchoRequest = barrier ? { group, size: 50 } : { text: `h${i}` };
        const r = await h2Request(session, headers(barrier ? '/archway.test.Echo/Barrier' : '/archway.test.Echo/Unary'), grpcFrame(request), 60_000);
        const messages = parseGrpcFrames(r.body) as EchoReply[];
        const ok = r.status === 200 && r.trailers['grpc-status'] === '0' && messages.length === 1
          && (barrier ? messages[0]!.released === 50 : messages[0]!.text === `h${i}`);
        return ok ? undefined : `${i}: ${r.status} ${JSON.stringify(r.headers)} ${JSON.stringify(r.trailers)}`;
      });
      const failures = (await Promise.all(requests)).filter((f) => f !== undefined);
      assert.deepEqual(failures, []);
      assert.equal(relay.connections(), 1);
      assert.equal(session.closed, false);
    } finally {
      session.destroy();
      relay.close();
    }
  });

  it('serves gRPC over the HTTPS listener with ALPN h2', async () => {
    // node:http2 with the same trust and server name: ALPN said h2.
    const session = connectH2(`https://127.0.0.1:${ports.https}`, { ca: gatewayCa.cert, servername: 'grpc.example' });
    session.on('error', () => undefined);
    try {
      await new Promise<void>((resolve, reject) => { session.once('connect', () => resolve()); session.once('error', reject); });
      assert.equal(session.alpnProtocol, 'h2');
      const r = await h2Request(session, { ':method': 'POST', ':path': '/archway.test.Echo/Unary', 'content-type': 'application/grpc', te: 'trailers' }, grpcFrame({ text: 'tls' }));
      assert.equal(r.trailers['grpc-status'], '0');
      assert.equal((parseGrpcFrames(r.body)[0] as EchoReply).backend, 'alpha');
    } finally {
      session.destroy();
    }
    const client = tlsClient();
    const results = await Promise.all(Array.from({ length: 100 }, (_, i) => (i % 2
      ? unaryCall(client, '/archway.test.Echo/Unary', { text: `t${i}` }).then((r) => r.reply?.text === `t${i}`)
      : streamCall(client, '/archway.test.Echo/Stream', { count: 20 }).then((r) => r.status.code === grpc.status.OK && r.messages.length === 20))));
    assert.equal(results.filter(Boolean).length, 100);
  });

  it('reaches a TLS gRPC backend under a BackendTLSPolicy with the Gateway\'s client certificate, and refuses it without a valid policy', async () => {
    for (const client of [plainClient(), tlsClient()]) {
      const before = backends.secure!.served.get('/archway.test.Secure/Unary') ?? 0;
      const r = await unaryCall(client, '/archway.test.Secure/Unary', { text: 'over tls' }, { 'x-request-tag': 'secure' });
      assert.equal(r.status.code, grpc.status.OK, r.status.details);
      assert.equal(r.reply!.backend, 'secure');
      assert.equal(r.reply!.text, 'over tls');
      assert.equal(r.reply!.metadata['x-request-tag'], 'secure');
      assert.equal(r.reply!.clientCert, 'archway-gateway-client');
      assert.deepEqual(r.status.metadata.get('x-served-by'), ['secure']);
      assert.equal(backends.secure!.served.get('/archway.test.Secure/Unary'), before + 1);
      const s = await streamCall(client, '/archway.test.Secure/Stream', { count: 50 });
      assert.equal(s.status.code, grpc.status.OK, s.status.details);
      assert.equal(s.messages.length, 50);
      assert.deepEqual(s.status.metadata.get('x-sent'), ['50']);
    }
    const client = plainClient();
    // The certificate names another host; it chains to another CA; no policy, so HTTP/2 in cleartext to a TLS port.
    for (const method of ['WrongName', 'WrongCa', 'Plain']) {
      const r = await unaryCall(client, `/archway.test.Secure/${method}`, {});
      assert.equal(r.status.code, grpc.status.UNAVAILABLE, `${method}: ${r.status.code} ${r.status.details}`);
    }
    assert.equal(backends.secure!.served.get('/archway.test.Secure/WrongName'), undefined);
    assert.equal(backends.secure!.served.get('/archway.test.Secure/WrongCa'), undefined);
  });

  it('answers requests that are not gRPC with an error, without disturbing gRPC clients', async (t) => {
    const client = plainClient();
    let stop = false;
    const loops = Array.from({ length: 4 }, async (_, loop) => {
      const failures: string[] = [];
      let ok = 0;
      while (!stop) {
        const text = `loop${loop}-${ok}`;
        const r = await unaryCall(client, '/archway.test.Echo/Unary', { text });
        if (r.reply?.text === text) ok += 1;
        else failures.push(`${r.status.code} ${r.status.details}`);
      }
      return { ok, failures };
    });
    try {
      // HTTP/1.1 to a gRPC-only listener, on a route's path and elsewhere.
      const get = await http1Request(ports.http, 'GET', '/archway.test.Echo/Unary', { host: 'grpc.example' });
      t.diagnostic(`HTTP/1.1 GET on a route: ${get.status} grpc-status ${String(get.headers['grpc-status'])}`);
      assert.ok(get.status >= 400 || (get.status === 200 && get.headers['grpc-status'] !== undefined && get.headers['grpc-status'] !== '0'),
        `HTTP/1.1 GET: ${get.status} ${JSON.stringify(get.headers)}`);
      assert.equal((await http1Request(ports.http, 'GET', '/', {})).status, 404);
      const post = await http1Request(ports.http, 'POST', '/archway.test.Echo/Unary', { 'content-type': 'application/json' }, Buffer.from('{}'));
      t.diagnostic(`HTTP/1.1 POST application/json on a route: ${post.status} grpc-status ${String(post.headers['grpc-status'])}`);
      assert.ok(post.status >= 400 || (post.headers['grpc-status'] ?? '0') !== '0', `HTTP/1.1 POST: ${post.status} ${JSON.stringify(post.headers)}`);

      // Plain HTTP/2 GETs without a gRPC content-type.
      const session = connectH2(`http://127.0.0.1:${ports.http}`);
      session.on('error', () => undefined);
      try {
        const onRoute = await h2Request(session, { ':method': 'GET', ':path': '/archway.test.Echo/Unary' });
        const grpcStatus = onRoute.headers['grpc-status'] ?? onRoute.trailers['grpc-status'];
        t.diagnostic(`HTTP/2 GET on a route: ${onRoute.status} grpc-status ${String(grpcStatus)}`);
        assert.ok(onRoute.status >= 400 || (grpcStatus !== undefined && grpcStatus !== '0'),
          `HTTP/2 GET on a route: ${onRoute.status} ${JSON.stringify(onRoute.headers)} ${JSON.stringify(onRoute.trailers)}`);
        const offRoute = await h2Request(session, { ':method': 'GET', ':path': '/index.html' });
        assert.equal(offRoute.status, 404);
        assert.equal(offRoute.headers['grpc-status'], undefined);
      } finally {
        session.destroy();
      }

      // Bytes that are no HTTP at all: an error status or a closed connection, not a hang.
      const answer = await new Promise<string>((resolve, reject) => {
        const s = netConnect(ports.http, '127.0.0.1', () => s.write('\x16\x03\x01 definitely not http\r\n\r\n'));
        let got = '';
        s.on('data', (d: Buffer) => { got += d.toString('latin1'); });
        s.on('close', () => resolve(got));
        s.on('error', () => resolve(got));
        s.setTimeout(15_000, () => { s.destroy(); reject(new Error('garbage: connection neither answered nor closed')); });
      });
      t.diagnostic(`bytes that are not HTTP: ${answer === '' ? 'connection closed' : JSON.stringify(answer.split('\r\n')[0])}`);
      assert.ok(answer === '' || /^HTTP\/1\.1 4\d\d /.test(answer), JSON.stringify(answer.slice(0, 80)));
    } finally {
      stop = true;
    }
    const results = await Promise.all(loops);
    assert.deepEqual(results.flatMap((r) => r.failures), []);
    assert.ok(results.every((r) => r.ok > 0), JSON.stringify(results));
    // The channel that carried them still works.
    assert.equal((await unaryCall(client, '/archway.test.Echo/Unary', { text: 'after' })).reply?.text, 'after');
  });

  it('takes h2load over h2 on an HTTPS listener: HTTPRoute and gRPC, every request answered', async (t) => {
    if (!h2loadPath()) {
      t.skip('h2load not installed');
      return;
    }
    const web = await runH2load(['-n', '2000', '-c', '4', '-m', '20', `https://127.0.0.1:${ports.web}/h2load/x`]);
    assert.equal(web.protocol, 'h2', web.output);
    assert.equal(web.total, 2000);
    assert.equal(web.succeeded, 2000, web.output);
    assert.equal(web.failed + web.errored, 0, web.output);
    assert.equal(web.status2xx, 2000, web.output);

    const data = join(dir, 'grpc-request.bin');
    await writeFile(data, grpcFrame({ tag: 'h2load' } satisfies EchoRequest));
    const before = backends.alpha!.tagged.get('h2load') ?? 0;
    const rpc = await runH2load(['-n', '2000', '-c', '4', '-m', '20', '-d', data,
      '-H', 'content-type: application/grpc', '-H', 'te: trailers', `https://127.0.0.1:${ports.https}/archway.test.Echo/Unary`]);
    assert.equal(rpc.protocol, 'h2', rpc.output);
    assert.equal(rpc.succeeded, 2000, rpc.output);
    assert.equal(rpc.status2xx, 2000, rpc.output);
    // A 200 does not say the call succeeded (gRPC's status is in trailers): the backend counts what it served.
    assert.equal((backends.alpha!.tagged.get('h2load') ?? 0) - before, 2000);
  });

  it('is still running and logged no errors', () => {
    assert.equal(child.exitCode, null);
    assert.doesNotMatch(stderr, /"level":(50|60)/, stderr.slice(0, 2000));
  });
});
