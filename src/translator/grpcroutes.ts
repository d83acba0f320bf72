import type { IRMatch } from '../ir/types.js';
import type { GRPCRouteMatch, GRPCRouteRule } from '../resources/types.js';
import type { BackendProblem, Referrer, Resolver } from './backends.js';
import { FilterError, compileRuleFilters } from './filters.js';
import {
  checkRegex, compileBackendRefs, compileHeaderMatches, type CompiledRule, type GRPCPrecedence,
} from './rules.js';

// GRPCRoute rules as HTTP routes: a gRPC call is an HTTP/2 POST to
// `/<service>/<method>`, so service and method matches become path matches.

// Any one path segment: what an omitted service or method matches.
const ANY_SEGMENT = '[^/]+';

/**
 * Compiles one GRPCRoute rule; throws FilterError for a rule that cannot be
 * served as written. Content-type is not matched: the spec leaves telling
 * gRPC from other requests to the route's author.
 */
export function compileGRPCRule(
  rule: GRPCRouteRule, index: number, backends: Resolver, from: Referrer, refProblems: BackendProblem[],
): CompiledRule {
  if (rule.sessionPersistence) throw new FilterError('sessionPersistence is not supported');
  const matches = rule.matches && rule.matches.length > 0 ? rule.matches : [{}];
  const compiled = matches.map(compileMatch);
  return {
    index, name: rule.name, matches: compiled.map((c) => c.match), grpc: compiled.map((c) => c.precedence),
    filters: compileRuleFilters(rule.filters ?? [], backends, from, refProblems),
    backends: compileBackendRefs(rule.backendRefs ?? [], backends, from, refProblems),
  };
}

function compileMatch(m: GRPCRouteMatch): { match: IRMatch; precedence: GRPCPrecedence } {
  const match: IRMatch = { path: methodPath(m.method) };
  if (m.headers && m.headers.length > 0) {
    for (const h of m.headers) if (h.type === 'RegularExpression') checkRegex(`header ${h.name}`, h.value);
    match.headers = compileHeaderMatches(m.headers);
  }
  const regex = m.method?.type === 'RegularExpression';
  const precedence = regex
    ? { service: 0, method: 0, regex }
    : { service: m.method?.service?.length ?? 0, method: m.method?.method?.length ?? 0, regex };
  return { match, precedence };
}

/**
 * The path match of a method match. Exact service and method is an exact
 * path and a service alone a prefix, which the data plane finds without
 * trying regular expressions; anything else is a regular expression over
 * both segments.
 */
function methodPath(m: GRPCRouteMatch['method']): IRMatch['path'] {
  if (!m || (m.service === undefined && m.method === undefined)) return { type: 'PathPrefix', value: '/' };
  const { service, method } = m;
  if ((m.type ?? 'Exact') === 'Exact') {
    if (service !== undefined && method !== undefined) return { type: 'Exact', value: `/${service}/${method}` };
    if (service !== undefined) return { type: 'PathPrefix', value: `/${service}/` };
    return { type: 'RegularExpression', value: `/${ANY_SEGMENT}/${escapeRegex(method!)}` };
  }
  if (service !== undefined) checkRegex('method.service', service);
  if (method !== undefined) checkRegex('method.method', method);
  return { type: 'RegularExpression', value: `/(?:${service ?? ANY_SEGMENT})/(?:${method ?? ANY_SEGMENT})` };
}

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
