import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { silentLogger, type Logger } from '../util/log.js';
import { canonicalHeaderKey, goJsonEscape, parseGoDuration } from './go-compat.js';

/**
 * A port of the Gateway API conformance backend ("echo-basic"): conformance
 * tests assert on its JSON reply, so field names, header canonicalisation and
 * the special paths/headers must behave like the upstream Go server.
 */
export interface EchoOptions {
  port: number;
  host?: string;
  namespace?: string;
  service?: string;
  pod?: string;
  logger?: Logger;
}

export interface EchoServer {
  server: http.Server;
  port: number;
  close(): Promise<void>;
}

interface Context {
  namespace: string;
  ingress: string;
  service: string;
  pod: string;
}

// setTimeout's ceiling; a longer ?delay= only matters to a client that has long gone.
const MAX_DELAY_MS = 2 ** 31 - 1;
// Go's ParseForm limit for url-encoded bodies.
const MAX_FORM_BYTES = 10 << 20;

export async function startEchoServer(opts: EchoOptions): Promise<EchoServer> {
  const logger = opts.logger ?? silentLogger;
  const context: Context = {
    namespace: opts.namespace ?? process.env.NAMESPACE ?? '',
    ingress: process.env.INGRESS_NAME ?? '',
    service: opts.service ?? process.env.SERVICE_NAME ?? '',
    pod: opts.pod ?? process.env.POD_NAME ?? '',
  };
  const server = http.createServer((req, res) => {
    handle(req, res, context, logger).catch((err: unknown) => {
      logger.error({ err }, 'echo handler failed');
      res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host ?? '0.0.0.0', () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    server,
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve, reject) => {
      server.close((err) => (err ? reject(err) : resolve()));
      server.closeAllConnections();
    }),
  };
}

async function handle(req: http.IncomingMessage, res: http.ServerResponse, context: Context, logger: Logger): Promise<void> {
  const body = await readBody(req);
  const requestURI = req.url ?? '/';
  // Upstream collapses doubled slashes before routing (but echoes the URI untouched).
  const path = requestURI.split('?')[0].replaceAll('//', '/');
  if (path === '/health') {
    res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' }).end('OK');
  } else if (path.startsWith('/status/')) {
    respondStatus(req, res, requestURI);
  } else {
    logger.debug({ uri: requestURI, remote: req.socket.remoteAddress }, 'echoing request');
    await echo(req, res, requestURI, body, context);
  }
}

/** `/status/NNN` answers NNN with no body; anything else under /status/ (even a query) is 400. */
function respondStatus(req: http.IncomingMessage, res: http.ServerResponse, requestURI: string): void {
  const match = /^\/status\/(\d\d\d)$/.exec(requestURI);
  const code = match ? Number(match[1]) : 400;
  // Go panics on codes below 100, which aborts the connection.
  if (code < 100) {
    req.socket.destroy();
    return;
  }
  // A 1xx is informational in Go; the handler returning then sends the final 200.
  res.writeHead(code < 200 ? 200 : code, { 'Content-Length': '0' }).end();
}

async function echo(
  req: http.IncomingMessage, res: http.ServerResponse, requestURI: string, body: string | undefined, context: Context,
): Promise<void> {
  let delayMs: number;
  try {
    delayMs = requestedDelay(requestURI, body);
  } catch (err) {
    const message = goJsonEscape(JSON.stringify({ message: (err as Error).message }));
    res.writeHead(500, { 'Content-Type': 'application/json', 'X-Content-Type-Options': 'nosniff' }).end(message);
    return;
  }
  if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, Math.min(delayMs, MAX_DELAY_MS)));

  const reply = {
    path: requestURI,
    host: req.headers.host ?? '',
    method: req.method,
    proto: `HTTP/${req.httpVersion}`,
    headers: requestHeaders(req),
    ...context,
    sni: '',
  };
  const json = goJsonEscape(JSON.stringify(reply, null, 1));
  setEchoResponseHeaders(res, req);
  res.setHeader('Content-Type', 'application/json');
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Content-Length', Buffer.byteLength(json));
  res.writeHead(200).end(json);
}

/**
 * Go's request header map: canonical keys, one value per header line in arrival
 * order, without Host and Transfer-Encoding (Go moves those into other fields).
 * Keys are sorted because encoding/json sorts map keys.
 */
function requestHeaders(req: http.IncomingMessage): Record<string, string[]> {
  const headers = new Map<string, string[]>();
  const raw = req.rawHeaders;
  for (let i = 0; i < raw.length; i += 2) {
    const key = canonicalHeaderKey(raw[i]);
    if (key === 'Host' || key === 'Transfer-Encoding') continue;
    const values = headers.get(key);
    if (values) values.push(raw[i + 1]);
    else headers.set(key, [raw[i + 1]]);
  }
  return Object.fromEntries([...headers].sort(([a], [b]) => (a < b ? -1 : 1)));
}

/**
 * `X-Echo-Set-Header: Name: value, Other: value` makes the echo send those
 * response headers; conformance uses it to test response header filters.
 * Names keep their spelling; repeats are comma-joined; invalid ones are dropped as Go does.
 */
function setEchoResponseHeaders(res: http.ServerResponse, req: http.IncomingMessage): void {
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

/** `delay` as Go's Request.FormValue finds it: a url-encoded POST/PUT/PATCH body wins over the query. */
function requestedDelay(requestURI: string, body: string | undefined): number {
  const fromBody = body === undefined ? null : new URLSearchParams(body).get('delay');
  const value = fromBody ?? new URLSearchParams(requestURI.split('?').slice(1).join('?')).get('delay');
  return value ? parseGoDuration(value) : 0;
}

/** Consumes the request body (so keep-alive works), keeping it only when it may carry form values. */
async function readBody(req: http.IncomingMessage): Promise<string | undefined> {
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
