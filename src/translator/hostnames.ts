// Hostname matching and intersection per the Gateway API rules: a wildcard
// `*.example.com` covers one or more labels before `example.com`, never
// `example.com` itself.

function isWildcard(hostname: string): boolean {
  return hostname.startsWith('*.');
}

/** Does `pattern` (exact, `*.suffix` or `*`) match the concrete or wildcard `name`? */
export function hostnameCovers(pattern: string, name: string): boolean {
  if (pattern === '*') return true;
  if (pattern === name) return true;
  if (!isWildcard(pattern)) return false;
  const suffix = pattern.slice(1); // ".example.com"
  const candidate = isWildcard(name) ? name.slice(1) : name;
  return candidate.length > suffix.length && candidate.endsWith(suffix);
}

/**
 * The hostnames a route serves on a listener: the route's hostnames narrowed
 * by the listener's. Empty means none intersect; `['*']` means any host.
 */
export function intersectHostnames(listenerHostname: string | undefined, routeHostnames: string[] | undefined): string[] {
  const routes = routeHostnames && routeHostnames.length > 0 ? routeHostnames : undefined;
  if (!listenerHostname) return routes ? [...routes] : ['*'];
  if (!routes) return [listenerHostname];
  const out: string[] = [];
  for (const h of routes) {
    if (hostnameCovers(listenerHostname, h)) out.push(h);
    else if (hostnameCovers(h, listenerHostname)) out.push(listenerHostname);
  }
  return [...new Set(out)];
}

/** Of `items`, the one whose hostname pattern covers `hostname` most specifically; the first of equals. */
export function mostSpecific<T>(items: readonly T[], patternOf: (item: T) => string, hostname: string): T | undefined {
  let best: T | undefined;
  for (const item of items) {
    const pattern = patternOf(item);
    if (hostnameCovers(pattern, hostname) && (best === undefined || compareHostnameSpecificity(pattern, patternOf(best)) < 0)) best = item;
  }
  return best;
}

/**
 * Orders hostnames from most to least specific: exact names first, then
 * wildcards with longer suffixes, then `*`. Ties break alphabetically so the
 * order is deterministic.
 */
export function compareHostnameSpecificity(a: string, b: string): number {
  const ra = specificityRank(a);
  const rb = specificityRank(b);
  if (ra !== rb) return ra - rb;
  if (a.length !== b.length) return b.length - a.length;
  return a < b ? -1 : a > b ? 1 : 0;
}

function specificityRank(h: string): number {
  return h === '*' ? 2 : isWildcard(h) ? 1 : 0;
}

/** Do two hostname patterns share at least one concrete name? */
export function hostnamesOverlap(a: string, b: string): boolean {
  return hostnameCovers(a, b) || hostnameCovers(b, a);
}
