import type {
  IRAction, IRMatch, IRPathModifier, IRRedirectAction, IRRetry, IRRoute, IRTimeouts, IRURLRewrite,
} from '../ir/types.js';
import type {
  BackendObjectReference, GRPCRoute, HTTPPathModifier, HTTPRoute, HTTPRouteMatch, HTTPRouteRule, Namespace,
} from '../resources/types.js';
import type { BackendProblem, BackendResolver, Referrer, Resolver } from './backends.js';
import { CondType, Reason, condition, type PendingCondition } from './conditions.js';
import { ageKey, type ListenerState } from './gateways.js';
import { parseDuration } from './durations.js';
import { FilterError, checkPathModifier, compileRuleFilters } from './filters.js';
import { compileGRPCRule } from './grpcroutes.js';
import {
  attach, countAttachedRoute, indexedListeners, resolvedRefsCondition, routeTargets, statusParentRef,
  type Parent, type ParentIndex, type RouteParentStatus, type Target,
} from './routes.js';
import {
  checkRegex, compileBackendRefs, compileHeaderMatches, type CompiledRule, type GRPCPrecedence,
} from './rules.js';

/**
 * The routes that serve requests through virtual hosts. GRPCRoutes are
 * HTTP/2 requests too and share HTTPRoutes' listeners, hosts and machinery;
 * only their rules compile differently.
 */
export type RequestRoute = HTTPRoute | GRPCRoute;

/** One compiled match of one rule, with what precedence ordering needs. */
export interface RouteEntry {
  ir: IRRoute;
  route: RequestRoute;
  ruleIndex: number;
  matchIndex: number;
  /** GRPCRoute entries: how their match ranks among their kind's. */
  grpc?: GRPCPrecedence;
}

/** A route bound to a listener, serving the given (intersected) hostnames. */
export interface Attachment {
  listener: ListenerState;
  /** Which of the route's parentRefs (those naming a parent of ours) bound it here. */
  target: number;
  hostnames: string[];
  entries: RouteEntry[];
  /** The route's ageKey, for precedence among routes. */
  age: string;
  /**
   * False when the route is already attached to a listener of the same owner
   * and name: it counts there, but serves through the first one only.
   */
  serves: boolean;
}

export interface RouteResult {
  route: RequestRoute;
  parents: RouteParentStatus[];
  attachments: Attachment[];
}

// Used when a retry stanza leaves them out (the spec leaves both to implementations).
const DEFAULT_RETRIES = 2;
const DEFAULT_RETRY_BACKOFF_MS = 25;
const WELL_KNOWN_PORTS: Record<string, number> = { http: 80, https: 443 };

/** Route results in route order, `undefined` for a route that names no parent of ours. */
export interface RouteResults {
  /** The routes they are for. */
  routes: RequestRoute[];
  results: (RouteResult | undefined)[];
  /** The results that went and came since the `earlier` results given; with none given, every result came. */
  removed: RouteResult[];
  added: RouteResult[];
  /** How many results at the start and at the end were carried over from `earlier` without a look. */
  head: number;
  tail: number;
  /** Whether every route is frozen (those carried over were, being the same objects as before). */
  frozen: boolean;
}

/**
 * Binds every route to the listeners it names, counting attached routes on
 * them. Given the results of the previous call on the same parents, backends
 * and controller (`earlier`), the routes that are the same objects at the
 * start and the end of the list keep their results unseen, and the counts are
 * updated rather than redone: an edit costs about the routes it touched.
 */
