// TLS to backends (IRCluster.tls): real TLS servers with certificates from a
// test CA, reached through the DataPlane over HTTP/1.1, HTTP/2, WebSocket
// and TLS-terminated streams.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createSecureServer, type Http2ServerRequest, type Http2ServerResponse } from 'node:http2';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { connect, type AddressInfo, type Server, type Socket } from 'node:net';
import { connect as tlsConnect, createServer as createTlsServer, type TLSSocket } from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { generate } from 'selfsigned';
import { ClusterRegistry } from '../../src/dataplane/clusters.js';
import { DataPlane } from '../../src/dataplane/index.js';
import { IR_VERSION, type IRCluster, type IRConfig, type IRUpstreamTLS } from '../../src/ir/types.js';
import { silentLogger } from '../../src/util/log.js';
import { forwardTo, httpServer, route, send } from './helpers.js';

interface Pair { cert: string; key: string }

async function issue(cn: string, ca: Pair | undefined, extensions: object[]): Promise<Pair> {
  const pems = await generate([{ name: 'commonName', value: cn }], {
    keySize: 2048,
    algorithm: 'sha256',
    extensions,
    ...(ca ? { ca: { cert: ca.cert, key: ca.key } } : {}),
  } as Parameters<typeof generate>[1]);
  return { cert: pems.cert, key: pems.private };
}

const caExtensions = [{ name: 'basicConstraints', cA: true }, { name: 'keyUsage', keyCertSign: true, digitalSignature: true }];

/** What the backends report: the TLS session as they saw it. */
interface Seen {
  backend: string;
  servername: string | false | null;
  alpn: string | false | null;
  httpVersion?: string;
  /** The client certificate's CN, when one was sent. */
  client?: string;
}

function seen(backend: string, socket: TLSSocket, httpVersion?: string): Seen {
  const peer = socket.getPeerCertificate();
  return {
    backend, servername: socket.servername, alpn: socket.alpnProtocol, httpVersion,
    ...(peer && peer.subject ? { client: String(peer.subject.CN) } : {}),
  };
}

async function listen<S extends Server>(server: S): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

