// The backends the TLSRoute, TCPRoute and UDPRoute tests need, started from
// the upstream manifests as the suite starts them and queried directly with
// the suite's clients, without a gateway in between.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer as createNetServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { createServer as createTLSServer } from 'node:tls';
import { generateSelfSignedCert, setupObjects } from '../harness/certificates.js';
import { parseCorefile } from '../harness/coredns.js';
import { startBackend, type Backend } from '../harness/echo.js';
import { deploymentsIn, endpointSlicesFor } from '../harness/endpointslices.js';
import { parseManifests, prepareManifest, type KubeObject } from '../harness/manifests.js';
import { upstreamConformanceDir } from '../harness/paths.js';
import { findIn } from '../harness/podspec.js';
import { stopAll } from '../harness/processes.js';
import { defaultTimeoutConfig } from '../utils/config.js';
import { describeRecord, exchange, newQuery, RcodeServerFailure, RcodeSuccess, TypeA } from '../utils/dns.js';
import { RoundTripper } from '../utils/roundtripper.js';
import { T } from '../utils/t.js';
import { echoSendOnce, makeTCPRequestAndExpectEventuallyValidResponse } from '../utils/tcp.js';
import { dialTLS, makeTLSConnectionAndExpectEventuallyConnectionRejection, makeTLSRequestAndExpectEventuallyConsistentResponse } from '../utils/tls.js';
import { expectEchoResponseFromBackend, udpEchoSendOnce } from '../utils/udp.js';

const infra = 'gateway-conformance-infra';
const upstream = upstreamConformanceDir();
const applier = { gatewayClassName: 'archway', controllerName: 'archway.dev/gateway-controller' };
const manifest = (location: string) => parseManifests(prepareManifest(readFileSync(join(upstream, location), 'utf8'), applier), location);
const base = manifest('base/manifests.yaml');
const udpTest = manifest('tests/udproute-weighted-routing.yaml');
const timeouts = defaultTimeoutConfig();
const ctx = { timeouts, roundTripper: new RoundTripper(timeouts.requestTimeout) };

let setup: KubeObject[];
let podsDir: string;
const backends = new Map<string, Backend>();

/** Runs a suite helper on a fresh T and returns what it reported as failures. */
async function failuresOf(fn: (t: T) => Promise<void>): Promise<string[]> {
  const t = new T('unit');
  await t.run('check', fn);
  return t.failures;
}

const addr = (port: number | undefined) => `127.0.0.1:${port}`;
const dataOf = (kind: string, name: string) => findIn(setup)(kind, infra, name)!.data;

before(async () => {
  setup = await setupObjects();
  podsDir = mkdtempSync(join(tmpdir(), 'archway-backends-'));
  const known = [...base, ...udpTest, ...setup];
  const lookup = async (kind: string, namespace: string, name: string) => findIn(known)(kind, namespace, name);
  const wanted = [['tcp-backend', base], ['tls-backend', base], ['coredns', base], ['udp-backend-v1', udpTest]] as const;
  await Promise.all(wanted.map(async ([name, objects]) => {
    const dep = deploymentsIn(objects).find((d) => d.name === name && d.namespace === infra)!;
    backends.set(name, await startBackend(dep, { service: name, podsDir, lookup, timeoutMs: 15_000 }));
  }));
});

after(async () => {
  await stopAll();
  rmSync(podsDir, { recursive: true, force: true });
});

test('tcp-backend answers the TCP echo protocol on its plain port (container port 3000)', async () => {
  const tcp = backends.get('tcp-backend')!;
  assert.deepEqual(await failuresOf((t) => makeTCPRequestAndExpectEventuallyValidResponse(t, ctx, addr(tcp.targetPorts?.[3000]), undefined, '', false,
    { backend: 'tcp-backend', namespace: infra })), []);
  assert.equal(await echoSendOnce(addr(tcp.port), 2_000), tcp.pod);
});

test('tcp-backend speaks TLS on container port 8443 with the tls-passthrough-checks-certificate Secret', async () => {
  const tlsAddr = addr(backends.get('tcp-backend')!.targetPorts?.[8443]);
  const ca = dataOf('ConfigMap', 'tls-checks-ca-certificate')['ca.crt'] as string;
  assert.deepEqual(await failuresOf((t) => makeTCPRequestAndExpectEventuallyValidResponse(t, ctx, tlsAddr, ca, 'abc.example.com', true,
    { backendIsTLS: true, backend: 'tcp-backend', namespace: infra, hostname: 'abc.example.com' })), []);
  // The certificate is for abc.example.com only.
  await assert.rejects(dialTLS(tlsAddr, 'tls.example.com', ca, 2_000), /not tls\.example\.com/);
});

