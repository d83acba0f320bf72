import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { generate } from 'selfsigned';
import { stringify } from 'yaml';
import { ConfigLoader } from '../../src/provider/loader.js';
import type { Snapshot } from '../../src/resources/types.js';
import { translate, type TranslateResult } from '../../src/translator/index.js';
import { silentLogger } from '../../src/util/log.js';
import { random } from '../provider/helpers.js';

// The translator reuses work from its previous call for objects that are the
// same frozen instances (the file provider's snapshots share unchanged
// objects). Whatever it reuses, the output must be what translating unfrozen
// copies from scratch gives, byte for byte.

type Doc = Record<string, unknown>;

const NAMESPACES = ['ns-a', 'ns-b', 'ns-c'];

// Two CAs a BackendTLSPolicy's ConfigMap switches between, and a client certificate for Gateway `own`.
const [caA, caB, client] = await Promise.all([0, 1, 2].map(() => generate([{ name: 'commonName', value: 'reuse' }], { keySize: 2048 })));

function gatewayDocs(variant: number): Doc[] {
  return [
    { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'GatewayClass', metadata: { name: 'archway' }, spec: { controllerName: 'archway.dev/gateway-controller' } },
    {
      apiVersion: 'gateway.networking.k8s.io/v1', kind: 'Gateway', metadata: { name: 'web', namespace: 'default' },
      spec: {
        gatewayClassName: 'archway',
        listeners: [
          { name: 'http', protocol: 'HTTP', port: 8080, allowedRoutes: { namespaces: { from: 'All' } } },
          { name: 'foo', protocol: 'HTTP', port: 8080, hostname: variant % 2 ? '*.foo.com' : 'a.foo.com', allowedRoutes: { namespaces: { from: 'All' } } },
          { name: 'picky', protocol: 'HTTP', port: 8081, allowedRoutes: { namespaces: { from: 'Selector', selector: { matchLabels: { team: 'x' } } } } },
          {
            name: 'tls', protocol: 'TLS', port: 8443, ...(variant % 3 ? { hostname: '*.foo.com' } : {}),
            tls: { mode: 'Passthrough' }, allowedRoutes: { namespaces: { from: 'All' } },
          },
          { name: 'tcp', protocol: 'TCP', port: 9000, allowedRoutes: { namespaces: { from: 'All' } } },
        ],
      },
    },
    {
      apiVersion: 'gateway.networking.k8s.io/v1', kind: 'Gateway', metadata: { name: 'own', namespace: 'ns-a' },
      spec: {
        gatewayClassName: 'archway',
        listeners: [
          // From all namespaces: the routes naming it reach the TLS clusters of every namespace's Service.
          { name: 'http', protocol: 'HTTP', port: 9090, allowedRoutes: { namespaces: { from: 'All' } } },
          // Its certificate is the rotated Secret, and its client validation trusts the policy ConfigMap of ns-a.
          { name: 'https', protocol: 'HTTPS', port: 9443, tls: { certificateRefs: [{ name: 'client' }] } },
        ],
        tls: {
          ...(variant % 3 !== 0 ? { backend: { clientCertificateRef: { name: 'client' } } } : {}),
          frontend: { default: { validation: { caCertificateRefs: [{ group: '', kind: 'ConfigMap', name: 'ca' }] } } },
        },
      },
    },
    {
      apiVersion: 'v1', kind: 'Secret', metadata: { name: 'client', namespace: 'ns-a' }, type: 'kubernetes.io/tls',
      // Rotated with the Gateway variant: a Secret changes while the Services and policies stay.
      stringData: { 'tls.crt': variant % 4 < 2 ? client!.cert : caA!.cert, 'tls.key': variant % 4 < 2 ? client!.private : caA!.private },
    },
  ];
}

/** How a namespace's Service is secured: no policy, one trusting CA A or B, or one whose ConfigMap holds no CA. */
type PolicyState = 'none' | 'a' | 'b' | 'broken';

