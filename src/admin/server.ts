import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { IRConfig } from '../ir/types.js';
import type { StatusEntry } from '../translator/index.js';
import type { Registry } from 'prom-client';

/** What the admin server reads; it never changes anything. */
export interface AdminSource {
  readonly statuses: readonly StatusEntry[];
  readonly ir: IRConfig | undefined;
  readonly ready: boolean;
}

export interface AdminServer {
  server: Server;
  address: { host: string; port: number };
  close(): Promise<void>;
}

const KIND_ORDER = ['GatewayClass', 'Gateway', 'ListenerSet', 'HTTPRoute', 'GRPCRoute', 'TLSRoute', 'TCPRoute', 'UDPRoute'];

export async function startAdminServer(
  source: AdminSource, registry: Registry, host: string, port: number,
): Promise<AdminServer> {
  const server = createServer((req, res) => {
    handle(source, registry, req, res).catch((err: unknown) => {
      if (!res.headersSent) send(res, 500, 'text/plain', `internal error: ${(err as Error).message}\n`);
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => { server.off('error', reject); resolve(); });
  });
  const bound = server.address();
  const actualPort = typeof bound === 'object' && bound ? bound.port : port;
  return {
    server,
    address: { host, port: actualPort },
    close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

async function handle(source: AdminSource, registry: Registry, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    send(res, 405, 'text/plain', 'only GET is supported\n', { allow: 'GET, HEAD' });
    return;
  }
  const path = (req.url ?? '/').split('?', 1)[0];
  switch (path) {
    case '/status':
      sendJSON(res, 200, { apiVersion: 'v1', kind: 'List', items: sortedStatuses(source.statuses) });
      return;
    case '/config':
      sendJSON(res, source.ir ? 200 : 503, source.ir ?? { error: 'no configuration applied yet' });
      return;
    case '/healthz':
      send(res, 200, 'text/plain', 'ok\n');
      return;
    case '/readyz':
      if (source.ready) send(res, 200, 'text/plain', 'ready\n');
      else send(res, 503, 'text/plain', 'no configuration applied yet\n');
      return;
    case '/metrics':
      send(res, 200, registry.contentType, await registry.metrics());
      return;
    default:
      send(res, 404, 'text/plain', 'endpoints: /status /config /healthz /readyz /metrics\n');
  }
}

function sortedStatuses(statuses: readonly StatusEntry[]): StatusEntry[] {
  const rank = (k: string) => { const i = KIND_ORDER.indexOf(k); return i < 0 ? KIND_ORDER.length : i; };
  return [...statuses].sort((a, b) => rank(a.kind) - rank(b.kind) || a.kind.localeCompare(b.kind)
    || (a.metadata.namespace ?? '').localeCompare(b.metadata.namespace ?? '') || a.metadata.name.localeCompare(b.metadata.name));
}

function sendJSON(res: ServerResponse, status: number, body: unknown): void {
  send(res, status, 'application/json', `${JSON.stringify(body, null, 2)}\n`);
}

function send(res: ServerResponse, status: number, contentType: string, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(body), ...headers });
  res.end(res.req.method === 'HEAD' ? undefined : body);
}
