// Idle timeouts checked by one shared timer. Node re-arms a socket's timeout
// (socket.setTimeout) on every read and every write: a clock read and a timer
// list insert each time, four times per proxied request. Yet a keep-alive
// connection is only ever closed for idleness between requests, so each
// connection notes that it went idle and a timer looks over them now and then.

/** A connection that closes itself when it has been idle for longer than its timeout at `now` (Date.now()). */
export interface IdleCloseable {
  closeIfIdle(now: number): void;
}

/**
 * The live connections of one kind, looked over every `everyMs` while there
 * are any: a connection idle past its timeout is closed late by up to
 * `everyMs` (two sweeps for those stamped IDLE_UNSEEN), never early.
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

/** The idle stamp of a connection that went idle since the last sweep: see idleTooLong. */
export const IDLE_UNSEEN = -1;

/**
 * Whether a connection with the idle stamp `holder.idleSince` has been idle
 * for at least `timeoutMs` at `now`. A connection going idle stamps
 * IDLE_UNSEEN rather than read the clock (a runtime call, twice per proxied
 * request); the first sweep to see it stamps its own time, by which the
 * connection was idle already. So idleness is never overstated, and an idle
 * connection is closed up to two sweeps late.
 */
export function idleTooLong(holder: { idleSince: number }, now: number, timeoutMs: number): boolean {
  if (holder.idleSince === IDLE_UNSEEN) {
    holder.idleSince = now;
    return timeoutMs <= 0;
  }
  return now - holder.idleSince >= timeoutMs;
}

function sweep(set: IdleSweep<IdleCloseable>): void {
  set.sweep();
}
