// The gRPC client helpers, against a grpc-infra-backend started from the
// upstream manifests as the suite starts it, without a gateway in between.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { Metadata, status } from '@grpc/grpc-js';
import { profiles, profilesAndFeaturesUnderTest } from '../features.js';
import { startBackend, type Backend } from '../harness/echo.js';
import { deploymentsIn } from '../harness/endpointslices.js';
import { parseManifests, prepareManifest } from '../harness/manifests.js';
import { upstreamConformanceDir } from '../harness/paths.js';
import { findIn } from '../harness/podspec.js';
import { stopAll } from '../harness/processes.js';
import { loadRegistry } from '../tests/index.js';
import { defaultTimeoutConfig } from '../utils/config.js';
import {
  addEntropy, compareResponse, DefaultClient, getTestCaseName, makeRequestAndExpectEventuallyConsistentResponse,
  type ExpectedResponse, type GRPCClient, type Response,
} from '../utils/grpc.js';
import { T, type LogSink } from '../utils/t.js';

const infra = 'gateway-conformance-infra';
const upstream = upstreamConformanceDir();
const base = parseManifests(prepareManifest(readFileSync(join(upstream, 'base/manifests.yaml'), 'utf8'),
  { gatewayClassName: 'archway', controllerName: 'archway.dev/gateway-controller' }), 'base');
const timeouts = defaultTimeoutConfig();
// Failing expectations give up quickly here; nothing needs time to converge.
const short = { timeouts: { ...timeouts, maxTimeToConsistency: 1_000, convergenceRetryDelay: 100 } };

let podsDir: string;
let backend: Backend;
let addr: string;

async function failuresOf(fn: (t: T) => Promise<void>, log?: LogSink): Promise<string[]> {
  const t = new T('unit', log);
  await t.run('check', fn);
  return t.failures;
}

before(async () => {
  podsDir = mkdtempSync(join(tmpdir(), 'archway-grpc-backend-'));
  const dep = deploymentsIn(base).find((d) => d.name === 'grpc-infra-backend-v1' && d.namespace === infra)!;
  backend = await startBackend(dep, { service: dep.name, podsDir, lookup: async (...args) => findIn(base)(...args), timeoutMs: 15_000 });
  // The Service's port 8080 targets container port 3000, where echo-basic serves cleartext gRPC.
  addr = `127.0.0.1:${backend.targetPorts?.[3000]}`;
});

after(async () => {
  await stopAll();
  rmSync(podsDir, { recursive: true, force: true });
});

test('a GRPC_ECHO_SERVER Deployment runs the gRPC echo, which meets the suite\'s expectations', async () => {
  for (const method of ['Echo', 'EchoTwo'] as const) {
    assert.deepEqual(await failuresOf((t) => makeRequestAndExpectEventuallyConsistentResponse(t, { timeouts }, addr,
      { method, backend: 'grpc-infra-backend-v1', namespace: infra })), []);
  }
  assert.deepEqual(await failuresOf((t) => makeRequestAndExpectEventuallyConsistentResponse(t, { timeouts }, addr,
    { method: 'EchoThree', response: { code: status.UNIMPLEMENTED } })), []);
  // One client, connected by a first RPC: on a busy machine, connecting could take the whole short window.
  const client = new DefaultClient();
  try {
    assert.deepEqual(await failuresOf((t) => makeRequestAndExpectEventuallyConsistentResponse(t, { timeouts }, addr,
      { method: 'Echo', backend: 'grpc-infra-backend-v1', namespace: infra }, client)), []);
    // The window's last attempt may run out of time instead, so the mismatch is looked for in every attempt's log.
    const attempts: string[] = [];
    const wrong = await failuresOf((t) => makeRequestAndExpectEventuallyConsistentResponse(t, short, addr,
      { method: 'Echo', backend: 'grpc-infra-backend-v2', namespace: infra }, client), (line) => attempts.push(line));
    assert.equal(wrong.length, 1);
    assert.match(wrong[0]!, /not consistent after/);
    assert.ok(attempts.some((line) => line.includes('expected pod name to start with grpc-infra-backend-v2, got grpc-infra-backend-v1-')), attempts.join('\n'));
  } finally {
    client.close();
  }
});

test('the DefaultClient sends the authority and metadata asked for', async () => {
  const client = new DefaultClient();
  try {
    const resp = await client.sendRPC(new T('unit'), addr, { method: 'Echo', requestMetadata: { authority: 'foo.bar.com', metadata: { Version: 'two' } } }, 2_000);
    assert.equal(resp.code, status.OK);
    assert.equal(resp.response?.assertions?.authority, 'foo.bar.com');
    assert.deepEqual(resp.response?.assertions?.headers.filter((h) => h.key === 'version'), [{ key: 'version', value: 'two' }]);
    assert.equal(resp.response?.assertions?.context?.pod, backend.pod);
  } finally {
    client.close();
  }
});

test('a refused connection is a status, not a failure to send', async () => {
  const client = new DefaultClient();
  try {
    // Port 1 on loopback: nothing listens there.
    assert.equal((await client.sendRPC(new T('unit'), '127.0.0.1:1', { method: 'Echo' }, 2_000)).code, status.UNAVAILABLE);
  } finally {
    client.close();
  }
});

