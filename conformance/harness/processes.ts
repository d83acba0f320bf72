import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { createServer } from 'node:net';

// Every child runs in its own process group so that anything it forks dies
// with it; the groups are killed on normal exit, on failure and on signals.

const tracked = new Set<Tracked>();
const exitHooks: (() => void)[] = [];
let hooksInstalled = false;

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // already gone
  }
}

function installHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on('exit', () => {
    for (const t of tracked) killGroup(t.child, 'SIGKILL');
    for (const hook of exitHooks) hook();
  });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => {
      process.stderr.write(`\nconformance: ${signal}, stopping\n`);
      process.exit(130);
    });
  }
}

/** Registers synchronous cleanup (e.g. removing the temp dir) for any exit path. */
export function onExit(hook: () => void): void {
  installHooks();
  exitHooks.push(hook);
}

/** A child that keeps the last lines of its stdout and stderr for error messages. */
/** A line of a child's output with the time it was read, as a container log keeps it. */
export interface LogLine {
  at: number;
  text: string;
}

/** How many timestamped lines a child with `keepLog` retains (the oldest are dropped). */
const maxLogLines = 50_000;

export class Tracked {
  private readonly tail: string[] = [];
  private readonly log: LogLine[] | undefined;
  private readonly exit: Promise<void>;

  constructor(readonly child: ChildProcess, echoTo?: NodeJS.WritableStream, keepLog = false) {
    this.exit = new Promise((resolve) => child.once('exit', () => resolve()));
    if (keepLog) this.log = [];
    // Lines may be split across chunks; each stream keeps its unfinished line.
    const keep = (partial: { rest: string }) => (chunk: Buffer) => {
      echoTo?.write(chunk);
      const text = partial.rest + chunk.toString('utf8');
      const lines = text.split('\n');
      partial.rest = lines.pop() ?? '';
      const at = Date.now();
      for (const line of lines) {
        if (line.trim() === '') continue;
        this.tail.push(line);
        if (this.tail.length > 40) this.tail.shift();
        if (this.log) {
          this.log.push({ at, text: line });
          if (this.log.length > maxLogLines) this.log.splice(0, this.log.length - maxLogLines);
        }
      }
    };
    child.stdout?.on('data', keep({ rest: '' }));
    child.stderr?.on('data', keep({ rest: '' }));
  }

  /** Complete output lines read at or after `since` (ms since the epoch); needs `keepLog`. */
  logSince(since: number): string[] {
    return (this.log ?? []).filter((l) => l.at >= since).map((l) => l.text);
  }

  get exited(): boolean {
    return this.child.exitCode !== null || this.child.signalCode !== null;
  }

  output(): string {
    return this.tail.join('\n');
  }

  async stop(): Promise<void> {
    if (this.exited) return;
    killGroup(this.child, 'SIGTERM');
    const timer = setTimeout(() => killGroup(this.child, 'SIGKILL'), 2_000);
    await this.exit;
    clearTimeout(timer);
  }
}

export function spawnTracked(command: string, args: string[], opts: SpawnOptions & { echoTo?: NodeJS.WritableStream; keepLog?: boolean } = {}): Tracked {
  installHooks();
  const { echoTo, keepLog, ...spawnOpts } = opts;
  const child = spawn(command, args, { ...spawnOpts, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  const t = new Tracked(child, echoTo, keepLog);
  tracked.add(t);
  child.once('exit', () => tracked.delete(t));
  return t;
}

export async function stopAll(): Promise<void> {
  await Promise.all([...tracked].map((t) => t.stop()));
}

/**
 * Where freePort looks: below Linux's default ephemeral range (32768-60999),
 * so that no outgoing connection, of this process or of a test running beside
 * it, takes the port as its local one between the check and the bind by the
 * process started next.
 */
const FREE_PORT_FROM = 20_000;
const FREE_PORT_COUNT = 12_000;

/** A TCP port on 127.0.0.1 that nothing listens on now, for a process about to be started to listen on. */
export async function freePort(): Promise<number> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const port = FREE_PORT_FROM + Math.floor(Math.random() * FREE_PORT_COUNT);
    if (await canListen(port)) return port;
  }
  throw new Error(`no free port found in ${FREE_PORT_FROM}-${FREE_PORT_FROM + FREE_PORT_COUNT - 1}`);
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}
