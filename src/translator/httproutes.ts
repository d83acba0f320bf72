import type {
  IRAction, IRMatch, IRPathModifier, IRRedirectAction, IRRetry, IRRoute, IRTimeouts, IRURLRewrite, IRWeightedBackend,
} from '../ir/types.js';
import type {
  HTTPPathModifier, HTTPRoute, HTTPRouteMatch, HTTPRouteRule, Namespace, ParentReference, Snapshot,
} from '../resources/types.js';
import type { BackendResolver, BackendProblem } from './backends.js';
import { CondType, Reason, condition, type PendingCondition } from './conditions.js';
import {
  GATEWAY_GROUP, objectKey, type GatewayState, type ListenerState,
} from './gateways.js';
import { namespaceSelected } from './namespaces.js';
import { parseDuration } from './durations.js';
import {
  FilterError, checkPathModifier, compileBackendFilters, compileRuleFilters, type RuleFilters,
} from './filters.js';
import { intersectHostnames } from './hostnames.js';

/** One compiled match of one rule, with what precedence ordering needs. */
export interface RouteEntry {
  ir: IRRoute;
  route: HTTPRoute;
  ruleIndex: number;
  matchIndex: number;
}

/** A route bound to a listener, serving the given (intersected) hostnames. */
export interface Attachment {
  listener: ListenerState;
  hostnames: string[];
  entries: RouteEntry[];
}

export interface RouteParentStatus {
  parentRef: Record<string, unknown>;
  controllerName: string;
  conditions: PendingCondition[];
}

export interface RouteResult {
  route: HTTPRoute;
  parents: RouteParentStatus[];
  attachments: Attachment[];
}

// Used when a retry stanza leaves them out (the spec leaves both to implementations).
const DEFAULT_RETRIES = 2;
const DEFAULT_RETRY_BACKOFF_MS = 25;
const WELL_KNOWN_PORTS: Record<string, number> = { http: 80, https: 443 };

interface CompiledRule {
  index: number;
  name?: string;
  matches: IRMatch[];
  filters: RuleFilters;
  backends: IRWeightedBackend[];
  timeouts?: IRTimeouts;
  retry?: IRRetry;
}

export function translateHTTPRoutes(
  snapshot: Snapshot, gateways: GatewayState[], backends: BackendResolver, controllerName: string,
): RouteResult[] {
  const parents = new Map<string, Parent>();
  for (const g of gateways) {
    parents.set(`Gateway/${g.key}`, { label: `Gateway ${g.key}`, listeners: g.listeners });
    for (const ls of g.listenerSets) {
      parents.set(`ListenerSet/${ls.key}`, {
        label: `ListenerSet ${ls.key}`,
        listeners: ls.listeners,
        problem: ls.problem && { reason: Reason.NoMatchingParent, message: `ListenerSet ${ls.key} is not attached: ${ls.problem.message}` },
      });
    }
  }
  const parentOf = (ref: ParentReference, namespace: string) => ((ref.group ?? GATEWAY_GROUP) === GATEWAY_GROUP
    ? parents.get(`${ref.kind ?? 'Gateway'}/${objectKey(ref.namespace ?? namespace, ref.name)}`) : undefined);
  const namespaces = new Map(snapshot.namespaces.map((n) => [n.metadata.name, n]));
  const results: RouteResult[] = [];
  for (const route of snapshot.httpRoutes) {
    const namespace = route.metadata.namespace ?? 'default';
    // parentRefs to objects we do not own get no status from us.
    const refs = (route.spec?.parentRefs ?? []).filter((ref) => parentOf(ref, namespace) !== undefined);
    if (refs.length === 0) continue;

    const gen = route.metadata.generation;
    const { rules, invalidRules, refProblems } = compileRules(route, namespace, backends);
    const resolvedRefs = refProblems.length === 0
      ? condition(CondType.ResolvedRefs, true, Reason.ResolvedRefs, 'All references are resolved', gen)
      : condition(CondType.ResolvedRefs, false, refProblems[0]!.reason, refProblems.map((p) => p.message).join('; '), gen);
    const totalRules = route.spec?.rules?.length ?? 0;

    const result: RouteResult = { route, parents: [], attachments: [] };
    for (const ref of refs) {
      const outcome = attach(route, namespace, ref, parentOf(ref, namespace)!, namespaces);
      let accepted: PendingCondition;
      if (outcome.problem) {
        accepted = condition(CondType.Accepted, false, outcome.problem.reason, outcome.problem.message, gen);
      } else if (totalRules > 0 && invalidRules.length === totalRules) {
        accepted = condition(CondType.Accepted, false, Reason.UnsupportedValue,
          `All rules are invalid: ${invalidRules.join('; ')}`, gen);
      } else {
        accepted = condition(CondType.Accepted, true, Reason.Accepted, 'Route is accepted', gen);
        for (const { listener, hostnames } of outcome.bound) {
          result.attachments.push({ listener, hostnames, entries: buildEntries(route, rules, listener) });
        }
      }
      const conditions = [accepted, resolvedRefs];
      if (invalidRules.length > 0 && accepted.status === 'True') {
        conditions.push(condition(CondType.PartiallyInvalid, true, Reason.UnsupportedValue,
          `Dropped Rule${invalidRules.length > 1 ? 's' : ''}: ${invalidRules.join('; ')}`, gen));
      }
      result.parents.push({ parentRef: statusParentRef(ref, namespace), controllerName, conditions });
    }
    // A listener counts a route once, however many parentRefs bind it there.
    for (const listener of new Set(result.attachments.map((a) => a.listener))) listener.attachedRoutes += 1;
    results.push(result);
  }
  return results;
}

