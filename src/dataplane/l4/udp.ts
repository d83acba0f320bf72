// One bound socket of a UDP server. Each client (source address and port)
// gets a session: its own upstream socket connected to one backend endpoint,
// chosen by weight when the session opens, so all of a client's datagrams go
// to the same endpoint and the endpoint's replies come back to that client
// from the server's socket. A session with no datagrams either way for the
// idle timeout is closed by one sweep timer shared by all sessions. Sessions
// are bounded: past the limit, datagrams from new clients are dropped.
// Nothing is queued without bound: a socket whose send queue is full drops.

import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import type { IRServer } from '../../ir/types.js';
import type { Logger } from '../../util/log.js';
import { sameBinding } from '../binding.js';
import { IdleSweep } from '../idle-sweep.js';
import type { Counters } from '../stats.js';
import { pickPool, type CompiledStreamServer } from './routes.js';

export interface UdpListenerOptions {
  /** A session with no datagram either way for this long is closed. */
  idleTimeoutMs?: number;
  /** Client sessions open at once; datagrams from further clients are dropped. */
  maxSessions?: number;
}

const DEFAULT_IDLE_TIMEOUT_MS = 60_000;
const DEFAULT_MAX_SESSIONS = 10_000;
/** Bytes waiting in a socket's send queue past which datagrams are dropped rather than queued. */
const MAX_SEND_QUEUE_BYTES = 1024 * 1024;
/** Datagrams a session holds while its upstream socket connects (a few ticks). */
const MAX_PENDING_DATAGRAMS = 16;
/** The sweep runs every quarter of the idle timeout, within these bounds: a session lives between 1 and 1.25 idle timeouts (at most 5 s over). */
const MIN_SWEEP_MS = 10;
const MAX_SWEEP_MS = 5_000;

const kSession = Symbol('session');
type Tagged = Socket & { [kSession]?: Session };

export class UdpListener {
  readonly logger: Logger;
  readonly counters: Counters;
  private current: CompiledStreamServer;
  private readonly socket: Socket;
  /** By client port, then address: a lookup per datagram without building a key. */
  private readonly sessions = new Map<number, Map<string, Session>>();
  /** The same sessions, swept for idleness. */
  private readonly live: IdleSweep<Session>;
  readonly idleTimeoutMs: number;
  private readonly maxSessions: number;
  private closed: Promise<void> | undefined;

  constructor(compiled: CompiledStreamServer, logger: Logger, counters: Counters, options: UdpListenerOptions = {}) {
    if (compiled.ir.protocol !== 'UDP') throw new Error(`UdpListener cannot serve ${compiled.ir.protocol}`);
    this.current = compiled;
    this.logger = logger.child({ server: compiled.ir.id, owner: compiled.ir.owner });
    this.counters = counters;
    this.idleTimeoutMs = options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
    this.maxSessions = options.maxSessions ?? DEFAULT_MAX_SESSIONS;
    this.live = new IdleSweep(Math.min(Math.max(this.idleTimeoutMs / 4, MIN_SWEEP_MS), MAX_SWEEP_MS));
    this.socket = createSocket(isIPv6(compiled.ir.address) ? 'udp6' : 'udp4');
    this.socket.on('message', (msg: Buffer, from: RemoteInfo) => this.receive(msg, from));
  }

  /** Whether `next` can be served by this socket without rebinding it. */
  accepts(next: IRServer): boolean {
    return sameBinding(this.current.ir, next);
  }

  listen(): Promise<void> {
    return new Promise((resolve, reject) => {
      const onError = (err: Error): void => {
        // Nothing will use this socket again.
        this.closed = new Promise((done) => this.socket.close(done));
        reject(err);
      };
      this.socket.once('error', onError);
      this.socket.bind({ address: this.current.ir.address, port: this.current.ir.port }, () => {
        this.socket.off('error', onError);
        this.socket.on('error', (err) => this.logger.error({ err }, 'socket error'));
        resolve();
      });
    });
  }

  /** Synchronous, so that all listeners of one apply switch together. Open sessions keep their endpoint. */
  update(next: CompiledStreamServer): void {
    this.current = next;
  }

  /** The compilation in use (for symmetry with StreamListener). */
  compiled(): CompiledStreamServer {
    return this.current;
  }

