// Peer under test: fastify + @fastify/http-proxy (undici client to the
// backend). Started by bench/run.mjs with one JSON argument:
// {mode: 'basic'|'split', port, tlsPort, a, b, crt, key}. fastify serves one
// port per instance, so HTTPS is a second instance in the same process.

import { readFileSync } from 'node:fs';
import Fastify from 'fastify';
import proxy from '@fastify/http-proxy';

const cfg = JSON.parse(process.argv[2]);
const baseA = `http://127.0.0.1:${cfg.a}`;
const baseB = `http://127.0.0.1:${cfg.b}`;

async function build(httpsOptions) {
  const app = Fastify({
    logger: false,
    bodyLimit: 4 * 1024 * 1024,
    keepAliveTimeout: 120_000,
    ...(httpsOptions ? { https: httpsOptions } : {}),
  });
  const replyOptions = {};
  if (cfg.mode === 'split') {
    replyOptions.getUpstream = () => (Math.random() < 0.5 ? baseA : baseB);
    replyOptions.rewriteRequestHeaders = (_req, headers) => {
      const h = { ...headers, 'x-bench-set': '1', 'x-bench-add': headers['x-bench-add'] ? `${headers['x-bench-add']}, 1` : '1' };
      delete h['x-bench-remove'];
      return h;
    };
    replyOptions.rewriteHeaders = (headers) => ({ ...headers, 'x-bench-resp': '1' });
  }
  await app.register(proxy, {
    // With upstream '' and replyOptions.getUpstream (the documented way to
    // pick an upstream per request) reply-from uses an undici Agent, one pool
    // per origin; a fixed upstream uses one Pool bound to it.
    upstream: cfg.mode === 'split' ? '' : baseA,
    http2: false,
    undici: { connections: 1024, pipelining: 1, keepAliveTimeout: 120_000 },
    replyOptions,
  });
  return app;
}

const plain = await build();
await plain.listen({ port: cfg.port, host: '127.0.0.1' });
if (cfg.tlsPort) {
  const secure = await build({ cert: readFileSync(cfg.crt), key: readFileSync(cfg.key) });
  await secure.listen({ port: cfg.tlsPort, host: '127.0.0.1' });
}
process.on('SIGTERM', () => process.exit(0));
