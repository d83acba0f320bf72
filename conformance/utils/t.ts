// A minimal stand-in for Go's *testing.T: subtests that fail independently,
// fatal errors that stop only the current (sub)test, and logs kept for the
// failure report.

export class FatalError extends Error {}

export type LogSink = (line: string) => void;

export class T {
  readonly failures: string[] = [];
  private readonly cleanups: (() => Promise<void>)[] = [];

  constructor(readonly name: string, private readonly sink?: LogSink) {}

  get failed(): boolean {
    return this.failures.length > 0;
  }

  /** Only shown with --debug: upstream's tlog output, mostly "not ready yet" retries. */
  log(msg: string): void {
    this.sink?.(`${this.name}: ${msg}`);
  }

  /** Marks the test failed and keeps going, like t.Errorf. */
  error(msg: string): void {
    this.failures.push(`${this.name}: ${msg}`);
    this.log(`ERROR ${msg}`);
  }

  /** Marks the test failed and stops it, like t.Fatalf / require. */
  fatal(msg: string): never {
    this.error(msg);
    throw new FatalError(msg);
  }

  /** Like t.Cleanup: fn runs when this (sub)test ends, the last registered first. */
  cleanup(fn: () => Promise<void>): void {
    this.cleanups.push(fn);
  }

  /** Runs the registered cleanups; the suite calls it for top-level tests, run() for subtests. */
  async runCleanups(): Promise<void> {
    for (const fn of this.cleanups.splice(0).reverse()) {
      await fn().catch((err: unknown) => this.error(`cleanup: ${err instanceof Error ? err.message : String(err)}`));
    }
  }

  /** Runs a subtest; its failure fails this test but does not stop it. */
  async run(name: string, fn: (t: T) => Promise<void>): Promise<boolean> {
    const child = new T(`${this.name}/${name}`, this.sink);
    try {
      await fn(child);
    } catch (err) {
      if (!(err instanceof FatalError)) child.error(`unexpected error: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
    }
    await child.runCleanups();
    this.failures.push(...child.failures);
    return !child.failed;
  }

  /** Runs subtests concurrently, as upstream's t.Parallel() subtests do. */
  async parallel(cases: readonly (readonly [string, (t: T) => Promise<void>])[]): Promise<void> {
    await Promise.all(cases.map(([name, fn]) => this.run(name, fn)));
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Port of wait.PollUntilContextTimeout with immediate=true: calls fn until it
 * returns true or the timeout passes; an exception from fn ends the wait at
 * once, as a returned error does upstream.
 */
export async function poll(intervalMs: number, timeoutMs: number, fn: () => Promise<boolean>): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await fn()) return true;
    if (Date.now() + intervalMs > deadline) return false;
    await sleep(intervalMs);
  }
}
