import { isIP } from 'node:net';
import type { IRClientValidation } from '../ir/types.js';
import type {
  Gateway, GatewayClass, ListenerSet, ListenerSpec, Namespace, RouteGroupKind, Snapshot,
} from '../resources/types.js';
import { resolveCertificateRef } from './certificates.js';
import { CondType, Reason, condition, type PendingCondition } from './conditions.js';
import { resolveFrontendTLS, validationForPort, type FrontendTLS } from './frontend-tls.js';
import { hostnamesOverlap } from './hostnames.js';
import { namespaceSelected } from './namespaces.js';
import { SUPPORTED_FEATURES } from './features.js';
import type { TranslateOptions } from './types.js';

export const GATEWAY_GROUP = 'gateway.networking.k8s.io';

/** Route kinds each listener protocol can carry, in the order reported in supportedKinds. */
const ROUTE_KINDS_BY_PROTOCOL: Record<string, string[]> = {
  HTTP: ['HTTPRoute', 'GRPCRoute'],
  HTTPS: ['HTTPRoute', 'GRPCRoute'],
  TLS: ['TLSRoute'],
  TCP: ['TCPRoute'],
  UDP: ['UDPRoute'],
};

/** The transport a listener's socket speaks: listeners of different transports never share a socket. */
export function transportOf(protocol: string): 'TCP' | 'UDP' {
  return protocol === 'UDP' ? 'UDP' : 'TCP';
}

/** HTTPS listeners, and TLS ones unless in Passthrough mode (the mode defaults to Terminate), hold certificates. */
export function terminatesTLS(spec: ListenerSpec): boolean {
  return (spec.protocol === 'HTTPS' || spec.protocol === 'TLS') && spec.tls?.mode !== 'Passthrough';
}

export interface Problem { reason: string; message: string }

/** The object that declares a listener: its Gateway, or a ListenerSet attached to it. */
export interface ListenerOwner {
  kind: 'Gateway' | 'ListenerSet';
  namespace: string;
  name: string;
}

export interface ListenerState {
  gateway: GatewayState;
  owner: ListenerOwner;
  spec: ListenerSpec;
  supportedKinds: Required<RouteGroupKind>[];
  /** Unsupported protocol or value, or a conflict: such a listener takes no routes. */
  acceptProblem?: Problem;
  conflict?: Problem;
  refsProblem?: Problem;
  /** Another Gateway already holds this listener's address and port. */
  portProblem?: Problem;
  overlappingTLS?: string;
  /**
   * What the listener serves: the first certificate that loads, else, when
   * every problem is in a Secret's content, what the first such Secret holds.
   * The data plane fails to load that and keeps the last certificate it
   * loaded for the listener, so a bad rotation does not take it down.
   */
  certificate?: { certPem: string; keyPem: string };
  /**
   * 'reference': some certificateRef is missing, not permitted or of another
   * kind, and the listener is not served. 'content': only Secrets' content
   * is invalid (see `certificate`).
   */
  certificateProblem?: 'reference' | 'content';
  /** Client certificate validation of the listener's port (HTTPS only). */
  clientValidation?: IRClientValidation;
  attachedRoutes: number;
  /** How many of attachedRoutes are GRPCRoutes: with HTTPRoutes beside them, the two kinds may conflict. */
  attachedGRPCRoutes: number;
}

export interface GatewayState {
  gateway: Gateway;
  key: string;
  namespace: string;
  /** The Gateway's own listeners. */
  listeners: ListenerState[];
  /** ListenerSets whose parentRef names this Gateway, in precedence order. */
  listenerSets: ListenerSetState[];
  addresses: string[];
  acceptProblem?: Problem;
  addressProblem?: Problem;
  frontend: FrontendTLS;
  /** spec.tls.backend.clientCertificateRef resolved: presented to the backends BackendTLSPolicies make TLS. */
  backendClientCertificate?: { secret: string; certPem: string; keyPem: string };
  /** Why spec.tls.backend.clientCertificateRef did not resolve. */
  backendTLSProblem?: Problem;
}

