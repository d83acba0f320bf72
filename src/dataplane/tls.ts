// Certificates for an HTTPS server (or a terminating TLS route), loaded once
// per apply. Contexts are built here so a handshake only does a lookup. A
// certificate that does not load never takes its listener down when an
// earlier one for the same hostname did: that one keeps serving (a bad
// rotation), and the failure is left for the logs, the translator having
// reported it in status already.

import { createSecureContext, type SecureContext, type SecureContextOptions } from 'node:tls';
import type { IRCertificate, IRClientValidation, IRServerTLS } from '../ir/types.js';
import { firstMatch, indexHostnames, type HostnameIndex } from './hostnames.js';

const MIN_VERSION = 'TLSv1.2';
/**
 * TLS 1.2 suites: forward-secret AEAD only (Mozilla's "intermediate" list).
 * Node's default adds CBC-mode suites through HIGH. TLS 1.3 suites are
 * configured apart and all of them qualify. None is on HTTP/2's deny list
 * (RFC 9113 Appendix A), so every HTTPS connection may negotiate h2.
 */
const CIPHERS = [
  'ECDHE-ECDSA-AES128-GCM-SHA256', 'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384', 'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305', 'ECDHE-RSA-CHACHA20-POLY1305',
  'DHE-RSA-AES128-GCM-SHA256', 'DHE-RSA-AES256-GCM-SHA384', 'DHE-RSA-CHACHA20-POLY1305',
].join(':');

/** HTTPS servers offer HTTP/2 first (ALPN), as browsers and Go clients expect. */
export const TLS_SERVER_DEFAULTS = { minVersion: MIN_VERSION, ciphers: CIPHERS, honorCipherOrder: true, ALPNProtocols: ['h2', 'http/1.1'] } as const;

interface LoadedCertificate {
  certPem: string;
  keyPem: string;
  context: SecureContext;
}

export interface CompiledTls {
  /** The IR it was built from, to skip rebuilding when an apply leaves it unchanged. */
  source: IRServerTLS;
  /** Options for the server's own default context (no SNI, or no match): the first certificate that loaded; absent if none did. */
  defaultOptions: SecureContextOptions | undefined;
  defaultContext: SecureContext | undefined;
  /** The certificates' hostnames, in IR order. */
  hosts: HostnameIndex;
  /** By IR position; undefined where nothing ever loaded: handshakes naming that hostname are refused. */
  contexts: readonly (SecureContext | undefined)[];
  /** What serves each hostname, for the next compile to keep when a replacement does not load. */
  loaded: ReadonlyMap<string, LoadedCertificate>;
  /** Client certificates are asked for; `reject`: a connection without a valid one is closed (AllowValidOnly). */
  clientCertificates: { reject: boolean } | undefined;
  /** The listeners' hostnames when the port has several (IRServerTLS.listenerHostnames). */
  listeners: HostnameIndex | undefined;
  /** Whether a request's Host must be checked against its connection (see misdirected in listener.ts). */
  checksHost: boolean;
  /** Why certificates did not load, for the logs. */
  problems: readonly string[];
}

/**
 * Throws only when there is no certificate at all or a certificate that
 * loaded before no longer does with the new CA bundle; a certificate that
 * does not load otherwise is reported in `problems`.
 */
export function compileTls(tls: IRServerTLS | undefined, previous: CompiledTls | undefined): CompiledTls {
  const certs = tls?.certificates ?? [];
  if (!tls || certs.length === 0) throw new Error('HTTPS server has no certificates');
  if (previous && sameTls(previous.source, tls)) return previous;

  const ca = tls.clientValidation?.caPem;
  // A context holds the CA bundle: one built for another bundle cannot be kept.
  const sameCA = previous?.source.clientValidation?.caPem === ca;
  const loaded = new Map<string, LoadedCertificate>();
  const problems: string[] = [];
  const contexts = certs.map((c): SecureContext | undefined => {
    const name = c.hostname.toLowerCase();
    const before = previous?.loaded.get(name);
    let next: LoadedCertificate | undefined;
    if (before && sameCA && before.certPem === c.certPem && before.keyPem === c.keyPem) {
      next = before;
    } else {
      try {
        next = { certPem: c.certPem, keyPem: c.keyPem, context: createSecureContext(contextOptions(c, ca)) };
      } catch (err) {
        const why = `certificate for ${c.hostname}: ${(err as Error).message}`;
        if (before) {
          problems.push(`${why}; the previous one keeps serving`);
          next = sameCA ? before : { ...before, context: createSecureContext(contextOptions(before, ca)) };
        } else {
          problems.push(`${why}; handshakes for ${c.hostname} are refused`);
        }
      }
    }
    if (next) loaded.set(name, next);
    return next?.context;
  });
  const first = certs.findIndex((_, i) => contexts[i] !== undefined);
  const listeners = tls.listenerHostnames && indexHostnames(tls.listenerHostnames);
  return {
    source: tls,
    defaultOptions: first < 0 ? undefined : contextOptions(loaded.get(certs[first]!.hostname.toLowerCase())!, ca),
    defaultContext: contexts[first],
    hosts: indexHostnames(certs.map((c) => c.hostname)),
    contexts,
    loaded,
    clientCertificates: tls.clientValidation && { reject: tls.clientValidation.mode === 'AllowValidOnly' },
    listeners,
    checksHost: listeners !== undefined || contexts.includes(undefined),
    problems,
  };
}

function contextOptions(c: { certPem: string; keyPem: string }, ca: string | undefined): SecureContextOptions {
  // An empty PEM would give a context without a certificate rather than an error.
  if (!c.certPem || !c.keyPem) throw new Error('the certificate or its key is empty');
  return { cert: c.certPem, key: c.keyPem, ca, minVersion: MIN_VERSION, ciphers: CIPHERS, honorCipherOrder: true };
}

function sameTls(a: IRServerTLS, b: IRServerTLS): boolean {
  return sameCertificates(a.certificates, b.certificates) && sameValidation(a.clientValidation, b.clientValidation)
    && (a.listenerHostnames ?? []).join(' ') === (b.listenerHostnames ?? []).join(' ');
}

function sameCertificates(a: readonly IRCertificate[], b: readonly IRCertificate[]): boolean {
  return (
    a.length === b.length &&
    a.every((x, i) => x.hostname === b[i]!.hostname && x.certPem === b[i]!.certPem && x.keyPem === b[i]!.keyPem)
  );
}

function sameValidation(a: IRClientValidation | undefined, b: IRClientValidation | undefined): boolean {
  return a === b || (a !== undefined && b !== undefined && a.caPem === b.caPem && a.mode === b.mode);
}

/** The context for a client's server name; undefined when it names a hostname whose certificate never loaded. */
export function selectContext(tls: CompiledTls, servername: string): SecureContext | undefined {
  const index = firstMatch(tls.hosts, servername.toLowerCase());
  return index === undefined ? tls.defaultContext : tls.contexts[index];
}