export function translateRequestRoutes(
  routes: RequestRoute[], parents: ParentIndex, backends: BackendResolver, controllerName: string, earlier?: RouteResults,
): RouteResults {
  let head = 0;
  let tail = 0;
  if (earlier) {
    const before = earlier.routes;
    const most = Math.min(routes.length, before.length);
    while (head < most && routes[head] === before[head]) head++;
    while (tail < most - head && routes[routes.length - 1 - tail] === before[before.length - 1 - tail]) tail++;
  } else {
    // Counted afresh below: the listeners may be those of a previous call.
    for (const l of indexedListeners(parents)) {
      l.attachedRoutes = 0;
      l.attachedGRPCRoutes = 0;
    }
  }
  const middle: (RouteResult | undefined)[] = [];
  for (let i = head; i < routes.length - tail; i++) middle.push(translateRoute(routes[i]!, parents, backends, controllerName));
  let added = middle.filter((r) => r !== undefined);
  let removed: RouteResult[] = [];
  if (earlier) {
    // A result both before and after (a route that only moved) neither went nor came.
    const before = earlier.results.slice(head, earlier.results.length - tail).filter((r) => r !== undefined);
    const now = new Set(added);
    const then = new Set(before);
    removed = before.filter((r) => !now.has(r));
    added = added.filter((r) => !then.has(r));
  }
  for (const r of removed) countAttachedRoute(r.route.kind, r.attachments, -1);
  for (const r of added) countAttachedRoute(r.route.kind, r.attachments, 1);
  const results = earlier
    ? earlier.results.slice(0, head).concat(middle, earlier.results.slice(earlier.results.length - tail))
    : middle;
  const frozen = (earlier?.frozen ?? true) && routes.slice(head, routes.length - tail).every((r) => Object.isFrozen(r));
  return { routes: routes.slice(), results, removed, added, head, tail, frozen };
}

function translateRoute(route: RequestRoute, parents: ParentIndex, backends: BackendResolver, controllerName: string): RouteResult | undefined {
  const namespace = route.metadata.namespace ?? 'default';
  const targets = routeTargets(route.spec?.parentRefs, namespace, parents);
  return targets.length === 0 ? undefined : bindRoute(route, namespace, targets, backends, parents.namespaces, controllerName);
}

/**
 * A route's result kept for the next snapshot: reused whole while the route
 * object is the same, its backend references resolve as before and each
 * parent it names has the same signature, since nothing else goes into it.
 * An edit to one route of thousands then costs about one route's work.
 */
interface BoundRoute {
  compiled: CompiledRoute;
  controllerName: string;
  /** The parents of the targets it was attached to. */
  attachedTo: Parent[];
  parents: RouteParentStatus[];
  /** The result last handed out, and the parents it was made for: while they are the same objects, so is it. */
  result?: { parents: Parent[]; result: RouteResult };
  age: string;
  /** Attachments by the index of their target and of their listener within it. */
  attachments: { target: number; listener: number; hostnames: string[]; entries: RouteEntry[]; serves: boolean }[];
}

// Only frozen routes are kept (the file provider freezes every object): a
// route that might still change cannot be recognised by its identity.
const boundRoutes = new WeakMap<RequestRoute, BoundRoute>();

function bindRoute(
  route: RequestRoute, namespace: string, targets: Target[], backends: BackendResolver,
  namespaces: Map<string, Namespace>, controllerName: string,
): RouteResult {
  const kept = boundRoutes.get(route);
  const compiled = compileRoute(route, namespace, backends, kept?.compiled);
  const reusable = kept?.compiled === compiled && kept.controllerName === controllerName
    && sameParents(targets, kept.attachedTo, (a, b) => a.signature === b.signature);
  const bound = reusable ? kept : attachRoute(route, namespace, targets, compiled, namespaces, controllerName);
  if (!reusable && Object.isFrozen(route)) boundRoutes.set(route, bound);
  if (bound.result && sameParents(targets, bound.result.parents, (a, b) => a === b)) return bound.result.result;
  const attachments: Attachment[] = [];
  for (const { target, listener, hostnames, entries, serves } of bound.attachments) {
    attachments.push({ listener: targets[target]!.parent.listeners[listener]!, target, hostnames, entries, age: bound.age, serves });
  }
  const result = { route, parents: bound.parents, attachments };
  bound.result = { parents: targets.map((t) => t.parent), result };
  return result;
}

/** Whether the targets' parents are, one for one, the `same` as `parents`. */
function sameParents(targets: Target[], parents: Parent[], same: (a: Parent, b: Parent) => boolean): boolean {
  return targets.length === parents.length && targets.every((t, i) => same(t.parent, parents[i]!));
}

