import type { IRConfig } from '../ir/types.js';
import type { Condition, Snapshot } from '../resources/types.js';

/** One object's status, as Kubernetes would hold it in the status subresource. */
export interface StatusEntry {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; generation?: number };
  status: Record<string, unknown>;
}

export interface TranslateOptions {
  controllerName: string;
  /** Address used for Gateways without spec.addresses when no pool is set. */
  bindAddress: string;
  /** Addresses handed to Gateways without spec.addresses, keyed `namespace/name`. */
  poolAssignments?: Record<string, string>;
  /** Used for lastTransitionTime of conditions that changed. */
  now: string;
  /**
   * Statuses from the previous translation, to keep lastTransitionTime stable.
   * Given the very array the previous call returned, the routes that did not
   * change keep their entries without a look.
   */
  previous?: StatusEntry[];
}

export interface TranslateResult {
  ir: IRConfig;
  statuses: StatusEntry[];
}

export type Translate = (snapshot: Snapshot, options: TranslateOptions) => TranslateResult;
export type { Condition };
