// One bound socket (IRServer) and the dispatch of its requests. The route
// table is a field swapped by update(); a request reads it once on arrival,
// so an apply never changes the routing of a request already in progress.
// A cleartext listener serves HTTP/1.1 and HTTP/2 with prior knowledge on the
// same port, each connection going to the protocol its first bytes announce;
// a TLS listener serves the one ALPN chose (h2, else HTTP/1.1).

import { createServer as createHttpServer, maxHeaderSize, ServerResponse, type IncomingMessage, type Server } from 'node:http';
import { constants as h2, createServer as createHttp2Server, type Http2Server, type Http2ServerRequest, type Http2ServerResponse, type ServerHttp2Session, type ServerHttp2Stream } from 'node:http2';
import { createServer as createHttpsServer } from 'node:https';
import { Server as NetServer, type AddressInfo, type Socket } from 'node:net';
import type { Server as TlsServer, TLSSocket } from 'node:tls';
import type { IRServer } from '../ir/types.js';
import type { Logger } from '../util/log.js';
import { listenOn, sameBinding } from './binding.js';
import { actualHeaders, isPreflight, preflightHeaders } from './cors.js';
import { NO_EDITS, type CompiledHeaderMutation, type ResponseEdits } from './headers.js';
import { firstMatch } from './hostnames.js';
import { authority, onResponseEvent, serverName, type InboundRequest, type InboundResponse } from './inbound.js';
import { modifyPath } from './paths.js';
import { FastConnection, type FastRequest, type FastResponse } from './http1-inbound.js';
import { IdleSweep } from './idle-sweep.js';
import { detectProtocol } from './preface.js';
import { forward, type ProxySite, type UpgradeRequest } from './proxy.js';
import { sendLocal } from './respond.js';
import { pickBackend, selectRoute, selectVirtualHost, type MatchInput, type RouteTable } from './router.js';
import type { Counters } from './stats.js';
import { selectContext, TLS_SERVER_DEFAULTS, type CompiledTls } from './tls.js';

/** An IRServer whose routes and certificates have been compiled. */
export interface CompiledServer {
  ir: IRServer;
  table: RouteTable;
  tls: CompiledTls | undefined;
}

/** See Listener.close. */
const IDLE_DRAIN_GRACE_MS = 1_000;

/** How long a new cleartext connection may take to show its protocol before it is taken for HTTP/1.1. */
const PREFACE_TIMEOUT_MS = 10_000;

/**
 * What node:http2 (nghttp2 1.61 in Node 20.20) bounds without being asked: a
 * header block of more than 8 CONTINUATION frames (CVE-2024-28182) ends the
 * connection, one with a field beyond 64 KiB gets GOAWAY; so do more than 1000
 * invalid frames, 100 streams refused in a row, a client that lets 1000
 * acknowledgements (of PING, SETTINGS) pile up unread, and client RST_STREAMs
 * beyond 1000 (then 33 a second; see RESET_FLOOD_MIN for why that is not
 * enough). A GOAWAY nghttp2 sends by itself does not close the socket: the
 * session idle timeout does.
 */
const H2_OPTIONS = {
  settings: {
    // What one client connection may have in flight at once (RFC 9113 §6.5.2).
    maxConcurrentStreams: 100,
    // HTTP/2 counts 32 bytes per field on top of names and values, so this
    // admits about what Node's HTTP/1.1 head limit does. A longer list resets
    // the stream (ENHANCE_YOUR_CALM); node:http2 enforces it once the client
    // has acknowledged it (Http2Timeouts.settingsMs), its own 64 KiB until then.
    maxHeaderListSize: 2 * maxHeaderSize,
  },
  // Fields per request, pseudo-header fields included, past which the stream is reset
  // (ENHANCE_YOUR_CALM): each costs a string pair and more here. Node's default, pinned,
  // as the list size alone would let through a thousand empty fields.
  maxHeaderListPairs: 128,
};

