import { readdirSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { emptySnapshot, SNAPSHOT_KINDS, type KubeObject, type Snapshot, type SnapshotKind } from '../resources/types.js';
import type { Logger } from '../util/log.js';
import { deepFreeze, GenerationTracker, objectKey } from './generation.js';
import { parseManifests, splitDocuments, type Manifest, type ParseError } from './parse.js';
import { compareProblems, formatProblem, type LoadResult, type Problem } from './problem.js';
import { isNamespaced, isObject, isSnapshotKind, normalize, objectLabel, validateObject } from './validate.js';

const EXTENSIONS = new Set(['.yaml', '.yml', '.json']);

interface Accepted {
  key: string;
  kind: SnapshotKind;
  object: KubeObject;
  file: string;
  line: number;
}

/** What one file contributes; cached until the file's text changes. */
interface FileContribution {
  accepted: Accepted[];
  /** Keys of objects that failed validation: their previous version stays, as with a rejected API update. */
  rejected: string[];
  problems: Problem[];
}

/**
 * What one YAML document yields, with lines counted from its own start so
 * that it stays valid wherever the document moves within its file.
 */
interface DocumentResult {
  /** Syntax errors: any of them makes the whole file unusable. */
  errors: ParseError[];
  accepted: { key: string; kind: SnapshotKind; object: KubeObject; line: number }[];
  rejected: string[];
  problems: ParseError[];
}

interface CachedFile {
  /** The file as read: off the JavaScript heap, and compared without decoding. */
  bytes: Buffer;
  /** Whether it holds nothing but whitespace. */
  blank: boolean;
  contribution: FileContribution;
  /** The file's documents by text: an edit re-parses and re-validates only the documents it touched. */
  documents: Map<string, DocumentResult>;
  /** When the file was first seen empty after holding objects (see EMPTY_FILE_GRACE_MS). */
  emptySince?: number;
}

export interface LoadOutcome {
  result: LoadResult;
  /** Whether the result differs from the previous load's: touching a file, or saving it unchanged, is no change. */
  changed: boolean;
  /** Every directory the configuration spans, for the watcher to cover. */
  directories: string[];
  /** Load again after this long: a file is mid-save and its final content is not known yet. */
  recheckAfterMs?: number;
}

/**
 * Saving by truncate-then-write (fs.writeFile, shell redirection, many tools)
 * leaves a moment where a file is empty. A file that held objects and now
 * reads empty keeps its objects for this long before the emptiness counts,
 * so a save never drops routes; deleting the file takes effect at once.
 */
export const EMPTY_FILE_GRACE_MS = 1000;

/** What a load built, kept apart from the result that callers own. */
interface Built {
  files: string[];
  /** Aligned with files; undefined for a file that vanished while listed. */
  contributions: (FileContribution | undefined)[];
  /** Stamped, in the order their keys were chosen. */
  objects: KubeObject[];
  snapshot: Snapshot;
  problems: Problem[];
}

/**
 * Reads a file or directory tree of manifests into snapshots, remembering
 * enough between calls to behave like an API server: generations, last good
 * file contents, last accepted objects.
 *
 * Snapshot objects are frozen, and an object that did not change is the same
 * instance from one snapshot to the next.
 */
export class ConfigLoader {
  private readonly files = new Map<string, CachedFile>();
  private readonly generations = new GenerationTracker();
  /** Objects as last read (before stamping), by key. */
  private accepted = new Map<string, KubeObject>();
  private built: Built | undefined;

  constructor(private readonly root: string, private readonly logger: Logger) {}

  async load(): Promise<LoadOutcome> {
    const problems: Problem[] = [];
    const { files, directories } = this.scan(problems);
    const texts = readAll(files);

    let recheckAfterMs: number | undefined;
    const contributions = files.map((file, i) => {
      const contribution = this.contribution(file, texts[i]!);
      const emptySince = this.files.get(file)?.emptySince;
      if (emptySince !== undefined) {
        const wait = Math.max(0, emptySince + EMPTY_FILE_GRACE_MS - Date.now());
        recheckAfterMs = Math.min(recheckAfterMs ?? wait, wait);
      }
      return contribution;
    });
    const present = new Set(files);
    for (const known of [...this.files.keys()]) if (!present.has(known)) this.files.delete(known);

    const before = this.built;
    const edited = problems.length === 0 && this.edit(files, contributions);
    const built = edited ? edited.built : this.build(files, contributions, problems);
    this.built = built;
    // Unchanged objects keep their instances, so comparing identities finds any change.
    const changed = edited ? edited.changed : before === undefined || !sameItems(before.objects, built.objects)
      || !sameItems(before.problems.map(formatProblem), built.problems.map(formatProblem));
    const snapshot = Object.fromEntries(Object.entries(built.snapshot).map(([kind, list]) => [kind, list.slice()])) as unknown as Snapshot;
    const outcome: LoadOutcome = { result: { snapshot, problems: built.problems.slice() }, changed, directories };
    if (recheckAfterMs !== undefined) outcome.recheckAfterMs = recheckAfterMs;
    return outcome;
  }

  /**
   * The last build updated for files whose objects changed in content only:
   * the same files, each holding objects of the same keys in the same order,
   * with no problem anywhere. That is what most edits are, and it spares
   * them re-stamping and re-sorting every object of every other file, and
   * says what changed without comparing everything. False when the change
   * is of another sort.
   */
  private edit(files: string[], contributions: (FileContribution | undefined)[]): { built: Built; changed: boolean } | false {
    const built = this.built;
    if (!built || built.problems.length > 0 || !sameItems(built.files, files)) return false;
    const edited = new Map<string, KubeObject>();
    for (const [i, now] of contributions.entries()) {
      const then = built.contributions[i];
      if (now === then) continue;
      if (!now || !then || now.problems.length > 0 || now.rejected.length > 0 || then.rejected.length > 0
        || now.accepted.length !== then.accepted.length) return false;
      for (const [j, a] of now.accepted.entries()) {
        // Without problems there are no duplicates: each object is its key's only claimant.
        if (a.key !== then.accepted[j]!.key) return false;
        edited.set(a.key, a.object);
      }
    }
    if (edited.size === 0) return { built: { ...built, contributions }, changed: false };
    const previous = [...edited.keys()].map((key) => this.generations.stamped(key)!);
    const stamped = this.generations.restamp(edited, new Date());
    for (const [key, object] of edited) this.accepted.set(key, object);
    const objects = built.objects.slice();
    const snapshot = { ...built.snapshot };
    const lists = snapshot as unknown as Record<string, KubeObject[]>;
    let changed = false;
    stamped.forEach((object, i) => {
      const old = previous[i]!;
      if (object === old) return;
      changed = true;
      objects[objects.indexOf(old)] = object;
      const kind = SNAPSHOT_KINDS[object.kind as SnapshotKind];
      // Same key, so same place in the sorted list.
      if (lists[kind] === (built.snapshot as unknown as Record<string, KubeObject[]>)[kind]) lists[kind] = lists[kind]!.slice();
      lists[kind]![lists[kind]!.indexOf(old)] = object;
    });
    return { built: { files, contributions, objects, snapshot, problems: built.problems }, changed };
  }

  private build(files: string[], contributions: (FileContribution | undefined)[], problems: Problem[]): Built {
    const chosen = new Map<string, KubeObject>();
    const rejected: string[] = [];
    for (const c of contributions) {
      if (!c) continue;
      problems.push(...c.problems);
      rejected.push(...c.rejected);
      for (const a of c.accepted) {
        const first = chosen.get(a.key);
        if (first) {
          problems.push({
            file: a.file, line: a.line,
            message: `${objectLabel(a.kind, a.object.metadata.namespace, a.object.metadata.name)}: duplicate of the one at ${first.source}; ignored`,
          });
          continue;
        }
        chosen.set(a.key, a.object);
      }
    }
    for (const key of rejected) {
      const previous = this.accepted.get(key);
      if (previous && !chosen.has(key)) chosen.set(key, previous);
    }
    this.accepted = chosen;
    const objects = this.generations.stamp(chosen, new Date());
    problems.sort(compareProblems);
    return { files, contributions, objects, snapshot: buildSnapshot(objects), problems };
  }

  /**
   * Files in path order, so "first one wins" for duplicates is reproducible.
   * Synchronous, like the reading (see readAll): a configuration tree is a
   * few directories, and a reload waiting on the event loop between them
   * waits on everything else the process does.
   */
  private scan(problems: Problem[]): { files: string[]; directories: string[] } {
    let rootStat;
    try {
      rootStat = statSync(this.root);
    } catch (e) {
      problems.push({ file: this.root, message: errorText(e) });
      return { files: [], directories: [] };
    }
    if (!rootStat.isDirectory()) return { files: [this.root], directories: [] };

    const files: string[] = [];
    const directories: string[] = [];
    const visited = new Set<string>();
    const walk = (dir: string): void => {
      // Symlinked directories are followed, but a cycle must not loop forever.
      let real = dir;
      try {
        real = realpathSync(dir);
      } catch { /* walked as named */ }
      if (visited.has(real)) return;
      visited.add(real);
      directories.push(dir);
      let entries;
      try {
        entries = readdirSync(dir, { withFileTypes: true });
      } catch (e) {
        if (dir !== this.root || !isNotFound(e)) problems.push({ file: dir, message: errorText(e) });
        return;
      }
      for (const entry of entries) {
        // Hidden entries are editor swap files, VCS metadata, and the `..data`
        // indirection of Kubernetes ConfigMap volumes (which would duplicate every file).
        if (entry.name.startsWith('.')) continue;
        const path = join(dir, entry.name);
        if (entry.isDirectory() || (entry.isSymbolicLink() && isDirectory(path))) walk(path);
        else if (EXTENSIONS.has(extname(entry.name).toLowerCase())) files.push(path);
      }
    };
    walk(this.root);
    files.sort();
    directories.sort();
    return { files, directories };
  }

  /** `bytes` is undefined for a file gone between listing and reading, or the read error. */
  private contribution(file: string, bytes: Buffer | Error | undefined): FileContribution | undefined {
    if (bytes === undefined) {
      this.files.delete(file);
      return undefined;
    }
    if (bytes instanceof Error) return this.keepLastGood(file, undefined, [{ file, message: errorText(bytes) }]);
    const cached = this.files.get(file);
    if (cached?.bytes.equals(bytes)) {
      // Whatever emptied it mid-save has put the same content back.
      delete cached.emptySince;
      return cached.contribution;
    }
    const text = bytes.toString('utf8');
    if (text.trim() === '' && cached && cached.contribution.accepted.length > 0 && !cached.blank) {
      const emptySince = cached.emptySince ?? Date.now();
      if (Date.now() - emptySince < EMPTY_FILE_GRACE_MS) {
        cached.emptySince = emptySince;
        return cached.contribution;
      }
    }

    const documents = new Map<string, DocumentResult>();
    const contribution: FileContribution = { accepted: [], rejected: [], problems: [] };
    const errors: Problem[] = [];
    for (const doc of splitDocuments(text)) {
      let result = documents.get(doc.text) ?? cached?.documents.get(doc.text);
      if (!result) result = this.parseDocument(file, doc.text, doc.line);
      documents.set(doc.text, result);
      const at = (line: number | undefined) => (line === undefined ? undefined : line + doc.line - 1);
      for (const e of result.errors) errors.push({ file, line: at(e.line), message: `YAML: ${e.message}` });
      for (const p of result.problems) contribution.problems.push({ file, line: at(p.line), message: p.message });
      contribution.rejected.push(...result.rejected);
      for (const a of result.accepted) {
        const line = at(a.line)!;
        contribution.accepted.push({ key: a.key, kind: a.kind, object: { ...a.object, source: `${file}:${line}` }, file, line });
      }
    }
    if (errors.length > 0) return this.keepLastGood(file, bytes, errors, documents);
    this.files.set(file, { bytes, blank: text.trim() === '', contribution, documents });
    return contribution;
  }

  /** An unreadable file keeps contributing what it last did, so a half-saved edit never drops routes. */
  private keepLastGood(
    file: string, bytes: Buffer | undefined, problems: Problem[], documents = new Map<string, DocumentResult>(),
  ): FileContribution {
    const last = this.files.get(file)?.contribution;
    const contribution = { accepted: last?.accepted ?? [], rejected: last?.rejected ?? [], problems };
    // Caching the broken text avoids re-parsing it; `undefined` never matches, so a read error is retried.
    if (bytes !== undefined) this.files.set(file, { bytes, blank: false, contribution, documents });
    return contribution;
  }

  /** `firstLine`: where the document starts in the file, for the one log line that names a place. */
  private parseDocument(file: string, text: string, firstLine: number): DocumentResult {
    const parsed = parseManifests(text);
    const out: DocumentResult = { errors: parsed.errors, accepted: [], rejected: [], problems: [...parsed.skipped] };
    if (parsed.errors.length === 0) for (const manifest of parsed.manifests) this.admit(file, firstLine, manifest, out);
    return out;
  }

  private admit(file: string, firstLine: number, manifest: Manifest, out: DocumentResult): void {
    const obj = manifest.value;
    const problem = (path: readonly (string | number)[], message: string) =>
      out.problems.push({ line: manifest.lineOf(path), message });
    if (!isObject(obj)) {
      problem([], 'a manifest must be an object');
      return;
    }
    const { apiVersion, kind } = obj;
    if (typeof kind !== 'string' || kind === '') {
      problem(['kind'], 'kind is required');
      return;
    }
    if (typeof apiVersion !== 'string' || apiVersion === '') {
      problem(['apiVersion'], `${kind}: apiVersion is required`);
      return;
    }
    if (!isSnapshotKind(kind)) {
      this.logger.debug({ file, line: manifest.line + firstLine - 1, apiVersion, kind }, 'ignoring object of a kind Archway does not use');
      return;
    }
    const metadata = isObject(obj.metadata) ? obj.metadata : {};
    const namespace = isNamespaced(kind) ? (typeof metadata.namespace === 'string' && metadata.namespace !== '' ? metadata.namespace : 'default') : undefined;
    const label = objectLabel(kind, namespace, metadata.name);
    const issues = validateObject(kind, obj);
    if (issues.length > 0) {
      for (const issue of issues) problem(issue.path, `${label}: ${issue.message}`);
      if (typeof metadata.name === 'string') out.rejected.push(objectKey({ kind, metadata: { namespace, name: metadata.name } }));
      return;
    }
    // Frozen from here on: cached with the document, and shared with the snapshot's copy.
    const object = deepFreeze(normalize(kind, obj));
    out.accepted.push({ key: objectKey(object), kind, object, line: manifest.line });
  }
}

/**
 * Each file's content, `undefined` if it vanished since listing, or the error
 * reading it. Every reload reads every file (comparing contents is what makes
 * a lost watch event harmless); for configuration-sized files, reading them
 * in one go costs less than a thread-pool round trip for each open, stat,
 * read and close, and keeps requests from stretching the reload.
 */
function readAll(files: string[]): (Buffer | Error | undefined)[] {
  return files.map((file) => {
    try {
      return readFileSync(file);
    } catch (e) {
      return isNotFound(e) ? undefined : e as Error;
    }
  });
}

function sameItems<T>(a: T[], b: T[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function buildSnapshot(objects: KubeObject[]): Snapshot {
  const snapshot = emptySnapshot();
  const byKind = snapshot as unknown as Record<string, KubeObject[]>;
  for (const obj of objects) byKind[SNAPSHOT_KINDS[obj.kind as SnapshotKind]].push(obj);
  for (const list of Object.values(byKind)) list.sort(byNamespaceAndName);
  return snapshot;
}

function byNamespaceAndName(a: KubeObject, b: KubeObject): number {
  const x = a.metadata.namespace ?? '';
  const y = b.metadata.namespace ?? '';
  if (x !== y) return x < y ? -1 : 1;
  return a.metadata.name < b.metadata.name ? -1 : a.metadata.name > b.metadata.name ? 1 : 0;
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

function isNotFound(e: unknown): boolean {
  return (e as NodeJS.ErrnoException).code === 'ENOENT';
}

/** Node's message without the code prefix and path suffix, since the Problem already names the file. */
function errorText(e: unknown): string {
  const message = e instanceof Error ? e.message : String(e);
  return message.replace(/^[A-Z]+: /, '').replace(/, \w+ '.*'$/, '');
}
