// TLS to backends (IRCluster.tls, from BackendTLSPolicies). A cluster's
// context and connect options are built once, when a configuration is
// applied: a bad CA or client certificate then fails that cluster's apply
// with one clear error, and a connection only refers to what is built.

import {
  connect as tlsConnect, createSecureContext, type ConnectionOptions, type PeerCertificate, type SecureContext, type TLSSocket,
} from 'node:tls';
import type { IRUpstreamTLS } from '../ir/types.js';
import { checkCABundle } from '../util/pem.js';

export interface UpstreamTls {
  /** What it was built from, to tell whether an apply changed it. */
  readonly source: IRUpstreamTLS;
  /** tls.connect options without the endpoint's host and port. */
  readonly options: Readonly<ConnectionOptions>;
}

/** Throws, saying what is wrong, when the CA bundle or client certificate cannot be used. */
export function compileUpstreamTls(tls: IRUpstreamTLS): UpstreamTls {
  // Node takes a CA bundle it cannot parse and then trusts nothing: every handshake would fail instead.
  const caProblem = tls.caPem === undefined ? undefined : checkCABundle(tls.caPem);
  if (caProblem) throw new Error(`CA bundle ${caProblem}`);
  const client = tls.clientCertificate;
  let secureContext: SecureContext;
  try {
    secureContext = createSecureContext({
      minVersion: 'TLSv1.2',
      // Absent: Node's trust store (its bundled Mozilla CAs, plus NODE_EXTRA_CA_CERTS).
      ...(tls.caPem !== undefined ? { ca: tls.caPem } : {}),
      ...(client ? { cert: client.certPem, key: client.keyPem } : {}),
    });
  } catch (err) {
    throw new Error(`${client ? 'client certificate' : 'CA bundle'}: ${(err as Error).message}`);
  }
  const sans = tls.subjectAltNames;
  const options: ConnectionOptions = {
    secureContext,
    servername: tls.serverName,
    // Node checks the chain, then calls this with the servername: the default matches it against the certificate.
    ...(sans ? { checkServerIdentity: (_: string, cert: PeerCertificate) => checkSubjectAltNames(sans, cert) } : {}),
  };
  return { source: tls, options };
}

export function sameUpstreamTls(a: IRUpstreamTLS | undefined, b: IRUpstreamTLS | undefined): boolean {
  if (a === b) return true;
  if (!a || !b) return false;
  const sans = (x: IRUpstreamTLS) => (x.subjectAltNames ?? []).map((s) => `${s.type}:${s.value}`).join('\n');
  return a.serverName === b.serverName && a.caPem === b.caPem && sans(a) === sans(b)
    && a.clientCertificate?.certPem === b.clientCertificate?.certPem && a.clientCertificate?.keyPem === b.clientCertificate?.keyPem;
}

/**
 * Connect options for one endpoint, built once per endpoint. `alpn`: what
 * the connection will speak, when known (not for opaque streams).
 */
export function endpointTlsOptions(tls: UpstreamTls, host: string, port: number, alpn?: string): ConnectionOptions {
  return { ...tls.options, host, port, ...(alpn ? { ALPNProtocols: [alpn] } : {}) };
}

/** Connects; `secureConnect` follows once the backend's certificate has been verified. */
export function connectTls(options: ConnectionOptions): TLSSocket {
  const socket = tlsConnect(options);
  socket.setNoDelay(true);
  return socket;
}

/**
 * With subjectAltNames, the certificate must carry one of them, and the
 * hostname is no longer checked (spec: BackendTLSPolicyValidation). DNS
 * names match as in RFC 6125: whole names, or a wildcard as the whole
 * left-most label of the certificate's name; URIs match exactly.
 */
function checkSubjectAltNames(wanted: NonNullable<IRUpstreamTLS['subjectAltNames']>, cert: PeerCertificate): Error | undefined {
  const present = parseSubjectAltNames(cert.subjectaltname ?? '');
  for (const san of wanted) {
    if (san.type === 'URI' ? present.uri.includes(san.value) : present.dns.some((d) => dnsMatches(d, san.value))) return undefined;
  }
  const err = new Error(`backend certificate's subject alternative names (${cert.subjectaltname ?? 'none'}) match none of ${wanted.map((s) => `${s.type} ${s.value}`).join(', ')}`);
  return Object.assign(err, { code: 'ERR_TLS_CERT_ALTNAME_INVALID' });
}

/** Node's `DNS:a, URI:b, IP Address:c` rendering; values with a comma or quote come JSON-quoted. */
function parseSubjectAltNames(text: string): { dns: string[]; uri: string[] } {
  const dns: string[] = [];
  const uri: string[] = [];
  for (const m of text.matchAll(/(DNS|URI|[^:,]+):("(?:[^"\\]|\\.)*"|[^,]*)(?:, |$)/g)) {
    const value = m[2]!.startsWith('"') ? JSON.parse(m[2]!) as string : m[2]!;
    if (m[1] === 'DNS') dns.push(value.toLowerCase());
    else if (m[1] === 'URI') uri.push(value);
  }
  return { dns, uri };
}

function dnsMatches(pattern: string, name: string): boolean {
  const host = name.toLowerCase();
  if (pattern === host) return true;
  if (!pattern.startsWith('*.')) return false;
  const dot = host.indexOf('.');
  return dot > 0 && host.slice(dot) === pattern.slice(1);
}
