// Route tables compiled from the IR. Everything that can be decided once per
// apply (regexes, lower-cased names, cumulative weights, header validation)
// is decided here so the per-request path is plain comparisons.

import { validateHeaderValue } from 'node:http';
import type { IRAction, IRMatch, IRMirror, IRRetry, IRRoute, IRServer, IRStringMatch, IRVirtualHost } from '../ir/types.js';
import type { ClusterPool } from './clusters.js';
import { compileCors, type CompiledCors } from './cors.js';
import { compileMutation, type CompiledHeaderMutation } from './headers.js';
import { firstMatch, indexHostnames, type HostnameIndex } from './hostnames.js';
import { headersDistinct, type InboundRequest } from './inbound.js';
import { compilePathModifier, type CompiledPathModifier } from './paths.js';

interface StringMatcher {
  name: string;
  /** Set for Exact matches. */
  exact: string | undefined;
  /** Set for RegularExpression matches; anchored, no global flag, so `test` is stateless. */
  regex: RegExp | undefined;
}

const PATH_EXACT = 0;
const PATH_PREFIX = 1;
const PATH_REGEX = 2;

interface CompiledMatch {
  pathKind: typeof PATH_EXACT | typeof PATH_PREFIX | typeof PATH_REGEX;
  /** Exact value, or the prefix without its trailing slash. */
  pathValue: string;
  pathRegex: RegExp | undefined;
  headers: readonly StringMatcher[];
  query: readonly StringMatcher[];
  method: string | undefined;
}

export interface CompiledBackend {
  /** Absent when the backend is invalid or its cluster is unknown; `status` is served then. */
  pool: ClusterPool | undefined;
  status: number;
  requestHeaders: CompiledHeaderMutation | undefined;
  responseHeaders: CompiledHeaderMutation | undefined;
}

export interface CompiledMirror {
  pool: ClusterPool;
  fraction: number;
}

export interface CompiledRetry {
  codes: ReadonlySet<number>;
  attempts: number;
  backoffMs: number;
}

export type CompiledAction =
  | {
      kind: 'forward';
      backends: readonly CompiledBackend[];
      /** Running sums of the weights, for one random draw per request. */
      cumulative: readonly number[];
      totalWeight: number;
    }
  | {
      kind: 'redirect';
      status: number;
      scheme: string | undefined;
      hostname: string | undefined;
      port: number | undefined;
      path: CompiledPathModifier | undefined;
    }
  | { kind: 'direct'; status: number; body: Buffer | undefined };

export interface CompiledRoute {
  name: string;
  match: CompiledMatch;
  requestHeaders: CompiledHeaderMutation | undefined;
  responseHeaders: CompiledHeaderMutation | undefined;
  rewriteHost: string | undefined;
  rewritePath: CompiledPathModifier | undefined;
  mirrors: readonly CompiledMirror[];
  cors: CompiledCors | undefined;
  /** 0 when unlimited. */
  requestTimeoutMs: number;
  /** 0 when unlimited. */
  backendTimeoutMs: number;
  retry: CompiledRetry | undefined;
  action: CompiledAction;
}

interface CompiledVirtualHost {
  hostname: string;
  routes: readonly CompiledRoute[];
  /** For larger tables: which routes a path can match at all, found in O(path length). */
  index: PathIndex | undefined;
}

/** Below this many routes a virtual host is scanned in order; an index costs more than it saves. */
const INDEX_MIN_ROUTES = 16;

interface PrefixNode {
  children: Map<string, PrefixNode> | undefined;
  /** Routes whose PathPrefix ends at this segment, ascending. */
  routes: number[];
}

/**
 * Narrows a virtual host's routes to those whose path match can succeed:
 * Exact ones by a map lookup, PathPrefix ones by walking the path's segments
 * through a trie, RegularExpression ones always. Candidates are then tried in
 * their table order with the full match, so the index only skips routes and
 * never changes which one wins.
 */
interface PathIndex {
  exact: Map<string, number[]>;
  prefixes: PrefixNode;
  regex: number[];
}