function policyDocs(ns: string, policy: PolicyState): Doc[] {
  if (policy === 'none') return [];
  const ca = { a: caA!.cert, b: caB!.cert, broken: '' }[policy];
  return [
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'ca', namespace: ns }, data: { 'ca.crt': ca } },
    {
      apiVersion: 'gateway.networking.k8s.io/v1', kind: 'BackendTLSPolicy', metadata: { name: 'svc', namespace: ns },
      spec: { targetRefs: [{ group: '', kind: 'Service', name: 'svc' }], validation: { caCertificateRefs: [{ group: '', kind: 'ConfigMap', name: 'ca' }], hostname: 'svc.example' } },
    },
    {
      // Through both Gateways, one of which presents a client certificate now and then; mirrored too.
      apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', metadata: { name: 'secured', namespace: ns },
      spec: {
        parentRefs: [{ name: 'web', namespace: 'default' }, { name: 'own', namespace: 'ns-a' }],
        hostnames: [`secured.${ns}.com`],
        rules: [{
          backendRefs: [{ name: 'svc', port: 80 }],
          filters: [{ type: 'RequestMirror', requestMirror: { backendRef: { name: 'svc', port: 80 } } }],
        }],
      },
    },
  ];
}

function namespaceDocs(ns: string, labelled: boolean, port: number, grant: boolean): Doc[] {
  const docs: Doc[] = [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: ns, labels: labelled ? { team: 'x' } : { team: 'y' } } },
    { apiVersion: 'v1', kind: 'Service', metadata: { name: 'svc', namespace: ns }, spec: { ports: [{ name: 'http', port }] } },
    {
      apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: 'svc-1', namespace: ns, labels: { 'kubernetes.io/service-name': 'svc' } },
      addressType: 'IPv4', ports: [{ name: 'http', port: 3000 }], endpoints: [{ addresses: ['127.0.0.1'] }],
    },
  ];
  if (grant) {
    docs.push({
      apiVersion: 'gateway.networking.k8s.io/v1beta1', kind: 'ReferenceGrant', metadata: { name: 'from-all', namespace: ns },
      spec: {
        from: NAMESPACES.flatMap((f) => ['HTTPRoute', 'GRPCRoute', 'TLSRoute', 'TCPRoute'].map((kind) => ({ group: 'gateway.networking.k8s.io', kind, namespace: f }))),
        to: [{ group: '', kind: 'Service' }],
      },
    });
  }
  return docs;
}

