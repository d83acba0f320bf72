import type { X509Certificate } from 'node:crypto';
import http from 'node:http';
import http2 from 'node:http2';
import net, { type AddressInfo } from 'node:net';
import { TLSSocket } from 'node:tls';
import { silentLogger, type Logger } from '../util/log.js';
import { podContext, type PodContext, type PodIdentity } from './context.js';
import { canonicalHeaderKey, goAtoi, goHeaderGet, goJsonEscape, goRemoteAddr, parseGoDuration } from './go-compat.js';
import { sniffH2c } from './h2c.js';
import { listen } from './listen.js';
import { tlsConnectionState } from './tls-state.js';
import { refuseWebSocket, serveWebSocket } from './websocket.js';

/**
 * A port of the Gateway API conformance backend ("echo-basic"): conformance
 * tests assert on its JSON reply, its logs and its special paths, so those
 * must behave like the upstream Go server.
 */
export interface EchoOptions extends PodIdentity {
  port: number;
  host?: string;
  /** Upstream's H2C_PORT listener: HTTP/2 with prior knowledge (and HTTP/1.1 carrying `Upgrade: h2c`). */
  h2cPort?: number;
  /** Upstream's HTTPS_PORT listener (TLS_SERVER_CERT, TLS_SERVER_PRIVKEY, TLS_CLIENT_CACERTS): PEM contents. */
  https?: { port: number; cert: string | Buffer; key: string | Buffer; clientCa?: string | Buffer };
  /** Receives the lines upstream prints on stdout; the mirror conformance checks search backend logs for them. */
  log?: (line: string) => void;
  logger?: Logger;
}

export interface EchoServer {
  server: http.Server;
  port: number;
  h2cPort?: number;
  httpsPort?: number;
  close(): Promise<void>;
}

type Req = http.IncomingMessage | http2.Http2ServerRequest;
type Res = http.ServerResponse | http2.Http2ServerResponse;

// setTimeout's ceiling; a longer ?delay= only matters to a client that has long gone.
const MAX_DELAY_MS = 2 ** 31 - 1;
// Go's ParseForm limit for url-encoded bodies.
const MAX_FORM_BYTES = 10 << 20;
// Upstream never forgets a retry uuid; each conformance probe uses a fresh one, so old ones can go.
const MAX_RETRY_UUIDS = 10_000;
const TEXT = { 'Content-Type': 'text/plain; charset=utf-8' };