export interface ListenerSetState {
  listenerSet: ListenerSet;
  key: string;
  namespace: string;
  gateway: GatewayState;
  listeners: ListenerState[];
  /** Why the ListenerSet is not attached to its Gateway at all. */
  problem?: Problem;
}

export interface GatewayClassState {
  gatewayClass: GatewayClass;
  accepted: boolean;
  conditions: PendingCondition[];
}

export function objectKey(namespace: string | undefined, name: string): string {
  return namespace ? `${namespace}/${name}` : name;
}

interface Aged { metadata: { creationTimestamp?: string; namespace?: string; name: string } }

/** Oldest first, then by namespace/name: the order that decides who wins a conflict. */
export function byAge(a: Aged, b: Aged): number {
  const ka = ageKey(a);
  const kb = ageKey(b);
  return ka < kb ? -1 : ka > kb ? 1 : 0;
}

/**
 * A string that sorts as byAge does (no timestamp holds the NUL that ends
 * it), for sorts that would otherwise rebuild it on every comparison.
 */
export function ageKey(o: Aged): string {
  return `${o.metadata.creationTimestamp ?? ''}\u0000${objectKey(o.metadata.namespace, o.metadata.name)}`;
}

export function translateGatewayClasses(snapshot: Snapshot, options: TranslateOptions): GatewayClassState[] {
  return snapshot.gatewayClasses
    .filter((gc) => gc.spec?.controllerName === options.controllerName)
    .map((gc) => {
      const gen = gc.metadata.generation;
      const accepted = !gc.spec?.parametersRef;
      const conditions = [
        accepted
          ? condition(CondType.Accepted, true, Reason.Accepted, 'GatewayClass is accepted by Archway', gen)
          : condition(CondType.Accepted, false, Reason.InvalidParameters,
            'spec.parametersRef is not supported: Archway takes no GatewayClass parameters', gen),
        condition(CondType.SupportedVersion, true, Reason.SupportedVersion,
          'Gateway API CRDs at v1.6 are supported', gen),
      ];
      return { gatewayClass: gc, accepted, conditions };
    });
}

export function supportedFeaturesStatus(): { name: string }[] {
  return [...SUPPORTED_FEATURES].sort().map((name) => ({ name }));
}

/**
 * Validates every Gateway of an accepted class of ours and its listeners:
 * protocols, route kinds, certificates, conflicts within the Gateway and
 * address:port collisions between Gateways.
 */
export function translateGateways(
  snapshot: Snapshot, classes: GatewayClassState[], options: TranslateOptions,
): GatewayState[] {
  const classByName = new Map(classes.map((c) => [c.gatewayClass.metadata.name, c]));
  const gateways = snapshot.gateways
    .filter((g) => g.spec && classByName.has(g.spec.gatewayClassName))
    .sort(byAge);
  const states = gateways.map((gw) => buildGatewayState(gw, classByName.get(gw.spec!.gatewayClassName)!, snapshot, options));
  attachListenerSets(states, snapshot);
  for (const gw of states) markListenerConflicts(mergedListeners(gw));
  markPortCollisions(states);
  return states;
}

/**
 * The Gateway's listeners followed by those of its attached ListenerSets:
 * the precedence order the ListenerSet spec gives for resolving conflicts.
 */
export function mergedListeners(gw: GatewayState): ListenerState[] {
  return [...gw.listeners, ...gw.listenerSets.filter((ls) => !ls.problem).flatMap((ls) => ls.listeners)];
}

