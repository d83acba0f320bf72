import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { pino } from 'pino';
import { formatProblem, loadConfig } from '../../src/provider/index.js';
import { FIXTURES, names, route, tempDir } from './helpers.js';

const problemsOf = async (path: string) => (await loadConfig(path)).problems.map(formatProblem);

test('loads a directory tree of YAML and JSON, including List documents', async () => {
  const dir = join(FIXTURES, 'basic');
  const { snapshot, problems } = await loadConfig(dir);
  assert.deepEqual(problems, []);
  assert.deepEqual(names(snapshot), {
    gatewayClasses: ['/archway'],
    gateways: ['default/web'],
    listenerSets: [],
    httpRoutes: ['shop/shop'],
    grpcRoutes: [],
    tlsRoutes: [],
    tcpRoutes: [],
    udpRoutes: [],
    referenceGrants: ['default/allow-shop'],
    backendTLSPolicies: ['shop/shop-tls'],
    namespaces: ['/shop'],
    services: ['shop/shop'],
    endpointSlices: ['shop/shop-1'],
    secrets: ['default/web-cert'],
    configMaps: ['default/unrelated'],
  });
  const [gateway] = snapshot.gateways;
  assert.equal(gateway.source, `${join(dir, 'gateway.yaml')}:9`);
  assert.equal(snapshot.gatewayClasses[0].source, `${join(dir, 'gateway.yaml')}:2`, 'the leading comment is not the object');
  assert.equal(snapshot.services[0].source, `${join(dir, 'nested/backends.json')}:5`);
  assert.equal(gateway.spec?.listeners[1].tls?.certificateRefs?.[0].name, 'web-cert');
  assert.equal(gateway.metadata.generation, 1);
  assert.match(gateway.metadata.uid ?? '', /^[0-9a-f-]{36}$/);
  assert.match(gateway.metadata.creationTimestamp ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  assert.equal(snapshot.endpointSlices[0].addressType, 'IPv4');
  assert.deepEqual(snapshot.namespaces[0].metadata.labels, { team: 'shop' });
});

test('decodes Secret data and merges stringData over it', async () => {
  const { snapshot } = await loadConfig(join(FIXTURES, 'basic'));
  const [secret] = snapshot.secrets;
  assert.equal(secret.type, 'kubernetes.io/tls');
  assert.equal(secret.data?.['tls.crt'], '-----BEGIN CERTIFICATE-----\nnot really a cert\n-----END CERTIFICATE-----\n');
  assert.equal(secret.data?.['tls.key'], '-----BEGIN PRIVATE KEY-----\nnot really a key\n-----END PRIVATE KEY-----\n');
  assert.equal((secret as unknown as Record<string, unknown>).stringData, undefined);
});

test('reports invalid objects at the offending line and keeps the rest', async () => {
  const dir = join(FIXTURES, 'invalid');
  const routes = join(dir, 'routes.yaml');
  const dupes = join(dir, 'dupes.yaml');
  const { snapshot, problems } = await loadConfig(dir);
  assert.deepEqual(problems.map(formatProblem), [
    `${dupes}:11: HTTPRoute default/bar: duplicate of the one at ${dupes}:1; ignored`,
    `${routes}:15: HTTPRoute default/foo: spec.rules[0].backendRefs[0].port must be <= 65535`,
    `${routes}:17: Gateway default/old: apiVersion gateway.networking.k8s.io/v1alpha1 is not served for Gateway (supported: gateway.networking.k8s.io/v1, gateway.networking.k8s.io/v1beta1)`,
    `${routes}:28: Service default/Bad_Name: metadata.name "Bad_Name" must be a DNS-1123 subdomain (lowercase letters, digits, '-', '.')`,
    `${routes}:39: Service default/svc: spec.ports[0].port must be an integer between 1 and 65535`,
    `${routes}:41: Secret default/half-tls: a kubernetes.io/tls Secret must have data["tls.key"]`,
    `${routes}:49: Gateway: apiVersion is required`,
  ]);
  assert.deepEqual(names(snapshot).httpRoutes, ['default/bar']);
  assert.equal(snapshot.httpRoutes[0].spec?.rules?.length, 1, 'the first of two duplicates wins');
});

test('schema messages name the field: required, enum, pattern', async () => {
  const t = await tempDir();
  try {
    const file = await t.write('gw.yaml', `apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata:
  name: gw
  namespace: infra
spec:
  gatewayClassName: archway
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: r
spec:
  rules:
  - matches:
    - path:
        type: Prefix
    filters:
    - type: RequestHeaderModifier
      requestHeaderModifier:
        set:
        - name: "bad header"
          value: x
`);
    assert.deepEqual(await problemsOf(t.dir), [
      `${file}:6: Gateway infra/gw: spec.listeners is required`,
      `${file}:17: HTTPRoute default/r: spec.rules[0].matches[0].path.type must be one of: Exact, PathPrefix, RegularExpression`,
      `${file}:22: HTTPRoute default/r: spec.rules[0].filters[0].requestHeaderModifier.set[0].name must match pattern "^[A-Za-z0-9!#$%&'*+\\-.^_\\x60|~]+$"`,
    ]);
  } finally {
    await t.cleanup();
  }
});

test('TLSRoute, TCPRoute and UDPRoute load in every version the v1.6.1 CRDs serve, with each version\'s schema', async () => {
  const t = await tempDir();
  try {
    const doc = (kind: string, version: string, name: string, spec: string) =>
      `apiVersion: gateway.networking.k8s.io/${version}\nkind: ${kind}\nmetadata:\n  name: ${name}\nspec:\n${spec}`;
    const rule = '  - backendRefs:\n    - {name: svc, port: 443}\n';
    const file = await t.write('routes.yaml', [
      doc('TLSRoute', 'v1', 'tls-v1', `  hostnames: [a.example.com]\n  rules:\n${rule}`),
      doc('TLSRoute', 'v1alpha2', 'tls-alpha2', `  rules:\n${rule}${rule}`),
      doc('TLSRoute', 'v1alpha3', 'tls-alpha3', `  hostnames: [a.example.com]\n  rules:\n${rule}`),
      doc('TLSRoute', 'v1', 'tls-no-hostnames', `  rules:\n${rule}`),
      doc('TCPRoute', 'v1', 'tcp-v1', `  rules:\n${rule}`),
      doc('TCPRoute', 'v1alpha2', 'tcp-alpha2', `  rules:\n${rule}${rule}`),
      doc('TCPRoute', 'v1', 'tcp-two-rules', `  rules:\n${rule}${rule}`),
      doc('UDPRoute', 'v1', 'udp-v1', `  rules:\n  - backendRefs:\n    - {name: dns, port: 53, weight: 2}\n`),
      doc('UDPRoute', 'v1alpha2', 'udp-alpha2', `  rules:\n  - backendRefs: []\n`),
      doc('UDPRoute', 'v1beta1', 'udp-beta1', `  rules:\n${rule}`),
    ].join('---\n'));
    const { snapshot, problems } = await loadConfig(file);
    assert.deepEqual(problems.map(formatProblem), [
      `${file}:36: TLSRoute default/tls-no-hostnames: spec.hostnames is required`,
      `${file}:66: TCPRoute default/tcp-two-rules: spec.rules must NOT have more than 1 item`,
      `${file}:87: UDPRoute default/udp-alpha2: spec.rules[0].backendRefs must NOT have less than 1 item`,
      `${file}:89: UDPRoute default/udp-beta1: apiVersion gateway.networking.k8s.io/v1beta1 is not served for UDPRoute (supported: gateway.networking.k8s.io/v1, gateway.networking.k8s.io/v1alpha2)`,
    ]);
    assert.deepEqual(names(snapshot).tlsRoutes, ['default/tls-alpha2', 'default/tls-alpha3', 'default/tls-v1']);
    assert.deepEqual(names(snapshot).tcpRoutes, ['default/tcp-alpha2', 'default/tcp-v1']);
    assert.deepEqual(names(snapshot).udpRoutes, ['default/udp-v1']);
    assert.equal(snapshot.udpRoutes[0].spec?.rules?.[0].backendRefs?.[0].weight, 2);
  } finally {
    await t.cleanup();
  }
});

test('GRPCRoute loads in v1, the one version the v1.6.1 CRDs serve, with its schema', async () => {
  const t = await tempDir();
  try {
    const doc = (version: string, name: string, match: string) => `apiVersion: gateway.networking.k8s.io/${version}
kind: GRPCRoute
metadata:
  name: ${name}
spec:
  parentRefs:
  - name: web
  rules:
  - matches:
    - ${match}
    backendRefs:
    - {name: svc, port: 8080}
`;
    const file = await t.write('routes.yaml', [
      doc('v1', 'exact', 'method: {service: echo.Echo, method: Say}'),
      doc('v1', 'bad-type', 'method: {type: Prefix, service: echo.Echo}'),
      doc('v1alpha2', 'alpha2', 'headers: [{name: version, value: two}]'),
    ].join('---\n'));
    const { snapshot, problems } = await loadConfig(file);
    assert.deepEqual(problems.map(formatProblem), [
      `${file}:23: GRPCRoute default/bad-type: spec.rules[0].matches[0].method.type must be one of: Exact, RegularExpression`,
      `${file}:27: GRPCRoute default/alpha2: apiVersion gateway.networking.k8s.io/v1alpha2 is not served for GRPCRoute (supported: gateway.networking.k8s.io/v1)`,
    ]);
    assert.deepEqual(names(snapshot).grpcRoutes, ['default/exact']);
    assert.equal(snapshot.grpcRoutes[0].spec?.rules?.[0].matches?.[0].method?.method, 'Say');
  } finally {
    await t.cleanup();
  }
});

test('BackendTLSPolicy loads in v1 and v1alpha3, the versions the v1.6.1 CRDs serve', async () => {
  const t = await tempDir();
  try {
    const doc = (version: string, name: string, validation: string) => `apiVersion: gateway.networking.k8s.io/${version}
kind: BackendTLSPolicy
metadata:
  name: ${name}
spec:
  targetRefs:
  - {group: "", kind: Service, name: svc, sectionName: https}
  validation:
${validation}`;
    const file = await t.write('policies.yaml', [
      doc('v1', 'v1', '    caCertificateRefs: [{group: "", kind: ConfigMap, name: ca}]\n    hostname: svc.example\n'),
      doc('v1alpha3', 'alpha3', '    wellKnownCACertificates: System\n    hostname: svc.example\n'),
      doc('v1', 'no-hostname', '    wellKnownCACertificates: System\n'),
      doc('v1alpha2', 'alpha2', '    wellKnownCACertificates: System\n    hostname: svc.example\n'),
    ].join('---\n'));
    const { snapshot, problems } = await loadConfig(file);
    assert.deepEqual(problems.map(formatProblem), [
      `${file}:30: BackendTLSPolicy default/no-hostname: spec.validation.hostname is required`,
      `${file}:33: BackendTLSPolicy default/alpha2: apiVersion gateway.networking.k8s.io/v1alpha2 is not served for BackendTLSPolicy (supported: gateway.networking.k8s.io/v1, gateway.networking.k8s.io/v1alpha3)`,
    ]);
    assert.deepEqual(names(snapshot).backendTLSPolicies, ['default/alpha3', 'default/v1']);
    assert.equal(snapshot.backendTLSPolicies.find((p) => p.metadata.name === 'v1')?.spec?.validation.caCertificateRefs?.[0]?.name, 'ca');
  } finally {
    await t.cleanup();
  }
});

test('core kinds get their own checks, but a broken PEM is left to the translator', async () => {
  const t = await tempDir();
  try {
    const file = await t.write('core.yaml', `apiVersion: v1
kind: Secret
metadata:
  name: not-base64
data:
  key: "%%%"
---
apiVersion: v1
kind: Secret
metadata:
  name: broken-pem
type: kubernetes.io/tls
stringData:
  tls.crt: garbage
  tls.key: garbage
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: eps
addressType: IPv5
endpoints:
- addresses: []
---
apiVersion: discovery.k8s.io/v1beta1
kind: EndpointSlice
metadata:
  name: old
addressType: IPv4
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: ca
data:
  ca.crt: "-----BEGIN CERTIFICATE-----"
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: bad-ca
data:
  ca.crt: 12
`);
    const { snapshot, problems } = await loadConfig(file);
    assert.deepEqual(problems.map(formatProblem), [
      `${file}:6: Secret default/not-base64: data.key is not valid base64`,
      `${file}:21: EndpointSlice default/eps: addressType must be one of: IPv4, IPv6, FQDN`,
      `${file}:23: EndpointSlice default/eps: endpoints[0].addresses must be a non-empty list of strings`,
      `${file}:25: EndpointSlice default/old: apiVersion discovery.k8s.io/v1beta1 is not served for EndpointSlice (supported: discovery.k8s.io/v1)`,
      `${file}:43: ConfigMap default/bad-ca: data["ca.crt"] must be a string`,
    ]);
    assert.deepEqual(names(snapshot).secrets, ['default/broken-pem']);
    assert.deepEqual(names(snapshot).configMaps, ['default/ca']);
    assert.equal(snapshot.configMaps[0].data?.['ca.crt'], '-----BEGIN CERTIFICATE-----');
    assert.equal(snapshot.secrets[0].data?.['tls.crt'], 'garbage');
  } finally {
    await t.cleanup();
  }
});

test('a YAML syntax error is reported with its line; other files still load', async () => {
  const t = await tempDir();
  try {
    await t.write('a.yaml', route('a'));
    const broken = await t.write('b.yaml', `${route('b')}---\nkind: [oops\n`);
    const { snapshot, problems } = await loadConfig(t.dir);
    assert.equal(problems.length, 1);
    assert.equal(problems[0].file, broken);
    assert.equal(problems[0].line, 14);
    assert.match(problems[0].message, /^YAML: /);
    assert.deepEqual(names(snapshot).httpRoutes, ['default/a'], 'nothing from the broken file on a first load');
  } finally {
    await t.cleanup();
  }
});

test('missing kind, apiVersion or name, non-objects and bad Lists are problems', async () => {
  const t = await tempDir();
  try {
    const file = await t.write('x.yaml', `apiVersion: v1
metadata: {name: a}
---
- just
- a list
---
apiVersion: v1
kind: Service
metadata:
  namespace: default
---
apiVersion: v1
kind: List
items: {}
---
apiVersion: v1
kind: Namespace
metadata:
  name: team.a
`);
    assert.deepEqual(await problemsOf(file), [
      `${file}:1: kind is required`,
      `${file}:4: a manifest must be an object`,
      `${file}:9: Service default/<unnamed>: metadata.name is required`,
      `${file}:12: List: items must be a list`,
      `${file}:19: Namespace team.a: metadata.name "team.a" must be a DNS-1123 label (lowercase letters, digits, '-')`,
    ]);
  } finally {
    await t.cleanup();
  }
});

test('ignores unknown kinds with one debug line, hidden files and other extensions', async () => {
  const t = await tempDir();
  try {
    await t.write('cm.yaml', 'apiVersion: v1\nkind: PodDisruptionBudget\nmetadata: {name: c}\n');
    await t.write('.hidden.yaml', route('hidden'));
    await t.write('..data/routes.yaml', route('configmap-indirection'));
    await t.write('notes.txt', route('txt'));
    const lines: string[] = [];
    const logger = pino({ level: 'debug' }, new Writable({ write(chunk, _enc, cb) { lines.push(String(chunk)); cb(); } }));
    const { snapshot, problems } = await loadConfig(t.dir, { logger });
    assert.deepEqual(problems, []);
    assert.deepEqual(names(snapshot).httpRoutes, []);
    assert.equal(lines.length, 1);
    assert.equal(JSON.parse(lines[0]).kind, 'PodDisruptionBudget');
  } finally {
    await t.cleanup();
  }
});

test('defaults and metadata handling', async () => {
  const t = await tempDir();
  try {
    const file = await t.write('x.yaml', `${route('explicit', 80, '  generation: 7\n  uid: fixed-uid\n  creationTimestamp: "2020-01-01T00:00:00Z"\n')}---
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata:
  name: cls
  namespace: ignored-for-cluster-scoped
spec:
  controllerName: archway.dev/gateway-controller
`);
    const { snapshot } = await loadConfig(file);
    const meta = snapshot.httpRoutes[0].metadata;
    assert.deepEqual([meta.namespace, meta.generation, meta.uid, meta.creationTimestamp], ['default', 7, 'fixed-uid', '2020-01-01T00:00:00Z']);
    assert.equal(snapshot.gatewayClasses[0].metadata.namespace, undefined);
  } finally {
    await t.cleanup();
  }
});

test('a missing path is a problem, not an exception', async () => {
  const { snapshot, problems } = await loadConfig('/nonexistent/archway-config');
  assert.deepEqual(problems.map(formatProblem), ['/nonexistent/archway-config: no such file or directory']);
  assert.equal(snapshot.gateways.length, 0);
});

test('objects are sorted by namespace and name', async () => {
  const t = await tempDir();
  try {
    await t.write('z.yaml', route('b', 80, '  namespace: a\n') + '---\n' + route('a', 80, '  namespace: b\n'));
    await t.write('a.yaml', route('a', 80, '  namespace: a\n'));
    assert.deepEqual(names((await loadConfig(t.dir)).snapshot).httpRoutes, ['a/a', 'a/b', 'b/a']);
  } finally {
    await t.cleanup();
  }
});