function buildPathIndex(routes: readonly CompiledRoute[]): PathIndex {
  const index: PathIndex = { exact: new Map(), prefixes: { children: undefined, routes: [] }, regex: [] };
  // Rebuilt whenever a virtual host changes, over all its routes: segments are cut in place, not split into arrays.
  for (let i = 0; i < routes.length; i++) {
    const m = routes[i]!.match;
    if (m.pathKind === PATH_EXACT) {
      const list = index.exact.get(m.pathValue);
      if (list) list.push(i);
      else index.exact.set(m.pathValue, [i]);
    } else if (m.pathKind === PATH_REGEX) {
      index.regex.push(i);
    } else {
      let node = index.prefixes;
      // pathValue has no trailing slash; "" is the prefix "/". Segments of "/a/b": "a", "b".
      const path = m.pathValue;
      for (let start = 1; start <= path.length;) {
        let end = path.indexOf('/', start);
        if (end < 0) end = path.length;
        const segment = path.slice(start, end);
        node.children ??= new Map();
        let next = node.children.get(segment);
        if (next === undefined) {
          next = { children: undefined, routes: [] };
          node.children.set(segment, next);
        }
        node = next;
        start = end + 1;
      }
      node.routes.push(i);
    }
  }
  return index;
}

/** The non-empty candidate lists of one lookup; reused, as lookups never overlap. */
const found: number[][] = [];

function take(list: number[] | undefined): void {
  if (list !== undefined && list.length > 0) found.push(list);
}

/** Route positions the path can match, ascending; shared arrays are never modified. */
function candidates(index: PathIndex, path: string): readonly number[] {
  found.length = 0;
  take(index.regex);
  take(index.exact.get(path));
  let node: PrefixNode | undefined = index.prefixes;
  take(node.routes);
  // Segments of "/a/b": "a", "b". A prefix ends at a segment boundary, so "/ab" is not under "/a".
  let start = 1;
  while (node.children !== undefined && start <= path.length) {
    let end = path.indexOf('/', start);
    if (end < 0) end = path.length;
    node = node.children.get(path.slice(start, end));
    if (node === undefined) break;
    take(node.routes);
    start = end + 1;
  }
  // Usually one list is non-empty and is returned as it is; only a mix is merged (each route is in one list).
  if (found.length === 0) return NONE;
  if (found.length === 1) return found[0]!;
  return found.flat().sort(ascending);
}

function ascending(a: number, b: number): number {
  return a - b;
}

export interface RouteTable {
  virtualHosts: readonly CompiledVirtualHost[];
  /** The virtual hosts' hostnames. */
  hosts: HostnameIndex;
}

type ClusterLookup = (name: string) => ClusterPool | undefined;

/**
 * Compiles routes, remembering each by its IR object: a config that hands
 * back the same route object (the translator and the IR decoder both do for
 * unchanged routes) gets the same compiled route without the work. A
 * compiled route holds the cluster pools it resolved, so the cache is
 * dropped whenever a pool is retired.
 */
export class RouteCompiler {
  private cache = new WeakMap<IRRoute, CompiledRoute>();
  private missed = false;
  private readonly lookup: ClusterLookup;

  constructor(lookup: ClusterLookup) {
    // A route that named a cluster with no pool is not kept: the pool may exist next time.
    this.lookup = (name) => {
      const pool = lookup(name);
      if (pool === undefined) this.missed = true;
      return pool;
    };
  }

  forget(): void {
    this.cache = new WeakMap();
  }

  compile(r: IRRoute): CompiledRoute {
    let compiled = this.cache.get(r);
    if (compiled !== undefined) return compiled;
    this.missed = false;
    try {
      compiled = compileRoute(r, this.lookup);
    } catch (err) {
      throw new Error(`route ${r.name}: ${(err as Error).message}`);
    }
    if (!this.missed) this.cache.set(r, compiled);
    return compiled;
  }
}

const NONE: readonly never[] = Object.freeze([]);

