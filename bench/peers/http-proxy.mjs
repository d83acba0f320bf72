// Peer under test: node-http-proxy behind a plain http/https server, with a
// keep-alive agent to the backend. Started by bench/run.mjs with one JSON
// argument: {mode: 'basic'|'split', port, tlsPort, a, b, crt, key}.
// 'basic' sends everything to backend a; 'split' does the header changes and
// a random 50/50 split that the other proxies do in configuration.

import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const httpProxy = require('http-proxy');

const cfg = JSON.parse(process.argv[2]);
const agent = new http.Agent({ keepAlive: true, maxSockets: Infinity, maxFreeSockets: 1024, keepAliveMsecs: 60_000 });
const proxy = httpProxy.createProxyServer({ agent, xfwd: false });
const targetA = `http://127.0.0.1:${cfg.a}`;
const targetB = `http://127.0.0.1:${cfg.b}`;

proxy.on('error', (err, req, res) => {
  if (res && typeof res.writeHead === 'function' && !res.headersSent) {
    res.writeHead(502, { 'content-type': 'text/plain' });
  }
  res?.end?.('bad gateway\n');
});

let handler;
if (cfg.mode === 'split') {
  proxy.on('proxyRes', (proxyRes) => { proxyRes.headers['x-bench-resp'] = '1'; });
  handler = (req, res) => {
    req.headers['x-bench-set'] = '1';
    req.headers['x-bench-add'] = req.headers['x-bench-add'] ? `${req.headers['x-bench-add']}, 1` : '1';
    delete req.headers['x-bench-remove'];
    proxy.web(req, res, { target: Math.random() < 0.5 ? targetA : targetB });
  };
} else {
  handler = (req, res) => proxy.web(req, res, { target: targetA });
}

const servers = [http.createServer(handler).listen(cfg.port, '127.0.0.1')];
if (cfg.tlsPort) {
  servers.push(https.createServer({ cert: readFileSync(cfg.crt), key: readFileSync(cfg.key) }, handler).listen(cfg.tlsPort, '127.0.0.1'));
}
for (const s of servers) {
  s.keepAliveTimeout = 120_000;
  s.headersTimeout = 125_000;
}
process.on('SIGTERM', () => process.exit(0));
