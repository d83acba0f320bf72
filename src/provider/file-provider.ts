import { watch, type FSWatcher } from 'node:fs';
import { stat } from 'node:fs/promises';
import { basename, dirname, resolve } from 'node:path';
import { silentLogger, type Logger } from '../util/log.js';
import { ConfigLoader } from './loader.js';
import type { LoadResult } from './problem.js';

/** One-shot load, for `archway validate` and tests. */
export async function loadConfig(path: string, opts: { logger?: Logger } = {}): Promise<LoadResult> {
  const { result } = await new ConfigLoader(path, opts.logger ?? silentLogger).load();
  return result;
}

export interface FileProviderOptions {
  logger: Logger;
  /**
   * Quiet time after the last file event before reloading: editors and tools
   * write in bursts (temporary file, write, rename) that land within a few ms.
   */
  debounceMs?: number;
}

/**
 * Serves snapshots from a file or directory tree and reloads on change.
 *
 * Every directory of the tree gets its own non-recursive watcher, kept in step
 * with each scan: that covers new subdirectories on every platform, and since a
 * reload re-reads the whole tree (parsing only what changed), a lost or
 * coalesced event can delay a change but never hide it.
 */
export class FileProvider {
  private readonly loader: ConfigLoader;
  private readonly logger: Logger;
  private readonly debounceMs: number;
  private readonly root: string;
  private readonly listeners: ((r: LoadResult) => void)[] = [];
  /** By directory path, with the inode watched: a directory replaced under the same path needs a new watcher. */
  private readonly watchers = new Map<string, { watcher: FSWatcher; ino: number }>();
  private timer: NodeJS.Timeout | undefined;
  private recheck: NodeJS.Timeout | undefined;
  private reloading: Promise<void> | undefined;
  private reloadAgain = false;
  private closed = false;

  constructor(path: string, opts: FileProviderOptions) {
    this.root = resolve(path);
    this.loader = new ConfigLoader(path, opts.logger);
    this.logger = opts.logger;
    this.debounceMs = opts.debounceMs ?? 10;
  }

  async start(): Promise<LoadResult> {
    // Watching the root before the first load means a flat tree needs no
    // second look; directories found by the load are watched after it, and
    // rescanned in case files landed in them first.
    await this.syncWatchers([this.root], false);
    const { result, directories } = await this.loader.load();
    await this.syncWatchers(directories);
    return result;
  }

  onChange(listener: (r: LoadResult) => void): void {
    this.listeners.push(listener);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    clearTimeout(this.recheck);
    for (const { watcher } of this.watchers.values()) watcher.close();
    this.watchers.clear();
    await this.reloading;
  }

  private schedule(): void {
    if (this.closed) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.runReload(), this.debounceMs);
  }

  private runReload(): void {
    if (this.reloading) {
      this.reloadAgain = true;
      return;
    }
    this.reloading = this.reload()
      .catch((err: unknown) => this.logger.error({ err }, 'configuration reload failed'))
      .finally(() => {
        this.reloading = undefined;
        if (this.reloadAgain) {
          this.reloadAgain = false;
          this.schedule();
        }
      });
  }

  private async reload(): Promise<void> {
    const { result, changed, directories, recheckAfterMs } = await this.loader.load();
    if (this.closed) return;
    if (recheckAfterMs !== undefined) {
      clearTimeout(this.recheck);
      this.recheck = setTimeout(() => this.schedule(), recheckAfterMs);
    }
    // Touching a file, or saving it unchanged, is not worth a re-translation.
    if (changed) {
      this.logger.info({ problems: result.problems.length }, 'configuration reloaded');
      for (const listener of this.listeners) {
        try {
          listener(result);
        } catch (err) {
          this.logger.error({ err }, 'configuration change listener failed');
        }
      }
    }
    // After telling the listeners: watching new directories does not hold up the change.
    await this.syncWatchers(directories);
  }

  private async syncWatchers(directories: string[], rescanNew = true): Promise<void> {
    // The parent catches the root itself being created, deleted or replaced by an editor's rename.
    const parent = dirname(this.root);
    const wanted = new Map<string, string | undefined>([[parent, basename(this.root)]]);
    for (const dir of directories) wanted.set(resolve(dir), undefined);

    const inodes = new Map<string, number>();
    await Promise.all([...wanted.keys()].map(async (dir) => {
      const s = await stat(dir).catch(() => undefined);
      if (s?.isDirectory()) inodes.set(dir, s.ino);
    }));
    if (this.closed) return;

    for (const [dir, { watcher, ino }] of this.watchers) {
      if (inodes.get(dir) !== ino) {
        watcher.close();
        this.watchers.delete(dir);
      }
    }
    let added = false;
    for (const [dir, only] of wanted) {
      const ino = inodes.get(dir);
      if (ino === undefined || this.watchers.has(dir)) continue;
      try {
        const watcher = watch(dir, (_event, filename) => {
          if (only === undefined || filename === null || filename.toString() === only) this.schedule();
        });
        watcher.on('error', (err) => {
          this.logger.warn({ err, dir }, 'file watcher failed; rescanning');
          watcher.close();
          if (this.watchers.get(dir)?.watcher === watcher) this.watchers.delete(dir);
          this.schedule();
        });
        this.watchers.set(dir, { watcher, ino });
        added = true;
      } catch (err) {
        this.logger.warn({ err, dir }, 'cannot watch directory');
      }
    }
    // Files may have landed in a new directory before its watcher existed.
    if (added && rescanNew) this.schedule();
  }
}