/** A route drawn from a few shapes that exercise different parts of the translator. */
function routeDoc(ns: string, name: string, pick: (n: number) => number): Doc {
  const parentRefs = [[{ name: 'web', namespace: 'default' }], [{ name: 'web', namespace: 'default', sectionName: 'foo' }],
    [{ name: 'web', namespace: 'default' }, { name: 'own', namespace: 'ns-a' }], [{ name: 'web', namespace: 'default', port: 8081 }]][pick(4)];
  const hostnames = [undefined, ['a.foo.com'], ['*.foo.com', 'b.bar.com'], ['c.bar.com'], [`${name}.solo.com`]][pick(5)];
  const backend = [{ name: 'svc', port: 80 }, { name: 'svc', namespace: NAMESPACES[pick(3)], port: 80 }, { name: 'missing', port: 80 }][pick(3)];
  if (pick(4) === 0) return grpcRouteDoc(ns, name, parentRefs, hostnames, backend, pick);
  const path = `/${name}${'x'.repeat(pick(3))}`;
  const rules: Doc[] = [{ matches: [{ path: { type: ['PathPrefix', 'Exact'][pick(2)], value: path } }], backendRefs: [backend] }];
  if (pick(4) === 0) rules.push({ matches: [{ path: { type: 'PathPrefix', value: `${path}/old` } }], filters: [{ type: 'RequestRedirect', requestRedirect: { statusCode: 301 } }] });
  if (pick(6) === 0) rules.push({ matches: [{ path: { type: 'RegularExpression', value: '([' } }], backendRefs: [backend] });
  if (pick(5) === 0) rules.push({ matches: [{ path: { type: 'PathPrefix', value: path }, method: 'POST', headers: [{ name: 'x-v', value: '2' }] }], backendRefs: [backend] });
  const spec: Doc = { parentRefs, rules };
  if (hostnames) spec.hostnames = hostnames;
  return { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', metadata: { name, namespace: ns }, spec };
}

/** A GRPCRoute: it shares listeners, virtual hosts and (for h2c ports) clusters with HTTPRoutes. */
function grpcRouteDoc(ns: string, name: string, parentRefs: Doc[], hostnames: string[] | undefined, backend: Doc, pick: (n: number) => number): Doc {
  const service = `svc.${name.replace(/-/g, '_')}`;
  const method = [{ service, method: 'Get' }, { service }, { method: 'Get' }, { type: 'RegularExpression', service: `${service}.*` }][pick(4)];
  const rules: Doc[] = [{ matches: [{ method }], backendRefs: [backend] }];
  if (pick(3) === 0) rules.push({ matches: [{ headers: [{ name: 'x-v', value: '2' }] }], backendRefs: [backend] });
  if (pick(6) === 0) rules.push({ matches: [{ method: { type: 'RegularExpression', method: '([' } }], backendRefs: [backend] });
  const spec: Doc = { parentRefs, rules };
  if (hostnames) spec.hostnames = hostnames;
  return { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'GRPCRoute', metadata: { name, namespace: ns }, spec };
}

/** A TLSRoute or TCPRoute; a few creation times, so that which one serves a name or port depends on age and name. */
function streamRouteDoc(ns: string, name: string, pick: (n: number) => number): Doc {
  // The generator's low bits alternate: an even choice comes from a wider range.
  const tls = pick(10) < 5;
  const parentRefs = [[{ name: 'web', namespace: 'default' }], [{ name: 'web', namespace: 'default', sectionName: tls ? 'tls' : 'tcp' }]][pick(9) % 2];
  const backend = [{ name: 'svc', port: 80 }, { name: 'svc', namespace: NAMESPACES[pick(3)], port: 80 }, { name: 'missing', port: 80 }][pick(3)];
  const spec: Doc = { parentRefs, rules: [{ backendRefs: [backend] }] };
  if (tls) spec.hostnames = [['a.foo.com'], ['*.foo.com', 'b.bar.com'], ['c.bar.com']][pick(3)];
  const metadata = { name, namespace: ns, creationTimestamp: `2026-01-01T00:00:0${pick(3)}Z` };
  return { apiVersion: 'gateway.networking.k8s.io/v1', kind: tls ? 'TLSRoute' : 'TCPRoute', metadata, spec };
}

interface Model {
  gatewayVariant: number;
  namespaces: Map<string, { labelled: boolean; port: number; grant: boolean; policy: PolicyState; routes: Doc[]; streams: Doc[] }>;
}

async function write(dir: string, model: Model): Promise<void> {
  const render = (docs: Doc[]) => docs.map((d) => stringify(d)).join('---\n');
  await writeFile(join(dir, 'gateway.yaml'), render(gatewayDocs(model.gatewayVariant)));
  for (const [ns, n] of model.namespaces) {
    await writeFile(join(dir, `${ns}.yaml`), render([...namespaceDocs(ns, n.labelled, n.port, n.grant), ...policyDocs(ns, n.policy), ...n.routes, ...n.streams]));
  }
}

/** One random edit: mostly to routes, sometimes to what routes depend on. */
function edit(model: Model, pick: (n: number) => number, serial: number): string {
  const ns = NAMESPACES[pick(NAMESPACES.length)]!;
  const n = model.namespaces.get(ns)!;
  const i = pick(Math.max(1, n.routes.length));
  switch (pick(15)) {
    case 0: n.routes.push(routeDoc(ns, `new-${serial}`, pick)); return `add a route to ${ns}`;
    case 1: n.routes.splice(i, 1); return `remove route ${i} of ${ns}`;
    case 2: model.gatewayVariant += 1; return 'change a Gateway listener';
    case 3: n.port = n.port === 80 ? 81 : 80; return `change the Service port in ${ns}`;
    case 4: n.grant = !n.grant; return `toggle the ReferenceGrant in ${ns}`;
    case 5: n.labelled = !n.labelled; return `relabel ${ns}`;
    case 6: return 'nothing';
    case 7: n.streams.push(streamRouteDoc(ns, `stream-${serial}`, pick)); return `add a stream route to ${ns}`;
    case 8: {
      const j = pick(Math.max(1, n.streams.length));
      if (pick(3) === 0) { n.streams.splice(j, 1); return `remove stream route ${j} of ${ns}`; }
      const name = (n.streams[j]?.metadata as { name: string } | undefined)?.name ?? `stream-${serial}`;
      n.streams[j] = streamRouteDoc(ns, name, pick);
      return `rewrite stream route ${name} of ${ns}`;
    }
    case 9: {
      const next: PolicyState[] = ['none', 'a', 'b', 'broken'];
      n.policy = next[(next.indexOf(n.policy) + 1 + pick(3)) % next.length]!;
      return `BackendTLSPolicy of ${ns}: ${n.policy}`;
    }
    default: {
      const name = (n.routes[i]?.metadata as { name: string } | undefined)?.name ?? `new-${serial}`;
      n.routes[i] = routeDoc(ns, name, pick);
      return `rewrite route ${name} of ${ns}`;
    }
  }
}

/** A copy whose conditions all changed status at another time. */
function aged(result: TranslateResult): TranslateResult {
  const copy = structuredClone(result);
  const visit = (value: unknown): void => {
    if (Array.isArray(value)) value.forEach(visit);
    else if (value && typeof value === 'object') {
      for (const [k, v] of Object.entries(value)) {
        if (k === 'lastTransitionTime') (value as Record<string, unknown>)[k] = '2025-12-31T00:00:00Z';
        else visit(v);
      }
    }
  };
  visit(copy.statuses);
  return copy;
}

function reference(snapshot: Snapshot, previous: TranslateResult | undefined, now: string): TranslateResult {
  // Copies are not frozen, so nothing of them can be reused: the translation is done from scratch.
  return translate(structuredClone(snapshot), { controllerName: 'archway.dev/gateway-controller', bindAddress: '127.0.0.1', now, previous: previous?.statuses });
}

for (const seed of [1, 2, 3]) {
  test(`reusing work across snapshots changes nothing (seed ${seed})`, async (t) => {
    const dir = await mkdtemp(join(tmpdir(), 'archway-reuse-'));
    t.after(() => rm(dir, { recursive: true, force: true }));
    const pick = random(seed);
    const model: Model = { gatewayVariant: 0, namespaces: new Map() };
    for (const ns of NAMESPACES) {
      model.namespaces.set(ns, {
        labelled: ns !== 'ns-c', port: 80, grant: ns === 'ns-b', policy: ns === 'ns-a' ? 'a' : 'none',
        routes: Array.from({ length: 12 }, (_, j) => routeDoc(ns, `r-${j}`, pick)),
        streams: Array.from({ length: 3 }, (_, j) => streamRouteDoc(ns, `s-${j}`, pick)),
      });
    }
    const loader = new ConfigLoader(dir, silentLogger);
    let previous: TranslateResult | undefined;
    for (let step = 0; step < 60; step++) {
      const what = step === 0 ? 'initial' : edit(model, pick, step);
      await write(dir, model);
      const { result } = await loader.load();
      assert.deepEqual(result.problems.filter((p) => !p.message.includes('does not compile')), [], what);
      const now = `2026-01-01T00:${String(step).padStart(2, '0')}:00Z`;
      // Now and then the previous statuses come back as a copy, and older, as from another process.
      const prior = step % 7 === 3 && previous ? aged(previous) : previous;
      const options = { controllerName: 'archway.dev/gateway-controller', bindAddress: '127.0.0.1', now, previous: prior?.statuses };
      const reused = translate(result.snapshot, options);
      assert.equal(JSON.stringify(reused), JSON.stringify(reference(result.snapshot, prior, now)), `step ${step}: ${what}`);
      previous = reused;
    }
  });
}

test('reuse follows HTTPRoute/GRPCRoute conflicts as they come and go', async (t) => {
  const dir = await mkdtemp(join(tmpdir(), 'archway-reuse-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const CREATED = '2026-01-01T00:00:00Z';
  const http = (name: string, hostname: string): Doc => ({
    apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', metadata: { name, namespace: 'ns-a', creationTimestamp: CREATED },
    spec: { parentRefs: [{ name: 'web', namespace: 'default', sectionName: 'http' }], hostnames: [hostname], rules: [{ backendRefs: [{ name: 'svc', port: 80 }] }] },
  });
  const grpc = (name: string, hostname: string): Doc => ({
    apiVersion: 'gateway.networking.k8s.io/v1', kind: 'GRPCRoute', metadata: { name, namespace: 'ns-a', creationTimestamp: CREATED },
    spec: { parentRefs: [{ name: 'web', namespace: 'default', sectionName: 'http' }], hostnames: [hostname], rules: [{ backendRefs: [{ name: 'svc', port: 80 }] }] },
  });
  // Created together (else the file provider stamps each route when it first sees it), so "g", sorting before "h", is the older.
  const steps: [string, Doc[]][] = [
    ['h and g meet on x.example: g is accepted', [http('h', 'x.example'), grpc('g', 'x.example'), http('u', 'u.example')]],
    ['g goes: h is accepted and served', [http('h', 'x.example'), http('u', 'u.example')]],
    ['an unrelated edit on a base without conflicts', [http('h', 'x.example'), http('u', 'v.example')]],
    ['g comes back', [http('h', 'x.example'), grpc('g', 'x.example'), http('u', 'v.example')]],
    ['g moves to another hostname: both are accepted', [http('h', 'x.example'), grpc('g', 'y.example'), http('u', 'v.example')]],
    ['h moves onto g', [http('h', 'y.example'), grpc('g', 'y.example'), http('u', 'v.example')]],
  ];
  const loader = new ConfigLoader(dir, silentLogger);
  let previous: TranslateResult | undefined;
  const accepted: Record<string, string>[] = [];
  for (const [i, [what, routes]] of steps.entries()) {
    await writeFile(join(dir, 'gateway.yaml'), gatewayDocs(0).map((d) => stringify(d)).join('---\n'));
    await writeFile(join(dir, 'ns-a.yaml'), [...namespaceDocs('ns-a', true, 80, false), ...routes].map((d) => stringify(d)).join('---\n'));
    const { result } = await loader.load();
    const now = `2026-01-01T00:0${i}:00Z`;
    const reused = translate(result.snapshot, { controllerName: 'archway.dev/gateway-controller', bindAddress: '127.0.0.1', now, previous: previous?.statuses });
    assert.equal(JSON.stringify(reused), JSON.stringify(reference(result.snapshot, previous, now)), what);
    accepted.push(Object.fromEntries(reused.statuses.filter((s) => s.kind.endsWith('Route')).map((s) => {
      const parents = (s.status as { parents: { conditions: { type: string; status: string }[] }[] }).parents;
      return [s.metadata.name, parents[0]!.conditions.find((c) => c.type === 'Accepted')!.status];
    })));
    previous = reused;
  }
  assert.deepEqual(accepted, [
    { g: 'True', h: 'False', u: 'True' },
    { h: 'True', u: 'True' },
    { h: 'True', u: 'True' },
    { g: 'True', h: 'False', u: 'True' },
    { g: 'True', h: 'True', u: 'True' },
    { g: 'True', h: 'False', u: 'True' },
  ]);
});
