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
  /** TLS, TCP and UDP servers. */
  l4: L4Stats;
}

export interface L4Stats {
  /** TLS and TCP connections accepted. */
  connections: number;
  /** Of those, the ones not closed yet. */
  activeConnections: number;
  /**
   * Connections closed before a backend connection was opened: no route or
   * server name match, invalid backend, no endpoints, not TLS, hello
   * timeout, failed handshake (terminate), client gone first.
   */
  rejectedConnections: number;
  /** UDP client sessions opened. */
  udpSessions: number;
  activeUdpSessions: number;
  /** Datagrams thrown away: no route or backend, session limit reached, send queue full. */
  udpDropped: number;
}

/** All counters at zero: the start of a Counters, and of a sum over workers. */
export function zeroStats(): DataPlaneStats {
  return {
    requests: 0,
    active: 0,
    responses: { '1xx': 0, '2xx': 0, '3xx': 0, '4xx': 0, '5xx': 0 },
    aborted: 0,
    upstreamErrors: 0,
    l4: { connections: 0, activeConnections: 0, rejectedConnections: 0, udpSessions: 0, activeUdpSessions: 0, udpDropped: 0 },
  };
}

export class Counters {
  private readonly s = zeroStats();

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

  streamOpened(): void {
    this.s.l4.connections++;
    this.s.l4.activeConnections++;
  }

  streamClosed(): void {
    this.s.l4.activeConnections--;
  }

  streamRejected(): void {
    this.s.l4.rejectedConnections++;
  }

  udpSessionOpened(): void {
    this.s.l4.udpSessions++;
    this.s.l4.activeUdpSessions++;
  }

  udpSessionClosed(): void {
    this.s.l4.activeUdpSessions--;
  }

  udpDropped(): void {
    this.s.l4.udpDropped++;
  }

  snapshot(): DataPlaneStats {
    return { ...this.s, responses: { ...this.s.responses }, l4: { ...this.s.l4 } };
  }
}
