// Port of upstream conformance/utils/roundtripper/roundtripper.go on Node's
// http/https: one connection per request (upstream disables keep-alives),
// Host header and SNI set explicitly, echo backend JSON captured.
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { connect as http2Connect, constants as http2Constants, type IncomingHttpHeaders } from 'node:http2';
import { request as httpsRequest } from 'node:https';
import { isIP } from 'node:net';
import type { PeerCertificate } from 'node:tls';

export interface Request {
  url: URL;
  /** Host header; the URL's host when empty. */
  host: string;
  protocol: string;
  method: string;
  headers: Record<string, string[]>;
  serverName?: string;
  serverCertificate?: string;
  /** Presented when the server asks (upstream's GetClientCertificateHook). */
  clientCertificate?: { certPem: string; keyPem: string };
}

/** What the echo backend reports about the request it received. */
export interface CapturedRequest {
  path: string;
  host: string;
  method: string;
  protocol: string;
  headers: Record<string, string[]>;
  namespace: string;
  pod: string;
  /** The TLS session the backend saw, when the gateway reached it over TLS. */
  tls: { serverName: string; peerCertificates: string[] };
}

export interface RedirectRequest {
  scheme: string;
  host: string;
  port: string;
  path: string;
}

export interface CapturedResponse {
  statusCode: number;
  contentLength: number;
  protocol: string;
  headers: Record<string, string[]>;
  redirectRequest?: RedirectRequest;
}

export const HTTPSProtocol = 'HTTPS';
/** HTTP/2 over TLS, as upstream's http2.Transport: ALPN must choose h2. */
export const H2Protocol = 'H2';
/** Cleartext HTTP/2 without an upgrade (RFC 9113 section 3.3), as upstream's http2.Transport with AllowHTTP. */
export const H2CPriorKnowledgeProtocol = 'H2C_PRIOR_KNOWLEDGE';

export function isRedirect(status: number): boolean {
  return [300, 301, 302, 303, 304, 305, 307, 308].includes(status);
}

export function isTimeoutError(status: number): boolean {
  return status === 408 || status === 504;
}

/** Go's textproto.CanonicalMIMEHeaderKey, which net/http applies to every header it sends or receives. */
export function canonicalHeaderKey(key: string): string {
  if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(key)) return key;
  return key.toLowerCase().replace(/(^|-)([a-z])/g, (_m, dash: string, c: string) => dash + c.toUpperCase());
}

function headerMap(raw: readonly string[]): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  for (let i = 0; i + 1 < raw.length; i += 2) (out[canonicalHeaderKey(raw[i]!)] ??= []).push(raw[i + 1]!);
  return out;
}

function matchHostname(pattern: string, host: string): boolean {
  const p = pattern.toLowerCase().replace(/\.$/, '').split('.');
  const h = host.toLowerCase().replace(/\.$/, '').split('.');
  if (p.length !== h.length || p.some((l) => l === '') || h.some((l) => l === '')) return false;
  return p.every((label, i) => (i === 0 && label === '*') || label === h[i]);
}

/**
 * Go's x509 host name verification, which unlike Node's lets a wildcard cover
 * a single label under a TLD (`*.org` matches `example.org`); the suite's
 * certificates rely on that.
 */
export function verifyHostname(host: string, cert: PeerCertificate): Error | undefined {
  const sans = (cert.subjectaltname ?? '').split(/,\s*/).filter(Boolean);
  const values = (prefix: string) => sans.filter((s) => s.startsWith(prefix)).map((s) => s.slice(prefix.length));
  if (isIP(host)) {
    return values('IP Address:').includes(host) ? undefined : new Error(`x509: certificate is not valid for IP ${host}`);
  }
  const dns = values('DNS:');
  return dns.some((p) => matchHostname(p, host)) ? undefined
    : new Error(`x509: certificate is valid for ${dns.join(', ') || 'no DNS names'}, not ${host}`);
}

