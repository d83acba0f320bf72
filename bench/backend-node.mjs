// Alternative fixed backend (node bench/run.mjs --backend node): a minimal
// Node http server answering the same paths as the default nginx backend.
//   GET  /64k     64 KiB body
//   POST /upload  reads and discards the body, answers "uploaded"
//   anything else a 64-byte body
// Every answer carries x-backend (the port that answered) and echoes the
// request headers the split workload changes (x-seen-set / -add / -remove).
// Usage: node backend-node.mjs PORT_A PORT_B

import http from 'node:http';

const small = Buffer.from('hello from the archway bench backend, a small fixed response.\n'.padEnd(64, '.'));
const big = Buffer.alloc(64 * 1024, 'x');
const uploaded = Buffer.from('uploaded\n');

function handler(port) {
  return (req, res) => {
    const headers = { 'x-backend': String(port), 'content-type': 'text/plain' };
    if (req.headers['x-bench-set']) headers['x-seen-set'] = req.headers['x-bench-set'];
    if (req.headers['x-bench-add']) headers['x-seen-add'] = req.headers['x-bench-add'];
    if (req.headers['x-bench-remove']) headers['x-seen-remove'] = req.headers['x-bench-remove'];
    const body = req.url === '/64k' ? big : req.url === '/upload' ? uploaded : small;
    headers['content-length'] = body.length;
    const send = () => { res.writeHead(200, headers); res.end(body); };
    if (req.method === 'POST' || req.method === 'PUT') {
      req.on('data', () => {});
      req.on('end', send);
    } else {
      req.resume();
      send();
    }
  };
}

for (const p of process.argv.slice(2).map(Number)) {
  const s = http.createServer(handler(p));
  s.keepAliveTimeout = 120_000;
  s.headersTimeout = 125_000;
  s.listen(p, '127.0.0.1');
}
process.on('SIGTERM', () => process.exit(0));
