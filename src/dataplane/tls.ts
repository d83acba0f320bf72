// Certificates for an HTTPS server, loaded once per apply. Contexts are built
// here so a handshake only does a map lookup, and so a bad certificate fails
// the apply rather than every handshake.

import { createSecureContext, type SecureContext, type SecureContextOptions } from 'node:tls';
import type { IRCertificate, IRServerTLS } from '../ir/types.js';

const MIN_VERSION = 'TLSv1.2';
/**
 * TLS 1.2 suites: forward-secret AEAD only (Mozilla's "intermediate" list).
 * Node's default adds CBC-mode suites through HIGH. TLS 1.3 suites are
 * configured apart and all of them qualify.
 */
const CIPHERS = [
  'ECDHE-ECDSA-AES128-GCM-SHA256', 'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384', 'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305', 'ECDHE-RSA-CHACHA20-POLY1305',
  'DHE-RSA-AES128-GCM-SHA256', 'DHE-RSA-AES256-GCM-SHA384', 'DHE-RSA-CHACHA20-POLY1305',
].join(':');

/** Until downstream HTTP/2 over TLS is served, ALPN offers only http/1.1. */
export const TLS_SERVER_DEFAULTS = { minVersion: MIN_VERSION, ciphers: CIPHERS, honorCipherOrder: true, ALPNProtocols: ['http/1.1'] } as const;

export interface CompiledTls {
  /** The IR it was built from, to skip rebuilding when an apply leaves it unchanged. */
  source: readonly IRCertificate[];
  /** Options for the server's own default context (no SNI, or no match). */
  defaultOptions: SecureContextOptions;
  defaultContext: SecureContext;
  exact: ReadonlyMap<string, SecureContext>;
  /** `*.suffix` entries as [`.suffix`, context], longest suffix first. */
  wildcards: readonly (readonly [string, SecureContext])[];
  any: SecureContext | undefined;
}

export function compileTls(tls: IRServerTLS | undefined, previous: CompiledTls | undefined): CompiledTls {
  const certs = tls?.certificates ?? [];
  if (certs.length === 0) throw new Error('HTTPS server has no certificates');
  if (previous && sameCertificates(previous.source, certs)) return previous;

  const contexts = certs.map((c) => {
    try {
      return createSecureContext(contextOptions(c));
    } catch (err) {
      throw new Error(`certificate for ${c.hostname}: ${(err as Error).message}`);
    }
  });
  const exact = new Map<string, SecureContext>();
  const wildcards: [string, SecureContext][] = [];
  let any: SecureContext | undefined;
  certs.forEach((c, i) => {
    const name = c.hostname.toLowerCase();
    const ctx = contexts[i]!;
    if (name === '*') any ??= ctx;
    else if (name.startsWith('*.')) wildcards.push([name.slice(1), ctx]);
    else if (!exact.has(name)) exact.set(name, ctx);
  });
  // Stable sort: equal lengths keep IR order.
  wildcards.sort((a, b) => b[0].length - a[0].length);
  return {
    source: certs,
    defaultOptions: contextOptions(certs[0]!),
    defaultContext: contexts[0]!,
    exact,
    wildcards,
    any,
  };
}

function contextOptions(c: IRCertificate): SecureContextOptions {
  return { cert: c.certPem, key: c.keyPem, minVersion: MIN_VERSION, ciphers: CIPHERS, honorCipherOrder: true };
}

function sameCertificates(a: readonly IRCertificate[], b: readonly IRCertificate[]): boolean {
  return (
    a.length === b.length &&
    a.every((x, i) => x.hostname === b[i]!.hostname && x.certPem === b[i]!.certPem && x.keyPem === b[i]!.keyPem)
  );
}

export function selectContext(tls: CompiledTls, servername: string): SecureContext {
  const name = servername.toLowerCase();
  const exact = tls.exact.get(name);
  if (exact) return exact;
  for (const [suffix, ctx] of tls.wildcards) {
    if (name.length > suffix.length && name.endsWith(suffix)) return ctx;
  }
  return tls.any ?? tls.defaultContext;
}
