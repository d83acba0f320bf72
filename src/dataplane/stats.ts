// Plain counters; the admin server reads a snapshot through DataPlane.stats().

export interface DataPlaneStats {
  /** Requests received. */
  requests: number;
  /** Requests whose response has not closed yet. */
  active: number;
  /** Completed responses by status class. */
  responses: { '1xx': number; '2xx': number; '3xx': number; '4xx': number; '5xx': number };
  /** Responses that closed before completing (client gone, upstream reset). */
  aborted: number;
  /** Upstream connect failures, timeouts and resets. */
  upstreamErrors: number;
}

export class Counters {
  private readonly s: DataPlaneStats = {
    requests: 0,
    active: 0,
    responses: { '1xx': 0, '2xx': 0, '3xx': 0, '4xx': 0, '5xx': 0 },
    aborted: 0,
    upstreamErrors: 0,
  };

  requestStarted(): void {
    this.s.requests++;
    this.s.active++;
  }

  requestClosed(status: number, completed: boolean): void {
    this.s.active--;
    if (!completed) {
      this.s.aborted++;
      return;
    }
    const r = this.s.responses;
    if (status < 200) r['1xx']++;
    else if (status < 300) r['2xx']++;
    else if (status < 400) r['3xx']++;
    else if (status < 500) r['4xx']++;
    else r['5xx']++;
  }

  upstreamError(): void {
    this.s.upstreamErrors++;
  }

  snapshot(): DataPlaneStats {
    return { ...this.s, responses: { ...this.s.responses } };
  }
}
