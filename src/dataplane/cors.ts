// The CORS filter (Gateway API v1.6 HTTPCORSFilter). Preflights are answered
// at the gateway; actual requests are proxied and get the allow headers added
// to the response. Origins are matched as (scheme, host, port) with the
// scheme's default port filled in, so `https://a.test` and `https://a.test:443`
// are the same origin.

import type { IRCors } from '../ir/types.js';
import type { InboundRequest } from './inbound.js';

interface OriginPattern {
  scheme: string;
  /** Exact lower-case host, or undefined for a wildcard host. */
  host: string | undefined;
  /** For `*.suffix` hosts: `.suffix`; for a bare `*`: ``. */
  suffix: string;
  port: string;
}

export interface CompiledCors {
  /** allowOrigins holds `*`. */
  anyOrigin: boolean;
  origins: readonly OriginPattern[];
  credentials: boolean;
  /** Joined list, `undefined` for `*` (echo the requested one) or for none. */
  methods: string | undefined;
  anyMethod: boolean;
  headers: string | undefined;
  anyHeader: boolean;
  maxAge: string;
  /** Added to preflights and actual responses after the allow-origin pair. */
  common: readonly string[];
  /** Actual-response headers when the allowed origin is answered with `*`, shared by all requests. */
  wildcardActual: readonly string[] | undefined;
}

export function compileCors(c: IRCors): CompiledCors {
  const anyOrigin = c.allowOrigins.includes('*');
  const origins = anyOrigin ? [] : c.allowOrigins.map(parsePattern);
  const common: string[] = [];
  if (c.allowCredentials) common.push('access-control-allow-credentials', 'true');
  // A `*` expose list means "all" only without credentials; with them a browser reads it as a header named `*`.
  const expose = c.allowCredentials ? c.exposeHeaders.filter((h) => h !== '*') : c.exposeHeaders;
  if (expose.length > 0) common.push('access-control-expose-headers', expose.join(', '));
  const anyMethod = c.allowMethods.includes('*');
  const anyHeader = c.allowHeaders.includes('*');
  return {
    anyOrigin,
    origins,
    credentials: c.allowCredentials,
    methods: anyMethod || c.allowMethods.length === 0 ? undefined : c.allowMethods.join(', '),
    anyMethod,
    headers: anyHeader || c.allowHeaders.length === 0 ? undefined : c.allowHeaders.join(', '),
    anyHeader,
    maxAge: String(c.maxAgeSeconds),
    common,
    wildcardActual: anyOrigin && !c.allowCredentials ? ['access-control-allow-origin', '*', ...common] : undefined,
  };
}

function parsePattern(origin: string): OriginPattern {
  const parsed = splitOrigin(origin.toLowerCase());
  if (!parsed) throw new Error(`invalid CORS origin ${JSON.stringify(origin)}`);
  const [scheme, host, port] = parsed;
  if (host.startsWith('*')) return { scheme, host: undefined, suffix: host.slice(1), port };
  return { scheme, host, suffix: '', port };
}

/** `scheme://host[:port]` -> [scheme, host, port] with the default port filled in; undefined when malformed. */
function splitOrigin(origin: string): [string, string, string] | undefined {
  const sep = origin.indexOf('://');
  if (sep <= 0) return undefined;
  const scheme = origin.slice(0, sep);
  const rest = origin.slice(sep + 3);
  // IPv6 literals keep their colons inside brackets.
  const colon = rest.lastIndexOf(':');
  const hasPort = colon > rest.lastIndexOf(']');
  const host = hasPort ? rest.slice(0, colon) : rest;
  const port = hasPort ? rest.slice(colon + 1) : scheme === 'https' ? '443' : scheme === 'http' ? '80' : '';
  if (host === '' || host.includes('/')) return undefined;
  return [scheme, host, port];
}

function originAllowed(c: CompiledCors, origin: string): boolean {
  if (c.anyOrigin) return true;
  const parsed = splitOrigin(origin.toLowerCase());
  if (!parsed) return false;
  const [scheme, host, port] = parsed;
  for (const p of c.origins) {
    if (p.scheme !== scheme || p.port !== port) continue;
    if (p.host !== undefined ? p.host === host : host.length > p.suffix.length && host.endsWith(p.suffix)) return true;
  }
  return false;
}

export function isPreflight(req: InboundRequest): boolean {
  return req.method === 'OPTIONS' && req.headers['access-control-request-method'] !== undefined;
}

/** Headers for a preflight answer; empty when the origin is not allowed, which denies it. */
export function preflightHeaders(c: CompiledCors, req: InboundRequest, origin: string): string[] {
  if (!originAllowed(c, origin)) return [];
  const out = allowOrigin(c, origin);
  // A `*` list is answered with what was asked: that is valid with or without credentials, `*` only without.
  const method = c.anyMethod ? req.headers['access-control-request-method'] : c.methods;
  if (method) out.push('access-control-allow-methods', method);
  const headers = c.anyHeader ? req.headers['access-control-request-headers'] : c.headers;
  if (headers) out.push('access-control-allow-headers', headers);
  out.push('access-control-max-age', c.maxAge);
  return out;
}

/** Headers added to an actual response; undefined when the origin is not allowed. */
export function actualHeaders(c: CompiledCors, origin: string): readonly string[] | undefined {
  if (!originAllowed(c, origin)) return undefined;
  return c.wildcardActual ?? allowOrigin(c, origin);
}

function allowOrigin(c: CompiledCors, origin: string): string[] {
  if (c.wildcardActual) return ['access-control-allow-origin', '*', ...c.common];
  // The answer depends on Origin, so caches must key on it.
  return ['access-control-allow-origin', origin, 'vary', 'Origin', ...c.common];
}
