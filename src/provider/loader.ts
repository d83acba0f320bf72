import { readdir, readFile, realpath, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { emptySnapshot, SNAPSHOT_KINDS, type KubeObject, type Snapshot, type SnapshotKind } from '../resources/types.js';
import type { Logger } from '../util/log.js';
import { GenerationTracker, objectKey } from './generation.js';
import { parseManifests, type Manifest } from './parse.js';
import { compareProblems, type LoadResult, type Problem } from './problem.js';
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

interface CachedFile {
  text: string;
  contribution: FileContribution;
  /** When the file was first seen empty after holding objects (see EMPTY_FILE_GRACE_MS). */
  emptySince?: number;
}

export interface LoadOutcome {
  result: LoadResult;
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

/**
 * Reads a file or directory tree of manifests into snapshots, remembering
 * enough between calls to behave like an API server: generations, last good
 * file contents, last accepted objects.
 */
export class ConfigLoader {
  private readonly files = new Map<string, CachedFile>();
  private readonly generations = new GenerationTracker();
  private accepted = new Map<string, KubeObject>();

  constructor(private readonly root: string, private readonly logger: Logger) {}

  async load(): Promise<LoadOutcome> {
    const problems: Problem[] = [];
    const { files, directories } = await this.scan(problems);

    const contributions: FileContribution[] = [];
    let recheckAfterMs: number | undefined;
    for (const file of files) {
      const contribution = await this.readContribution(file);
      if (contribution) contributions.push(contribution);
      const emptySince = this.files.get(file)?.emptySince;
      if (emptySince !== undefined) {
        const wait = Math.max(0, emptySince + EMPTY_FILE_GRACE_MS - Date.now());
        recheckAfterMs = Math.min(recheckAfterMs ?? wait, wait);
      }
    }
    const present = new Set(files);
    for (const known of [...this.files.keys()]) if (!present.has(known)) this.files.delete(known);

    const chosen = new Map<string, KubeObject>();
    const rejected: string[] = [];
    for (const c of contributions) {
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
        chosen.set(a.key, structuredClone(a.object));
      }
    }
    for (const key of rejected) {
      const previous = this.accepted.get(key);
      if (previous && !chosen.has(key)) chosen.set(key, structuredClone(previous));
    }

    const objects = [...chosen.values()];
    this.generations.stamp(objects, new Date());
    this.accepted = new Map(objects.map((o) => [objectKey(o), structuredClone(o)]));
    problems.sort(compareProblems);
    const outcome: LoadOutcome = { result: { snapshot: buildSnapshot(objects), problems }, directories };
    if (recheckAfterMs !== undefined) outcome.recheckAfterMs = recheckAfterMs;
    return outcome;
  }

  /** Files in path order, so "first one wins" for duplicates is reproducible. */
  private async scan(problems: Problem[]): Promise<{ files: string[]; directories: string[] }> {
    let rootStat;
    try {
      rootStat = await stat(this.root);
    } catch (e) {
      problems.push({ file: this.root, message: errorText(e) });
      return { files: [], directories: [] };
    }
    if (!rootStat.isDirectory()) return { files: [this.root], directories: [] };

    const files: string[] = [];
    const directories: string[] = [];
    const visited = new Set<string>();
    const walk = async (dir: string): Promise<void> => {
      // Symlinked directories are followed, but a cycle must not loop forever.
      const real = await realpath(dir).catch(() => dir);
      if (visited.has(real)) return;
      visited.add(real);
      directories.push(dir);
      let entries;
      try {
        entries = await readdir(dir, { withFileTypes: true });
      } catch (e) {
        if (dir !== this.root || !isNotFound(e)) problems.push({ file: dir, message: errorText(e) });
        return;
      }
      for (const entry of entries) {
        // Hidden entries are editor swap files, VCS metadata, and the `..data`
        // indirection of Kubernetes ConfigMap volumes (which would duplicate every file).
        if (entry.name.startsWith('.')) continue;
        const path = join(dir, entry.name);
        const isDir = entry.isDirectory() || (entry.isSymbolicLink() && (await stat(path).then((s) => s.isDirectory(), () => false)));
        if (isDir) await walk(path);
        else if (EXTENSIONS.has(extname(entry.name).toLowerCase())) files.push(path);
      }
    };
    await walk(this.root);
    files.sort();
    directories.sort();
    return { files, directories };
  }

  private async readContribution(file: string): Promise<FileContribution | undefined> {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (e) {
      // Gone between listing and reading: treat it as deleted.
      if (isNotFound(e)) {
        this.files.delete(file);
        return undefined;
      }
      return this.keepLastGood(file, undefined, [{ file, message: errorText(e) }]);
    }
    const cached = this.files.get(file);
    if (text.trim() === '' && cached && cached.contribution.accepted.length > 0 && cached.text.trim() !== '') {
      const emptySince = cached.emptySince ?? Date.now();
      if (Date.now() - emptySince < EMPTY_FILE_GRACE_MS) {
        cached.emptySince = emptySince;
        return cached.contribution;
      }
    }
    if (cached?.text === text) return cached.contribution;

    const parsed = parseManifests(text);
    if (parsed.errors.length > 0) {
      const problems = parsed.errors.map((e) => ({ file, line: e.line, message: `YAML: ${e.message}` }));
      return this.keepLastGood(file, text, problems);
    }
    const contribution: FileContribution = {
      accepted: [], rejected: [], problems: parsed.skipped.map((e) => ({ file, line: e.line, message: e.message })),
    };
    for (const manifest of parsed.manifests) this.admit(file, manifest, contribution);
    this.files.set(file, { text, contribution });
    return contribution;
  }

  /** An unreadable file keeps contributing what it last did, so a half-saved edit never drops routes. */
  private keepLastGood(file: string, text: string | undefined, problems: Problem[]): FileContribution {
    const last = this.files.get(file)?.contribution;
    const contribution = { accepted: last?.accepted ?? [], rejected: last?.rejected ?? [], problems };
    // Caching the broken text avoids re-parsing it; `undefined` never matches, so a read error is retried.
    if (text !== undefined) this.files.set(file, { text, contribution });
    return contribution;
  }

  private admit(file: string, manifest: Manifest, out: FileContribution): void {
    const obj = manifest.value;
    const problem = (path: readonly (string | number)[], message: string) =>
      out.problems.push({ file, line: manifest.lineOf(path), message });
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
      this.logger.debug({ file, line: manifest.line, apiVersion, kind }, 'ignoring object of a kind Archway does not use');
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
    const object = normalize(kind, obj);
    object.source = `${file}:${manifest.line}`;
    out.accepted.push({ key: objectKey(object), kind, object, file, line: manifest.line });
  }
}

function buildSnapshot(objects: KubeObject[]): Snapshot {
  const snapshot = emptySnapshot();
  const byKind = snapshot as unknown as Record<string, KubeObject[]>;
  for (const obj of objects) byKind[SNAPSHOT_KINDS[obj.kind as SnapshotKind]].push(obj);
  const order = (o: KubeObject) => `${o.metadata.namespace ?? ''}\u0000${o.metadata.name}`;
  for (const list of Object.values(byKind)) list.sort((a, b) => (order(a) < order(b) ? -1 : order(a) > order(b) ? 1 : 0));
  return snapshot;
}

function isNotFound(e: unknown): boolean {
  return (e as NodeJS.ErrnoException).code === 'ENOENT';
}

/** Node's message without the code prefix and path suffix, since the Problem already names the file. */
function errorText(e: unknown): string {
  const message = e instanceof Error ? e.message : String(e);
  return message.replace(/^[A-Z]+: /, '').replace(/, \w+ '.*'$/, '');
}