/** Throws on anything the data plane cannot serve (bad regex, invalid header). */
export function compileRouteTable(server: IRServer, compiler: RouteCompiler): RouteTable {
  const virtualHosts = server.virtualHosts.map((vh) => compileVirtualHost(vh, compiler));
  return { virtualHosts, hosts: indexHostnames(virtualHosts.map((vh) => vh.hostname)) };
}

function compileVirtualHost(vh: IRVirtualHost, compiler: RouteCompiler): CompiledVirtualHost {
  const routes = vh.routes.map((r) => compiler.compile(r));
  return { hostname: vh.hostname.toLowerCase(), routes, index: routes.length >= INDEX_MIN_ROUTES ? buildPathIndex(routes) : undefined };
}

function compileRoute(r: IRRoute, lookup: ClusterLookup): CompiledRoute {
  if (r.urlRewrite?.hostname !== undefined) validateHeaderValue('host', r.urlRewrite.hostname);
  return {
    name: r.name,
    match: compileMatch(r.match),
    requestHeaders: r.requestHeaders && compileMutation(r.requestHeaders),
    responseHeaders: r.responseHeaders && compileMutation(r.responseHeaders),
    rewriteHost: r.urlRewrite?.hostname,
    rewritePath: r.urlRewrite?.path && compilePathModifier(r.urlRewrite.path),
    mirrors: r.mirrors?.length ? compileMirrors(r.mirrors, lookup) : NONE,
    cors: r.cors && compileCors(r.cors),
    requestTimeoutMs: r.timeouts?.requestMs ?? 0,
    backendTimeoutMs: r.timeouts?.backendRequestMs ?? 0,
    retry: r.retry && compileRetry(r.retry),
    action: compileAction(r.action, lookup),
  };
}

function compileMirrors(mirrors: readonly IRMirror[], lookup: ClusterLookup): CompiledMirror[] {
  const out: CompiledMirror[] = [];
  for (const m of mirrors) {
    // An invalid or unknown mirror target mirrors nothing; the main request is unaffected.
    const pool = m.cluster === undefined ? undefined : lookup(m.cluster);
    if (pool && m.fraction > 0) out.push({ pool, fraction: m.fraction });
  }
  return out;
}

function compileRetry(r: IRRetry): CompiledRetry | undefined {
  if (r.attempts <= 1) return undefined;
  return { codes: new Set(r.codes), attempts: r.attempts, backoffMs: Math.max(0, r.backoffMs) };
}

function compileMatch(m: IRMatch): CompiledMatch {
  const { type, value } = m.path;
  let pathKind: CompiledMatch['pathKind'];
  let pathValue = value;
  let pathRegex: RegExp | undefined;
  switch (type) {
    case 'Exact':
      pathKind = PATH_EXACT;
      break;
    case 'PathPrefix':
      pathKind = PATH_PREFIX;
      pathValue = value.endsWith('/') ? value.slice(0, -1) : value;
      break;
    case 'RegularExpression':
      pathKind = PATH_REGEX;
      pathRegex = fullMatch(value);
      break;
    default:
      throw new Error(`unknown path match type ${String(type)}`);
  }
  return {
    pathKind,
    pathValue,
    pathRegex,
    headers: m.headers?.length ? m.headers.map((h) => compileString(h, true)) : NONE,
    query: m.queryParams?.length ? m.queryParams.map((q) => compileString(q, false)) : NONE,
    method: m.method,
  };
}

function compileString(m: IRStringMatch, lowerName: boolean): StringMatcher {
  const name = lowerName ? m.name.toLowerCase() : m.name;
  if (m.type === 'Exact') return { name, exact: m.value, regex: undefined };
  if (m.type === 'RegularExpression') return { name, exact: undefined, regex: fullMatch(m.value) };
  throw new Error(`unknown match type ${String(m.type)}`);
}

function fullMatch(source: string): RegExp {
  try {
    return new RegExp(`^(?:${source})$`);
  } catch (err) {
    throw new Error(`invalid regular expression ${JSON.stringify(source)}: ${(err as Error).message}`);
  }
}