/** Splits an absolute URL the way Go's url.URL does, keeping an explicit default port. */
function redirectTarget(location: string, base: URL): RedirectRequest {
  const absolute = /^[a-zA-Z][a-zA-Z0-9+.-]*:\/\//.test(location) ? location : new URL(location, base).href;
  const m = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\/([^/?#]*)([^?#]*)/.exec(absolute)!;
  const authority = m[2]!.replace(/^.*@/, '');
  const hp = /^(\[[^\]]*\]|[^:]*)(?::(\d*))?$/.exec(authority);
  let path = m[3]!;
  try {
    path = decodeURIComponent(path);
  } catch {
    // keep it escaped, as Go does for invalid escapes
  }
  return {
    scheme: m[1]!.toLowerCase(),
    host: (hp?.[1] ?? authority).replace(/^\[|\]$/g, ''),
    port: hp?.[2] ?? '',
    path,
  };
}

function mediaType(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0]!.trim().toLowerCase();
}

export class RoundTripper {
  constructor(private readonly timeoutMs: number) {}

  /** Errors only when no HTTP response arrives; an HTTP error status is a normal result. */
  captureRoundTrip(req: Request): Promise<{ cReq: CapturedRequest; cRes: CapturedResponse }> {
    if (req.protocol === H2CPriorKnowledgeProtocol) return this.h2RoundTrip(req, false);
    if (req.protocol === H2Protocol) return this.h2RoundTrip(req, true);
    return new Promise((resolve, reject) => {
      const headers: Record<string, string> = {};
      for (const [name, values] of Object.entries(req.headers)) headers[canonicalHeaderKey(name)] = values[0] ?? '';
      headers.Host = req.host !== '' ? req.host : req.url.host;
      const https = req.url.protocol === 'https:';
      let tls = {};
      if (https) {
        try {
          tls = tlsClientOptions(req);
        } catch (err) {
          reject(err as Error);
          return;
        }
      }
      const options = {
        host: req.url.hostname.replace(/^\[|\]$/g, ''),
        port: req.url.port || (https ? 443 : 80),
        path: `${req.url.pathname}${req.url.search}`,
        method: req.method,
        headers,
        agent: false as const,
        ...tls,
      };
      const onResponse = (res: IncomingMessage) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          clearTimeout(timer);
          try {
            resolve(captured(req, res.statusCode ?? 0, `HTTP/${res.httpVersion}`, res.rawHeaders, Buffer.concat(chunks).toString('utf8')));
          } catch (err) {
            reject(err as Error);
          }
        });
      };
      const r = https ? httpsRequest(options, onResponse) : httpRequest(options, onResponse);
      const timer = setTimeout(() => r.destroy(new Error(`request timed out after ${this.timeoutMs}ms`)), this.timeoutMs);
      r.on('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      r.end();
    });
  }

  /** One HTTP/2 stream on a fresh connection, cleartext (prior knowledge) or TLS; Host becomes :authority. */
  private h2RoundTrip(req: Request, secure: boolean): Promise<{ cReq: CapturedRequest; cRes: CapturedResponse }> {
    if (!secure && req.serverName && req.serverCertificate) {
      return Promise.reject(new Error('request has configured trusted CA certificates but h2 prior knowledge is not encrypted'));
    }
    let tls = {};
    try {
      if (secure) tls = tlsClientOptions(req);
    } catch (err) {
      return Promise.reject(err as Error);
    }
    return new Promise((resolve, reject) => {
      // node:http2 offers only h2 by ALPN and fails the session when the server picks nothing.
      const session = http2Connect(`${secure ? 'https' : 'http'}://${req.url.host}`, tls);
      const timer = setTimeout(() => session.destroy(new Error(`request timed out after ${this.timeoutMs}ms`)), this.timeoutMs);
      const fail = (err: Error) => {
        clearTimeout(timer);
        session.destroy();
        reject(err);
      };
      session.on('error', fail);
      const headers: Record<string, string> = {
        [http2Constants.HTTP2_HEADER_METHOD]: req.method,
        [http2Constants.HTTP2_HEADER_PATH]: `${req.url.pathname}${req.url.search}`,
        [http2Constants.HTTP2_HEADER_SCHEME]: secure ? 'https' : 'http',
        [http2Constants.HTTP2_HEADER_AUTHORITY]: req.host !== '' ? req.host : req.url.host,
      };
      for (const [name, values] of Object.entries(req.headers)) {
        const lower = name.toLowerCase();
        if (lower === 'host' || (values[0] ?? '') === '') continue;
        headers[lower] = values[0]!;
      }
      const stream = session.request(headers, { endStream: true });
      let responseHeaders: IncomingHttpHeaders = {};
      const chunks: Buffer[] = [];
      stream.on('response', (h) => {
        responseHeaders = h;
      });
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('error', fail);
      // A connection the server drops (a refused client certificate, say) closes the stream without 'end'; after 'end' this is a no-op.
      stream.on('close', () => fail(new Error(`stream closed before the response ended (code ${stream.rstCode})`)));
      stream.on('end', () => {
        clearTimeout(timer);
        session.close();
        const raw: string[] = [];
        for (const [k, v] of Object.entries(responseHeaders)) {
          if (k.startsWith(':') || v === undefined) continue;
          for (const one of Array.isArray(v) ? v : [String(v)]) raw.push(k, one);
        }
        const status = Number(responseHeaders[http2Constants.HTTP2_HEADER_STATUS] ?? 0);
        const body = Buffer.concat(chunks).toString('utf8');
        try {
          resolve(captured(req, status, 'HTTP/2.0', raw, body));
        } catch (err) {
          reject(err as Error);
        }
      });
    });
  }
}

