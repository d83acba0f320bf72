/** The inner map of `outer` under `key`, created empty if missing: for lookups by several keys without building a key string. */
export function nested<K, K2, V>(outer: Map<K, Map<K2, V>>, key: K): Map<K2, V> {
  let inner = outer.get(key);
  if (!inner) outer.set(key, inner = new Map());
  return inner;
}
