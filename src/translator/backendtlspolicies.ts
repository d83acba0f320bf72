// BackendTLSPolicy (GEP-1897): which Service ports Gateways connect to over
// TLS and how they verify the backend. Then, per translation, which clusters
// each Gateway's traffic uses: a TLS cluster gets the Gateway's client
// certificate (spec.tls.backend), and the Gateways whose traffic reaches a
// policy's Services are its ancestors in status.

import type { IRCluster, IRRoute, IRStreamBackend, IRUpstreamTLS, IRVirtualHost } from '../ir/types.js';
import type { BackendTLSPolicy, BackendTLSPolicySpec, ConfigMap, Condition, ServicePort, Snapshot } from '../resources/types.js';
import type { BackendResolver } from './backends.js';
import { checkCABundle } from './certificates.js';
import { CondType, Reason, condition, type PendingCondition } from './conditions.js';
import { GATEWAY_GROUP, byAge, objectKey, type GatewayState } from './gateways.js';
import { nested } from './maps.js';
import type { StatusEntry } from './types.js';

interface Problem { reason: string; message: string }

/** A policy as validated, whatever it targets. */
export interface PolicyState {
  policy: BackendTLSPolicy;
  namespace: string;
  /** How connections to its targets are made; absent when the policy is invalid, and then `invalid` says why. */
  tls?: IRUpstreamTLS;
  invalid?: Problem;
  /** CA certificate references that did not resolve (the policy may still have valid ones). */
  unresolved?: Problem;
  /** Why it lost targets to other policies. */
  conflicts: string[];
}

type Finalise = (next: PendingCondition[], before: Condition[] | undefined) => Condition[];

interface AncestorEntry {
  ancestorRef: Record<string, unknown>;
  controllerName: string;
  conditions: Condition[];
}

/** Whether a targetRef names a Service: other kinds of target are not supported, and such refs are ignored. */
function targetedService(ref: BackendTLSPolicySpec['targetRefs'][number]): boolean {
  return (ref.group ?? '') === '' && ref.kind === 'Service';
}

/**
 * The BackendTLSPolicies of one snapshot, validated, with conflicts between
 * policies for the same Service port resolved: the oldest wins, then the
 * first by namespace/name (spec: BackendTLSPolicySpec.TargetRefs).
 */
export class BackendTLSPolicies {
  private readonly states: PolicyState[];
  /** `namespace/service` → sectionName (`''` for the whole Service) → the policy that applies. */
  private readonly winners = new Map<string, Map<string, PolicyState>>();

  constructor(snapshot: Pick<Snapshot, 'backendTLSPolicies' | 'configMaps'>) {
    const configMaps = new Map<string, ConfigMap>();
    if (snapshot.backendTLSPolicies.length > 0) {
      for (const cm of snapshot.configMaps) configMaps.set(objectKey(cm.metadata.namespace, cm.metadata.name), cm);
    }
    this.states = snapshot.backendTLSPolicies.map((p) => validatePolicy(p, configMaps));
    for (const s of [...this.states].sort((a, b) => byAge(a.policy, b.policy))) {
      for (const ref of s.policy.spec?.targetRefs ?? []) {
        if (!targetedService(ref)) continue;
        const sections = nested(this.winners, `${s.namespace}/${ref.name}`);
        const section = ref.sectionName ?? '';
        const held = sections.get(section);
        if (!held) sections.set(section, s);
        else if (held !== s) {
          s.conflicts.push(`Service ${ref.name}${section ? ` port ${section}` : ''} is also targeted by BackendTLSPolicy `
            + `${objectKey(held.namespace, held.policy.metadata.name)}, which takes precedence (created earlier, or at the same time and first by name)`);
        }
      }
    }
  }

  /**
   * The policy that applies to a TCP port of a Service: one naming the port
   * by sectionName, else one targeting the whole Service.
   */
  forPort(namespace: string, service: string, port: ServicePort): PolicyState | undefined {
    const sections = this.winners.get(`${namespace}/${service}`);
    if (!sections) return undefined;
    return (port.name ? sections.get(port.name) : undefined) ?? sections.get('');
  }

  /** Whether any policy targets the Service. */
  targets(namespace: string, service: string): boolean {
    return this.winners.has(`${namespace}/${service}`);
  }

