// Hostname patterns as the IR lists them (virtual hosts, certificates,
// listeners): exact names, `*.suffix` and `*`, most specific first. A name
// belongs to the first pattern that matches it.

interface PatternEntry {
  /** Position in IR order; the first matching position wins. */
  index: number;
  /** `.suffix` for `*.suffix`, undefined for `*`. */
  suffix: string | undefined;
}

export interface HostnameIndex {
  /** Exact hostname -> its first position. */
  exact: ReadonlyMap<string, number>;
  /** Wildcards and `*`, in IR order. */
  patterns: readonly PatternEntry[];
}

/** `patterns` in IR order; they are lower-cased here. */
export function indexHostnames(patterns: readonly string[]): HostnameIndex {
  const exact = new Map<string, number>();
  const wild: PatternEntry[] = [];
  patterns.forEach((pattern, index) => {
    const name = pattern.toLowerCase();
    if (name === '*') wild.push({ index, suffix: undefined });
    else if (name.startsWith('*.')) wild.push({ index, suffix: name.slice(1) });
    else if (!exact.has(name)) exact.set(name, index);
  });
  return { exact, patterns: wild };
}

/** The position of the first pattern `name` (lower-case, without port) matches; a wildcard needs at least one label before its suffix. */
export function firstMatch(index: HostnameIndex, name: string): number | undefined {
  const exactIndex = index.exact.get(name);
  const limit = exactIndex ?? Infinity;
  for (const p of index.patterns) {
    if (p.index > limit) break;
    if (p.suffix === undefined || (name.length > p.suffix.length && name.endsWith(p.suffix))) return p.index;
  }
  return exactIndex;
}
