import type { IRMatch, IRRetry, IRStringMatch, IRTimeouts, IRWeightedBackend } from '../ir/types.js';
import type { HTTPBackendRef } from '../resources/types.js';
import type { BackendProblem, Referrer, Resolver } from './backends.js';
import { FilterError, compileBackendFilters, type RuleFilters } from './filters.js';

// What rules of HTTPRoutes and GRPCRoutes compile to, and the parts of
// compiling them that the two kinds share.

/**
 * Where a GRPCRoute match ranks among its kind's: by the characters of the
 * service and of the method it matches exactly. A regular expression
 * (implementation-specific) counts none, so an exact match of the same call
 * comes first, but ranks above matching no method at all, so that a
 * catch-all rule cannot hide it.
 */
export interface GRPCPrecedence { service: number; method: number; regex: boolean }

export interface CompiledRule {
  index: number;
  name?: string;
  matches: IRMatch[];
  /** GRPCRoute rules only: aligned with `matches`, which then rank by these instead of by path. */
  grpc?: GRPCPrecedence[];
  filters: RuleFilters;
  backends: IRWeightedBackend[];
  timeouts?: IRTimeouts;
  retry?: IRRetry;
}

/** Throws FilterError for a regular expression the data plane could not compile. */
export function checkRegex(what: string, pattern: string): void {
  try {
    new RegExp(pattern);
  } catch (err) {
    throw new FilterError(`${what} regular expression ${JSON.stringify(pattern)} does not compile: ${(err as Error).message}`);
  }
}

/** Header matches with names lower-cased; the spec uses only the first match of a repeated name. */
export function compileHeaderMatches(headers: { type?: 'Exact' | 'RegularExpression'; name: string; value: string }[]): IRStringMatch[] {
  const seen = new Set<string>();
  const out: IRStringMatch[] = [];
  for (const h of headers) {
    const name = h.name.toLowerCase();
    if (seen.has(name)) continue;
    seen.add(name);
    out.push({ name, type: h.type ?? 'Exact', value: h.value });
  }
  return out;
}

/**
 * A rule's weighted backends. An invalid reference is reported in
 * `refProblems` and stays as a backend without a cluster, so that the
 * requests picking it fail in proportion to its weight (spec: BackendRefs).
 */
export function compileBackendRefs(
  refs: HTTPBackendRef[], backends: Resolver, from: Referrer, refProblems: BackendProblem[],
): IRWeightedBackend[] {
  const out: IRWeightedBackend[] = [];
  for (const ref of refs) {
    const backendFilters = compileBackendFilters(ref.filters ?? []);
    const resolution = backends.resolve(ref, from);
    const weight = ref.weight ?? 1;
    if (!resolution.ok) refProblems.push(resolution.problem);
    if (weight === 0) continue;
    out.push(resolution.ok ? { weight, cluster: resolution.cluster.name, ...backendFilters } : { weight, invalidStatus: 500 });
  }
  return out;
}
