import { X509Certificate, createPrivateKey } from 'node:crypto';

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