  /**
   * One status per policy, with an ancestor entry for each Gateway whose
   * traffic reaches a targeted Service port.
   */
  statuses(
    use: ClusterUse, controllerName: string, finalise: Finalise,
    prior: (namespace: string, name: string) => Record<string, unknown> | undefined,
  ): StatusEntry[] {
    return this.states.map((s) => {
      const meta = s.policy.metadata;
      const conditions = policyConditions(s, meta.generation);
      const before = (prior(s.namespace, meta.name)?.ancestors ?? []) as AncestorEntry[];
      const ancestors = use.ancestorsOf(s).map((gw): AncestorEntry => {
        const ancestorRef = { group: GATEWAY_GROUP, kind: 'Gateway', namespace: gw.namespace, name: gw.gateway.metadata.name };
        const previous = before.find((b) => b.controllerName === controllerName && b.ancestorRef.namespace === ancestorRef.namespace
          && b.ancestorRef.name === ancestorRef.name && b.ancestorRef.kind === ancestorRef.kind);
        return { ancestorRef, controllerName, conditions: finalise(conditions, previous?.conditions) };
      });
      return {
        apiVersion: `${GATEWAY_GROUP}/v1`,
        kind: 'BackendTLSPolicy',
        metadata: { name: meta.name, namespace: s.namespace, generation: meta.generation },
        status: { ancestors },
      };
    });
  }
}

function validatePolicy(policy: BackendTLSPolicy, configMaps: Map<string, ConfigMap>): PolicyState {
  const namespace = policy.metadata.namespace ?? 'default';
  const state: PolicyState = { policy, namespace, conflicts: [] };
  const validation = policy.spec?.validation;
  if (!validation) {
    state.invalid = { reason: Reason.Invalid, message: 'spec.validation is required' };
    return state;
  }
  const refs = validation.caCertificateRefs ?? [];
  let caPem: string | undefined;
  if (refs.length > 0) {
    const bundles: string[] = [];
    const problems: Problem[] = [];
    for (const ref of refs) {
      const what = `caCertificateRef ${ref.group || 'core'}/${ref.kind} ${ref.name}`;
      if (ref.group !== '' || ref.kind !== 'ConfigMap') {
        problems.push({ reason: Reason.InvalidKind, message: `${what}: only core ConfigMaps are supported` });
        continue;
      }
      const configMap = configMaps.get(objectKey(namespace, ref.name));
      if (!configMap) {
        problems.push({ reason: Reason.InvalidCACertificateRef, message: `${what}: ConfigMap not found` });
        continue;
      }
      const pem = configMap.data?.['ca.crt'];
      const problem = checkCABundle(pem);
      if (problem) problems.push({ reason: Reason.InvalidCACertificateRef, message: `${what}: ca.crt ${problem}` });
      else bundles.push(pem!);
    }
    if (problems.length > 0) state.unresolved = { reason: problems[0]!.reason, message: problems.map((p) => p.message).join('; ') };
    if (bundles.length === 0) {
      state.invalid = { reason: Reason.NoValidCACertificate, message: `No valid CA certificate: ${state.unresolved!.message}` };
      return state;
    }
    caPem = bundles.join('\n');
  } else if (validation.wellKnownCACertificates !== 'System') {
    state.invalid = {
      reason: Reason.Invalid,
      message: validation.wellKnownCACertificates
        ? `wellKnownCACertificates ${validation.wellKnownCACertificates} is not supported; use System or caCertificateRefs`
        : 'validation needs caCertificateRefs or wellKnownCACertificates',
    };
    return state;
  }
  const tls: IRUpstreamTLS = { serverName: validation.hostname };
  if (caPem !== undefined) tls.caPem = caPem;
  const sans = (validation.subjectAltNames ?? []).map((san) => (san.type === 'URI'
    ? { type: 'URI' as const, value: san.uri ?? '' }
    : { type: 'Hostname' as const, value: san.hostname ?? '' }));
  if (sans.length > 0) tls.subjectAltNames = sans;
  state.tls = tls;
  return state;
}

function policyConditions(s: PolicyState, gen: number | undefined): PendingCondition[] {
  // A policy that lost a target has no effect there, whatever else is wrong with it.
  let accepted: PendingCondition;
  if (s.conflicts.length > 0) accepted = condition(CondType.Accepted, false, Reason.Conflicted, s.conflicts.join('; '), gen);
  else if (s.invalid) accepted = condition(CondType.Accepted, false, s.invalid.reason, s.invalid.message, gen);
  else accepted = condition(CondType.Accepted, true, Reason.Accepted, 'Policy is accepted', gen);
  const resolvedRefs = s.unresolved
    ? condition(CondType.ResolvedRefs, false, s.unresolved.reason, s.unresolved.message, gen)
    : condition(CondType.ResolvedRefs, true, Reason.ResolvedRefs, 'All references are resolved', gen);
  return [accepted, resolvedRefs];
}

/**
 * The clusters a translation's servers use, gathered Gateway by Gateway (see
 * GatewayClusters), and which Gateways' traffic reaches each Service port
 * that policies target.
 */
export class ClusterUse {
  /** The IR's clusters. */
  readonly clusters: Record<string, IRCluster> = {};
  /** `namespace/service` → port name → the Gateways whose HTTP or TLS-terminated traffic goes there. */
  private readonly reached = new Map<string, Map<string, Set<GatewayState>>>();