function attachListenerSets(states: GatewayState[], snapshot: Snapshot): void {
  const byKey = new Map(states.map((g) => [g.key, g]));
  const namespaces = new Map(snapshot.namespaces.map((n) => [n.metadata.name, n]));
  for (const ls of [...snapshot.listenerSets].sort(byAge)) {
    const namespace = ls.metadata.namespace ?? 'default';
    const ref = ls.spec?.parentRef;
    if (!ref || (ref.group ?? GATEWAY_GROUP) !== GATEWAY_GROUP || (ref.kind ?? 'Gateway') !== 'Gateway') continue;
    const gateway = byKey.get(objectKey(ref.namespace ?? namespace, ref.name));
    if (!gateway) continue;
    const state: ListenerSetState = {
      listenerSet: ls, key: objectKey(namespace, ls.metadata.name), namespace, gateway, listeners: [],
    };
    gateway.listenerSets.push(state);
    if (!listenerSetAllowed(gateway, namespace, namespaces)) {
      state.problem = { reason: Reason.NotAllowed, message: `Gateway ${gateway.key} does not allow ListenerSets from namespace ${namespace} (spec.allowedListeners)` };
      continue;
    }
    if (gateway.acceptProblem) {
      state.problem = { reason: Reason.ParentNotAccepted, message: `Gateway ${gateway.key} is not accepted: ${gateway.acceptProblem.message}` };
      continue;
    }
    const owner: ListenerOwner = { kind: 'ListenerSet', namespace, name: ls.metadata.name };
    state.listeners = (ls.spec?.listeners ?? []).map((spec) => buildListenerState(gateway, owner, spec, snapshot));
  }
}

function listenerSetAllowed(gateway: GatewayState, namespace: string, namespaces: Map<string, Namespace>): boolean {
  const allowed = gateway.gateway.spec!.allowedListeners?.namespaces;
  return namespaceSelected(allowed?.from ?? 'None', allowed?.selector, gateway.namespace, namespace, namespaces);
}

function buildGatewayState(
  gw: Gateway, gwClass: GatewayClassState, snapshot: Snapshot, options: TranslateOptions,
): GatewayState {
  const namespace = gw.metadata.namespace ?? 'default';
  const state: GatewayState = {
    gateway: gw, key: objectKey(namespace, gw.metadata.name), namespace, listeners: [], listenerSets: [], addresses: [],
    frontend: resolveFrontendTLS(gw, { group: GATEWAY_GROUP, kind: 'Gateway', namespace }, snapshot),
  };
  if (!gwClass.accepted) {
    state.acceptProblem = { reason: Reason.Invalid, message: `GatewayClass ${gwClass.gatewayClass.metadata.name} is not accepted` };
  } else if (gw.spec!.infrastructure?.parametersRef) {
    const ref = gw.spec!.infrastructure.parametersRef;
    state.acceptProblem = {
      reason: Reason.InvalidParameters,
      message: `spec.infrastructure.parametersRef ${ref.group || 'core'}/${ref.kind} ${ref.name} is not supported: Archway takes no Gateway parameters`,
    };
  }
  resolveAddresses(state, options);
  resolveBackendClientCertificate(state, snapshot);
  const owner: ListenerOwner = { kind: 'Gateway', namespace, name: gw.metadata.name };
  state.listeners = gw.spec!.listeners.map((spec) => buildListenerState(state, owner, spec, snapshot));
  return state;
}

function resolveAddresses(state: GatewayState, options: TranslateOptions): void {
  const requested = state.gateway.spec!.addresses ?? [];
  const explicit: string[] = [];
  let wantsAssigned = requested.length === 0;
  for (const a of requested) {
    const type = a.type ?? 'IPAddress';
    if (type !== 'IPAddress') {
      state.addressProblem = { reason: Reason.UnsupportedAddress, message: `address type ${type} is not supported; use IPAddress` };
      return;
    }
    if (!a.value) { wantsAssigned = true; continue; }
    if (isIP(a.value) === 0) {
      state.addressProblem = { reason: Reason.UnsupportedAddress, message: `address ${a.value} is not a valid IP address` };
      return;
    }
    explicit.push(a.value);
  }
  if (wantsAssigned) {
    const assigned = options.poolAssignments ? options.poolAssignments[state.key] : options.bindAddress;
    if (!assigned) {
      state.addressProblem = { reason: Reason.AddressNotAssigned, message: 'the address pool has no free address for this Gateway' };
      return;
    }
    explicit.push(assigned);
  }
  state.addresses = [...new Set(explicit)];
}