/** The clocks an HTTP/2 session runs on; tests shorten them. */
export interface Http2Timeouts {
  /**
   * How long a client has to acknowledge our SETTINGS (RFC 9113 §6.5.3)
   * before its connection is closed with GOAWAY SETTINGS_TIMEOUT: until it
   * does, the header list size above is not in force.
   */
  settingsMs: number;
  /**
   * A session with no frames either way for this long is closed with GOAWAY
   * (streams still open finish first).
   */
  sessionIdleMs: number;
}

export const HTTP2_TIMEOUTS: Http2Timeouts = {
  // The same bound as for showing a protocol at all (PREFACE_TIMEOUT_MS).
  settingsMs: 10_000,
  // Sessions are long-lived by design, so this is well above HTTP/1.1's keep-alive timeout.
  sessionIdleMs: 60_000,
};

/**
 * Rapid reset (CVE-2023-44487): a client opens a stream and resets it at
 * once, over and over. Each reset frees its slot under maxConcurrentStreams,
 * but node:http2 has usually handed the request on before it reads the reset,
 * so it is routed and forwarded all the same. nghttp2 lets 1000 resets through
 * and then leaves the connection open. Here a session is ended with GOAWAY
 * ENHANCE_YOUR_CALM once more than this many of its streams, and more than
 * half of all it opened, were reset by the client before their response
 * started: a flood from the start is stopped here, while a long-lived session
 * that cancels now and then is not.
 */
const RESET_FLOOD_MIN = 100;

/** What a listener keeps per HTTP/2 session; the streams it serves are tagged with it. */
class H2SessionState {
  /** Streams the client has opened. */
  streams = 0;
  /** Of those, the ones it reset before their response started; see RESET_FLOOD_MIN. */
  resets = 0;
  /** Runs until the client acknowledges our SETTINGS; see Http2Timeouts.settingsMs. */
  settingsTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly session: ServerHttp2Session,
    readonly counters: Counters,
  ) {}

  reset(): void {
    if (++this.resets > RESET_FLOOD_MIN && this.resets * 2 > this.streams) {
      this.session.destroy(new Error('HTTP/2 rapid reset'), h2.NGHTTP2_ENHANCE_YOUR_CALM);
    }
  }
}

const kListener = Symbol('listener');
type TrackedResponse = InboundResponse & { [kListener]?: Listener };
const kState = Symbol('state');
type TrackedSession = ServerHttp2Session & { [kState]: H2SessionState };
type TrackedStream = ServerHttp2Stream & { [kState]?: H2SessionState };

export class Listener implements ProxySite {
  readonly scheme: 'http' | 'https';
  readonly logger: Logger;
  readonly counters: Counters;
  closing = false;
  private ir: IRServer;
  private table: RouteTable;
  private tls: CompiledTls | undefined;
  private readonly server: Server;
  /** Live HTTP/2 sessions, to drain and destroy: the HTTP/1.1 server's connection tracking does not see them. */
  private readonly sessions = new Set<ServerHttp2Session>();
  /** Connections whose protocol is not known yet. */
  private readonly pending = new Set<Socket>();
  /**
   * HTTP/1.1 connections on the fast path (http1-inbound.ts); node:http does not track them. Their keep-alive
   * timeout is checked once a second: an idle one closes up to two seconds late (see idleTooLong).
   */
  private readonly fastConnections = new IdleSweep<FastConnection>(1_000);
  private readonly onFastRequest = (req: FastRequest, res: FastResponse): void => {
    this.counters.requestStarted();
    this.dispatch(req, res, undefined);
  };
  private readonly onFastClose = (res: FastResponse): void => this.counters.requestClosed(res.statusCode, res.writableFinished);
  /** Client sockets handed over by 'upgrade': the HTTP server no longer tracks them. */
  private readonly upgraded = new Set<Socket>();
  private closed: Promise<void> | undefined;
  private idleTimer: NodeJS.Timeout | undefined;