  port(): number | undefined {
    try {
      return this.socket.address().port;
    } catch {
      // Not bound (yet, or any more).
      return undefined;
    }
  }

  /** Closes the socket and every session: a datagram session has nothing in flight worth waiting for. */
  close(): Promise<void> {
    this.closed ??= new Promise((resolve) => {
      this.destroyConnections();
      this.socket.close(() => resolve());
    });
    return this.closed;
  }

  destroyConnections(): void {
    for (const s of this.live) s.close();
  }

  /** A datagram from the backend of session `s`, for its client. */
  reply(s: Session, msg: Buffer): void {
    s.lastActive = Date.now();
    if (this.closed !== undefined || this.socket.getSendQueueSize() > MAX_SEND_QUEUE_BYTES) {
      this.counters.udpDropped();
      return;
    }
    this.socket.send(msg, s.port, s.address);
  }

  forget(s: Session): void {
    const byAddress = this.sessions.get(s.port)!;
    byAddress.delete(s.address);
    if (byAddress.size === 0) this.sessions.delete(s.port);
    this.live.delete(s);
    this.counters.udpSessionClosed();
  }

  private receive(msg: Buffer, from: RemoteInfo): void {
    const s = this.sessions.get(from.port)?.get(from.address);
    if (s !== undefined) s.send(msg);
    else if (!this.open(from.address, from.port, msg)) this.counters.udpDropped();
  }

  /** Opens a session whose first datagram is `msg`; false when there is no room or no backend for it. */
  private open(address: string, port: number, msg: Buffer): boolean {
    if (this.live.size >= this.maxSessions || this.closed !== undefined) return false;
    const route = this.current.route;
    const pool = route && pickPool(route);
    const endpoint = pool?.pick();
    if (endpoint === undefined) return false;
    const upstream = createSocket(isIPv6(endpoint.address) ? 'udp6' : 'udp4') as Tagged;
    const s = new Session(this, address, port, upstream, msg);
    upstream[kSession] = s;
    upstream.on('message', onUpstreamMessage);
    upstream.on('error', onUpstreamError);
    upstream.once('connect', onUpstreamConnect);
    upstream.connect(endpoint.port, endpoint.address);
    let byAddress = this.sessions.get(port);
    if (byAddress === undefined) {
      byAddress = new Map();
      this.sessions.set(port, byAddress);
    }
    byAddress.set(address, s);
    this.live.add(s);
    this.counters.udpSessionOpened();
    return true;
  }
}

class Session {
  readonly listener: UdpListener;
  readonly address: string;
  readonly port: number;
  readonly upstream: Socket;
  lastActive = Date.now();
  /** Datagrams from the client while the upstream socket connects: a connected socket cannot send before. */
  private pending: Buffer[] | undefined;
  private closed = false;

  constructor(listener: UdpListener, address: string, port: number, upstream: Socket, first: Buffer) {
    this.listener = listener;
    this.address = address;
    this.port = port;
    this.upstream = upstream;
    this.pending = [first];
  }

  send(msg: Buffer): void {
    this.lastActive = Date.now();
    const pending = this.pending;
    if (pending !== undefined ? pending.length >= MAX_PENDING_DATAGRAMS : this.upstream.getSendQueueSize() > MAX_SEND_QUEUE_BYTES) {
      this.listener.counters.udpDropped();
    } else if (pending !== undefined) {
      pending.push(msg);
    } else {
      this.upstream.send(msg);
    }
  }

  connected(): void {
    if (this.closed) return;
    const pending = this.pending!;
    this.pending = undefined;
    for (const msg of pending) this.upstream.send(msg);
  }

  closeIfIdle(now: number): void {
    if (now - this.lastActive >= this.listener.idleTimeoutMs) this.close();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.upstream.close();
    this.listener.forget(this);
  }
}

function onUpstreamMessage(this: Tagged, msg: Buffer): void {
  const s = this[kSession]!;
  s.listener.reply(s, msg);
}

function onUpstreamConnect(this: Tagged): void {
  this[kSession]!.connected();
}

/** Mostly ICMP port unreachable reported on the connected socket: the session ends, and the client's next datagram opens a new one. */
function onUpstreamError(this: Tagged, err: Error): void {
  const s = this[kSession]!;
  s.listener.counters.upstreamError();
  s.listener.logger.debug({ err, client: `${s.address}:${s.port}` }, 'UDP backend error');
  s.close();
}
