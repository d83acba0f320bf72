// Unit checks of the harness pieces that do not need a running gateway:
// `npx tsc -p . && node --test dist/conformance/unit/`.
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { altNameFor, generateCACert, generateCASignedCert, generateSelfSignedCert, setupObjects } from '../harness/certificates.js';
import { podName } from '../harness/echo.js';
import { deploymentsIn, endpointSlicesFor, servicesSelecting } from '../harness/endpointslices.js';
import { parseManifests, prepareManifest } from '../harness/manifests.js';
import { upstreamConformanceDir } from '../harness/paths.js';
import { loadRegistry } from '../tests/index.js';
import { extractBackendName } from '../utils/weight.js';

const upstream = upstreamConformanceDir();
const applier = { gatewayClassName: 'archway', controllerName: 'archway.dev/gateway-controller' };
const base = parseManifests(prepareManifest(readFileSync(join(upstream, 'base/manifests.yaml'), 'utf8'), applier), 'base');

test('placeholders are replaced as upstream Applier does', () => {
  const gateways = base.filter((o) => o.kind === 'Gateway');
  assert.ok(gateways.length >= 4);
  for (const gw of gateways) assert.equal(gw.spec.gatewayClassName, 'archway');
  const gwc = parseManifests(prepareManifest(readFileSync(join(upstream, 'tests/gatewayclass-observed-generation-bump.yaml'), 'utf8'), applier), 'gwc');
  assert.equal(gwc[0]!.spec.controllerName, 'archway.dev/gateway-controller');
});

test('EndpointSlices follow Service selectors and port names, with the backend port', () => {
  const v1 = deploymentsIn(base).find((d) => d.name === 'infra-backend-v1')!;
  assert.deepEqual(servicesSelecting(base, v1.namespace, v1.podLabels).map((s) => s.metadata.name), ['infra-backend-v1']);
  const pod = { namespace: v1.namespace, pod: podName(v1.name), labels: v1.podLabels, ip: '127.0.0.1', port: 41000 };
  const slices = endpointSlicesFor(base, [pod]);
  assert.equal(slices.length, 1);
  const slice = slices[0]!;
  assert.equal(slice.metadata.labels!['kubernetes.io/service-name'], 'infra-backend-v1');
  assert.deepEqual(slice.ports.map((p: { name: string; port: number }) => [p.name, p.port]),
    [['first-port', 41000], ['second-port', 41000], ['third-port', 41000]]);
  assert.deepEqual(slice.endpoints[0].addresses, ['127.0.0.1']);
  assert.equal(slice.endpoints[0].targetRef.name, pod.pod);

  const services = parseManifests(readFileSync(join(upstream, 'tests/httproute-service-types.yaml'), 'utf8'), 'st');
  const names = endpointSlicesFor(services, [pod]).map((s) => s.metadata.labels!['kubernetes.io/service-name']);
  assert.deepEqual(names, ['headless'], 'only the Service with a selector gets generated slices');
});

test('pod names let upstream recover the Deployment name', () => {
  const name = podName('infra-backend-v1');
  assert.match(name, /^infra-backend-v1-[a-z0-9]{10}-[a-z0-9]{5}$/);
  assert.equal(extractBackendName(name), 'infra-backend-v1');
});

test('certificate hosts become SANs the way upstream classifies them', () => {
  assert.deepEqual(altNameFor('*'), { type: 6, value: '*' });
  assert.deepEqual(altNameFor('*.org'), { type: 2, value: '*.org' });
  assert.deepEqual(altNameFor('abc.example.com'), { type: 2, value: 'abc.example.com' });
  assert.deepEqual(altNameFor('spiffe://abc.example.com/test-identity'), { type: 6, value: 'spiffe://abc.example.com/test-identity' });
  assert.deepEqual(altNameFor('10.0.0.1'), { type: 7, ip: '10.0.0.1' });
});

test('generated certificates: self-signed with SANs, CA-signed verifying against the CA', async () => {
  const self = await generateSelfSignedCert(['*', '*.org', '*.wildcard.org']);
  const cert = new X509Certificate(self.certPem);
  assert.equal(cert.subjectAltName, 'URI:*, DNS:*.org, DNS:*.wildcard.org');
  assert.equal(cert.ca, false);
  assert.match(self.keyPem, /^-----BEGIN RSA PRIVATE KEY-----/);
  assert.ok(cert.checkPrivateKey((await import('node:crypto')).createPrivateKey(self.keyPem)));

  const ca = await generateCACert();
  assert.equal(new X509Certificate(ca.certPem).ca, true);
  const leaf = new X509Certificate((await generateCASignedCert(['abc.example.com'], ca)).certPem);
  assert.ok(leaf.verify(new X509Certificate(ca.certPem).publicKey));
});

test('setup creates the Secrets upstream Setup creates', async () => {
  const objects = await setupObjects();
  const secrets = objects.filter((o) => o.kind === 'Secret').map((o) => `${o.metadata.namespace}/${o.metadata.name}`).sort();
  assert.deepEqual(secrets, [
    'gateway-conformance-app-backend/tls-passthrough-checks-certificate',
    'gateway-conformance-infra/tls-checks-certificate',
    'gateway-conformance-infra/tls-checks-client-certificate',
    'gateway-conformance-infra/tls-passthrough-checks-certificate',
    'gateway-conformance-infra/tls-terminate-checks-certificate',
    'gateway-conformance-infra/tls-validity-checks-certificate',
    'gateway-conformance-infra/tls-validity-checks-client-certificate',
    'gateway-conformance-infra/tls-validity-checks-per-port-client-certificate',
    'gateway-conformance-web-backend/certificate',
  ]);
  for (const s of objects.filter((o) => o.kind === 'Secret')) {
    assert.equal(s.type, 'kubernetes.io/tls');
    assert.match(Buffer.from(s.data['tls.crt'], 'base64').toString(), /BEGIN CERTIFICATE/);
  }
});

test('registry: every upstream test; GATEWAY-HTTP core and extended, ListenerSet, TLSRoute, TCPRoute, UDPRoute and GRPCRoute tests ported', () => {
  const registry = loadRegistry(upstream);
  assert.equal(registry.length, readFileSync(join(upstream, 'tests-and-features.txt'), 'utf8').trim().split('\n').length);
  const core = new Set(['Gateway', 'HTTPRoute', 'ReferenceGrant']);
  const coreTests = registry.filter((r) => !r.provisional && r.features.every((f) => core.has(f))).map((r) => r.shortName);
  assert.equal(coreTests.length, 37);
  // Not ported: mesh routes.
  const outOfScope = /^Mesh/;
  const inScope = registry.filter((r) => !outOfScope.test(r.shortName) &&
    (r.features.includes('HTTPRoute') || r.features.includes('GRPCRoute') || /^(Gateway|ListenerSet|TLSRoute|TCPRoute|UDPRoute)/.test(r.shortName)));
  assert.equal(inScope.length, 131);
  assert.deepEqual(registry.filter((r) => r.impl).map((r) => r.shortName), inScope.map((r) => r.shortName));
  for (const name of coreTests) assert.ok(registry.find((r) => r.shortName === name)?.impl, name);
});