  constructor(readonly resolver: BackendResolver) {}

  forGateway(gateway: GatewayState): GatewayClusters {
    return new GatewayClusters(this, gateway);
  }

  /**
   * Registers the cluster `gateway` sends to for `name` and returns its name:
   * the Gateway's variant of a TLS cluster when it has a client certificate.
   * `secured`: traffic a BackendTLSPolicy applies to (HTTP, TLS-terminated).
   */
  use(name: string, gateway: GatewayState, secured: boolean): string {
    const cluster = this.resolver.clusters[name]!;
    if (secured) this.reach(name, gateway);
    const certificate = gateway.backendClientCertificate;
    if (!secured || !cluster.tls || !certificate) {
      this.clusters[name] = cluster;
      return name;
    }
    // Connections that present the certificate are not interchangeable with others: a cluster (and pool) of their own.
    const variant = `${name}/client:${certificate.secret}`;
    this.clusters[variant] ??= {
      ...cluster, name: variant, tls: { ...cluster.tls, clientCertificate: { certPem: certificate.certPem, keyPem: certificate.keyPem } },
    };
    return variant;
  }

  private reach(name: string, gateway: GatewayState): void {
    const origin = this.resolver.origin(name);
    if (!origin || !this.resolver.backendTLS.targets(origin.namespace, origin.service)) return;
    const ports = nested(this.reached, `${origin.namespace}/${origin.service}`);
    const gateways = ports.get(origin.port.name ?? '') ?? new Set();
    gateways.add(gateway);
    ports.set(origin.port.name ?? '', gateways);
  }

  /** The Gateways whose traffic reaches a port the policy targets, by namespace/name. */
  ancestorsOf(s: PolicyState): GatewayState[] {
    const out = new Set<GatewayState>();
    for (const ref of s.policy.spec?.targetRefs ?? []) {
      if (!targetedService(ref)) continue;
      const ports = this.reached.get(`${s.namespace}/${ref.name}`);
      for (const [port, gateways] of ports ?? []) {
        if (ref.sectionName === undefined || ref.sectionName === port) for (const g of gateways) out.add(g);
      }
    }
    return [...out].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }
}

/**
 * What one Gateway's servers send where. Routes are compiled once for every
 * Gateway they attach to, naming the clusters backend references resolved
 * to; a Gateway with a client certificate sends to its own variants of TLS
 * clusters, so its routes that name one are copied with the names changed.
 */
export class GatewayClusters {
  /** Routes as this Gateway serves them, so a route in several virtual hosts is copied once. */
  private readonly rewritten = new Map<IRRoute, IRRoute>();

  constructor(private readonly use: ClusterUse, private readonly gateway: GatewayState) {}

  /** An HTTP virtual host whose routes name the clusters `names`. */
  virtualHost(host: IRVirtualHost, names: readonly string[]): IRVirtualHost {
    let renamed: Map<string, string> | undefined;
    for (const name of names) {
      const used = this.use.use(name, this.gateway, true);
      if (used !== name) (renamed ??= new Map()).set(name, used);
    }
    if (!renamed) return host;
    const rename = renamed;
    return { hostname: host.hostname, routes: host.routes.map((r) => this.rewrite(r, rename)) };
  }

  /** A stream route's backends: sent over TLS where a policy says so when TLS is terminated here, else as they are. */
  streamBackends(backends: IRStreamBackend[], terminated: boolean): IRStreamBackend[] {
    let out: IRStreamBackend[] | undefined;
    backends.forEach((b, i) => {
      if (!b.cluster) return;
      const used = this.use.use(terminated ? this.use.resolver.reencrypted(b.cluster) : b.cluster, this.gateway, terminated);
      if (used !== b.cluster) (out ??= backends.slice())[i] = { ...b, cluster: used };
    });
    return out ?? backends;
  }

  private rewrite(route: IRRoute, rename: Map<string, string>): IRRoute {
    let copy = this.rewritten.get(route);
    if (copy) return copy;
    copy = route;
    const action = route.action;
    if (action.type === 'forward' && action.backends.some((b) => b.cluster !== undefined && rename.has(b.cluster))) {
      copy = { ...copy, action: { ...action, backends: action.backends.map((b) => (b.cluster !== undefined && rename.has(b.cluster) ? { ...b, cluster: rename.get(b.cluster)! } : b)) } };
    }
    if (route.mirrors?.some((m) => rename.has(m.cluster))) {
      copy = { ...copy, mirrors: route.mirrors.map((m) => (rename.has(m.cluster) ? { ...m, cluster: rename.get(m.cluster)! } : m)) };
    }
    this.rewritten.set(route, copy);
    return copy;
  }
}
