// HTTPPathModifier for redirects and URL rewrites.

import type { IRPathModifier } from '../ir/types.js';

export interface CompiledPathModifier {
  full: boolean;
  /** ReplaceFullPath: the path. ReplacePrefixMatch: the replacement without a trailing slash. */
  value: string;
  /** ReplacePrefixMatch: the matched prefix without a trailing slash (`` for `/`). */
  prefix: string;
}

export function compilePathModifier(m: IRPathModifier): CompiledPathModifier {
  switch (m.type) {
    case 'ReplaceFullPath':
      return { full: true, value: m.value, prefix: '' };
    case 'ReplacePrefixMatch':
      return { full: false, value: stripTrailingSlash(m.value), prefix: stripTrailingSlash(m.prefix) };
    default:
      throw new Error(`unknown path modifier ${JSON.stringify(m)}`);
  }
}

function stripTrailingSlash(s: string): string {
  return s.endsWith('/') ? s.slice(0, -1) : s;
}

/**
 * Prefix replacement is element-wise, like PathPrefix matching: the matched
 * elements are swapped and the remainder (empty or starting with `/`) is kept,
 * so `/foo` -> `/` on `/foo/bar` gives `/bar`, never `//bar`, and an empty
 * result becomes `/` (the API's table, httproute_types.go HTTPPathModifier).
 */
export function modifyPath(m: CompiledPathModifier, path: string): string {
  if (m.full) return m.value;
  const p = m.prefix;
  // The route matched this prefix; anything else would be a translator bug, and leaving the path is the safe answer.
  if (!path.startsWith(p) || (path.length > p.length && path.charCodeAt(p.length) !== 0x2f)) return path;
  const result = m.value + path.slice(p.length);
  return result === '' ? '/' : result;
}