  constructor(
    compiled: CompiledServer,
    logger: Logger,
    counters: Counters,
    private readonly http2Timeouts = HTTP2_TIMEOUTS,
  ) {
    this.ir = compiled.ir;
    this.table = compiled.table;
    this.tls = compiled.tls;
    this.scheme = compiled.ir.protocol === 'HTTPS' ? 'https' : 'http';
    this.logger = logger.child({ server: compiled.ir.id, owner: compiled.ir.owner });
    this.counters = counters;
    const onRequest = (req: InboundRequest, res: InboundResponse): void => this.handle(req, res);
    // Never listens itself: it is handed the connections that turn out to be HTTP/2.
    const h2Server = createHttp2Server(H2_OPTIONS, (req, res) => this.handleH2(req, res));
    h2Server.on('session', (session: ServerHttp2Session) => this.adopt(session));
    // Protocol errors, floods and our own limits end the session; the peer has had its GOAWAY already.
    h2Server.on('sessionError', (err: Error) => this.logger.debug({ err }, 'HTTP/2 session error'));
    if (compiled.tls) {
      this.server = createHttpsServer(
        {
          ...compiled.tls.defaultOptions,
          ...TLS_SERVER_DEFAULTS,
          SNICallback: (servername, cb) => {
            const context = selectContext(this.tls!, servername);
            if (context) cb(null, context);
            else cb(new Error(`no certificate has loaded for ${servername}`));
          },
        },
        onRequest,
      );
      this.useClientCertificates(compiled.tls);
      this.logTlsProblems(compiled.tls);
      // HTTP/1.1 goes straight to the fast path; node:http2 takes a TLS socket that negotiated h2 as it is.
      const [http1] = this.server.listeners('secureConnection') as ((socket: Socket) => void)[];
      this.server.removeAllListeners('secureConnection');
      this.server.on('secureConnection', (socket: TLSSocket) => {
        if (socket.alpnProtocol === 'h2') h2Server.emit('connection', socket);
        else this.serveHttp1(socket, http1!);
      });
    } else {
      this.server = createHttpServer(onRequest);
      // The HTTP server keeps listening so that its own connection tracking and timeouts stay in force,
      // but its per-connection setup only runs once the connection has shown it is not HTTP/2.
      const [http1] = this.server.listeners('connection') as ((socket: Socket) => void)[];
      this.server.removeAllListeners('connection');
      this.server.on('connection', (socket: Socket) => this.detect(socket, http1!, h2Server));
    }
    this.server.on('clientError', onClientError);
    this.server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => this.handleUpgrade(req, socket, head));
  }

  /** Whether `next` can be served by this socket without rebinding it. */
  accepts(next: IRServer): boolean {
    return sameBinding(this.ir, next);
  }

  listen(): Promise<void> {
    return listenOn(this.server, this.ir, this.logger);
  }

  /** Synchronous, so that all listeners of one apply switch together. */
  update(next: CompiledServer): void {
    this.ir = next.ir;
    this.table = next.table;
    if (next.tls && next.tls !== this.tls) {
      // Established connections keep the context they were handshaken with; new ones get these.
      (this.server as unknown as TlsServer).setSecureContext(next.tls.defaultOptions ?? {});
      this.useClientCertificates(next.tls);
      this.logTlsProblems(next.tls);
    }
    this.tls = next.tls;
  }

  /** Read by tls.Server for each connection it accepts. */
  private useClientCertificates(tls: CompiledTls): void {
    const server = this.server as unknown as { requestCert: boolean; rejectUnauthorized: boolean };
    server.requestCert = tls.clientCertificates !== undefined;
    server.rejectUnauthorized = tls.clientCertificates?.reject ?? true;
  }

  private logTlsProblems(tls: CompiledTls): void {
    for (const problem of tls.problems) this.logger.warn({ problem }, 'certificate not loaded');
  }

  compiledTls(): CompiledTls | undefined {
    return this.tls;
  }

  port(): number | undefined {
    const addr = this.server.address() as AddressInfo | null;
    return addr?.port;
  }

  /**
   * Stops accepting; resolves once every connection has ended. Requests in
   * flight finish, and their responses ask HTTP/1.1 clients to close. An
   * idle keep-alive connection cannot be told to stop without a race (its
   * client may be sending a request right now), so it gets IDLE_DRAIN_GRACE_MS
   * for that request to arrive and be answered with Connection: close before
   * it is closed; http.Server.close() would close it at once.
   */
  close(): Promise<void> {
    this.closed ??= new Promise((resolve) => {
      this.closing = true;
      // Also waits for HTTP/2 connections: the HTTP server accepted them.
      NetServer.prototype.close.call(this.server, () => {
        clearTimeout(this.idleTimer);
        resolve();
      });
      this.idleTimer = setTimeout(closeIdle, IDLE_DRAIN_GRACE_MS, this);
      // GOAWAY: streams in flight finish, and each session ends once it has none. Not RFC 9113 §6.8's
      // two-step form (a first GOAWAY naming stream 2^31-1): node:http2 has no shutdown notice, and
      // nghttp2 silently ignores every stream opened after any GOAWAY it sent, so the client's requests
      // in that round trip would hang instead of being refused.
      for (const session of this.sessions) session.close();
    });
    return this.closed;
  }

  /** The end of the drain grace: what is still idle, or has not shown its protocol, goes. */
  closeIdle(): void {
    this.server.closeIdleConnections();
    for (const c of this.fastConnections) if (c.idle) c.socket.destroy();
    for (const socket of this.pending) socket.destroy();
  }

  /** Ends whatever close() is still waiting for. */
  destroyConnections(): void {
    this.server.closeAllConnections();
    for (const c of this.fastConnections) c.socket.destroy();
    for (const session of this.sessions) session.destroy(new Error('listener closed'), h2.NGHTTP2_CANCEL);
    for (const socket of this.upgraded) socket.destroy();
  }

  private detect(socket: Socket, http1: (socket: Socket) => void, h2Server: Http2Server): void {
    this.pending.add(socket);
    detectProtocol(socket, PREFACE_TIMEOUT_MS, (http2) => {
      this.pending.delete(socket);
      if (http2 === undefined) return;
      if (http2) h2Server.emit('connection', socket);
      else this.serveHttp1(socket, http1);
    });
  }

  /** HTTP/1.1 starts on the fast path; node:http's own connection setup (`http1`) takes over what the fast path does not serve. */
  private serveHttp1(socket: Socket, http1: (socket: Socket) => void): void {
    new FastConnection(socket, this.onFastRequest, (s) => {
      http1.call(this.server, s);
      // Node's HTTP/1.1 parser may now read the socket's handle directly; resuming lets the bytes
      // put back flow to it first (next tick, before any further read).
      s.resume();
    }, this.fastConnections, this.onFastClose);
    socket.resume();
  }

  private adopt(session: ServerHttp2Session): void {
    const state = new H2SessionState(session, this.counters);
    (session as TrackedSession)[kState] = state;
    session.on('stream', onStream);
    this.sessions.add(session);
    session.once('close', () => {
      this.sessions.delete(session);
      clearTimeout(state.settingsTimer);
    });
    session.setTimeout(this.http2Timeouts.sessionIdleMs, closeSession);
    // Our SETTINGS went out as the session started.
    state.settingsTimer = setTimeout(settingsTimedOut, this.http2Timeouts.settingsMs, session);
    session.on('localSettings', settingsAcknowledged);
    // Accepted just before close(): it gets GOAWAY before any stream is served.
    if (this.closing) session.close();
  }

  private handle(req: InboundRequest, res: TrackedResponse): void {
    this.track(res);
    this.dispatch(req, res, undefined);
  }

  /**
   * A stream the client has reset already (see onStream) is not served at
   * all. The end of the exchange is the stream's close: node:http2 does not
   * emit the response's for a HEAD request reset before its response ended.
   */
  private handleH2(req: Http2ServerRequest, res: Http2ServerResponse): void {
    const stream = req.stream as TrackedStream;
    if (stream.destroyed) return;
    this.counters.requestStarted();
    stream[kState] = (stream.session as TrackedSession)[kState];
    stream.on('close', onH2StreamClose);
    this.dispatch(req, res, undefined);
  }

  /**
   * Node hands every request carrying Upgrade here, detached from the HTTP
   * parser. A WebSocket handshake may become a tunnel; anything else (an h2c
   * upgrade, say) is served as a plain request, its Upgrade ignored. Either
   * way the answer goes through a ServerResponse bound to the raw socket, and
   * the connection ends after it unless it became a tunnel.
   */
  private handleUpgrade(req: IncomingMessage, socket: Socket, head: Buffer): void {
    this.upgraded.add(socket);
    socket.on('error', (err) => this.logger.debug({ err }, 'upgraded connection error'));
    socket.once('close', () => this.upgraded.delete(socket));
    const res: TrackedResponse = new ServerResponse(req);
    res.shouldKeepAlive = false;
    res.assignSocket(socket);
    res.once('finish', endUnlessSwitched);
    this.track(res);
    if (isWebSocketUpgrade(req)) {
      this.dispatch(req, res, { socket, head });
    } else if (req.headers['content-length'] !== undefined || req.headers['transfer-encoding'] !== undefined) {
      // Node does not parse the body of a request it treats as an upgrade, so it cannot be forwarded.
      sendLocal(res, 400, true);
    } else {
      this.dispatch(req, res, undefined);
    }
  }

  private track(res: TrackedResponse): void {
    this.counters.requestStarted();
    res[kListener] = this;
    onResponseEvent(res, 'close', onResponseClose);
  }

  private dispatch(req: InboundRequest, res: InboundResponse, upgrade: UpgradeRequest | undefined): void {
    const table = this.table;
    const target = originForm(req.url ?? '/');
    const q = target.indexOf('?');
    const input: MatchInput = {
      req,
      path: q < 0 ? target : target.slice(0, q),
      query: q < 0 ? '' : target.slice(q + 1),
      params: undefined,
      headers: undefined,
    };
    const host = hostWithoutPort(authority(req));
    if (this.tls?.checksHost && misdirected(this.tls, req, host)) {
      sendLocal(res, 421, this.closing);
      return;
    }
    const vh = selectVirtualHost(table, host);
    const route = vh && selectRoute(vh, input);
    if (!route) {
      sendLocal(res, 404, this.closing);
      return;
    }

    let cors: readonly string[] | undefined;
    const origin = route.cors && req.headers.origin;
    if (origin) {
      if (isPreflight(req)) {
        sendLocal(res, 204, this.closing, edits(preflightHeaders(route.cors!, req, origin), route.responseHeaders, undefined));
        return;
      }
      cors = actualHeaders(route.cors!, origin);
    }
    // Path and query are rewritten apart: the query is always kept as sent.
    const suffix = target.slice(input.path.length);
    const action = route.action;
    switch (action.kind) {
      case 'forward': {
        const backend = pickBackend(action);
        const e = edits(cors, route.responseHeaders, backend?.responseHeaders);
        if (!backend) sendLocal(res, 500, this.closing, e);
        else if (!backend.pool) sendLocal(res, backend.status, this.closing, e);
        else {
          const path = route.rewritePath ? modifyPath(route.rewritePath, input.path) : input.path;
          forward(req, res, route, backend, backend.pool, path + suffix, e, upgrade, this);
        }
        return;
      }
      case 'redirect': {
        const scheme = action.scheme ?? this.scheme;
        const port = action.port === undefined || action.port === defaultPort(scheme) ? '' : `:${action.port}`;
        const path = action.path ? modifyPath(action.path, input.path) : input.path;
        const location = `${scheme}://${action.hostname ?? host}${port}${path}${suffix}`;
        sendLocal(res, action.status, this.closing, edits(cors, route.responseHeaders, undefined), ['location', location]);
        return;
      }
      case 'direct':
        sendLocal(res, action.status, this.closing, edits(cors, route.responseHeaders, undefined), undefined, action.body);
        return;
    }
  }
}

