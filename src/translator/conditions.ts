import type { Condition } from '../resources/types.js';

// Condition types and reasons exactly as spelled by the Gateway API (v1.6.1).
export const CondType = {
  Accepted: 'Accepted',
  Programmed: 'Programmed',
  ResolvedRefs: 'ResolvedRefs',
  Conflicted: 'Conflicted',
  OverlappingTLSConfig: 'OverlappingTLSConfig',
  PartiallyInvalid: 'PartiallyInvalid',
  SupportedVersion: 'SupportedVersion',
  InsecureFrontendValidationMode: 'InsecureFrontendValidationMode',
} as const;

export const Reason = {
  Accepted: 'Accepted',
  Programmed: 'Programmed',
  ResolvedRefs: 'ResolvedRefs',
  Invalid: 'Invalid',
  InvalidParameters: 'InvalidParameters',
  ListenersNotValid: 'ListenersNotValid',
  UnsupportedAddress: 'UnsupportedAddress',
  AddressNotUsable: 'AddressNotUsable',
  AddressNotAssigned: 'AddressNotAssigned',
  SupportedVersion: 'SupportedVersion',
  // listener
  UnsupportedProtocol: 'UnsupportedProtocol',
  UnsupportedValue: 'UnsupportedValue',
  PortUnavailable: 'PortUnavailable',
  HostnameConflict: 'HostnameConflict',
  ProtocolConflict: 'ProtocolConflict',
  NoConflicts: 'NoConflicts',
  InvalidCertificateRef: 'InvalidCertificateRef',
  InvalidRouteKinds: 'InvalidRouteKinds',
  RefNotPermitted: 'RefNotPermitted',
  OverlappingHostnames: 'OverlappingHostnames',
  // listener, client certificate validation (Gateway spec.tls.frontend; also InvalidCACertificateRef, NoValidCACertificate)
  InvalidCACertificateKind: 'InvalidCACertificateKind',
  // Gateway InsecureFrontendValidationMode
  ConfigurationChanged: 'ConfigurationChanged',
  // route
  NotAllowedByListeners: 'NotAllowedByListeners',
  NoMatchingListenerHostname: 'NoMatchingListenerHostname',
  NoMatchingParent: 'NoMatchingParent',
  InvalidKind: 'InvalidKind',
  BackendNotFound: 'BackendNotFound',
  // Gateway spec.tls.backend
  InvalidClientCertificateRef: 'InvalidClientCertificateRef',
  ListenersNotResolved: 'ListenersNotResolved',
  // BackendTLSPolicy
  Conflicted: 'Conflicted',
  NoValidCACertificate: 'NoValidCACertificate',
  InvalidCACertificateRef: 'InvalidCACertificateRef',
  // ListenerSet
  NotAllowed: 'NotAllowed',
  ParentNotAccepted: 'ParentNotAccepted',
} as const;

export type ConditionStatus = Condition['status'];

/** A condition without lastTransitionTime; that is filled in when statuses are finalised. */
export type PendingCondition = Omit<Condition, 'lastTransitionTime'>;

export function condition(
  type: string, status: boolean | ConditionStatus, reason: string, message: string, observedGeneration?: number,
): PendingCondition {
  const s: ConditionStatus = typeof status === 'boolean' ? (status ? 'True' : 'False') : status;
  return { type, status: s, reason, message, observedGeneration };
}

/**
 * Gives each condition its lastTransitionTime: kept from the previous
 * condition of the same type when the status did not change, else `now`.
 * Output is sorted by type so that status is deterministic. When nothing
 * changed, the previous array itself is returned: most statuses stay the
 * same from one translation to the next.
 */
export function finaliseConditions(
  next: PendingCondition[], previous: Condition[] | undefined, now: string,
): Condition[] {
  const sorted = next.every((c, i) => i === 0 || byType(next[i - 1]!, c) < 0) ? next : [...next].sort(byType);
  if (previous && sameConditions(sorted, previous)) return previous;
  return sorted.map((c) => {
    const prior = previous?.find((p) => p.type === c.type);
    const lastTransitionTime = prior && prior.status === c.status ? prior.lastTransitionTime : now;
    const out: Condition = { type: c.type, status: c.status, reason: c.reason, message: c.message, lastTransitionTime };
    if (c.observedGeneration !== undefined) out.observedGeneration = c.observedGeneration;
    return out;
  });
}

function byType(a: { type: string }, b: { type: string }): number {
  return a.type < b.type ? -1 : a.type > b.type ? 1 : 0;
}

function sameConditions(next: PendingCondition[], previous: Condition[]): boolean {
  if (next.length !== previous.length) return false;
  for (let i = 0; i < next.length; i++) {
    const c = next[i]!;
    const p = previous[i]!;
    if (c.type !== p.type || c.status !== p.status || c.reason !== p.reason || c.message !== p.message
      || c.observedGeneration !== p.observedGeneration) return false;
  }
  return true;
}