export async function startEchoServer(opts: EchoOptions): Promise<EchoServer> {
  const host = opts.host ?? '0.0.0.0';
  const echo = new Echo(opts);
  const closers: (() => Promise<void>)[] = [];
  const close = () => Promise.all(closers.map((c) => c())).then(() => undefined);
  try {
    const server = goKeepAlive(http.createServer((req, res) => echo.serve(req, res, (r, s) => echo.route(r, s))));
    server.on('upgrade', (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => echo.upgrade(req, socket, head));
    closers.push(await listen(server, opts.port, host));
    const port = (server.address() as AddressInfo).port;
    echo.httpPort = String(port);
    const result: EchoServer = { server, port, close };

    if (opts.h2cPort !== undefined) {
      const h2cHandler = (req: Req, res: Res) => echo.serve(req, res, (r, s) => echo.h2c(r, s));
      const sniffer = net.createServer(sniffH2c(goKeepAlive(http.createServer(h2cHandler)), http2.createServer(h2cHandler)));
      closers.push(await listen(sniffer, opts.h2cPort, host));
      result.h2cPort = (sniffer.address() as AddressInfo).port;
    }

    if (opts.https) {
      const { cert, key, clientCa } = opts.https;
      // Go's ListenAndServeTLS offers h2 and http/1.1 by ALPN; the client CA only enables VerifyClientCertIfGiven.
      const secure = http2.createSecureServer({
        cert, key, allowHTTP1: true, ...(clientCa ? { ca: clientCa, requestCert: true, rejectUnauthorized: false } : {}),
      }, (req, res) => echo.serve(req, res, (r, s) => echo.route(r, s)));
      secure.on('secureConnection', (socket: EchoTLSSocket) => {
        // Only the first call links the chain the client sent (issuerCertificate); later ones give the leaf alone.
        const leaf = socket.getPeerX509Certificate();
        if (clientCa && leaf && !socket.authorized) {
          socket.destroy();
          return;
        }
        socket[PEER_CERTIFICATES] = sentChain(leaf);
      });
      secure.on('upgrade', (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => echo.upgrade(req, socket, head));
      closers.push(await listen(secure, opts.https.port, host));
      result.httpsPort = (secure.address() as AddressInfo).port;
    }
    return result;
  } catch (err) {
    await close();
    throw err;
  }
}

/** Go servers keep idle keep-alive connections open; Node's 5s default races proxies reusing them. */
function goKeepAlive(server: http.Server): http.Server {
  server.keepAliveTimeout = 0;
  return server;
}

class Echo {
  httpPort = '';
  private readonly context: PodContext;
  private readonly log: (line: string) => void;
  private readonly logger: Logger;
  private readonly retryAttempts = new Map<string, number>();

  constructor(opts: EchoOptions) {
    this.context = podContext(opts);
    this.log = opts.log ?? (() => {});
    this.logger = opts.logger ?? silentLogger;
  }

  serve(req: Req, res: Res, handler: (req: Req, res: Res) => Promise<void>): void {
    handler(req, res).catch((err: unknown) => {
      this.logger.error({ err }, 'echo handler failed');
      abort(req);
    });
  }

  /** upstream's ServeMux (behind its doubled-slash collapsing) on the HTTP and HTTPS ports. */
  async route(req: Req, res: Res): Promise<void> {
    const requestURI = req.url ?? '/';
    const path = muxPath(requestURI);
    if (path === '/ws') {
      // x/net/websocket hijacks the connection, which Go's HTTP/2 server cannot do: the handler panics.
      if ('stream' in req) abort(req);
      else refuseWebSocket(req, req.socket);
      return;
    }
    const body = await readBody(req);
    if (path === '/health') {
      res.writeHead(200, TEXT).end('OK');
    } else if (path.startsWith('/status/')) {
      const match = /^\/status\/(\d\d\d)$/.exec(requestURI);
      bareStatus(req, res, match ? Number(match[1]) : 400);
    } else if (path.startsWith('/retry/')) {
      await this.retry(req, res, requestURI, body);
    } else {
      await this.echo(req, res, requestURI, body);
    }
  }

  /**
   * Every HTTP/1 request with an Upgrade header lands here once a listener
   * exists; only `/ws` is special upstream, the rest get the usual answer on a
   * response object built by hand (closing the connection, as the parser is gone).
   */
  upgrade(req: http.IncomingMessage, socket: net.Socket, head: Buffer): void {
    if (muxPath(req.url ?? '/') === '/ws') {
      serveWebSocket(req, socket, head, this.log);
      return;
    }
    // The HTTP server dropped its error handling along with the socket.
    socket.on('error', () => socket.destroy());
    const res = new http.ServerResponse(req);
    res.shouldKeepAlive = false;
    res.assignSocket(socket);
    res.on('finish', () => {
      res.detachSocket(socket);
      socket.destroySoon();
    });
    this.serve(req, res, (r, s) => this.route(r, s));
  }

  /** upstream's H2C_PORT handler: no mux, just the echo, for HTTP/2 or h2c upgrade requests. */
  async h2c(req: Req, res: Res): Promise<void> {
    const body = await readBody(req);
    if (req.httpVersionMajor !== 2 && goHeaderGet(req.rawHeaders, 'upgrade') !== 'h2c') {
      res.writeHead(400, TEXT).end('Expected h2c request');
      return;
    }
    await this.echo(req, res, req.url ?? '/', body);
  }

  /**
   * `/retry/...?uuid=U&succeedAfter=N[&responseCode=C][&delayRetry=D]`: the
   * first N requests for U fail (with C, or a TCP reset without it), later ones
   * are echoed. The retry conformance test counts attempts through this.
   */
  private async retry(req: Req, res: Res, requestURI: string, body: string | undefined): Promise<void> {
    const query = new URLSearchParams(queryOf(requestURI));
    const uuid = query.get('uuid') ?? '';
    if (uuid === '') {
      res.writeHead(400, TEXT).end('uuid is required');
      return;
    }
    const succeedAfter = goAtoi(query.get('succeedAfter'));
    if (succeedAfter === undefined) {
      res.writeHead(400, TEXT).end('succeedAfter is required');
      return;
    }
    const attempts = this.retryAttempts.get(uuid) ?? 0;
    if (attempts >= succeedAfter) {
      await this.echo(req, res, requestURI, body);
      return;
    }
    this.retryAttempts.delete(uuid);
    this.retryAttempts.set(uuid, attempts + 1);
    if (this.retryAttempts.size > MAX_RETRY_UUIDS) this.retryAttempts.delete(this.retryAttempts.keys().next().value!);

    try {
      await sleep(formDuration('delayRetry', requestURI, body));
    } catch (err) {
      processError(res, err as Error);
      return;
    }
    const responseCode = goAtoi(query.get('responseCode'));
    if (responseCode !== undefined) {
      bareStatus(req, res, responseCode);
    } else if ('stream' in req) {
      processError(res, new Error('response writer does not support hijacking'));
    } else {
      // Go sets SO_LINGER 0 before closing, so the client sees a reset rather than an orderly close.
      req.socket.resetAndDestroy();
    }
  }

  private async echo(req: Req, res: Res, requestURI: string, body: string | undefined): Promise<void> {
    this.log(`Echoing back request made to ${requestURI} to client (${goRemoteAddr(req.socket.remoteAddress, req.socket.remotePort)})`);
    try {
      await sleep(formDuration('delay', requestURI, body));
    } catch (err) {
      processError(res, err as Error);
      return;
    }
    const tls = tlsAssertions(req);
    const reply = {
      path: requestURI,
      host: ('stream' in req ? req.authority : undefined) ?? req.headers.host ?? '',
      method: req.method,
      proto: `HTTP/${req.httpVersion}`,
      headers: requestHeaders(req),
      httpPort: this.httpPort,
      ...this.context,
      ...(tls ? { tls } : {}),
    };
    const json = goJsonEscape(JSON.stringify(reply, null, 1));
    setEchoResponseHeaders(res, req);
    res.setHeader('Content-Type', 'application/json');
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Content-Length', Buffer.byteLength(json));
    res.writeHead(200).end(json);
  }
}

/** What a panicking Go handler causes: the HTTP/1 connection or the HTTP/2 stream is torn down. */
function abort(req: Req): void {
  if ('stream' in req) req.stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
  else req.socket.destroy();
}

/** WriteHeader(code) with no body, as upstream's status and retry handlers do. */
function bareStatus(req: Req, res: Res, code: number): void {
  // Go panics on codes outside 100-999.
  if (code < 100 || code > 999) {
    abort(req);
    return;
  }
  // A 1xx is informational in Go; the handler returning then sends the final 200.
  res.writeHead(code < 200 ? 200 : code, { 'Content-Length': '0' }).end();
}

function processError(res: Res, err: Error): void {
  const body = goJsonEscape(JSON.stringify({ message: err.message }));
  res.writeHead(500, { 'Content-Type': 'application/json', 'X-Content-Type-Options': 'nosniff' }).end(body);
}

function sleep(ms: number): Promise<void> {
  return ms > 0 ? new Promise((resolve) => setTimeout(resolve, Math.min(ms, MAX_DELAY_MS))) : Promise.resolve();
}

const PEER_CERTIFICATES = Symbol('peerCertificates');
type EchoTLSSocket = TLSSocket & { [PEER_CERTIFICATES]?: string[] };

/** Go's PeerCertificates: the certificates the client sent, leaf first, as PEM. */
function sentChain(leaf: X509Certificate | undefined): string[] {
  const chain: string[] = [];
  for (let cert = leaf; cert; cert = cert.issuerCertificate) {
    chain.push(cert.toString());
    if (cert.checkIssued(cert)) break;
  }
  return chain;
}

/** upstream's tlsStateToAssertions: present only on TLS connections. */
function tlsAssertions(req: Req) {
  // For HTTP/2 this is the session's socket proxy, which forwards property reads to the TLS socket.
  const socket = 'stream' in req ? req.stream.session?.socket : req.socket;
  if (!(socket instanceof TLSSocket)) return undefined;
  const peerCertificates = (socket as EchoTLSSocket)[PEER_CERTIFICATES] ?? [];
  const { version, serverName, negotiatedProtocol, cipherSuite } = tlsConnectionState(socket);
  // Key order is upstream's JSON field order.
  return {
    version,
    ...(peerCertificates.length > 0 ? { peerCertificates } : {}),
    serverName,
    ...(negotiatedProtocol ? { negotiatedProtocol } : {}),
    cipherSuite,
  };
}

/**
 * Go's request header map: canonical keys, one value per header line in arrival
 * order, without Host and Transfer-Encoding (Go moves those into other fields)
 * or HTTP/2 pseudo-headers, whose cookie fields Go's HTTP/2 server joins with "; ".
 * Keys are sorted because encoding/json sorts map keys.
 */
function requestHeaders(req: Req): Record<string, string[]> {
  const headers = new Map<string, string[]>();
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    if (raw[i].startsWith(':')) continue;
    const key = canonicalHeaderKey(raw[i]);
    if (key === 'Host' || key === 'Transfer-Encoding') continue;
    const values = headers.get(key);
    if (values) values.push(raw[i + 1]);
    else headers.set(key, [raw[i + 1]]);
  }
  const cookies = headers.get('Cookie');
  if (req.httpVersionMajor === 2 && cookies && cookies.length > 1) headers.set('Cookie', [cookies.join('; ')]);
  return Object.fromEntries([...headers].sort(([a], [b]) => (a < b ? -1 : 1)));
}

/**
 * `X-Echo-Set-Header: Name: value, Other: value` makes the echo send those
 * response headers; conformance uses it to test response header filters.
 * Names keep their spelling; repeats are comma-joined; invalid ones are dropped as Go does.
 */
function setEchoResponseHeaders(res: Res, req: Req): void {
  const set = new Map<string, string>();
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    if (canonicalHeaderKey(raw[i]) !== 'X-Echo-Set-Header') continue;
    for (const pair of raw[i + 1].split(',')) {
      const trimmed = pair.trim();
      const colon = trimmed.indexOf(':');
      const name = colon < 0 ? trimmed : trimmed.slice(0, colon);
      const value = (colon < 0 ? '' : trimmed.slice(colon + 1)).trim();
      const previous = set.get(name);
      set.set(name, previous === undefined ? value : `${previous},${value}`);
    }
  }
  for (const [name, value] of set) {
    try {
      res.appendHeader(name, value);
    } catch {
      // Invalid header name or value: Go silently skips these when writing.
    }
  }
}