/** What a parentRef can point at: a Gateway or a ListenerSet, with the listeners it declares. */
interface Parent {
  label: string;
  listeners: ListenerState[];
  /** Why nothing can attach to it at all. */
  problem?: { reason: string; message: string };
}

/** The parentRef as written back in status: fully qualified, so clients can compare it field by field. */
function statusParentRef(ref: ParentReference, routeNamespace: string): Record<string, unknown> {
  const out: Record<string, unknown> = {
    group: ref.group ?? GATEWAY_GROUP,
    kind: ref.kind ?? 'Gateway',
    namespace: ref.namespace ?? routeNamespace,
    name: ref.name,
  };
  if (ref.sectionName !== undefined) out.sectionName = ref.sectionName;
  if (ref.port !== undefined) out.port = ref.port;
  return out;
}

interface AttachOutcome {
  bound: { listener: ListenerState; hostnames: string[] }[];
  problem?: { reason: string; message: string };
}

/** Finds the listeners of one parent that accept the route, or why none does. */
function attach(
  route: HTTPRoute, namespace: string, ref: ParentReference, parent: Parent, namespaces: Map<string, Namespace>,
): AttachOutcome {
  if (parent.problem) return { bound: [], problem: parent.problem };
  const candidates = parent.listeners.filter((l) => (ref.sectionName === undefined || l.spec.name === ref.sectionName)
    && (ref.port === undefined || l.spec.port === ref.port));
  const target = [ref.sectionName !== undefined ? `sectionName ${ref.sectionName}` : '', ref.port !== undefined ? `port ${ref.port}` : '']
    .filter(Boolean).join(' and ');
  if (candidates.length === 0) {
    return { bound: [], problem: { reason: Reason.NoMatchingParent, message: `${parent.label} has no listener with ${target}` } };
  }
  // Listener status does not affect attachment (spec: ListenerStatus.AttachedRoutes);
  // listeners that cannot be programmed are left out of the IR instead.
  const allowed = candidates.filter((l) => l.supportedKinds.some((k) => k.group === GATEWAY_GROUP && k.kind === 'HTTPRoute')
    && namespaceAllowed(l, namespace, namespaces));
  if (allowed.length === 0) {
    return {
      bound: [],
      problem: { reason: Reason.NotAllowedByListeners, message: `No listener of ${parent.label} allows HTTPRoutes from namespace ${namespace}` },
    };
  }
  const bound = allowed
    .map((listener) => ({ listener, hostnames: intersectHostnames(listener.spec.hostname, route.spec?.hostnames) }))
    .filter((b) => b.hostnames.length > 0);
  if (bound.length === 0) {
    return {
      bound,
      problem: {
        reason: Reason.NoMatchingListenerHostname,
        message: `No hostname of the route (${(route.spec?.hostnames ?? []).join(', ')}) matches a listener of ${parent.label}`,
      },
    };
  }
  return { bound };
}

function namespaceAllowed(listener: ListenerState, routeNamespace: string, namespaces: Map<string, Namespace>): boolean {
  const allowed = listener.spec.allowedRoutes?.namespaces;
  return namespaceSelected(allowed?.from ?? 'Same', allowed?.selector, listener.owner.namespace, routeNamespace, namespaces);
}