function resolveBackendClientCertificate(state: GatewayState, snapshot: Snapshot): void {
  const ref = state.gateway.spec!.tls?.backend?.clientCertificateRef;
  if (!ref) return;
  const resolved = resolveCertificateRef(ref, { group: GATEWAY_GROUP, kind: 'Gateway', namespace: state.namespace }, snapshot);
  if (resolved.ok) {
    state.backendClientCertificate = { secret: objectKey(ref.namespace ?? state.namespace, ref.name), certPem: resolved.certPem, keyPem: resolved.keyPem };
  } else {
    state.backendTLSProblem = {
      reason: resolved.permitted ? Reason.InvalidClientCertificateRef : Reason.RefNotPermitted,
      message: `spec.tls.backend.clientCertificateRef ${resolved.message}`,
    };
  }
}

function buildListenerState(gateway: GatewayState, owner: ListenerOwner, spec: ListenerSpec, snapshot: Snapshot): ListenerState {
  const listener: ListenerState = { gateway, owner, spec, supportedKinds: [], attachedRoutes: 0, attachedGRPCRoutes: 0 };
  const kindsForProtocol = ROUTE_KINDS_BY_PROTOCOL[spec.protocol];
  if (!kindsForProtocol) {
    listener.acceptProblem = {
      reason: Reason.UnsupportedProtocol,
      message: `protocol ${spec.protocol} is not supported; supported protocols are ${Object.keys(ROUTE_KINDS_BY_PROTOCOL).join(', ')}`,
    };
    return listener;
  }
  resolveRouteKinds(listener, kindsForProtocol);
  if (spec.protocol === 'HTTPS' && spec.tls?.mode === 'Passthrough') {
    listener.acceptProblem = { reason: Reason.UnsupportedValue, message: 'tls.mode Passthrough is not valid on an HTTPS listener' };
  } else if (terminatesTLS(spec)) {
    resolveCertificate(listener, snapshot);
  }
  if (spec.protocol === 'HTTPS') {
    const frontend = validationForPort(gateway.frontend, spec.port);
    listener.clientValidation = frontend?.clientValidation;
    if (frontend?.problem) listener.refsProblem = joinProblems(listener.refsProblem, frontend.problem);
    if (frontend?.rejected) listener.acceptProblem ??= frontend.rejected;
  }
  return listener;
}

/** One ResolvedRefs condition reports both: the reason of the first, the messages of both. */
function joinProblems(first: Problem | undefined, second: Problem): Problem {
  return first ? { reason: first.reason, message: `${first.message}; ${second.message}` } : second;
}

function resolveRouteKinds(listener: ListenerState, kindsForProtocol: string[]): void {
  const requested = listener.spec.allowedRoutes?.kinds;
  if (!requested || requested.length === 0) {
    listener.supportedKinds = kindsForProtocol.map((kind) => ({ group: GATEWAY_GROUP, kind }));
    return;
  }
  const invalid: string[] = [];
  for (const k of requested) {
    const group = k.group ?? GATEWAY_GROUP;
    if (group === GATEWAY_GROUP && kindsForProtocol.includes(k.kind)) {
      if (!listener.supportedKinds.some((s) => s.kind === k.kind)) listener.supportedKinds.push({ group, kind: k.kind });
    } else {
      invalid.push(`${group || 'core'}/${k.kind}`);
    }
  }
  if (invalid.length > 0) {
    listener.refsProblem = {
      reason: Reason.InvalidRouteKinds,
      message: `route kinds ${invalid.join(', ')} are not supported on ${listener.spec.protocol} listeners; supported: ${kindsForProtocol.join(', ')}`,
    };
  }
}