function attachRoute(
  route: RequestRoute, namespace: string, targets: Target[], compiled: CompiledRoute,
  namespaces: Map<string, Namespace>, controllerName: string,
): BoundRoute {
  const gen = route.metadata.generation;
  const { invalidRules } = compiled;
  const totalRules = route.spec?.rules?.length ?? 0;
  const bound: BoundRoute = {
    compiled, controllerName, attachedTo: targets.map((t) => t.parent), parents: [], age: ageKey(route), attachments: [],
  };
  const servedBy = new Set<string>();
  targets.forEach(({ ref, parent }, target) => {
    const outcome = attach(route.kind, route.spec?.hostnames, namespace, ref, parent, namespaces);
    let accepted: PendingCondition;
    if (outcome.problem) {
      accepted = condition(CondType.Accepted, false, outcome.problem.reason, outcome.problem.message, gen);
    } else if (totalRules > 0 && invalidRules.length === totalRules) {
      accepted = condition(CondType.Accepted, false, Reason.UnsupportedValue,
        `All rules are invalid: ${invalidRules.join('; ')}`, gen);
    } else {
      accepted = condition(CondType.Accepted, true, Reason.Accepted, 'Route is accepted', gen);
      for (const { listener, hostnames } of outcome.bound) {
        const { owner } = listener;
        const listenerKey = `${owner.kind}/${owner.namespace}/${owner.name}|${listener.spec.name}`;
        bound.attachments.push({
          target, listener: parent.listeners.indexOf(listener), hostnames, entries: entriesFor(compiled, route, listener.spec.port),
          serves: !servedBy.has(listenerKey),
        });
        servedBy.add(listenerKey);
      }
    }
    const conditions = [accepted, compiled.resolvedRefs];
    if (invalidRules.length > 0 && accepted.status === 'True') {
      conditions.push(condition(CondType.PartiallyInvalid, true, Reason.UnsupportedValue,
        `Dropped Rule${invalidRules.length > 1 ? 's' : ''}: ${invalidRules.join('; ')}`, gen));
    }
    bound.parents.push({ parentRef: statusParentRef(ref, namespace), controllerName, conditions });
  });
  return bound;
}

/** What a route compiles to before it meets a listener. */
interface CompiledRoute {
  /** The resolver whose outcomes this reflects: the same resolver means nothing to check. */
  resolvedBy: BackendResolver;
  rules: CompiledRule[];
  invalidRules: string[];
  resolvedRefs: PendingCondition;
  /** The resolutions compiling made, in order, with all that compiling read of each. */
  resolutions: { ref: BackendObjectReference; from: Referrer; cluster?: string; problem?: BackendProblem }[];
  /** Entries by listener port, the one thing of a listener they depend on. */
  entries: Map<number, RouteEntry[]>;
}

/**
 * Compiles a route, or returns `kept` if every backend reference it resolved
 * still resolves the same way: the route and those outcomes are all that
 * compiling depends on. Resolving again also registers the clusters this
 * snapshot's IR needs.
 */
function compileRoute(route: RequestRoute, namespace: string, backends: BackendResolver, kept: CompiledRoute | undefined): CompiledRoute {
  if (kept && (kept.resolvedBy === backends || resolveAgain(kept, backends))) {
    kept.resolvedBy = backends;
    return kept;
  }

  const resolutions: CompiledRoute['resolutions'] = [];
  const recording: Resolver = {
    resolve(ref, from) {
      const resolution = backends.resolve(ref, from);
      resolutions.push(resolution.ok ? { ref, from, cluster: resolution.cluster.name } : { ref, from, problem: resolution.problem });
      return resolution;
    },
  };
  const gen = route.metadata.generation;
  const { rules, invalidRules, refProblems } = compileRules(route, namespace, recording);
  return {
    resolvedBy: backends, rules, invalidRules, resolvedRefs: resolvedRefsCondition(refProblems, gen), resolutions, entries: new Map(),
  };
}

/** Whether every resolution compiling made comes out the same again. */
function resolveAgain(compiled: CompiledRoute, backends: BackendResolver): boolean {
  for (const r of compiled.resolutions) {
    const now = backends.resolve(r.ref, r.from);
    const same = now.ok ? now.cluster.name === r.cluster
      : r.problem !== undefined && now.problem.reason === r.problem.reason && now.problem.message === r.problem.message;
    if (!same) return false;
  }
  return true;
}

function entriesFor(compiled: CompiledRoute, route: RequestRoute, port: number): RouteEntry[] {
  let entries = compiled.entries.get(port);
  if (!entries) {
    entries = buildEntries(route, compiled.rules, port);
    compiled.entries.set(port, entries);
  }
  return entries;
}

