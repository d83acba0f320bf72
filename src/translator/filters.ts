import type { IRCors, IRHeaderMutation, IRMirror } from '../ir/types.js';
import type { HTTPHeaderFilter, HTTPPathModifier, HTTPRouteFilter } from '../resources/types.js';
import type { BackendProblem, Referrer, Resolver } from './backends.js';

/** A rule's filters, validated and compiled; path modifiers stay raw until a match supplies its prefix. */
export interface RuleFilters {
  requestHeaders?: IRHeaderMutation;
  responseHeaders?: IRHeaderMutation;
  redirect?: NonNullable<HTTPRouteFilter['requestRedirect']>;
  urlRewrite?: NonNullable<HTTPRouteFilter['urlRewrite']>;
  mirrors: IRMirror[];
  cors?: IRCors;
}

/** The filters a backendRef may carry. */
export interface BackendFilters {
  requestHeaders?: IRHeaderMutation;
  responseHeaders?: IRHeaderMutation;
}

const REPEATABLE = new Set(['RequestMirror', 'ExtensionRef']);
const CORS_DEFAULT_MAX_AGE = 5;
// Spec (CORSOrigin): `*`, or scheme://host[:port] where host may carry a leading wildcard.
const CORS_ORIGIN = /^(\*|https?:\/\/(\*|(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*)(:[0-9]{1,5})?)$/i;

export class FilterError extends Error {}

/**
 * Compiles a rule's filters. Throws FilterError for a rule that cannot be
 * served as written; unresolvable mirror backends are reported in
 * `refProblems` and left out, as the spec asks for invalid references.
 */
export function compileRuleFilters(
  filters: HTTPRouteFilter[], backends: Resolver, from: Referrer, refProblems: BackendProblem[],
): RuleFilters {
  const out: RuleFilters = { mirrors: [] };
  const seen = new Set<string>();
  for (const f of filters) {
    if (seen.has(f.type) && !REPEATABLE.has(f.type)) throw new FilterError(`filter ${f.type} is given more than once`);
    seen.add(f.type);
    switch (f.type) {
      case 'RequestHeaderModifier':
        out.requestHeaders = headerMutation(f.requestHeaderModifier);
        break;
      case 'ResponseHeaderModifier':
        out.responseHeaders = headerMutation(f.responseHeaderModifier);
        break;
      case 'RequestRedirect':
        out.redirect = f.requestRedirect ?? {};
        break;
      case 'URLRewrite':
        out.urlRewrite = f.urlRewrite ?? {};
        break;
      case 'RequestMirror': {
        const mirror = f.requestMirror;
        if (!mirror) throw new FilterError('RequestMirror filter needs requestMirror');
        const resolution = backends.resolve(mirror.backendRef, from);
        if (!resolution.ok) {
          refProblems.push(resolution.problem);
          break;
        }
        out.mirrors.push({ cluster: resolution.cluster.name, fraction: mirrorFraction(mirror) });
        break;
      }
      case 'CORS':
        out.cors = compileCors(f.cors ?? {});
        break;
      default:
        throw new FilterError(`filter type ${f.type} is not supported`);
    }
  }
  if (out.redirect && out.urlRewrite) throw new FilterError('RequestRedirect and URLRewrite cannot be used together');
  return out;
}

export function compileBackendFilters(filters: HTTPRouteFilter[]): BackendFilters {
  const out: BackendFilters = {};
  const seen = new Set<string>();
  for (const f of filters) {
    if (seen.has(f.type)) throw new FilterError(`backendRef filter ${f.type} is given more than once`);
    seen.add(f.type);
    if (f.type === 'RequestHeaderModifier') out.requestHeaders = headerMutation(f.requestHeaderModifier);
    else if (f.type === 'ResponseHeaderModifier') out.responseHeaders = headerMutation(f.responseHeaderModifier);
    else throw new FilterError(`filter type ${f.type} is not supported on backendRefs`);
  }
  return out;
}

/** ReplacePrefixMatch only has a meaning for PathPrefix matches. */
export function checkPathModifier(modifier: HTTPPathModifier | undefined, pathTypes: string[], what: string): void {
  if (modifier?.type === 'ReplacePrefixMatch' && pathTypes.some((t) => t !== 'PathPrefix')) {
    throw new FilterError(`${what}.path ReplacePrefixMatch needs every match to use a PathPrefix path`);
  }
}

function headerMutation(f: HTTPHeaderFilter | undefined): IRHeaderMutation {
  const out: IRHeaderMutation = {};
  if (f?.set?.length) out.set = f.set.map((h) => ({ name: h.name.toLowerCase(), value: h.value }));
  if (f?.add?.length) out.add = f.add.map((h) => ({ name: h.name.toLowerCase(), value: h.value }));
  if (f?.remove?.length) out.remove = f.remove.map((n) => n.toLowerCase());
  return out;
}

function mirrorFraction(mirror: NonNullable<HTTPRouteFilter['requestMirror']>): number {
  if (mirror.percent !== undefined) return Math.min(100, Math.max(0, mirror.percent)) / 100;
  if (mirror.fraction) {
    const denominator = mirror.fraction.denominator ?? 100;
    if (denominator <= 0 || mirror.fraction.numerator > denominator) {
      throw new FilterError('requestMirror.fraction needs 0 <= numerator <= denominator and denominator > 0');
    }
    return mirror.fraction.numerator / denominator;
  }
  return 1;
}

function compileCors(c: NonNullable<HTTPRouteFilter['cors']>): IRCors {
  const allowOrigins = c.allowOrigins ?? [];
  for (const origin of allowOrigins) {
    if (!CORS_ORIGIN.test(origin)) {
      throw new FilterError(`cors.allowOrigins ${JSON.stringify(origin)} is not "*" or scheme://host[:port] (host may start with "*.")`);
    }
  }
  return {
    allowOrigins,
    allowCredentials: c.allowCredentials ?? false,
    allowMethods: c.allowMethods ?? [],
    allowHeaders: c.allowHeaders ?? [],
    exposeHeaders: c.exposeHeaders ?? [],
    maxAgeSeconds: c.maxAge ?? CORS_DEFAULT_MAX_AGE,
  };
}