function compileRules(route: HTTPRoute, namespace: string, backends: BackendResolver): {
  rules: CompiledRule[]; invalidRules: string[]; refProblems: BackendProblem[];
} {
  const rules: CompiledRule[] = [];
  const invalidRules: string[] = [];
  const refProblems: BackendProblem[] = [];
  const from = { kind: 'HTTPRoute', namespace };
  (route.spec?.rules ?? []).forEach((rule, index) => {
    const label = rule.name ? `rule ${index} (${rule.name})` : `rule ${index}`;
    // Reference problems of a dropped rule say nothing about what is served.
    const ruleRefProblems: BackendProblem[] = [];
    try {
      const compiled = compileRule(rule, index, backends, from, ruleRefProblems);
      rules.push(compiled);
      refProblems.push(...ruleRefProblems);
    } catch (err) {
      if (!(err instanceof FilterError)) throw err;
      invalidRules.push(`${label}: ${err.message}`);
    }
  });
  return { rules, invalidRules, refProblems };
}

function compileRule(
  rule: HTTPRouteRule, index: number, backends: BackendResolver, from: { kind: string; namespace: string }, refProblems: BackendProblem[],
): CompiledRule {
  const matches = rule.matches && rule.matches.length > 0 ? rule.matches : [{}];
  checkRegexes(matches);
  if (rule.sessionPersistence) throw new FilterError('sessionPersistence is not supported');
  const filters = compileRuleFilters(rule.filters ?? [], backends, from, refProblems);
  const pathTypes = matches.map((m) => m.path?.type ?? 'PathPrefix');
  checkPathModifier(filters.redirect?.path, pathTypes, 'requestRedirect');
  checkPathModifier(filters.urlRewrite?.path, pathTypes, 'urlRewrite');
  if (filters.redirect && (rule.backendRefs?.length ?? 0) > 0) {
    throw new FilterError('a RequestRedirect rule cannot also have backendRefs');
  }
  const compiled: CompiledRule = {
    index, name: rule.name, matches: matches.map(compileMatch), filters, backends: [],
    timeouts: compileTimeouts(rule.timeouts), retry: compileRetry(rule.retry),
  };
  for (const ref of rule.backendRefs ?? []) {
    const backendFilters = compileBackendFilters(ref.filters ?? []);
    const resolution = backends.resolve(ref, from);
    const weight = ref.weight ?? 1;
    if (!resolution.ok) refProblems.push(resolution.problem);
    if (weight === 0) continue;
    compiled.backends.push(resolution.ok
      ? { weight, cluster: resolution.cluster.name, ...backendFilters }
      : { weight, invalidStatus: 500 });
  }
  return compiled;
}

function checkRegexes(matches: HTTPRouteMatch[]): void {
  for (const m of matches) {
    const regexes: [string, string][] = [];
    if (m.path?.type === 'RegularExpression') regexes.push(['path', m.path.value ?? '']);
    for (const h of m.headers ?? []) if (h.type === 'RegularExpression') regexes.push([`header ${h.name}`, h.value]);
    for (const q of m.queryParams ?? []) if (q.type === 'RegularExpression') regexes.push([`query parameter ${q.name}`, q.value]);
    for (const [what, pattern] of regexes) {
      try {
        new RegExp(pattern);
      } catch (err) {
        throw new FilterError(`${what} regular expression ${JSON.stringify(pattern)} does not compile: ${(err as Error).message}`);
      }
    }
  }
}

function durationMs(value: string | undefined, what: string): number | undefined {
  if (value === undefined) return undefined;
  const ms = parseDuration(value);
  if (ms === undefined) throw new FilterError(`${what} ${JSON.stringify(value)} is not a duration such as 500ms, 10s or 1m30s`);
  return ms;
}

function compileTimeouts(t: HTTPRouteRule['timeouts']): IRTimeouts | undefined {
  if (!t) return undefined;
  // Spec: a zero duration disables the timeout.
  const requestMs = durationMs(t.request, 'timeouts.request') || undefined;
  const backendRequestMs = durationMs(t.backendRequest, 'timeouts.backendRequest') || undefined;
  if (requestMs !== undefined && backendRequestMs !== undefined && backendRequestMs > requestMs) {
    throw new FilterError('timeouts.backendRequest must not be longer than timeouts.request');
  }
  if (requestMs === undefined && backendRequestMs === undefined) return undefined;
  const out: IRTimeouts = {};
  if (requestMs !== undefined) out.requestMs = requestMs;
  if (backendRequestMs !== undefined) out.backendRequestMs = backendRequestMs;
  return out;
}