function compileRules(route: RequestRoute, namespace: string, backends: Resolver): {
  rules: CompiledRule[]; invalidRules: string[]; refProblems: BackendProblem[];
} {
  const rules: CompiledRule[] = [];
  const invalidRules: string[] = [];
  const refProblems: BackendProblem[] = [];
  const from: Referrer = { kind: route.kind, namespace };
  const specs = route.kind === 'GRPCRoute'
    ? (route.spec?.rules ?? []).map((rule) => ({ name: rule.name, compile: compileGRPCRule.bind(undefined, rule) }))
    : (route.spec?.rules ?? []).map((rule) => ({ name: rule.name, compile: compileRule.bind(undefined, rule) }));
  specs.forEach((rule, index) => {
    const label = rule.name ? `rule ${index} (${rule.name})` : `rule ${index}`;
    // Reference problems of a dropped rule say nothing about what is served.
    const ruleRefProblems: BackendProblem[] = [];
    try {
      const compiled = rule.compile(index, backends, from, ruleRefProblems);
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
  rule: HTTPRouteRule, index: number, backends: Resolver, from: Referrer, refProblems: BackendProblem[],
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
  return {
    index, name: rule.name, matches: matches.map(compileMatch), filters,
    backends: compileBackendRefs(rule.backendRefs ?? [], backends, from, refProblems),
    timeouts: compileTimeouts(rule.timeouts), retry: compileRetry(rule.retry),
  };
}

function checkRegexes(matches: HTTPRouteMatch[]): void {
  for (const m of matches) {
    const regexes: [string, string][] = [];
    if (m.path?.type === 'RegularExpression') regexes.push(['path', m.path.value ?? '']);
    for (const h of m.headers ?? []) if (h.type === 'RegularExpression') regexes.push([`header ${h.name}`, h.value]);
    for (const q of m.queryParams ?? []) if (q.type === 'RegularExpression') regexes.push([`query parameter ${q.name}`, q.value]);
    for (const [what, pattern] of regexes) checkRegex(what, pattern);
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
  if (m.headers && m.headers.length > 0) out.headers = compileHeaderMatches(m.headers);
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

function buildEntries(route: RequestRoute, rules: CompiledRule[], listenerPort: number): RouteEntry[] {
  const ns = route.metadata.namespace ?? 'default';
  const kind = route.kind.toLowerCase();
  const entries: RouteEntry[] = [];
  for (const rule of rules) {
    rule.matches.forEach((match, matchIndex) => {
      const prefix = match.path.type === 'PathPrefix' ? match.path.value : '/';
      const ir: IRRoute = {
        name: `${kind}/${ns}/${route.metadata.name}/rule/${rule.index}/match/${matchIndex}`,
        match,
        action: ruleAction(rule, listenerPort, prefix),
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
      const entry: RouteEntry = { ir, route, ruleIndex: rule.index, matchIndex };
      if (rule.grpc) entry.grpc = rule.grpc[matchIndex]!;
      entries.push(entry);
    });
  }
  return entries;
}

function pathModifier(m: HTTPPathModifier | undefined, prefix: string): IRPathModifier | undefined {
  if (!m) return undefined;
  if (m.type === 'ReplaceFullPath') return { type: 'ReplaceFullPath', value: m.replaceFullPath ?? '/' };
  return { type: 'ReplacePrefixMatch', value: m.replacePrefixMatch ?? '/', prefix };
}

function ruleAction(rule: CompiledRule, listenerPort: number, prefix: string): IRAction {
  const r = rule.filters.redirect;
  if (r) {
    const action: IRRedirectAction = { type: 'redirect', statusCode: r.statusCode ?? 302 };
    if (r.scheme) action.scheme = r.scheme;
    if (r.hostname) action.hostname = r.hostname;
    // Spec: explicit port, else the scheme's well-known port, else the listener's.
    action.port = r.port ?? (r.scheme ? WELL_KNOWN_PORTS[r.scheme] : listenerPort);
    const path = pathModifier(r.path, prefix);
    if (path) action.path = path;
    return action;
  }
  if (rule.backends.length === 0) {
    return { type: 'directResponse', status: 500, body: 'no valid backends' };
  }
  return { type: 'forward', backends: rule.backends };
}
