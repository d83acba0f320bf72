// Port of upstream conformance/utils/kubernetes/certificate.go and of the
// TLS Secrets (and CA ConfigMaps) that upstream's suite Setup creates at run
// time, which no manifest contains.
import { createPrivateKey } from 'node:crypto';
import { isIP } from 'node:net';
import { generate } from 'selfsigned';
import type { KubeObject } from './manifests.js';

export interface KeyPair {
  certPem: string;
  /** PKCS#1, as upstream encodes it. */
  keyPem: string;
}

type AltName = { type: 2 | 6; value: string } | { type: 7; ip: string };

const dnsLabel = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

// Upstream's validateHost: an optional leading "*." then a DNS-1123 subdomain.
function isDNSHost(host: string): boolean {
  const h = host.startsWith('*.') ? host.slice(2) : host;
  return h.length > 0 && h.length <= 253 && h.split('.').every((l) => l.length <= 63 && dnsLabel.test(l));
}

/** IPs become IP SANs, host names DNS SANs, and anything else a URI SAN (so "*" is a URI, as upstream). */
export function altNameFor(host: string): AltName | undefined {
  if (isIP(host)) return { type: 7, ip: host };
  if (isDNSHost(host)) return { type: 2, value: host };
  // Go's url.Parse accepts nearly anything but control characters and spaces.
  return /[\s\x00-\x1f\x7f]/.test(host) ? undefined : { type: 6, value: host };
}

/**
 * Go's pem.Encode ends the block with a newline; selfsigned does not. Tests
 * compare a Secret's certificate with the one the echo saw as a string
 * (GatewayTLSBackendClientCertificate), and the echo writes Go's form.
 */
function goPem(pem: string): string {
  return `${pem.trimEnd()}\n`;
}

function pkcs1(pem: string): string {
  return createPrivateKey(pem).export({ type: 'pkcs1', format: 'pem' }).toString();
}

async function generateRSACert(hosts: readonly string[], usage: 'serverAuth' | 'clientAuth', ca?: KeyPair): Promise<KeyPair> {
  const altNames = hosts.map(altNameFor).filter((a): a is AltName => a !== undefined);
  const pems = await generate([
    { name: 'commonName', value: 'default' },
    { name: 'organizationName', value: 'Acme Co' },
  ], {
    keySize: 2048,
    algorithm: 'sha256',
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', [usage]: true },
      ...(altNames.length > 0 ? [{ name: 'subjectAltName' as const, altNames }] : []),
    ],
    ...(ca ? { ca: { cert: ca.certPem, key: ca.keyPem } } : {}),
  });
  return { certPem: goPem(pems.cert), keyPem: pkcs1(pems.private) };
}

export function generateSelfSignedCert(hosts: readonly string[]): Promise<KeyPair> {
  return generateRSACert(hosts, 'serverAuth');
}

export function generateCASignedCert(hosts: readonly string[], ca: KeyPair): Promise<KeyPair> {
  return generateRSACert(hosts, 'serverAuth', ca);
}

function generateCASignedClientCert(ca: KeyPair): Promise<KeyPair> {
  return generateRSACert([], 'clientAuth', ca);
}

export async function generateCACert(): Promise<KeyPair> {
  const pems = await generate([
    { name: 'organizationName', value: 'Kubernetes Gateway API' },
    { name: 'countryName', value: 'US' },
    { name: 'commonName', value: 'gatewayapi' },
  ], {
    keySize: 2048,
    algorithm: 'sha256',
    extensions: [
      { name: 'basicConstraints', cA: true },
      { name: 'keyUsage', digitalSignature: true, keyCertSign: true },
      { name: 'extKeyUsage', clientAuth: true, serverAuth: true },
    ],
  });
  return { certPem: goPem(pems.cert), keyPem: pkcs1(pems.private) };
}

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');

function tlsSecret(namespace: string, name: string, pair: KeyPair): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name, namespace },
    type: 'kubernetes.io/tls',
    data: { 'tls.crt': b64(pair.certPem), 'tls.key': b64(pair.keyPem) },
  };
}

function caConfigMap(namespace: string, name: string, ca: KeyPair): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name, namespace },
    data: { 'ca.crt': ca.certPem, 'key.crt': ca.keyPem },
  };
}

const infra = 'gateway-conformance-infra';
const appBackend = 'gateway-conformance-app-backend';
const webBackend = 'gateway-conformance-web-backend';

/** Everything upstream's ConformanceTestSuite.Setup creates programmatically for Gateway tests. */
export async function setupObjects(): Promise<KubeObject[]> {
  const [webCA, validityCA, perPortCA, checksCA, mismatchCA] = await Promise.all(
    [0, 1, 2, 3, 4].map(() => generateCACert()),
  ) as [KeyPair, KeyPair, KeyPair, KeyPair, KeyPair];
  const secrets = await Promise.all([
    generateSelfSignedCert(['*']).then((p) => tlsSecret(webBackend, 'certificate', p)),
    generateSelfSignedCert(['*', '*.org', '*.wildcard.org']).then((p) => tlsSecret(infra, 'tls-validity-checks-certificate', p)),
    generateCASignedClientCert(validityCA).then((p) => tlsSecret(infra, 'tls-validity-checks-client-certificate', p)),
    generateCASignedClientCert(perPortCA).then((p) => tlsSecret(infra, 'tls-validity-checks-per-port-client-certificate', p)),
    generateCASignedCert(['abc.example.com', 'spiffe://abc.example.com/test-identity', 'other.example.com'], checksCA)
      .then((p) => tlsSecret(infra, 'tls-checks-certificate', p)),
    generateCASignedClientCert(checksCA).then((p) => tlsSecret(infra, 'tls-checks-client-certificate', p)),
    generateCASignedCert(['abc.example.com'], checksCA).then((p) => tlsSecret(infra, 'tls-passthrough-checks-certificate', p)),
    generateCASignedCert(['abc.example.com'], checksCA).then((p) => tlsSecret(appBackend, 'tls-passthrough-checks-certificate', p)),
    generateCASignedCert(['tls.example.com'], checksCA).then((p) => tlsSecret(infra, 'tls-terminate-checks-certificate', p)),
  ]);
  return [
    ...secrets,
    caConfigMap(webBackend, 'web-backend-cm', webCA),
    caConfigMap(infra, 'tls-validity-checks-ca-certificate', validityCA),
    caConfigMap(infra, 'tls-validity-checks-per-port-ca-certificate', perPortCA),
    caConfigMap(infra, 'tls-checks-ca-certificate', checksCA),
    caConfigMap(infra, 'mismatch-ca-certificate', mismatchCA),
  ];
}