/**
 * Whether a request reached a listener other than the one its Host belongs
 * to (RFC 9110 §15.5.20, Gateway API listener hostname): the client's
 * server name chose one listener, its Host names another of the same port
 * (a reused connection). A Host no listener covers is left to routing (404).
 * Without a server name the connection chose no listener; then only a Host
 * whose listener has no certificate is refused, as its handshakes are.
 */
function misdirected(tls: CompiledTls, req: InboundRequest, host: string): boolean {
  const sni = serverName(req);
  if (sni === undefined) {
    const index = firstMatch(tls.hosts, host);
    return index !== undefined && tls.contexts[index] === undefined;
  }
  if (tls.listeners === undefined || sni === host) return false;
  const owner = firstMatch(tls.listeners, host);
  return owner !== undefined && owner !== firstMatch(tls.listeners, sni.toLowerCase());
}

function edits(
  cors: readonly string[] | undefined,
  route: CompiledHeaderMutation | undefined,
  backend: CompiledHeaderMutation | undefined,
): ResponseEdits {
  return cors === undefined && route === undefined && backend === undefined ? NO_EDITS : { cors, route, backend };
}

function isWebSocketUpgrade(req: IncomingMessage): boolean {
  return req.method === 'GET' && req.headers.upgrade?.toLowerCase() === 'websocket';
}