function resolveCertificate(listener: ListenerState, snapshot: Snapshot): void {
  const refs = listener.spec.tls?.certificateRefs ?? [];
  if (refs.length === 0) {
    const what = listener.spec.protocol === 'HTTPS' ? 'an HTTPS listener' : 'a TLS listener in mode Terminate';
    listener.refsProblem = { reason: Reason.InvalidCertificateRef, message: `${what} needs tls.certificateRefs` };
    listener.certificateProblem = 'reference';
    return;
  }
  const from = { group: GATEWAY_GROUP, kind: listener.owner.kind, namespace: listener.owner.namespace };
  const problems: Problem[] = [];
  let unloadable: { certPem: string; keyPem: string } | undefined;
  for (const ref of refs) {
    const resolved = resolveCertificateRef(ref, from, snapshot);
    if (resolved.ok) {
      listener.certificate ??= { certPem: resolved.certPem, keyPem: resolved.keyPem };
      continue;
    }
    problems.push({ reason: resolved.permitted ? Reason.InvalidCertificateRef : Reason.RefNotPermitted, message: `certificateRef ${resolved.message}` });
    if (resolved.content) unloadable ??= resolved.content;
    else listener.certificateProblem = 'reference';
  }
  if (problems.length > 0) {
    listener.certificateProblem ??= 'content';
    listener.certificate ??= unloadable;
    // RefNotPermitted takes precedence: it is the reason the spec mandates when a grant is missing.
    const reason = problems.some((p) => p.reason === Reason.RefNotPermitted) ? Reason.RefNotPermitted : Reason.InvalidCertificateRef;
    listener.refsProblem = { reason, message: problems.map((p) => p.message).join('; ') };
  }
}

/**
 * Listeners that share a port and transport must agree on protocol and
 * differ in hostname (TCP and UDP ones, which have none, cannot share).
 * Within one owner no listener wins a clash: all indistinct listeners are
 * conflicted (spec: "MUST NOT pick one conflicting Listener as the winner").
 * Across owners the ListenerSet precedence applies: listeners of the Gateway,
 * then of older ListenerSets, keep their ports and later ones are conflicted.
 */
function markListenerConflicts(listeners: ListenerState[]): void {
  const kept = new Map<number, ListenerState[]>();
  for (const group of groupByOwner(listeners)) {
    // Listeners with an unsupported protocol still clash (a conflict is the more
    // specific reason), but never hold a port against later owners.
    for (const l of group) l.conflict = clash(l, kept.get(l.spec.port) ?? []);
    const fresh = group.filter((l) => !l.conflict);
    const inner = fresh.map((l) => clash(l, fresh.filter((o) => o !== l && o.spec.port === l.spec.port)));
    fresh.forEach((l, i) => { l.conflict = inner[i]; });
    for (const l of fresh) {
      if (l.conflict || l.acceptProblem) continue;
      kept.set(l.spec.port, [...(kept.get(l.spec.port) ?? []), l]);
    }
  }
  for (const [port, group] of kept) {
    const https = group.filter((l) => l.spec.protocol === 'HTTPS');
    for (const l of https) {
      const overlapping = https.filter((o) => o !== l && hostnamesOverlap(o.spec.hostname ?? '*', l.spec.hostname ?? '*'));
      if (overlapping.length > 0) {
        l.overlappingTLS = `hostname ${l.spec.hostname ?? '(any)'} overlaps ${overlapping.map(listenerLabel).join(', ')} on port ${port}`;
      }
    }
  }
}

/**
 * Why `l` cannot share its port with `others`, or undefined when it can.
 * One socket serves one protocol, so HTTPS and TLS listeners (whose
 * connections only a ClientHello could tell apart) conflict too; TLS ones in
 * Terminate and Passthrough mode do not (TLSRouteModeMixed).
 */
