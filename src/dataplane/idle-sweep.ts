// Idle timeouts checked by one shared timer. Node re-arms a socket's timeout
// (socket.setTimeout) on every read and every write: a clock read and a timer
// list insert each time, four times per proxied request. Yet a keep-alive
// connection is only ever closed for idleness between requests, so each
// connection notes when it went idle and a timer looks over them now and then.

/** A connection that closes itself when it has been idle for longer than its timeout at `now` (Date.now()). */
export interface IdleCloseable {
  closeIfIdle(now: number): void;
}

/**
 * The live connections of one kind, looked over every `everyMs` while there
 * are any: a connection idle past its timeout is closed up to `everyMs` late,
 * never early.
 */
export class IdleSweep<T extends IdleCloseable> implements Iterable<T> {
  private readonly members = new Set<T>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly everyMs: number) {}

  get size(): number {
    return this.members.size;
  }

  add(member: T): void {
    this.members.add(member);
    this.timer ??= setInterval(sweep, this.everyMs, this).unref();
  }

  delete(member: T): void {
    this.members.delete(member);
    if (this.members.size === 0 && this.timer !== undefined) {
      clearInterval(this.timer);
      this.timer = undefined;
    }
  }

  [Symbol.iterator](): Iterator<T> {
    return this.members.values();
  }

  sweep(): void {
    const now = Date.now();
    for (const m of this.members) m.closeIfIdle(now);
  }
}

function sweep(set: IdleSweep<IdleCloseable>): void {
  set.sweep();
}