/**
 * Upstream's createTLSClientConfig: the server name (SNI, never for an IP)
 * and certificate checked against the one trusted certificate, and the
 * client certificate, if any, presented when asked for.
 */
function tlsClientOptions(req: Request): object {
  if (!req.serverName) throw new Error('https request has no server name configured');
  if (!req.serverCertificate) throw new Error('https request has no trusted certificates configured');
  return {
    ...(isIP(req.serverName) ? {} : { servername: req.serverName }),
    ca: req.serverCertificate,
    // Go trusts a certificate found in its root pool even when it is a CA-signed leaf; OpenSSL needs this flag for that.
    allowPartialTrustChain: true,
    checkServerIdentity: (_host: string, cert: PeerCertificate) => verifyHostname(req.serverName!, cert),
    ...(req.clientCertificate ? { cert: req.clientCertificate.certPem, key: req.clientCertificate.keyPem } : {}),
  };
}

/** What upstream's defaultRoundTrip makes of a response: the echo's JSON if it is one, redirect target if any. */
function captured(req: Request, status: number, protocol: string, rawHeaders: readonly string[], body: string): { cReq: CapturedRequest; cRes: CapturedResponse } {
  const headers = headerMap(rawHeaders);
  let cReq: CapturedRequest = {
    path: '', host: '', method: req.method, protocol: '', headers: {}, namespace: '', pod: '', tls: { serverName: '', peerCertificates: [] },
  };
  if (mediaType(headers['Content-Type']?.[0]) === 'application/json') {
    try {
      cReq = parseEcho(body);
    } catch (err) {
      throw new Error(`unexpected error reading response: ${(err as Error).message}`);
    }
  }
  const length = headers['Content-Length']?.[0];
  const cRes: CapturedResponse = { statusCode: status, contentLength: length !== undefined ? Number(length) : -1, protocol, headers };
  if (isRedirect(status)) {
    const location = headers.Location?.[0];
    if (!location) throw new Error('http: no Location header in response');
    cRes.redirectRequest = redirectTarget(location, req.url);
  }
  return { cReq, cRes };
}

function parseEcho(body: string): CapturedRequest {
  const raw = JSON.parse(body) as Record<string, unknown>;
  const headers: Record<string, string[]> = {};
  for (const [k, v] of Object.entries((raw.headers ?? {}) as Record<string, unknown>)) {
    headers[k] = Array.isArray(v) ? v.map(String) : [String(v)];
  }
  const str = (v: unknown) => (typeof v === 'string' ? v : '');
  const tls = (raw.tls ?? {}) as Record<string, unknown>;
  return {
    path: str(raw.path), host: str(raw.host), method: str(raw.method), protocol: str(raw.proto),
    headers, namespace: str(raw.namespace), pod: str(raw.pod),
    tls: { serverName: str(tls.serverName), peerCertificates: Array.isArray(tls.peerCertificates) ? tls.peerCertificates.map(String) : [] },
  };
}