/** After a 101 the socket belongs to the tunnel; after anything else the connection is done. */
function endUnlessSwitched(this: ServerResponse): void {
  if (this.statusCode !== 101) this.socket?.end();
}

function closeSession(this: ServerHttp2Session): void {
  this.close();
}

function settingsTimedOut(session: ServerHttp2Session): void {
  session.destroy(new Error('HTTP/2 SETTINGS not acknowledged in time'), h2.NGHTTP2_SETTINGS_TIMEOUT);
}

function settingsAcknowledged(this: TrackedSession): void {
  clearTimeout(this[kState].settingsTimer);
}

function onResponseClose(this: TrackedResponse): void {
  this[kListener]!.counters.requestClosed(this.statusCode, this.writableFinished);
}

/**
 * A stream is complete when it closed without a reset from either side (a
 * reset ends its writable side too, so writableFinished cannot tell). Every
 * request dispatched gets a response head unless its stream goes first.
 */
function onH2StreamClose(this: TrackedStream): void {
  const state = this[kState]!;
  const head = this.sentHeaders as Record<string, number> | undefined;
  state.counters.requestClosed(head?.[':status'] ?? 0, head !== undefined && this.rstCode === h2.NGHTTP2_NO_ERROR);
  if (head === undefined) state.reset();
}

