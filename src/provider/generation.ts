import { randomUUID } from 'node:crypto';
import type { KubeObject } from '../resources/types.js';

interface Remembered {
  uid: string;
  creationTimestamp: string;
  generation: number;
  desired: string;
}

/**
 * Stamps objects with the metadata an API server would maintain: a stable uid
 * and creationTimestamp while the object exists, and a generation that moves
 * only when the desired state does. Status conditions carry observedGeneration,
 * so this is what lets consumers tell a real change from a re-read file.
 */
export class GenerationTracker {
  private memory = new Map<string, Remembered>();

  /** Mutates `objects` (fresh copies owned by the caller); forgets objects not passed. */
  stamp(objects: KubeObject[], now: Date): void {
    const next = new Map<string, Remembered>();
    const created = now.toISOString().replace(/\.\d+Z$/, 'Z');
    for (const obj of objects) {
      const key = objectKey(obj);
      const desired = canonicalJson(desiredState(obj));
      const meta = obj.metadata;
      const previous = this.memory.get(key);
      let generation: number;
      if (meta.generation !== undefined) generation = meta.generation;
      else if (!previous) generation = 1;
      else generation = previous.desired === desired ? previous.generation : previous.generation + 1;
      const entry: Remembered = {
        uid: meta.uid ?? previous?.uid ?? randomUUID(),
        creationTimestamp: meta.creationTimestamp ?? previous?.creationTimestamp ?? created,
        generation,
        desired,
      };
      meta.uid = entry.uid;
      meta.creationTimestamp = entry.creationTimestamp;
      meta.generation = entry.generation;
      next.set(key, entry);
    }
    this.memory = next;
  }
}

export function objectKey(obj: { kind: string; metadata: { namespace?: string; name: string } }): string {
  return `${obj.kind}/${obj.metadata.namespace ?? ''}/${obj.metadata.name}`;
}

// Kinds without a spec (Secret, EndpointSlice) keep their desired state at the top level.
function desiredState(obj: KubeObject): unknown {
  if (obj.spec !== undefined) return obj.spec;
  const { metadata: _m, status: _s, source: _src, ...rest } = obj as KubeObject & { status?: unknown };
  return rest;
}

/** JSON with sorted keys, so reordering fields in a file is not a change. */
function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return v;
    return Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  });
}