test('tls-backend serves HTTPS on container port 8443 with the tls-checks-certificate Secret, trusted as a leaf', async () => {
  const tls = backends.get('tls-backend')!;
  const leaf = Buffer.from(dataOf('Secret', 'tls-checks-certificate')['tls.crt'] as string, 'base64').toString('utf8');
  for (const host of ['abc.example.com', 'other.example.com']) {
    assert.deepEqual(await failuresOf((t) => makeTLSRequestAndExpectEventuallyConsistentResponse(t, ctx, addr(tls.targetPorts?.[8443]), leaf, host,
      { request: { host, path: '/' }, backend: 'tls-backend', namespace: infra })), []);
  }
});

test('udp-backend-v1 echoes datagrams with its service and pod', async () => {
  const udp = backends.get('udp-backend-v1')!;
  assert.equal(await udpEchoSendOnce(addr(udp.targetPorts?.[8080]), 2_000), udp.pod);
  assert.deepEqual(await failuresOf((t) => expectEchoResponseFromBackend(t, ctx, 5_000, addr(udp.port), { service: 'udp-backend-v1', namespace: infra })), []);
  assert.match((await failuresOf((t) => expectEchoResponseFromBackend(t, { timeouts: { ...timeouts, convergenceRetryDelay: 100 } }, 500, addr(udp.port),
    { service: 'udp-backend-v2' })))[0] ?? '', /service="udp-backend-v1" did not match expected "udp-backend-v2"/);
});

test('the coredns stand-in answers foo.bar.com as whoami does, and SERVFAIL for the forwarded zone', async () => {
  const dnsAddr = addr(backends.get('coredns')!.targetPorts?.[53]);
  const reply = await exchange(newQuery('foo.bar.com.', TypeA), dnsAddr, 2_000);
  assert.equal(reply.rcode, RcodeSuccess);
  assert.ok(reply.authoritative);
  assert.deepEqual(reply.questions, [{ name: 'foo.bar.com.', type: TypeA, class: 1 }]);
  assert.equal(reply.answers.length, 0);
  const [a, srv] = reply.additionals.map(describeRecord);
  assert.equal(a, 'foo.bar.com. 0 IN A 127.0.0.1');
  assert.match(srv ?? '', /^_udp\.foo\.bar\.com\. 0 IN SRV 0 0 \d+ \.$/);
  assert.equal((await exchange(newQuery('example.com.', TypeA), dnsAddr, 2_000)).rcode, RcodeServerFailure);
});

test('the coredns ConfigMap parses into its two server blocks', () => {
  const corefile = base.find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'coredns')!.data.Corefile as string;
  assert.deepEqual(parseCorefile(corefile), [
    { zones: ['.'], port: 53, plugins: ['forward', 'log', 'errors'] },
    { zones: ['foo.bar.com.'], port: 53, plugins: ['whoami'] },
  ]);
  assert.throws(() => parseCorefile('.:53 {\n whoami\n'), /unterminated/);
});

test('EndpointSlices map each Service port to the process port serving its container port, keeping the protocol', () => {
  const tcp = backends.get('tcp-backend')!;
  const dns = backends.get('coredns')!;
  const slices = endpointSlicesFor(base, [tcp, dns]);
  const ports = (service: string) => slices.find((s) => s.metadata.labels!['kubernetes.io/service-name'] === service)!.ports
    .map((p: { name: string; port: number; protocol: string }) => [p.name, p.port, p.protocol]);
  assert.deepEqual(ports('tcp-backend'), [['echo-tcp-plain', tcp.targetPorts?.[3000], 'TCP'], ['echo-tcp-tls', tcp.targetPorts?.[8443], 'TCP']]);
  assert.deepEqual(ports('coredns'), [['udp-dns', dns.targetPorts?.[53], 'UDP']]);
  assert.notEqual(tcp.targetPorts?.[3000], tcp.targetPorts?.[8443]);
});

test('a connection closed during the TLS handshake counts as rejected; a completed handshake does not', async () => {
  const closing = createNetServer((socket) => socket.destroy());
  const pair = await generateSelfSignedCert(['abc.example.com']);
  const serving = createTLSServer({ cert: pair.certPem, key: pair.keyPem }, (socket) => socket.end());
  await Promise.all([closing, serving].map((srv) => new Promise<void>((r) => srv.listen(0, '127.0.0.1', r))));
  const port = (srv: typeof closing) => (srv.address() as { port: number }).port;
  try {
    assert.deepEqual(await failuresOf((t) => makeTLSConnectionAndExpectEventuallyConnectionRejection(t, ctx, addr(port(closing)), 'abc.example.com')), []);
    const short = { timeouts: { ...timeouts, maxTimeToConsistency: 600, convergenceRetryDelay: 200 } };
    const failures = await failuresOf((t) => makeTLSConnectionAndExpectEventuallyConnectionRejection(t, short, addr(port(serving)), 'abc.example.com'));
    assert.equal(failures.length, 1);
    assert.match(failures[0]!, /never rejected/);
  } finally {
    closing.close();
    serving.close();
  }
});