test('a caller-supplied client is used and left open', async () => {
  const recorded = { sendCalls: 0, closed: false };
  const client: GRPCClient = {
    sendRPC: async () => {
      recorded.sendCalls++;
      return { code: status.UNAVAILABLE, headers: new Metadata(), trailers: new Metadata() };
    },
    close: () => (recorded.closed = true),
  };
  // A non-OK code keeps compareResponse from looking for an echo payload.
  assert.deepEqual(await failuresOf((t) => makeRequestAndExpectEventuallyConsistentResponse(t, { timeouts: { ...timeouts, requiredConsecutiveSuccesses: 1 } },
    '192.0.2.1:50051', { method: 'Echo', response: { code: status.UNAVAILABLE } }, client)), []);
  assert.ok(recorded.sendCalls > 0);
  assert.equal(recorded.closed, false);
});

test('responses are compared as upstream compares them', () => {
  const ok = (pod: string, namespace: string, fullyQualifiedMethod: string): Response => ({
    code: status.OK, headers: new Metadata(), trailers: new Metadata(),
    response: { assertions: { fullyQualifiedMethod, headers: [], authority: '', context: { namespace, ingress: '', serviceName: '', pod } } },
  });
  const echo = '/gateway_api_conformance.echo_basic.grpcecho.GrpcEcho/Echo';
  const expected: ExpectedResponse = { method: 'Echo', backend: 'v1', namespace: 'ns' };
  assert.equal(compareResponse(expected, ok('v1-abc-de', 'ns', echo)), undefined);
  assert.equal(compareResponse(expected, ok('v1-abc-de', 'other', echo)), 'expected namespace to be ns, got other');
  assert.match(compareResponse(expected, ok('v1-abc-de', 'ns', `${echo}Two`)) ?? '', /expected path to be .*\/Echo, got .*\/EchoTwo/);
  assert.equal(compareResponse({ method: 'Echo' }, { code: status.UNIMPLEMENTED, headers: new Metadata(), trailers: new Metadata() }),
    'expected status code to be OK (0), but got Unimplemented (12)');
  // Without a namespace or backend, any OK answer from the right method will do.
  assert.equal(compareResponse({ method: 'Echo' }, ok('anything', 'any', echo)), undefined);
});

test('test case names read like upstream\'s', () => {
  assert.equal(getTestCaseName({ method: 'EchoTwo', backend: 'grpc-infra-backend-v2' }, 1),
    "1 request to '/gateway_api_conformance.echo_basic.grpcecho.GrpcEcho/EchoTwo' should go to grpc-infra-backend-v2");
  assert.equal(getTestCaseName({ method: 'Echo', requestMetadata: { authority: 'foo.com', metadata: { Version: 'two', Color: 'orange' } }, response: { code: status.UNIMPLEMENTED } }, 4),
    "4 request to 'foo.com/gateway_api_conformance.echo_basic.grpcecho.GrpcEcho/Echo' with headers '{Color:orange,Version:two}' should receive a Unimplemented (12)");
});

test('entropy adds x-jitter metadata half the time, keeping what was there', () => {
  const exp: ExpectedResponse = { method: 'Echo', requestMetadata: { authority: 'a', metadata: { keep: 'me' } } };
  const seen = new Set<boolean>();
  for (let i = 0; i < 200; i++) {
    const out = addEntropy(exp);
    assert.equal(out.requestMetadata?.metadata?.keep, 'me');
    assert.equal(out.requestMetadata?.authority, 'a');
    const jitter = out.requestMetadata?.metadata?.['x-jitter'];
    if (jitter !== undefined) assert.ok(Number(jitter) >= 0 && Number(jitter) < 10_000);
    seen.add(jitter !== undefined);
  }
  assert.deepEqual([...seen].sort(), [false, true]);
  assert.equal(exp.requestMetadata?.metadata?.['x-jitter'], undefined, 'the expectation itself is left alone');
});

test('GATEWAY-GRPC is reported, and GRPCRoute tested, only when the implementation claims GRPCRoute', () => {
  const registry = loadRegistry(upstream);
  const ported = profiles.filter((p) => registry.some((r) => r.impl && r.features.includes(p.routeFeature)));
  assert.ok(ported.some((p) => p.name === 'GATEWAY-GRPC'));

  const withoutGRPC = profilesAndFeaturesUnderTest(ported, new Set(['Gateway', 'HTTPRoute', 'ReferenceGrant', 'TLSRoute', 'TCPRoute', 'UDPRoute']));
  assert.deepEqual(withoutGRPC.profiles.map((p) => p.name), ['GATEWAY-HTTP', 'GATEWAY-TLS', 'GATEWAY-TCP', 'GATEWAY-UDP']);
  assert.ok(!withoutGRPC.supported.has('GRPCRoute'));
  // The run reports a test whose features are not all supported as skipped (not supported), never failed.
  const grpcTests = registry.filter((r) => r.features.includes('GRPCRoute') && !r.features.includes('Mesh'));
  assert.equal(grpcTests.length, 5);
  for (const r of grpcTests) assert.ok(r.impl && r.features.some((f) => !withoutGRPC.supported.has(f)), r.shortName);

  const withGRPC = profilesAndFeaturesUnderTest(ported, new Set(['GRPCRoute']));
  assert.deepEqual(withGRPC.profiles.map((p) => p.name), ['GATEWAY-GRPC']);
  assert.deepEqual([...withGRPC.supported].sort(), ['GRPCRoute', 'Gateway', 'ReferenceGrant']);
  // --run-test alone: no claims, so every ported profile and its core features.
  assert.equal(profilesAndFeaturesUnderTest(ported, undefined).profiles.length, ported.length);
});