/**
 * node:http2 announces a stream on a tick after it read its HEADERS, so a
 * RST_STREAM that came in the same batch of frames may have destroyed it by then.
 */
function onStream(this: TrackedSession, stream: ServerHttp2Stream): void {
  const state = this[kState];
  state.streams++;
  if (stream.destroyed) state.reset();
}

function closeIdle(listener: Listener): void {
  listener.closeIdle();
}

function onClientError(err: NodeJS.ErrnoException, socket: Socket): void {
  const pending = (socket as Socket & { _httpMessage?: ServerResponse })._httpMessage;
  if (err.code === 'ECONNRESET' || !socket.writable || pending?.headersSent) {
    socket.destroy();
    return;
  }
  const status =
    err.code === 'HPE_HEADER_OVERFLOW'
      ? '431 Request Header Fields Too Large'
      : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
        ? '408 Request Timeout'
        : '400 Bad Request';
  socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
}

/** Absolute-form targets (`http://host/path`) are reduced to their path and query. */
function originForm(url: string): string {
  if (url.charCodeAt(0) === 0x2f) return url;
  const scheme = url.indexOf('://');
  if (scheme < 0) return url;
  const slash = url.indexOf('/', scheme + 3);
  const query = url.indexOf('?', scheme + 3);
  if (slash >= 0 && (query < 0 || slash < query)) return url.slice(slash);
  return query >= 0 ? `/${url.slice(query)}` : '/';
}

/** The last Host field seen and its host name: consecutive requests mostly name the same host. */
let lastHostField = '';
let lastHostName = '';

function hostWithoutPort(host: string | undefined): string {
  if (!host) return '';
  if (host === lastHostField) return lastHostName;
  let end: number;
  if (host.charCodeAt(0) === 0x5b /* [ */) {
    const close = host.indexOf(']');
    end = close < 0 ? host.length : close + 1;
  } else {
    end = host.indexOf(':');
    if (end < 0) end = host.length;
  }
  lastHostField = host;
  lastHostName = host.slice(0, end).toLowerCase();
  return lastHostName;
}

function defaultPort(scheme: string): number | undefined {
  return scheme === 'http' ? 80 : scheme === 'https' ? 443 : undefined;
}
