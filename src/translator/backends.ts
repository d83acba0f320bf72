import type { IRCluster, IREndpoint } from '../ir/types.js';
import type { BackendObjectReference, EndpointSlice, ReferenceGrant, Service, ServicePort, Snapshot } from '../resources/types.js';
import { BackendTLSPolicies, type PolicyState } from './backendtlspolicies.js';
import { Reason } from './conditions.js';
import { GATEWAY_GROUP } from './gateways.js';
import { nested } from './maps.js';
import { referencePermitted } from './references.js';

export interface BackendProblem { reason: string; message: string }

export type BackendResolution =
  | { ok: true; cluster: IRCluster }
  | { ok: false; problem: BackendProblem };

/** The object that holds a backend reference: its kind and namespace decide what it may reference. */
export interface Referrer { kind: string; namespace: string }

/** What compiling a route needs of a BackendResolver. */
export type Resolver = Pick<BackendResolver, 'resolve'>;

/** What a Service port's protocol must be for a backend (HTTP needs TCP). */
export type Transport = 'TCP' | 'UDP';

/**
 * HTTP traffic, gRPC (HTTP/2 whatever the port's appProtocol says), or opaque
 * TCP or UDP streams whose application protocol is none of our business.
 */
type Use = 'HTTP' | 'GRPC' | Transport;

const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

/** The Service port a cluster leads to. */
export interface ClusterOrigin { namespace: string; service: string; port: ServicePort }

/**
 * Resolves route backendRefs to clusters. Clusters are shared: every
 * reference to the same Service port yields the same cluster object.
 */
export class BackendResolver {
  readonly clusters: Record<string, IRCluster> = {};
  /** Which Service ports are connected to over TLS, and how. */
  readonly backendTLS: BackendTLSPolicies;
  private readonly origins = new Map<string, ClusterOrigin>();
  private readonly services = new Map<string, Service>();
  /** EndpointSlices by namespace, then the Service they are labelled with. */
  private readonly slices = new Map<string | undefined, Map<string, EndpointSlice[]>>();
  /**
   * Successful resolutions by use, Service and port, so that the thousands of
   * references to one port cost a lookup each. By use, because a port HTTP
   * cannot speak to still carries streams.
   */
  private readonly resolved: Record<Use, Map<Service, Map<number, BackendResolution>>> = {
    HTTP: new Map(), GRPC: new Map(), TCP: new Map(), UDP: new Map(),
  };

  /** A copy: a resolver outlives its snapshot when the next one has the same Services and grants. */
  private readonly referenceGrants: ReferenceGrant[];

  constructor(snapshot: Snapshot) {
    this.referenceGrants = snapshot.referenceGrants.slice();
    this.backendTLS = new BackendTLSPolicies(snapshot);
    for (const s of snapshot.services) this.services.set(`${s.metadata.namespace}/${s.metadata.name}`, s);
    for (const slice of snapshot.endpointSlices) {
      const service = slice.metadata.labels?.[SERVICE_NAME_LABEL];
      if (service === undefined) continue;
      const byService = nested(this.slices, slice.metadata.namespace);
      const list = byService.get(service);
      if (list) list.push(slice);
      else byService.set(service, [slice]);
    }
  }

  /**
   * A backend for HTTP traffic: a TCP Service port whose appProtocol the data
   * plane speaks. The referrer's kind decides the protocol: a GRPCRoute's
   * backends (mirrors too) speak gRPC, which is HTTP/2.
   */
  resolve(ref: BackendObjectReference, from: Referrer): BackendResolution {
    return this.resolveFor(from.kind === 'GRPCRoute' ? 'GRPC' : 'HTTP', ref, from);
  }

  /** A backend for the bytes of TCP connections or UDP datagrams, as they come. */
  resolveStream(ref: BackendObjectReference, from: Referrer, transport: Transport): BackendResolution {
    return this.resolveFor(transport, ref, from);
  }