function compileAction(a: IRAction, lookup: ClusterLookup): CompiledAction {
  switch (a.type) {
    case 'forward': {
      let total = 0;
      const cumulative: number[] = [];
      const backends = a.backends.map((b): CompiledBackend => {
        total += Math.max(0, b.weight);
        cumulative.push(total);
        const requestHeaders = b.requestHeaders && compileMutation(b.requestHeaders);
        const responseHeaders = b.responseHeaders && compileMutation(b.responseHeaders);
        if (b.cluster === undefined) return { pool: undefined, status: b.invalidStatus ?? 500, requestHeaders, responseHeaders };
        // A cluster the IR does not define has no endpoints as far as we can tell.
        return { pool: lookup(b.cluster), status: 503, requestHeaders, responseHeaders };
      });
      return { kind: 'forward', backends, cumulative, totalWeight: total };
    }
    case 'redirect':
      return {
        kind: 'redirect',
        status: a.statusCode,
        scheme: a.scheme,
        hostname: a.hostname,
        port: a.port,
        path: a.path && compilePathModifier(a.path),
      };
    case 'directResponse':
      return { kind: 'direct', status: a.status, body: a.body === undefined ? undefined : Buffer.from(a.body) };
    default:
      throw new Error(`unknown action ${JSON.stringify(a)}`);
  }
}

/** `host` is lower-case and without port. */
export function selectVirtualHost(table: RouteTable, host: string): CompiledVirtualHost | undefined {
  const index = firstMatch(table.hosts, host);
  return index === undefined ? undefined : table.virtualHosts[index];
}

/** Per-request state shared by the route matches so the query string and headers are indexed at most once. */
export interface MatchInput {
  req: InboundRequest;
  path: string;
  /** Text after `?`, without it; empty when absent. */
  query: string;
  params: URLSearchParams | undefined;
  headers: NodeJS.Dict<string[]> | undefined;
}

export function selectRoute(vh: CompiledVirtualHost, input: MatchInput): CompiledRoute | undefined {
  const routes = vh.routes;
  if (vh.index === undefined) {
    for (const route of routes) {
      if (matches(route.match, input)) return route;
    }
    return undefined;
  }
  for (const i of candidates(vh.index, input.path)) {
    const route = routes[i]!;
    if (matches(route.match, input)) return route;
  }
  return undefined;
}

function matches(m: CompiledMatch, input: MatchInput): boolean {
  const path = input.path;
  switch (m.pathKind) {
    case PATH_EXACT:
      if (path !== m.pathValue) return false;
      break;
    case PATH_PREFIX: {
      const p = m.pathValue;
      if (!path.startsWith(p) || (path.length > p.length && path.charCodeAt(p.length) !== 0x2f)) return false;
      break;
    }
    case PATH_REGEX:
      if (!m.pathRegex!.test(path)) return false;
      break;
  }
  if (m.method !== undefined && input.req.method !== m.method) return false;
  if (m.headers.length > 0) {
    const distinct = (input.headers ??= headersDistinct(input.req));
    for (const h of m.headers) {
      const value = distinct[h.name]?.[0];
      if (value === undefined || !stringMatches(h, value)) return false;
    }
  }
  if (m.query.length > 0) {
    const params = (input.params ??= new URLSearchParams(input.query));
    for (const q of m.query) {
      const value = params.get(q.name);
      if (value === null || !stringMatches(q, value)) return false;
    }
  }
  return true;
}

function stringMatches(m: StringMatcher, value: string): boolean {
  return m.regex === undefined ? value === m.exact : m.regex.test(value);
}

/** Weighted random pick; undefined when every weight is zero. */
export function pickBackend(action: Extract<CompiledAction, { kind: 'forward' }>): CompiledBackend | undefined {
  const { backends, cumulative, totalWeight } = action;
  if (totalWeight <= 0) return undefined;
  if (backends.length === 1) return backends[0];
  const draw = Math.random() * totalWeight;
  for (let i = 0; i < cumulative.length; i++) {
    if (draw < cumulative[i]!) return backends[i];
  }
  return backends[backends.length - 1];
}