describe('TLS to backends', () => {
  let ca: Pair;
  let otherCa: Pair;
  let client: Pair;
  let serverCert: Pair;
  const servers: Server[] = [];
  const ports: Record<'https' | 'mtls' | 'h2' | 'stream', number> = { https: 0, mtls: 0, h2: 0, stream: 0 };
  const dp = new DataPlane({ logger: silentLogger });

  before(async () => {
    [ca, otherCa] = await Promise.all([issue('Backend CA', undefined, caExtensions), issue('Other CA', undefined, caExtensions)]);
    [serverCert, client] = await Promise.all([
      issue('backend', ca, [
        { name: 'basicConstraints', cA: false },
        { name: 'extKeyUsage', serverAuth: true },
        { name: 'subjectAltName', altNames: [{ type: 2, value: 'backend.example' }, { type: 2, value: '*.wild.example' }, { type: 6, value: 'spiffe://example.com/backend' }] },
      ]),
      issue('gateway-client', ca, [{ name: 'basicConstraints', cA: false }, { name: 'extKeyUsage', clientAuth: true }]),
    ]);
    const answer = (name: string) => (req: IncomingMessage | Http2ServerRequest, res: ServerResponse | Http2ServerResponse) => {
      const socket = ('stream' in req ? req.stream.session!.socket : req.socket) as TLSSocket;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify(seen(name, socket, req.httpVersion)));
    };
    const https: HttpsServer = createHttpsServer({ cert: serverCert.cert, key: serverCert.key }, answer('https'));
    // Upgrades: a 101, then the bytes echoed back.
    https.on('upgrade', (_req, socket: Socket, head: Buffer) => {
      socket.write('HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n');
      if (head.length > 0) socket.write(head);
      socket.pipe(socket);
    });
    const mtls = createHttpsServer({ cert: serverCert.cert, key: serverCert.key, ca: ca.cert, requestCert: true, rejectUnauthorized: true }, answer('mtls'));
    const h2 = createSecureServer({ cert: serverCert.cert, key: serverCert.key }, answer('h2'));
    const stream = createTlsServer({ cert: serverCert.cert, key: serverCert.key, ca: ca.cert, requestCert: true, rejectUnauthorized: true }, (s) => {
      s.on('error', () => s.destroy());
      s.once('data', (d: Buffer) => s.end(JSON.stringify({ ...seen('stream', s), got: d.toString() })));
    });
    servers.push(https, mtls, h2, stream);
    [ports.https, ports.mtls, ports.h2, ports.stream] = await Promise.all([listen(https), listen(mtls), listen(h2), listen(stream)]);
  });

  after(async () => {
    await dp.shutdown(1000);
    for (const s of servers) {
      (s as Server & { closeAllConnections?: () => void }).closeAllConnections?.();
      s.close();
    }
  });

  function cluster(name: string, port: number, tls: IRUpstreamTLS, protocol: IRCluster['protocol'] = 'http1'): IRCluster {
    return { name, protocol, endpoints: [{ address: '127.0.0.1', port }], tls };
  }

  /** Serves each cluster at /<cluster name> on one HTTP server; resolves with its port. */
  async function serve(clusters: IRCluster[]): Promise<number> {
    const ir: IRConfig = {
      irVersion: IR_VERSION,
      servers: [httpServer('tls-upstreams', [{
        hostname: '*',
        routes: clusters.map((c) => route(c.name, { path: { type: 'PathPrefix', value: `/${c.name}` } }, forwardTo(c.name))),
      }])],
      clusters: Object.fromEntries(clusters.map((c) => [c.name, c])),
    };
    await dp.apply(ir);
    return dp.boundPort('tls-upstreams')!;
  }

  async function get(port: number, path: string): Promise<{ status: number; seen?: Seen }> {
    const r = await send(port, path);
    return r.status === 200 ? { status: 200, seen: JSON.parse(r.body) as Seen } : { status: r.status };
  }

  it('trusts a backend whose certificate chains to the CA and names the server name, sending that name as SNI and ALPN http/1.1', async () => {
    const port = await serve([cluster('ok', ports.https, { serverName: 'backend.example', caPem: ca.cert })]);
    assert.deepEqual(await get(port, '/ok'), { status: 200, seen: { backend: 'https', servername: 'backend.example', alpn: 'http/1.1', httpVersion: '1.1' } });
  });

  it('fails with a 5xx when the certificate does not chain to the CA or does not name the server name', async () => {
    const port = await serve([
      cluster('wrong-ca', ports.https, { serverName: 'backend.example', caPem: otherCa.cert }),
      cluster('wrong-name', ports.https, { serverName: 'other.example', caPem: ca.cert }),
      // No CA: Node's trust store, which does not know the test CA.
      cluster('system', ports.https, { serverName: 'backend.example' }),
    ]);
    for (const path of ['/wrong-ca', '/wrong-name', '/system']) {
      const { status } = await get(port, path);
      assert.ok(status === 502 || status === 503, `${path}: ${status}`);
    }
  });

  it('checks subjectAltNames instead of the server name when they are given, which is still sent as SNI', async () => {
    const port = await serve([
      cluster('uri', ports.https, { serverName: 'sni-only.example', caPem: ca.cert, subjectAltNames: [{ type: 'URI', value: 'spiffe://example.com/backend' }] }),
      cluster('wildcard', ports.https, { serverName: 'backend.example', caPem: ca.cert, subjectAltNames: [{ type: 'Hostname', value: 'a.wild.example' }] }),
      cluster('mismatch', ports.https, {
        serverName: 'backend.example', caPem: ca.cert,
        subjectAltNames: [{ type: 'Hostname', value: 'other.example' }, { type: 'URI', value: 'spiffe://example.com/other' }],
      }),
    ]);
    assert.deepEqual((await get(port, '/uri')).seen?.servername, 'sni-only.example');
    assert.equal((await get(port, '/wildcard')).status, 200);
    const { status } = await get(port, '/mismatch');
    assert.ok(status === 502 || status === 503, `mismatch: ${status}`);
  });

  it('presents the client certificate to a backend that requires one', async () => {
    const tls = { serverName: 'backend.example', caPem: ca.cert };
    const port = await serve([
      cluster('anonymous', ports.mtls, tls),
      cluster('client', ports.mtls, { ...tls, clientCertificate: { certPem: client.cert, keyPem: client.key } }),
    ]);
    const anonymous = await get(port, '/anonymous');
    assert.ok(anonymous.status === 502 || anonymous.status === 503, `anonymous: ${anonymous.status}`);
    assert.deepEqual((await get(port, '/client')).seen, { backend: 'mtls', servername: 'backend.example', alpn: 'http/1.1', httpVersion: '1.1', client: 'gateway-client' });
  });

  it('opens new connections when a cluster’s TLS settings change', async () => {
    let port = await serve([cluster('changing', ports.https, { serverName: 'backend.example', caPem: ca.cert })]);
    assert.equal((await get(port, '/changing')).seen?.servername, 'backend.example');
    port = await serve([cluster('changing', ports.https, { serverName: 'x.wild.example', caPem: ca.cert })]);
    // A kept-alive connection would still carry the first handshake's name.
    assert.equal((await get(port, '/changing')).seen?.servername, 'x.wild.example');
    port = await serve([cluster('changing', ports.https, { serverName: 'x.wild.example', caPem: otherCa.cert })]);
    const { status } = await get(port, '/changing');
    assert.ok(status === 502 || status === 503, `untrusted after the change: ${status}`);
  });

  it('speaks HTTP/2 by ALPN h2 to an h2c cluster over TLS', async () => {
    const port = await serve([cluster('h2', ports.h2, { serverName: 'backend.example', caPem: ca.cert }, 'h2c')]);
    assert.deepEqual((await get(port, '/h2')).seen, { backend: 'h2', servername: 'backend.example', alpn: 'h2', httpVersion: '2.0' });
  });

  it('tunnels a WebSocket upgrade to a TLS backend', async () => {
    const port = await serve([cluster('ws', ports.https, { serverName: 'backend.example', caPem: ca.cert }, 'ws')]);
    const socket = connect(port, '127.0.0.1');
    let got = '';
    const head = new Promise<string>((resolve, reject) => {
      socket.on('data', (d: Buffer) => {
        got += d.toString();
        const end = got.indexOf('\r\n\r\n');
        if (end >= 0 && got.length >= end + 4 + 'early, late'.length) resolve(got);
        else if (end >= 0 && !got.includes('late')) socket.write(', late');
      });
      socket.on('error', reject);
    });
    socket.write(`GET /ws HTTP/1.1\r\nHost: example.com\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n`
      + `Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\n\r\nearly`);
    const reply = await head;
    socket.destroy();
    assert.match(reply, /^HTTP\/1\.1 101 /);
    assert.ok(reply.endsWith('early, late'), reply);
  });

  it('re-encrypts TLS terminated by a TLSRoute listener to a TLS backend', async () => {
    const gatewayCert = await issue('gateway.example', undefined, [{ name: 'subjectAltName', altNames: [{ type: 2, value: 'gateway.example' }] }]);
    await dp.apply({
      irVersion: IR_VERSION,
      servers: [{
        id: 'terminate', address: '127.0.0.1', port: 0, protocol: 'TLS', owner: 'default/gw', virtualHosts: [],
        tlsRoutes: [{
          hostname: 'gateway.example', name: 'tlsroute/default/t', backends: [{ weight: 1, cluster: 'stream' }],
          terminate: { certificates: [{ hostname: '*', certPem: gatewayCert.cert, keyPem: gatewayCert.key }] },
        }],
      }],
      clusters: { stream: cluster('stream', ports.stream, { serverName: 'backend.example', caPem: ca.cert, clientCertificate: { certPem: client.cert, keyPem: client.key } }) },
    });
    const port = dp.boundPort('terminate')!;
    const reply = await new Promise<string>((resolve, reject) => {
      const s = tlsConnect({ host: '127.0.0.1', port, servername: 'gateway.example', ca: gatewayCert.cert }, () => s.write('hello'));
      let data = '';
      s.on('data', (d: Buffer) => (data += d.toString()));
      s.on('end', () => resolve(data));
      s.on('error', reject);
    });
    assert.deepEqual(JSON.parse(reply), { backend: 'stream', servername: 'backend.example', alpn: false, client: 'gateway-client', got: 'hello' });
  });
});

