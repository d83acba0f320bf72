import { X509Certificate, createPrivateKey } from 'node:crypto';
import type { SecretObjectReference, Snapshot } from '../resources/types.js';
import { referencePermitted, type ReferenceFrom } from './references.js';

export interface CertificateCheck {
  ok: boolean;
  /** Why the pair cannot be served, when not ok. */
  problem?: string;
  /** Earliest expiry, for logs and metrics. */
  notAfter?: string;
}

/**
 * Checks that a PEM certificate chain and private key parse and belong
 * together, so a broken Secret is reported on the listener instead of failing
 * inside the data plane.
 */
export function checkCertificatePair(certPem: string | undefined, keyPem: string | undefined): CertificateCheck {
  if (!certPem) return { ok: false, problem: 'tls.crt is missing or empty' };
  if (!keyPem) return { ok: false, problem: 'tls.key is missing or empty' };
  let leaf: X509Certificate;
  try {
    leaf = new X509Certificate(certPem);
  } catch (err) {
    return { ok: false, problem: `tls.crt is not a valid PEM certificate: ${(err as Error).message}` };
  }
  try {
    const key = createPrivateKey(keyPem);
    if (!leaf.checkPrivateKey(key)) return { ok: false, problem: 'tls.key does not match the certificate in tls.crt' };
  } catch (err) {
    return { ok: false, problem: `tls.key is not a valid PEM private key: ${(err as Error).message}` };
  }
  return { ok: true, notAfter: leaf.validTo };
}

// A broken bundle is reported on its referrer instead of failing handshakes.
export { checkCABundle } from '../util/pem.js';

export type CertificateRefResolution =
  | { ok: true; certPem: string; keyPem: string }
  /**
   * `permitted` is false when only a missing ReferenceGrant stands in the way (reason RefNotPermitted).
   * `content` is what the Secret holds when it was found but does not load.
   */
  | { ok: false; permitted: boolean; message: string; content?: { certPem: string; keyPem: string } };

/**
 * A Secret holding a certificate and its key (`tls.crt`, `tls.key`),
 * referenced from `from`: core Secrets only, and in another namespace only
 * where a ReferenceGrant allows it.
 */
export function resolveCertificateRef(
  ref: SecretObjectReference, from: ReferenceFrom, snapshot: Pick<Snapshot, 'secrets' | 'referenceGrants'>,
): CertificateRefResolution {
  const group = ref.group ?? '';
  const kind = ref.kind ?? 'Secret';
  const namespace = ref.namespace ?? from.namespace;
  const what = `${group || 'core'}/${kind} ${namespace}/${ref.name}`;
  if (group !== '' || kind !== 'Secret') return { ok: false, permitted: true, message: `${what}: only core Secrets are supported` };
  if (!referencePermitted(from, { group: '', kind: 'Secret', namespace, name: ref.name }, snapshot.referenceGrants)) {
    return { ok: false, permitted: false, message: `${what}: no ReferenceGrant in ${namespace} allows ${from.kind}s from ${from.namespace} to reference it` };
  }
  const secret = snapshot.secrets.find((s) => s.metadata.namespace === namespace && s.metadata.name === ref.name);
  if (!secret) return { ok: false, permitted: true, message: `${what}: Secret not found` };
  const certPem = secret.data?.['tls.crt'];
  const keyPem = secret.data?.['tls.key'];
  const check = checkCertificatePair(certPem, keyPem);
  if (!check.ok) return { ok: false, permitted: true, message: `${what}: ${check.problem}`, content: { certPem: certPem ?? '', keyPem: keyPem ?? '' } };
  return { ok: true, certPem: certPem!, keyPem: keyPem! };
}
