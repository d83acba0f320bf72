// HTTP/1.1 forwarding to a cluster endpoint. Bodies are piped in both
// directions so backpressure reaches the slower side and nothing is buffered
// whole.

import {
  request,
  type ClientRequest,
  type IncomingMessage,
  type OutgoingHttpHeaders,
  type ServerResponse,
} from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from '../util/log.js';
import type { ClusterPool } from './clusters.js';
import { sendLocal } from './respond.js';
import type { CompiledHeaderMutation } from './router.js';
import type { Counters } from './stats.js';

const CONNECT_TIMEOUT_MS = 5_000;

/** RFC 9110 §7.6.1 connection-specific fields, plus the legacy Proxy-Connection. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'transfer-encoding', 'upgrade', 'trailer']);

/** What the proxy needs to know about the listener a request came in on. */
export interface ProxySite {
  readonly scheme: 'http' | 'https';
  /** True once the listener is closing; responses then carry `Connection: close`. */
  readonly closing: boolean;
  readonly logger: Logger;
  readonly counters: Counters;
}

/** `target` is the origin-form request target (path and query) to send upstream. */
export function forward(
  req: IncomingMessage,
  res: ServerResponse,
  pool: ClusterPool,
  target: string,
  mutation: CompiledHeaderMutation | undefined,
  site: ProxySite,
): void {
  const endpoint = pool.pick();
  if (endpoint === undefined) {
    sendLocal(res, 503, site.closing);
    return;
  }
  new Exchange(req, res, pool, target, upstreamHeaders(req, site.scheme, mutation), site).send(
    endpoint.address,
    endpoint.port,
  );
}

class Exchange {
  private upstream: ClientRequest | undefined;
  private responded = false;
  private retried = false;
  /** Requests without a body can be replayed on a fresh socket when a reused one turns out dead. */
  private readonly bodyless: boolean;

  constructor(
    private readonly req: IncomingMessage,
    private readonly res: ServerResponse,
    private readonly pool: ClusterPool,
    private readonly target: string,
    private readonly headers: OutgoingHttpHeaders,
    private readonly site: ProxySite,
  ) {
    const h = req.headers;
    this.bodyless = h['transfer-encoding'] === undefined && (h['content-length'] === undefined || h['content-length'] === '0');
    pool.acquire();
    res.once('close', () => this.onClientClose());
  }

  send(host: string, port: number): void {
    let up: ClientRequest;
    try {
      up = request({ host, port, method: this.req.method, path: this.target, headers: this.headers, agent: this.pool.agent });
    } catch (err) {
      // Node rejects some request targets its own parser let through.
      this.site.logger.debug({ err, target: this.target }, 'cannot build upstream request');
      sendLocal(this.res, 400, this.site.closing);
      return;
    }
    this.upstream = up;
    up.on('socket', onUpstreamSocket);
    up.on('response', (upRes) => this.onResponse(upRes));
    up.on('error', (err) => this.onUpstreamError(up, err));
    if (this.bodyless) up.end();
    else this.req.pipe(up);
  }

  private onResponse(upRes: IncomingMessage): void {
    this.responded = true;
    const res = this.res;
    if (res.destroyed) {
      upRes.destroy();
      return;
    }
    upRes.once('close', () => {
      if (!upRes.complete) {
        // The upstream reset mid-body: the client must not mistake a truncated body for a whole one.
        this.site.counters.upstreamError();
        res.destroy();
      }
    });
    res.writeHead(
      upRes.statusCode ?? 502,
      upRes.statusMessage,
      downstreamHeaders(upRes.rawHeaders, upRes.headers.connection, this.site.closing),
    );
    upRes.pipe(res);
  }

  private onUpstreamError(up: ClientRequest, err: NodeJS.ErrnoException): void {
    if (up !== this.upstream || this.res.destroyed) return;
    if (this.responded) {
      this.res.destroy();
      return;
    }
    if (!this.retried && this.bodyless && up.reusedSocket && err.code === 'ECONNRESET') {
      this.retried = true;
      const ep = this.pool.pick();
      if (ep) {
        this.send(ep.address, ep.port);
        return;
      }
    }
    this.site.counters.upstreamError();
    this.site.logger.debug({ err, cluster: this.pool.name }, 'upstream request failed');
    sendLocal(this.res, 503, this.site.closing);
  }

  private onClientClose(): void {
    this.pool.release();
    if (!this.res.writableFinished) this.upstream?.destroy();
  }
}

function onUpstreamSocket(this: ClientRequest, socket: Socket): void {
  if (!socket.connecting) return;
  const timer = setTimeout(connectTimedOut, CONNECT_TIMEOUT_MS, this);
  const clear = (): void => clearTimeout(timer);
  socket.once('connect', clear);
  this.once('close', clear);
}

function connectTimedOut(up: ClientRequest): void {
  up.destroy(Object.assign(new Error('upstream connect timeout'), { code: 'ETIMEDOUT' }));
}

function connectionTokens(value: string | undefined): string[] | undefined {
  return value === undefined ? undefined : value.toLowerCase().split(',').map((t) => t.trim());
}

function upstreamHeaders(
  req: IncomingMessage,
  scheme: 'http' | 'https',
  mutation: CompiledHeaderMutation | undefined,
): OutgoingHttpHeaders {
  const src = req.headers;
  const named = connectionTokens(src.connection);
  const out: OutgoingHttpHeaders = {};
  for (const name in src) {
    // Expect is dropped because Node has already answered 100-continue to the client.
    if (HOP_BY_HOP.has(name) || name === 'expect' || named?.includes(name)) continue;
    out[name] = src[name];
  }
  // Node has decoded the client's chunked framing; ask it to re-frame the piped body.
  if (src['transfer-encoding'] !== undefined) out['transfer-encoding'] = 'chunked';

  const client = clientAddress(req.socket.remoteAddress);
  if (client !== undefined) {
    const prior = src['x-forwarded-for'];
    out['x-forwarded-for'] = prior ? `${prior}, ${client}` : client;
  }
  out['x-forwarded-proto'] = scheme;
  if (src.host !== undefined) out['x-forwarded-host'] = src.host;

  if (mutation) {
    for (const [name, value] of mutation.set) out[name] = value;
    for (const [name, value] of mutation.add) {
      const cur = out[name];
      out[name] = cur === undefined ? value : Array.isArray(cur) ? [...cur, value] : `${cur},${value}`;
    }
    for (const name of mutation.remove) delete out[name];
  }
  return out;
}

function clientAddress(addr: string | undefined): string | undefined {
  return addr?.startsWith('::ffff:') ? addr.slice(7) : addr;
}

/** Raw headers keep the upstream's duplicates (e.g. several Set-Cookie) and casing. */
function downstreamHeaders(raw: string[], connection: string | undefined, closing: boolean): string[] {
  const named = connectionTokens(connection);
  const out: string[] = [];
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    if (HOP_BY_HOP.has(name) || named?.includes(name)) continue;
    out.push(raw[i]!, raw[i + 1]!);
  }
  if (closing) out.push('connection', 'close');
  return out;
}