function clash(l: ListenerState, others: ListenerState[]): Problem | undefined {
  const port = l.spec.port;
  const transport = transportOf(l.spec.protocol);
  const sharing = others.filter((o) => transportOf(o.spec.protocol) === transport);
  const otherProtocol = sharing.find((o) => o.spec.protocol !== l.spec.protocol);
  if (otherProtocol) {
    return { reason: Reason.ProtocolConflict, message: `port ${port} is also used with protocol ${otherProtocol.spec.protocol} by ${listenerLabel(otherProtocol)}` };
  }
  // TCP and UDP listeners have no hostname: they are told apart by port alone (spec: "Distinct Listeners").
  const hostnamed = transport === 'TCP' && l.spec.protocol !== 'TCP';
  const sameHostname = sharing.find((o) => !hostnamed || (o.spec.hostname ?? '') === (l.spec.hostname ?? ''));
  if (sameHostname) {
    const what = hostnamed ? `port ${port} and hostname ${l.spec.hostname ?? '(any)'} are` : `port ${port} is`;
    return { reason: Reason.HostnameConflict, message: `${what} also used by ${listenerLabel(sameHostname)}` };
  }
  return undefined;
}

function groupByOwner(listeners: ListenerState[]): ListenerState[][] {
  const groups: ListenerState[][] = [];
  for (const l of listeners) {
    const last = groups[groups.length - 1];
    if (last && last[0]!.owner === l.owner) last.push(l);
    else groups.push([l]);
  }
  return groups;
}

function listenerLabel(l: ListenerState): string {
  return l.owner.kind === 'Gateway' ? `listener ${l.spec.name}` : `listener ${l.spec.name} of ListenerSet ${l.owner.namespace}/${l.owner.name}`;
}

function isWildcardAddress(address: string): boolean {
  return address === '0.0.0.0' || address === '::';
}

/**
 * Two Gateways never share a socket: a listener whose address, port and
 * transport an older Gateway already binds is not programmed. A wildcard
 * address collides with every address on the same port, as the kernel would
 * refuse the bind.
 */
function markPortCollisions(states: GatewayState[]): void {
  const held: { address: string; port: number; transport: string; owner: string }[] = [];
  for (const gw of states) {
    if (gw.acceptProblem || gw.addressProblem) continue;
    const claimed: { address: string; port: number; transport: string }[] = [];
    for (const l of mergedListeners(gw)) {
      if (l.acceptProblem || l.conflict) continue;
      const transport = transportOf(l.spec.protocol);
      const socket = (address: string) => `${address}:${l.spec.port}${transport === 'UDP' ? '/udp' : ''}`;
      for (const address of gw.addresses) {
        const holder = held.find((h) => h.port === l.spec.port && h.transport === transport && h.owner !== gw.key
          && (h.address === address || isWildcardAddress(h.address) || isWildcardAddress(address)));
        if (holder) {
          l.portProblem = {
            reason: Reason.PortUnavailable,
            message: `${socket(address)} is already bound by Gateway ${holder.owner} (${socket(holder.address)})`,
          };
          break;
        }
        claimed.push({ address, port: l.spec.port, transport });
      }
    }
    for (const c of claimed) held.push({ ...c, owner: gw.key });
    const lost = mergedListeners(gw).filter((l) => l.portProblem);
    if (lost.length > 0) {
      gw.addressProblem = { reason: Reason.AddressNotUsable, message: lost.map((l) => `${listenerLabel(l)}: ${l.portProblem!.message}`).join('; ') };
    }
  }
}

/** A listener that can take routes (it may still fail to be programmed, e.g. for a bad certificate). */
function listenerAccepts(l: ListenerState): boolean {
  return !l.acceptProblem && !l.conflict && !l.gateway.acceptProblem;
}