function compileRetry(r: HTTPRouteRule['retry']): IRRetry | undefined {
  if (!r) return undefined;
  return {
    codes: [...(r.codes ?? [])].sort((a, b) => a - b),
    // `attempts` counts retries; the IR counts every attempt, the first included.
    attempts: (r.attempts ?? DEFAULT_RETRIES) + 1,
    backoffMs: durationMs(r.backoff, 'retry.backoff') ?? DEFAULT_RETRY_BACKOFF_MS,
  };
}

function compileMatch(m: HTTPRouteMatch): IRMatch {
  const out: IRMatch = { path: { type: m.path?.type ?? 'PathPrefix', value: m.path?.value ?? '/' } };
  if (m.headers && m.headers.length > 0) {
    // The spec uses only the first match of a repeated header name.
    const seen = new Set<string>();
    out.headers = [];
    for (const h of m.headers) {
      const name = h.name.toLowerCase();
      if (seen.has(name)) continue;
      seen.add(name);
      out.headers.push({ name, type: h.type ?? 'Exact', value: h.value });
    }
  }
  if (m.queryParams && m.queryParams.length > 0) {
    const seen = new Set<string>();
    out.queryParams = [];
    for (const q of m.queryParams) {
      if (seen.has(q.name)) continue;
      seen.add(q.name);
      out.queryParams.push({ name: q.name, type: q.type ?? 'Exact', value: q.value });
    }
  }
  if (m.method) out.method = m.method;
  return out;
}

function buildEntries(route: HTTPRoute, rules: CompiledRule[], listener: ListenerState): RouteEntry[] {
  const ns = route.metadata.namespace ?? 'default';
  const entries: RouteEntry[] = [];
  for (const rule of rules) {
    rule.matches.forEach((match, matchIndex) => {
      const prefix = match.path.type === 'PathPrefix' ? match.path.value : '/';
      const ir: IRRoute = {
        name: `httproute/${ns}/${route.metadata.name}/rule/${rule.index}/match/${matchIndex}`,
        match,
        action: ruleAction(rule, listener, prefix),
      };
      const f = rule.filters;
      if (rule.name) ir.ruleName = rule.name;
      if (f.requestHeaders) ir.requestHeaders = f.requestHeaders;
      if (f.responseHeaders) ir.responseHeaders = f.responseHeaders;
      if (f.urlRewrite) {
        const rewrite: IRURLRewrite = {};
        if (f.urlRewrite.hostname) rewrite.hostname = f.urlRewrite.hostname;
        const path = pathModifier(f.urlRewrite.path, prefix);
        if (path) rewrite.path = path;
        ir.urlRewrite = rewrite;
      }
      if (f.mirrors.length > 0) ir.mirrors = f.mirrors;
      if (f.cors) ir.cors = f.cors;
      if (rule.timeouts) ir.timeouts = rule.timeouts;
      if (rule.retry) ir.retry = rule.retry;
      entries.push({ ir, route, ruleIndex: rule.index, matchIndex });
    });
  }
  return entries;
}

function pathModifier(m: HTTPPathModifier | undefined, prefix: string): IRPathModifier | undefined {
  if (!m) return undefined;
  if (m.type === 'ReplaceFullPath') return { type: 'ReplaceFullPath', value: m.replaceFullPath ?? '/' };
  return { type: 'ReplacePrefixMatch', value: m.replacePrefixMatch ?? '/', prefix };
}

function ruleAction(rule: CompiledRule, listener: ListenerState, prefix: string): IRAction {
  const r = rule.filters.redirect;
  if (r) {
    const action: IRRedirectAction = { type: 'redirect', statusCode: r.statusCode ?? 302 };
    if (r.scheme) action.scheme = r.scheme;
    if (r.hostname) action.hostname = r.hostname;
    // Spec: explicit port, else the scheme's well-known port, else the listener's.
    action.port = r.port ?? (r.scheme ? WELL_KNOWN_PORTS[r.scheme] : listener.spec.port);
    const path = pathModifier(r.path, prefix);
    if (path) action.path = path;
    return action;
  }
  if (rule.backends.length === 0) {
    return { type: 'directResponse', status: 500, body: 'no valid backends' };
  }
  return { type: 'forward', backends: rule.backends };
}
