// One bound socket of a TCP or TLS server. Each connection decides its
// backend once, when it arrives (TCP) or when its ClientHello has been read
// (TLS), from the compiled server current then; update() only changes what
// later connections decide, so a connection keeps the backend and the
// certificates it started with until it ends.

import { Server as NetServer, type AddressInfo, type Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import type { IREndpoint, IRServer } from '../../ir/types.js';
import type { Logger } from '../../util/log.js';
import { listenOn, sameBinding } from '../binding.js';
import type { ClusterPool } from '../clusters.js';
import type { Counters } from '../stats.js';
import { selectContext } from '../tls.js';
import { HELLO, INVALID, parseClientHello } from './client-hello.js';
import { pickPool, selectTlsRoute, type CompiledStreamServer, type CompiledTlsRoute } from './routes.js';
import { splice, type SpliceSettings } from './tcp-proxy.js';

export interface StreamListenerOptions {
  /** How long a backend may take to accept a connection. */
  connectTimeoutMs?: number;
  /** How long a TLS client may take to send its ClientHello, and (when TLS is terminated here) to finish the handshake. */
  helloTimeoutMs?: number;
  /** A connection with no bytes either way for this long is closed. */
  idleTimeoutMs?: number;
}

const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;
const DEFAULT_HELLO_TIMEOUT_MS = 10_000;
/** As for upgraded HTTP tunnels: long-lived streams are the point, but a peer that vanished without a FIN must not hold sockets forever. */
const DEFAULT_IDLE_TIMEOUT_MS = 60 * 60 * 1000;

const kConnection = Symbol('connection');
type Tagged = Socket & { [kConnection]?: Connection };

export class StreamListener {
  readonly logger: Logger;
  readonly counters: Counters;
  readonly helloTimeoutMs: number;
  readonly idleTimeoutMs: number;
  readonly splice: SpliceSettings;
  private current: CompiledStreamServer;
  private readonly server: NetServer;
  private readonly connections = new Set<Connection>();
  private closed: Promise<void> | undefined;
  private serverClosed = false;
  private drained: (() => void) | undefined;

  constructor(compiled: CompiledStreamServer, logger: Logger, counters: Counters, options: StreamListenerOptions = {}) {
    if (compiled.ir.protocol !== 'TCP' && compiled.ir.protocol !== 'TLS') throw new Error(`StreamListener cannot serve ${compiled.ir.protocol}`);
    this.current = compiled;
    this.logger = logger.child({ server: compiled.ir.id, owner: compiled.ir.owner });
    this.counters = counters;
    this.helloTimeoutMs = options.helloTimeoutMs ?? DEFAULT_HELLO_TIMEOUT_MS;
    this.idleTimeoutMs = options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
    this.splice = {
      connectTimeoutMs: options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
      idleTimeoutMs: this.idleTimeoutMs,
      counters,
      logger: this.logger,
    };
    // Half-open: either side's FIN is passed on, and the other direction keeps flowing until it ends too.
    this.server = new NetServer({ allowHalfOpen: true, noDelay: true }, (socket) => this.accept(socket));
  }

  /** Whether `next` can be served by this socket without rebinding it. */
  accepts(next: IRServer): boolean {
    return sameBinding(this.current.ir, next);
  }

  listen(): Promise<void> {
    return listenOn(this.server, this.current.ir, this.logger);
  }

  /** Synchronous, so that all listeners of one apply switch together. */
  update(next: CompiledStreamServer): void {
    this.current = next;
  }

  /** The compilation in use, for compileStreamServer to reuse unchanged certificates. */
  compiled(): CompiledStreamServer {
    return this.current;
  }

  port(): number | undefined {
    const addr = this.server.address() as AddressInfo | null;
    return addr?.port;
  }

  /** Stops accepting; resolves once every connection has ended (a TLS client still sending its hello is still routed). */
  close(): Promise<void> {
    this.closed ??= new Promise((resolve) => {
      this.drained = resolve;
      this.server.close(() => {
        this.serverClosed = true;
        this.checkDrained();
      });
    });
    return this.closed;
  }

  /** Ends whatever close() is still waiting for. */
  destroyConnections(): void {
    for (const c of this.connections) c.destroy();
  }

  /** The route for a TLS connection's server name, from the compilation current when its hello arrived. */
  tlsRoute(serverName: string | undefined): CompiledTlsRoute | undefined {
    const sni = this.current.sni;
    return sni && selectTlsRoute(sni, serverName);
  }

  ended(c: Connection): void {
    this.connections.delete(c);
    this.counters.streamClosed();
    if (c.upstream === undefined) this.counters.streamRejected();
    this.checkDrained();
  }

  private checkDrained(): void {
    if (this.serverClosed && this.connections.size === 0) this.drained?.();
  }

  private accept(socket: Socket): void {
    this.counters.streamOpened();
    const c = new Connection(this, socket);
    this.connections.add(c);
    if (this.current.ir.protocol === 'TLS') {
      c.awaitHello();
      return;
    }
    const route = this.current.route;
    const pool = route && pickPool(route);
    const endpoint = pool?.pick();
    if (endpoint === undefined) c.refuse(route === undefined ? 'no route' : 'no backend endpoint');
    else c.connect(pool!, endpoint);
  }
}

/**
 * One client connection: its raw socket, the TLS socket over it when TLS is
 * terminated here, and the backend socket once one is chosen. It has ended
 * when each of those has closed.
 */
class Connection {
  readonly listener: StreamListener;
  readonly raw: Socket;
  /** What the backend's bytes are written to: the raw socket, or the TLS socket terminated on it. */
  front: Socket;
  /** Set once the backend connection is opened; a connection that ends without one counts as rejected. */
  upstream: Socket | undefined;
  private open = 1;
  /** The first bytes read, while the ClientHello is incomplete; `more` holds the reads after the first until they are joined. */
  private held: Buffer | undefined;
  private more: Buffer[] | undefined;
  private heldLength = 0;
  private needed = 1;
  private helloDeadline = 0;
  /** Where the backend connection goes once the client's handshake is done (TLS terminated here). */
  private pool: ClusterPool | undefined;
  private endpoint: IREndpoint | undefined;

  constructor(listener: StreamListener, raw: Socket) {
    this.listener = listener;
    this.raw = raw;
    this.front = raw;
    const tagged = raw as Tagged;
    tagged[kConnection] = this;
    raw.on('error', onClientError);
    raw.on('close', onSocketClose);
    raw.on('timeout', onClientTimeout);
  }

  awaitHello(): void {
    this.helloDeadline = Date.now() + this.listener.helloTimeoutMs;
    this.raw.setTimeout(this.listener.helloTimeoutMs);
    this.raw.on('data', onHelloData);
    this.raw.on('end', onHelloEnd);
  }

  onHelloData(chunk: Buffer): void {
    // The socket's timeout only catches silence; this catches a client trickling its hello a byte at a time.
    if (Date.now() > this.helloDeadline) {
      this.refuse('client hello timeout');
      return;
    }
    if (this.held === undefined) this.held = chunk;
    else (this.more ??= []).push(chunk);
    this.heldLength += chunk.length;
    if (this.heldLength < this.needed) return;
    if (this.more !== undefined) {
      this.held = Buffer.concat([this.held, ...this.more], this.heldLength);
      this.more = undefined;
    }
    const hello = parseClientHello(this.held);
    if (hello.status === INVALID) {
      this.refuse(hello.reason);
      return;
    }
    if (hello.status !== HELLO) {
      this.needed = hello.needed;
      return;
    }
    const route = this.listener.tlsRoute(hello.serverName);
    const pool = route && pickPool(route);
    const endpoint = pool?.pick();
    if (endpoint === undefined) {
      this.refuse(route === undefined ? 'no route for server name' : 'no backend endpoint', hello.serverName);
      return;
    }
    const raw = this.raw;
    raw.off('data', onHelloData);
    raw.off('end', onHelloEnd);
    // Put back for whoever reads next: the backend (passthrough) or the TLS socket.
    raw.pause();
    raw.unshift(this.held);
    this.held = undefined;
    if (route!.terminate === undefined) {
      this.connect(pool!, endpoint);
      return;
    }
    // The TLS socket reads the raw socket's handle directly, so the raw socket's own timer would see no activity.
    raw.setTimeout(0);
    const tls = route!.terminate;
    const secure = new TLSSocket(raw, {
      isServer: true,
      secureContext: hello.serverName === undefined ? tls.defaultContext : selectContext(tls, hello.serverName),
      // No ALPN: the backend's protocol is unknown, and a server that offers a list refuses clients that share none of it.
    }) as Tagged;
    secure[kConnection] = this;
    this.front = secure;
    this.open++;
    this.pool = pool;
    this.endpoint = endpoint;
    secure.setTimeout(this.listener.helloTimeoutMs);
    secure.on('timeout', onClientTimeout);
    secure.on('error', onClientError);
    secure.on('close', onSocketClose);
    secure.once('secure', onSecure);
  }

  onSecure(): void {
    this.connect(this.pool!, this.endpoint!);
  }

  /** Opens the backend connection and splices the front socket to it. */
  connect(pool: ClusterPool, endpoint: IREndpoint): void {
    this.open++;
    const front = this.front;
    front.setTimeout(this.listener.idleTimeoutMs);
    const upstream = splice(front, endpoint.address, endpoint.port, this.listener.splice, pool.tlsOptions(endpoint)) as Tagged;
    upstream[kConnection] = this;
    upstream.on('close', onSocketClose);
    this.upstream = upstream;
  }

  refuse(reason: string, serverName?: string): void {
    this.listener.logger.debug({ reason, serverName, remote: this.raw.remoteAddress }, 'connection refused');
    this.destroy();
  }

  destroy(): void {
    this.raw.destroy();
    this.front.destroy();
    this.upstream?.destroy();
  }

  onClose(socket: Socket): void {
    // Under a terminated TLS socket, the raw socket closing means the TLS socket is done for, whatever state it reports.
    if (socket === this.raw && this.front !== this.raw) this.front.destroy();
    if (--this.open === 0) this.listener.ended(this);
  }
}

function onHelloData(this: Tagged, chunk: Buffer): void {
  this[kConnection]!.onHelloData(chunk);
}

/** A client that half-closes before its hello is complete will never complete it. */
function onHelloEnd(this: Tagged): void {
  this[kConnection]!.refuse('client ended before its hello');
}

function onSecure(this: Tagged): void {
  this[kConnection]!.onSecure();
}

function onClientError(this: Tagged, err: Error): void {
  const c = this[kConnection]!;
  c.listener.logger.debug({ err }, 'client connection error');
  c.destroy();
}

/** Hello, handshake or idle timeout, whichever phase the connection is in. */
function onClientTimeout(this: Tagged): void {
  const c = this[kConnection]!;
  c.listener.logger.debug({ routed: c.upstream !== undefined }, 'client connection timed out');
  c.destroy();
}

function onSocketClose(this: Tagged): void {
  this[kConnection]!.onClose(this);
}