  private resolveFor(use: Use, ref: BackendObjectReference, from: Referrer): BackendResolution {
    const group = ref.group ?? '';
    const kind = ref.kind ?? 'Service';
    const namespace = ref.namespace ?? from.namespace;
    const what = `backendRef ${group || 'core'}/${kind} ${namespace}/${ref.name}`;
    if (group !== '' || kind !== 'Service') {
      return fail(Reason.InvalidKind, `${what}: only core Services are supported as backends`);
    }
    if (!referencePermitted(
      { group: GATEWAY_GROUP, kind: from.kind, namespace: from.namespace },
      { group: '', kind: 'Service', namespace, name: ref.name },
      this.referenceGrants,
    )) {
      return fail(Reason.RefNotPermitted, `${what}: no ReferenceGrant in ${namespace} allows ${from.kind}s from ${from.namespace} to reference it`);
    }
    const service = this.services.get(`${namespace}/${ref.name}`);
    if (!service) return fail(Reason.BackendNotFound, `${what}: Service not found`);
    if (ref.port === undefined) return fail(Reason.BackendNotFound, `${what}: port is required`);
    const known = this.resolved[use].get(service)?.get(ref.port);
    if (known) return known;
    // A Service may declare a port number twice, once per protocol (DNS does).
    const numbered = (service.spec?.ports ?? []).filter((p) => p.port === ref.port);
    if (numbered.length === 0) return fail(Reason.BackendNotFound, `${what}: Service has no port ${ref.port}`);
    const transport: Transport = use === 'UDP' ? 'UDP' : 'TCP';
    const servicePort = numbered.find((p) => (p.protocol ?? 'TCP') === transport);
    if (!servicePort) {
      const actual = numbered[0]!.protocol ?? 'TCP';
      return fail(Reason.BackendNotFound, `${what}: port ${ref.port} of the Service is ${actual}, not ${transport}`);
    }

    const http = use === 'HTTP' || use === 'GRPC';
    // Streams get their TLS cluster only where a listener terminates TLS (see reencrypted), which is not known here.
    const policy = http ? this.backendTLS.forPort(namespace, ref.name, servicePort) : undefined;
    if (!policy && http && !clusterProtocol(servicePort.appProtocol, false)) {
      return fail(Reason.UnsupportedProtocol, `${what}: appProtocol ${servicePort.appProtocol} of port ${ref.port} needs a BackendTLSPolicy`);
    }
    // TCP and UDP clusters of one port number lead to different endpoints, and
    // an HTTP/1.1 cluster and the HTTP/2 one gRPC needs are different clusters.
    const grpcOwn = use === 'GRPC' && clusterProtocol(servicePort.appProtocol, false) !== 'h2c';
    const name = `${namespace}/${ref.name}:${ref.port}${transport === 'UDP' ? '/udp' : ''}${grpcOwn ? '/h2c' : ''}`;
    const origin: ClusterOrigin = { namespace, service: ref.name, port: servicePort };
    const protocol = use === 'GRPC' ? 'h2c' : undefined;
    const cluster = policy ? this.tlsCluster(name, origin, policy, protocol) : this.plainCluster(name, origin, transport, protocol);
    const resolution: BackendResolution = { ok: true, cluster };
    nested(this.resolved[use], service).set(ref.port, resolution);
    return resolution;
  }

  /** The Service port of a cluster this resolver made. */
  origin(name: string): ClusterOrigin | undefined {
    return this.origins.get(name);
  }

  /**
   * The cluster for TLS-terminated streams to `name`, a cluster made for
   * streams: the TLS cluster of its Service port when a BackendTLSPolicy
   * applies there, else `name` itself.
   */
  reencrypted(name: string): string {
    const origin = this.origins.get(name);
    const policy = origin && this.backendTLS.forPort(origin.namespace, origin.service, origin.port);
    return policy ? this.tlsCluster(name, origin, policy).name : name;
  }

