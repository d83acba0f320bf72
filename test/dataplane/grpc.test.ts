// gRPC through the data plane: the gateway's own errors reach a gRPC client
// as gRPC statuses, a trailers-only response (HTTP 200, grpc-status in the
// headers), as gRPC clients read them, while other clients keep the plain
// HTTP status; and `te: trailers`, which gRPC servers expect, reaches h2c
// backends.

import assert from 'node:assert/strict';
import { connect as connectH2, type ClientHttp2Session } from 'node:http2';
import { createServer, type Server, type Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { DataPlane } from '../../src/dataplane/index.js';
import { silentLogger } from '../../src/util/log.js';
import { closedPort, config, forwardTo, httpServer, route, sendH2, sendH2Json, startH2cUpstream, type H2Upstream } from './helpers.js';

const GRPC = { 'content-type': 'application/grpc', te: 'trailers' };

describe('gRPC status for gateway errors', () => {
  const dp = new DataPlane({ logger: silentLogger });
  let client: ClientHttp2Session;
  let backend: H2Upstream;
  // Accepts connections and never says a word: a call to it only ends by its deadline.
  const silentSockets = new Set<Socket>();
  const silent: Server = createServer((socket) => silentSockets.add(socket));

  before(async () => {
    const down = await closedPort();
    backend = await startH2cUpstream('grpc');
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const { failures } = await dp.apply(config([httpServer('h2', [{
      hostname: '*',
      routes: [
        route('invalid', { path: { type: 'Exact', value: '/pkg.Svc/Invalid' } }, { type: 'forward', backends: [{ weight: 1, invalidStatus: 500 }] }),
        route('down', { path: { type: 'Exact', value: '/pkg.Svc/Down' } }, { type: 'forward', backends: [{ weight: 1, cluster: 'down' }] }),
        route('up', { path: { type: 'Exact', value: '/pkg.Svc/Up' } }, forwardTo('up')),
        route('silent', { path: { type: 'Exact', value: '/pkg.Svc/Silent' } }, forwardTo('silent')),
      ],
    }])], { down: [down], up: [backend.port], silent: [(silent.address() as { port: number }).port] }, { down: 'h2c', up: 'h2c', silent: 'h2c' }));
    assert.deepEqual(failures, []);
    client = connectH2(`http://127.0.0.1:${dp.boundPort('h2')}`);
    client.on('error', () => undefined);
  });

  after(async () => {
    // destroy, not close: a call left hanging (a regression) must not keep the process alive.
    client.destroy();
    for (const socket of silentSockets) socket.destroy();
    await dp.shutdown(1000);
    await backend.close();
    silent.close();
  });

  const call = (path: string, headers: Record<string, string> = GRPC) => sendH2(client, path, { method: 'POST', headers, body: Buffer.alloc(5) });

  it('answers a call no route matches with UNIMPLEMENTED', async () => {
    const r = await call('/pkg.Svc/Missing');
    assert.equal(r.status, 200);
    assert.equal(r.headers['content-type'], 'application/grpc');
    assert.equal(r.headers['grpc-status'], '12');
    assert.match(String(r.headers['grpc-message']), /404/);
  });

  it('answers a call to an invalid backend, and to one that is down, with UNAVAILABLE', async () => {
    assert.equal((await call('/pkg.Svc/Invalid')).headers['grpc-status'], '14');
    assert.equal((await call('/pkg.Svc/Down')).headers['grpc-status'], '14');
  });

  it('passes te: trailers on to an h2c backend', async () => {
    const echo = await sendH2Json(client, '/pkg.Svc/Up', { method: 'POST', headers: GRPC, body: Buffer.alloc(5) });
    assert.equal(echo.headers.te, 'trailers');
  });

  it('honours grpc-timeout: DEADLINE_EXCEEDED once the client\'s deadline passes', { timeout: 10_000 }, async () => {
    const started = Date.now();
    const r = await call('/pkg.Svc/Silent', { ...GRPC, 'grpc-timeout': '150m' });
    assert.equal(r.headers['grpc-status'], '4');
    const took = Date.now() - started;
    assert.ok(took >= 140 && took < 5000, `took ${took} ms`);
  });

  it('keeps plain HTTP statuses for requests that are not gRPC', async () => {
    const r = await call('/pkg.Svc/Missing', { 'content-type': 'application/json' });
    assert.equal(r.status, 404);
    assert.equal(r.headers['grpc-status'], undefined);
  });
});
