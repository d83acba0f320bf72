import type { LabelSelector, Namespace } from '../resources/types.js';

/**
 * Whether `namespace` is selected by a `from` (All, Same, Selector, None)
 * relative to `home`, the namespace of the object that does the selecting.
 */
export function namespaceSelected(
  from: string, selector: LabelSelector | undefined, home: string, namespace: string, namespaces: Map<string, Namespace>,
): boolean {
  switch (from) {
    case 'All': return true;
    case 'Same': return namespace === home;
    case 'Selector': {
      if (!selector) return false;
      // Kubernetes labels every namespace with its own name, declared or not.
      const labels = { ...(namespaces.get(namespace)?.metadata.labels ?? {}), 'kubernetes.io/metadata.name': namespace };
      return selectorMatches(selector, labels);
    }
    default: return false;
  }
}

export function selectorMatches(selector: LabelSelector, labels: Record<string, string>): boolean {
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of selector.matchExpressions ?? []) {
    const has = Object.hasOwn(labels, e.key);
    const values = e.values ?? [];
    switch (e.operator) {
      case 'In': if (!has || !values.includes(labels[e.key]!)) return false; break;
      case 'NotIn': if (has && values.includes(labels[e.key]!)) return false; break;
      case 'Exists': if (!has) return false; break;
      case 'DoesNotExist': if (has) return false; break;
      default: return false;
    }
  }
  return true;
}
