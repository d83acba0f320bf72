import { randomUUID } from 'node:crypto';
import type { KubeObject } from '../resources/types.js';

interface Remembered {
  uid: string;
  creationTimestamp: string;
  generation: number;
  desired: string;
  /** The object as last read, its JSON, and the stamped copy handed out for it. */
  source: KubeObject;
  json: string;
  stamped: KubeObject;
  /** The latest stamp call that passed the object. */
  epoch?: number;
}

/**
 * Stamps objects with the metadata an API server would maintain: a stable uid
 * and creationTimestamp while the object exists, and a generation that moves
 * only when the desired state does. Status conditions carry observedGeneration,
 * so this is what lets consumers tell a real change from a re-read file.
 */
export class GenerationTracker {
  private readonly memory = new Map<string, Remembered>();
  /** Counts the calls; stamp forgets the entries its call did not see. */
  private epoch = 0;

  /**
   * Returns a stamped, deep-frozen copy of each object (by its objectKey) and
   * forgets objects not passed. A copy shares all but its metadata with the
   * object passed, which is frozen with it. An object passed again unchanged
   * (the same instance, or one with the same JSON) gets back the copy it got
   * last time: consumers can tell what changed by identity, and an unchanged
   * object costs no copy.
   */
  stamp(objects: Map<string, KubeObject>, now: Date): KubeObject[] {
    const out = this.restamp(objects, now);
    if (this.memory.size > objects.size) {
      for (const [key, entry] of this.memory) if (entry.epoch !== this.epoch) this.memory.delete(key);
    }
    return out;
  }

  /** Like stamp, but forgets nothing: for new versions of some of the objects. */
  restamp(objects: Map<string, KubeObject>, now: Date): KubeObject[] {
    const epoch = ++this.epoch;
    const created = now.toISOString().replace(/\.\d+Z$/, 'Z');
    const out: KubeObject[] = [];
    for (const [key, obj] of objects) {
      let entry = this.memory.get(key);
      if (entry?.source !== obj) {
        const json = JSON.stringify(obj);
        entry = entry?.json === json ? { ...entry, source: obj } : stampCopy(obj, json, entry, created);
        this.memory.set(key, entry);
      }
      entry.epoch = epoch;
      out.push(entry.stamped);
    }
    return out;
  }

  /** The copy last handed out for a key. */
  stamped(key: string): KubeObject | undefined {
    return this.memory.get(key)?.stamped;
  }
}

function stampCopy(obj: KubeObject, json: string, previous: Remembered | undefined, created: string): Remembered {
  const desired = canonicalJson(desiredState(obj));
  const meta = obj.metadata;
  let generation: number;
  if (meta.generation !== undefined) generation = meta.generation;
  else if (!previous) generation = 1;
  else generation = previous.desired === desired ? previous.generation : previous.generation + 1;
  const uid = meta.uid ?? previous?.uid ?? randomUUID();
  const creationTimestamp = meta.creationTimestamp ?? previous?.creationTimestamp ?? created;
  // Only metadata is new: the rest is shared with the object as read, which is frozen with it.
  const stamped = { ...obj, metadata: { ...meta, uid, creationTimestamp, generation } };
  return { uid, creationTimestamp, generation, desired, source: obj, json, stamped: deepFreeze(stamped) };
}

export function objectKey(obj: { kind: string; metadata: { namespace?: string; name: string } }): string {
  return `${obj.kind}/${obj.metadata.namespace ?? ''}/${obj.metadata.name}`;
}

// Kinds without a spec (Secret, ConfigMap, EndpointSlice) keep their desired state at the top level.
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

/** Snapshots share unchanged objects from one load to the next, so nobody may change them. */
export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