/**
 * A listener that goes into the IR. One whose certificate only fails to load
 * does, so that the data plane keeps serving the last one that loaded.
 */
export function listenerServed(l: ListenerState): boolean {
  if (!listenerAccepts(l) || l.portProblem || l.gateway.addresses.length === 0) return false;
  return l.certificateProblem !== 'reference' && (!terminatesTLS(l.spec) || l.certificate !== undefined);
}

/** Served as configured. */
export function listenerProgrammed(l: ListenerState): boolean {
  return listenerServed(l) && l.certificateProblem === undefined;
}

export function listenerConditions(l: ListenerState, gen: number | undefined): PendingCondition[] {
  const accepted = l.conflict ?? l.acceptProblem ?? l.portProblem
    ?? (l.gateway.acceptProblem ? { reason: Reason.Invalid, message: l.gateway.acceptProblem.message } : undefined);
  const programmed = listenerProgrammed(l);
  const out = [
    accepted
      ? condition(CondType.Accepted, false, accepted.reason, accepted.message, gen)
      : condition(CondType.Accepted, true, Reason.Accepted, 'Listener is accepted', gen),
    l.conflict
      ? condition(CondType.Conflicted, true, l.conflict.reason, l.conflict.message, gen)
      : condition(CondType.Conflicted, false, Reason.NoConflicts, 'No conflicts', gen),
    l.refsProblem
      ? condition(CondType.ResolvedRefs, false, l.refsProblem.reason, l.refsProblem.message, gen)
      : condition(CondType.ResolvedRefs, true, Reason.ResolvedRefs, 'All references are resolved', gen),
    programmed
      ? condition(CondType.Programmed, true, Reason.Programmed, 'Listener is programmed', gen)
      : condition(CondType.Programmed, false, l.conflict?.reason ?? Reason.Invalid, notProgrammedMessage(l, accepted), gen),
  ];
  if (l.overlappingTLS) out.push(condition(CondType.OverlappingTLSConfig, true, Reason.OverlappingHostnames, l.overlappingTLS, gen));
  return out;
}

function notProgrammedMessage(l: ListenerState, accepted: Problem | undefined): string {
  const why = (accepted ?? l.refsProblem ?? l.gateway.addressProblem ?? { message: 'no address' }).message;
  return listenerServed(l)
    ? `Listener is not programmed with its current certificate: ${why}; it keeps the last certificate that loaded, if any`
    : `Listener is not programmed: ${why}`;
}

export function gatewayConditions(gw: GatewayState): PendingCondition[] {
  const gen = gw.gateway.metadata.generation;
  const invalidListeners = gw.listeners.filter(listenerInvalid);
  let accepted: PendingCondition;
  if (gw.acceptProblem) {
    accepted = condition(CondType.Accepted, false, gw.acceptProblem.reason, gw.acceptProblem.message, gen);
  } else if (gw.addressProblem?.reason === Reason.UnsupportedAddress) {
    accepted = condition(CondType.Accepted, false, gw.addressProblem.reason, gw.addressProblem.message, gen);
  } else if (invalidListeners.length === gw.listeners.length) {
    accepted = condition(CondType.Accepted, false, Reason.ListenersNotValid, 'No listener is valid', gen);
  } else if (invalidListeners.length > 0) {
    accepted = condition(CondType.Accepted, true, Reason.ListenersNotValid,
      `Gateway is accepted, but listeners ${invalidListeners.map((l) => l.spec.name).join(', ')} are not valid`, gen);
  } else {
    accepted = condition(CondType.Accepted, true, Reason.Accepted, 'Gateway is accepted', gen);
  }
  const anyProgrammed = gw.listeners.some(listenerProgrammed);
  let programmed: PendingCondition;
  if (gw.addressProblem) {
    programmed = condition(CondType.Programmed, false,
      gw.addressProblem.reason === Reason.AddressNotAssigned ? Reason.AddressNotAssigned : Reason.AddressNotUsable, gw.addressProblem.message, gen);
  } else if (accepted.status === 'False' || !anyProgrammed) {
    programmed = condition(CondType.Programmed, false, Reason.Invalid, 'No listener could be programmed', gen);
  } else {
    programmed = condition(CondType.Programmed, true, Reason.Programmed, `Serving on ${gw.addresses.join(', ')}`, gen);
  }
  const resolvedRefs = backendResolvedRefs(gw, gen);
  const conditions = resolvedRefs ? [accepted, programmed, resolvedRefs] : [accepted, programmed];
  if (gw.frontend.insecure.length > 0) {
    conditions.push(condition(CondType.InsecureFrontendValidationMode, true, Reason.ConfigurationChanged,
      `spec.tls.frontend accepts connections without a valid client certificate (AllowInsecureFallback) in ${gw.frontend.insecure.join(', ')}`, gen));
  }
  return conditions;
}

