import type { ReferenceGrant } from '../resources/types.js';

export interface ReferenceFrom { group: string; kind: string; namespace: string }
export interface ReferenceTo { group: string; kind: string; namespace: string; name: string }

/**
 * Whether a reference is permitted: same-namespace references always are;
 * a cross-namespace one needs a ReferenceGrant in the target namespace whose
 * `from` names the referrer and whose `to` names the target (any name when
 * `to.name` is unset).
 */
export function referencePermitted(from: ReferenceFrom, to: ReferenceTo, grants: ReferenceGrant[]): boolean {
  if (from.namespace === to.namespace) return true;
  return grants.some((g) =>
    g.metadata.namespace === to.namespace
    && g.spec !== undefined
    && g.spec.from.some((f) => f.group === from.group && f.kind === from.kind && f.namespace === from.namespace)
    && g.spec.to.some((t) => t.group === to.group && t.kind === to.kind && (!t.name || t.name === to.name)));
}
