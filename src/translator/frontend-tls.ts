// Client certificate validation for a Gateway's HTTPS listeners (GEP-91,
// Gateway spec.tls.frontend): a default, overridden per port. One socket
// serves every listener of a port, so validation is decided per port and the
// listeners sharing it can never disagree (a coalesced connection could
// otherwise skip another listener's validation, GEP-3567).

import type { IRClientValidation } from '../ir/types.js';
import type { FrontendTLSSettings, Gateway, Snapshot } from '../resources/types.js';
import { checkCABundle } from './certificates.js';
import { Reason } from './conditions.js';
import type { Problem } from './gateways.js';
import { referencePermitted, type ReferenceFrom } from './references.js';

/** What one port's validation settings resolve to. */
export interface PortValidation {
  /** Enforced by the data plane: absent when no CA reference is usable. */
  clientValidation?: IRClientValidation;
  /** Why some CA reference is unusable: ResolvedRefs False on the port's HTTPS listeners. */
  problem?: Problem;
  /** No CA reference is usable: the port's HTTPS listeners are not accepted. */
  rejected?: Problem;
}

export interface FrontendTLS {
  default: PortValidation | undefined;
  /** Ports with their own settings; a port listed without validation has none, whatever the default. */
  perPort: ReadonlyMap<number, PortValidation | undefined>;
  /** Where AllowInsecureFallback is set (`default`, `port 8443`), for the Gateway's InsecureFrontendValidationMode condition. */
  insecure: string[];
}

/** When several references fail, the reason reported is the first of these that occurs. */
const REASON_PRECEDENCE = [Reason.RefNotPermitted, Reason.InvalidCACertificateKind, Reason.InvalidCACertificateRef];

export function resolveFrontendTLS(gateway: Gateway, from: ReferenceFrom, snapshot: Snapshot): FrontendTLS {
  const frontend = gateway.spec!.tls?.frontend;
  const insecure: string[] = [];
  const resolve = (where: string, settings: FrontendTLSSettings) => {
    if (settings.validation?.mode === 'AllowInsecureFallback') insecure.push(where);
    return resolveSettings(where, settings, from, snapshot);
  };
  const perPort = new Map<number, PortValidation | undefined>();
  const resolved = frontend && resolve('default', frontend.default);
  for (const p of frontend?.perPort ?? []) perPort.set(p.port, resolve(`port ${p.port}`, p.tls));
  return { default: resolved, perPort, insecure };
}

/** The validation of the HTTPS listeners on `port`; undefined when they validate no client certificates. */
export function validationForPort(frontend: FrontendTLS, port: number): PortValidation | undefined {
  return frontend.perPort.has(port) ? frontend.perPort.get(port) : frontend.default;
}

function resolveSettings(where: string, settings: FrontendTLSSettings, from: ReferenceFrom, snapshot: Snapshot): PortValidation | undefined {
  const validation = settings.validation;
  if (!validation) return undefined;
  const bundles: string[] = [];
  const problems: Problem[] = [];
  for (const ref of validation.caCertificateRefs) {
    const result = resolveCARef(ref, from, snapshot);
    if (typeof result === 'string') bundles.push(result);
    else problems.push(result);
  }
  const out: PortValidation = {};
  if (bundles.length > 0) out.clientValidation = { caPem: bundles.join('\n'), mode: validation.mode ?? 'AllowValidOnly' };
  if (problems.length > 0) {
    const reason = REASON_PRECEDENCE.find((r) => problems.some((p) => p.reason === r))!;
    out.problem = { reason, message: `spec.tls.frontend ${where}: ${problems.map((p) => p.message).join('; ')}` };
    if (bundles.length === 0) {
      out.rejected = { reason: Reason.NoValidCACertificate, message: `spec.tls.frontend ${where}: no caCertificateRef is usable` };
    }
  }
  return out;
}

/** The PEM bundle a reference names (a core ConfigMap's or Secret's `ca.crt`), or why it cannot be used. */
function resolveCARef(
  ref: { group: string; kind: string; name: string; namespace?: string }, from: ReferenceFrom, snapshot: Snapshot,
): string | Problem {
  const namespace = ref.namespace ?? from.namespace;
  const what = `caCertificateRef ${ref.group || 'core'}/${ref.kind} ${namespace}/${ref.name}`;
  if (ref.group !== '' || (ref.kind !== 'ConfigMap' && ref.kind !== 'Secret')) {
    return { reason: Reason.InvalidCACertificateKind, message: `${what}: only core ConfigMaps and Secrets are supported` };
  }
  if (!referencePermitted(from, { group: '', kind: ref.kind, namespace, name: ref.name }, snapshot.referenceGrants)) {
    return { reason: Reason.RefNotPermitted, message: `${what}: no ReferenceGrant in ${namespace} allows ${from.kind}s from ${from.namespace} to reference it` };
  }
  const objects = ref.kind === 'ConfigMap' ? snapshot.configMaps : snapshot.secrets;
  const found = objects.find((o) => o.metadata.namespace === namespace && o.metadata.name === ref.name);
  if (!found) return { reason: Reason.InvalidCACertificateRef, message: `${what}: ${ref.kind} not found` };
  const pem = found.data?.['ca.crt'];
  const problem = checkCABundle(pem);
  return problem ? { reason: Reason.InvalidCACertificateRef, message: `${what}: ca.crt ${problem}` } : pem!;
}