/**
 * The Gateway's own ResolvedRefs, given only when spec.tls.backend is set:
 * nothing else of the Gateway itself references other objects, and
 * listeners report their references on their own.
 */
function backendResolvedRefs(gw: GatewayState, gen: number | undefined): PendingCondition | undefined {
  if (!gw.gateway.spec!.tls?.backend?.clientCertificateRef) return undefined;
  if (gw.backendTLSProblem) return condition(CondType.ResolvedRefs, false, gw.backendTLSProblem.reason, gw.backendTLSProblem.message, gen);
  const unresolved = gw.listeners.filter((l) => l.refsProblem);
  if (unresolved.length > 0) {
    return condition(CondType.ResolvedRefs, false, Reason.ListenersNotResolved,
      `listeners ${unresolved.map((l) => l.spec.name).join(', ')} have unresolved references`, gen);
  }
  return condition(CondType.ResolvedRefs, true, Reason.ResolvedRefs, 'All references are resolved', gen);
}

/** A listener that fails validation or lost its port: it counts against its owner being fully valid. */
function listenerInvalid(l: ListenerState): boolean {
  return !listenerAccepts(l) || l.portProblem !== undefined;
}

export function listenerSetConditions(ls: ListenerSetState): PendingCondition[] {
  const gen = ls.listenerSet.metadata.generation;
  if (ls.problem) {
    return [
      condition(CondType.Accepted, false, ls.problem.reason, ls.problem.message, gen),
      condition(CondType.Programmed, false, ls.problem.reason, ls.problem.message, gen),
    ];
  }
  // A ListenerSet is judged by what it can serve: a listener with an unusable
  // certificate counts as not valid here (conformance ListenerSetReferenceGrant).
  const invalid = ls.listeners.filter((l) => !listenerProgrammed(l));
  if (invalid.length === ls.listeners.length) {
    const message = `No listener is valid: ${invalid.map((l) => `${l.spec.name}: ${(l.conflict ?? l.acceptProblem ?? l.portProblem ?? l.refsProblem)?.message ?? 'Gateway has no usable address'}`).join('; ')}`;
    return [
      condition(CondType.Accepted, false, Reason.ListenersNotValid, message, gen),
      condition(CondType.Programmed, false, Reason.ListenersNotValid, message, gen),
    ];
  }
  return [
    invalid.length > 0
      ? condition(CondType.Accepted, true, Reason.ListenersNotValid,
        `ListenerSet is accepted, but listeners ${invalid.map((l) => l.spec.name).join(', ')} are not valid`, gen)
      : condition(CondType.Accepted, true, Reason.Accepted, `ListenerSet is attached to Gateway ${ls.gateway.key}`, gen),
    condition(CondType.Programmed, true, Reason.Programmed, 'ListenerSet is programmed', gen),
  ];
}

/** Attached: selected by the Gateway and Accepted. */
export function listenerSetAttached(ls: ListenerSetState): boolean {
  return !ls.problem && ls.listeners.some(listenerProgrammed);
}
