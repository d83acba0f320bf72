import type { Snapshot } from '../resources/types.js';

/** Something wrong with the configuration, located as precisely as we can. */
export interface Problem {
  file: string;
  line?: number;
  message: string;
}

export interface LoadResult {
  snapshot: Snapshot;
  problems: Problem[];
}

/** `file:line: message`, the shape editors and CI log scanners recognise. */
export function formatProblem(p: Problem): string {
  return p.line === undefined ? `${p.file}: ${p.message}` : `${p.file}:${p.line}: ${p.message}`;
}

export function compareProblems(a: Problem, b: Problem): number {
  if (a.file !== b.file) return a.file < b.file ? -1 : 1;
  return (a.line ?? 0) - (b.line ?? 0);
}