describe('ClusterRegistry', () => {
  it('rejects a cluster whose CA bundle or client certificate cannot be used, at apply time, and serves the rest', async () => {
    const [ca, client] = await Promise.all([issue('CA', undefined, caExtensions), issue('client', undefined, [])]);
    const registry = new ClusterRegistry();
    const endpoints = [{ address: '127.0.0.1', port: 1 }];
    registry.update({
      garbage: { name: 'garbage', protocol: 'http1', endpoints, tls: { serverName: 'a.example', caPem: 'not a certificate' } },
      mismatch: { name: 'mismatch', protocol: 'http1', endpoints, tls: { serverName: 'a.example', caPem: ca.cert, clientCertificate: { certPem: client.cert, keyPem: ca.key } } },
      fine: { name: 'fine', protocol: 'http1', endpoints, tls: { serverName: 'a.example', caPem: ca.cert } },
    });
    assert.equal(registry.get('garbage'), undefined);
    assert.equal(registry.get('mismatch'), undefined);
    assert.ok(registry.get('fine')?.tls);
    assert.deepEqual(registry.rejected.map((f) => f.cluster), ['garbage', 'mismatch']);
    assert.match(registry.rejected[0]!.error, /^cluster garbage: CA bundle holds no PEM certificate$/);
    assert.match(registry.rejected[1]!.error, /^cluster mismatch: client certificate: /);
    registry.destroyAll();
  });
});