/** Upstream collapses doubled slashes before routing (but echoes the URI untouched). */
function muxPath(requestURI: string): string {
  return requestURI.split('?')[0].replaceAll('//', '/');
}

function queryOf(requestURI: string): string {
  return requestURI.split('?').slice(1).join('?');
}

/** A duration as Go's Request.FormValue finds it (a url-encoded POST/PUT/PATCH body wins over the query), in ms. */
function formDuration(key: string, requestURI: string, body: string | undefined): number {
  const fromBody = body === undefined ? null : new URLSearchParams(body).get(key);
  const value = fromBody ?? new URLSearchParams(queryOf(requestURI)).get(key);
  return value ? parseGoDuration(value) : 0;
}

/**
 * Consumes the request body (so keep-alive works), keeping it only when it may carry form values.
 * On a hand-built response for an upgrade request, the body bytes went to the upgrade's head and are not seen.
 */
async function readBody(req: Req): Promise<string | undefined> {
  const isForm = ['POST', 'PUT', 'PATCH'].includes(req.method ?? '')
    && (req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase() === 'application/x-www-form-urlencoded';
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    if (!isForm || size >= MAX_FORM_BYTES) continue;
    chunks.push(chunk as Buffer);
    size += (chunk as Buffer).length;
  }
  return isForm ? Buffer.concat(chunks).toString('utf8').slice(0, MAX_FORM_BYTES) : undefined;
}
