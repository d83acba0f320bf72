// PEM checks shared by the translator, which reports a bad bundle on the
// object that references it, and the data plane, which refuses to build a
// TLS context from one (Node would take it and then trust nothing).

import { X509Certificate } from 'node:crypto';

const PEM_CERTIFICATE = /-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g;

/**
 * Why a PEM bundle of CA certificates cannot be used to verify peers, or
 * undefined when it holds at least one certificate and all of them parse.
 */
export function checkCABundle(pem: string | undefined): string | undefined {
  if (!pem?.trim()) return 'is missing or empty';
  const blocks = pem.match(PEM_CERTIFICATE) ?? [];
  if (blocks.length === 0) return 'holds no PEM certificate';
  for (const [i, block] of blocks.entries()) {
    try {
      new X509Certificate(block);
    } catch (err) {
      return `certificate ${i + 1} is not valid: ${(err as Error).message}`;
    }
  }
  return undefined;
}