  /** `protocol` overrides what the port's appProtocol says. */
  private plainCluster(name: string, origin: ClusterOrigin, transport: Transport, protocol?: IRCluster['protocol']): IRCluster {
    let cluster = this.clusters[name];
    if (!cluster) {
      // Stream servers pass bytes whatever the cluster protocol says, so a port HTTP could not use gets the default.
      protocol ??= clusterProtocol(origin.port.appProtocol, false) ?? 'http1';
      cluster = { name, protocol, endpoints: this.endpointsFor(origin.namespace, origin.service, origin.port.name, transport) };
      this.register(cluster, origin);
    }
    return cluster;
  }

  /**
   * The cluster of the TCP Service port of `base` that a policy makes TLS.
   * An invalid policy's has no endpoints: connections must then fail with a
   * 5xx, never go out in plaintext (spec: BackendTLSPolicy).
   */
  private tlsCluster(base: string, origin: ClusterOrigin, policy: PolicyState, protocol?: IRCluster['protocol']): IRCluster {
    const name = `${base}/tls`;
    let cluster = this.clusters[name];
    if (!cluster) {
      protocol ??= clusterProtocol(origin.port.appProtocol, true);
      cluster = policy.tls
        ? { name, protocol, endpoints: this.endpointsFor(origin.namespace, origin.service, origin.port.name, 'TCP'), tls: policy.tls }
        : { name, protocol, endpoints: [] };
      this.register(cluster, origin);
    }
    return cluster;
  }

  private register(cluster: IRCluster, origin: ClusterOrigin): void {
    this.clusters[cluster.name] = cluster;
    this.origins.set(cluster.name, origin);
  }

  /**
   * Ready endpoints of the Service's slices whose port name and protocol
   * match the Service port's (kube-proxy semantics).
   */
  private endpointsFor(namespace: string, service: string, portName: string | undefined, transport: Transport): IREndpoint[] {
    const wanted = portName ?? '';
    const seen = new Set<string>();
    const out: IREndpoint[] = [];
    for (const slice of this.slices.get(namespace)?.get(service) ?? []) {
      const port = slice.ports?.find((p) => (p.name ?? '') === wanted && (p.protocol ?? 'TCP') === transport)?.port;
      if (port === undefined) continue;
      for (const ep of slice.endpoints ?? []) {
        if (ep.conditions?.ready === false) continue;
        for (const address of ep.addresses) {
          const key = `${address}|${port}`;
          if (seen.has(key)) continue;
          seen.add(key);
          out.push({ address, port });
        }
      }
    }
    return out.sort((a, b) => (a.address < b.address ? -1 : a.address > b.address ? 1 : a.port - b.port));
  }
}

// appProtocol values that mean TLS to the backend, which only a BackendTLSPolicy says how to verify.
const TLS_APP_PROTOCOLS = new Map<string, IRCluster['protocol']>([['kubernetes.io/wss', 'ws'], ['https', 'http1'], ['tls', 'http1']]);

/**
 * The upstream protocol for a Service port's appProtocol over TLS or not
 * (undefined: one that needs TLS, without it); other values are opaque
 * labels and mean HTTP/1.1. Over TLS, kubernetes.io/h2c is HTTP/2 by ALPN.
 */
function clusterProtocol(appProtocol: string | undefined, tls: true): IRCluster['protocol'];
function clusterProtocol(appProtocol: string | undefined, tls: boolean): IRCluster['protocol'] | undefined;
function clusterProtocol(appProtocol: string | undefined, tls: boolean): IRCluster['protocol'] | undefined {
  if (appProtocol === 'kubernetes.io/h2c') return 'h2c';
  if (appProtocol === 'kubernetes.io/ws') return 'ws';
  const secure = appProtocol === undefined ? undefined : TLS_APP_PROTOCOLS.get(appProtocol.toLowerCase());
  if (secure) return tls ? secure : undefined;
  return 'http1';
}

function fail(reason: string, message: string): BackendResolution {
  return { ok: false, problem: { reason, message } };
}
