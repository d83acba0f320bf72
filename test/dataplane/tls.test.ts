import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { request } from 'node:https';
import { connect, type PeerCertificate } from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { generate } from 'selfsigned';
import { DataPlane } from '../../src/dataplane/index.js';
import type { IRCertificate, IRConfig, IRServer } from '../../src/ir/types.js';
import { silentLogger } from '../../src/util/log.js';
import { answerDigest, closedPort, config, digestOf, direct, forwardTo, httpServer, route, send, startUpstream } from './helpers.js';

async function certificate(hostname: string, cn: string): Promise<IRCertificate> {
  const pems = await generate([{ name: 'commonName', value: cn }], {
    keyType: 'ec',
    algorithm: 'sha256',
    extensions: [{ name: 'subjectAltName', altNames: [{ type: 2, value: cn }] }],
  });
  return { hostname, certPem: pems.cert, keyPem: pems.private };
}

function httpsServer(certificates: IRCertificate[]): IRServer {
  return {
    id: 'tls',
    address: '127.0.0.1',
    port: 0,
    protocol: 'HTTPS',
    owner: 'default/gw',
    tls: { certificates },
    virtualHosts: [
      { hostname: 'a.example.com', routes: [route('a', {}, direct('vhost-a'))] },
      { hostname: '*', routes: [route('any', {}, direct('vhost-any'))] },
    ],
  };
}

interface Handshake {
  cn: string;
  alpn: string | false | null;
}

function handshake(port: number, servername: string | undefined, alpn = ['h2', 'http/1.1']): Promise<Handshake> {
  return new Promise((resolve, reject) => {
    const s = connect({ host: '127.0.0.1', port, servername, rejectUnauthorized: false, ALPNProtocols: alpn }, () => {
      const cert: PeerCertificate = s.getPeerCertificate();
      resolve({ cn: cert.subject.CN as string, alpn: s.alpnProtocol });
      s.end();
    });
    s.on('error', reject);
  });
}

function get(port: number, servername: string, host: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, servername, headers: { host }, rejectUnauthorized: false, agent: false },
      (res) => {
        let body = '';
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve(body));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

describe('https', () => {
  const dp = new DataPlane({ logger: silentLogger });
  let certs: Record<'a' | 'wild' | 'deep' | 'a2', IRCertificate>;
  let port = 0;
  const ir = (list: IRCertificate[]): IRConfig => config([httpsServer(list)]);

  before(async () => {
    const [a, wild, deep, a2] = await Promise.all([
      certificate('a.example.com', 'a.example.com'),
      certificate('*.example.com', 'wild.example.com'),
      certificate('*.deep.example.com', 'deep.example.com'),
      certificate('a.example.com', 'a2.example.com'),
    ]);
    certs = { a: a!, wild: wild!, deep: deep!, a2: a2! };
    // IR order: most specific first.
    assert.deepEqual((await dp.apply(ir([certs.a, certs.deep, certs.wild]))).failures, []);
    port = dp.boundPort('tls')!;
  });
  after(() => dp.shutdown(1000));

  it('chooses the certificate by SNI: exact, then the longest wildcard, else the first', async () => {
    assert.equal((await handshake(port, 'a.example.com')).cn, 'a.example.com');
    assert.equal((await handshake(port, 'A.EXAMPLE.COM')).cn, 'a.example.com');
    assert.equal((await handshake(port, 'x.example.com')).cn, 'wild.example.com');
    assert.equal((await handshake(port, 'x.deep.example.com')).cn, 'deep.example.com');
    assert.equal((await handshake(port, 'unknown.test')).cn, 'a.example.com');
    assert.equal((await handshake(port, undefined)).cn, 'a.example.com');
  });

  it('negotiates h2, else http/1.1', async () => {
    assert.equal((await handshake(port, 'a.example.com')).alpn, 'h2');
    assert.equal((await handshake(port, 'a.example.com', ['http/1.1'])).alpn, 'http/1.1');
    await assert.rejects(handshake(port, 'a.example.com', ['spdy/3']));
  });

  it('speaks TLS 1.2+ with forward-secret AEAD suites only', async () => {
    const attempt = (opts: { maxVersion?: 'TLSv1.1' | 'TLSv1.2'; ciphers?: string }): Promise<string> => new Promise((resolve) => {
      const s = connect({ host: '127.0.0.1', port, servername: 'a.example.com', rejectUnauthorized: false, ...opts }, () => {
        resolve(s.getCipher().name);
        s.end();
      });
      s.on('error', (err: NodeJS.ErrnoException) => resolve(`error: ${err.code ?? err.message}`));
    });
    assert.equal(await attempt({ maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-AES128-GCM-SHA256' }), 'ECDHE-ECDSA-AES128-GCM-SHA256');
    assert.match(await attempt({ maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-AES128-SHA' }), /^error/, 'CBC suite refused');
    assert.match(await attempt({ maxVersion: 'TLSv1.1', ciphers: 'DEFAULT@SECLEVEL=0' }), /^error/, 'TLS 1.1 refused');
  });

  it('routes by Host, not by SNI', async () => {
    assert.equal(await get(port, 'a.example.com', 'a.example.com'), 'vhost-a');
    assert.equal(await get(port, 'a.example.com', 'b.example.com'), 'vhost-any');
  });

  it('keeps the previous certificate of a hostname whose new one fails to load, and applies the rest', async () => {
    const broken = { ...certs.a2, keyPem: certs.wild.keyPem };
    assert.deepEqual((await dp.apply(ir([broken, certs.wild]))).failures, []);
    assert.equal(dp.boundPort('tls'), port);
    assert.equal((await handshake(port, 'a.example.com')).cn, 'a.example.com');
    assert.equal((await handshake(port, undefined)).cn, 'a.example.com');
    assert.equal((await handshake(port, 'x.deep.example.com')).cn, 'wild.example.com');
  });

  it('swaps certificates on the same socket, including the default', async () => {
    assert.deepEqual((await dp.apply(ir([certs.a2, certs.wild]))).failures, []);
    assert.equal(dp.boundPort('tls'), port);
    assert.equal((await handshake(port, 'a.example.com')).cn, 'a2.example.com');
    assert.equal((await handshake(port, undefined)).cn, 'a2.example.com');
    assert.equal((await handshake(port, 'x.deep.example.com')).cn, 'wild.example.com');
    assert.equal((await handshake(port, undefined)).alpn, 'h2');
  });
});

describe('protocol change', () => {
  it('rebinds the same address when a server switches from HTTP to HTTPS', async () => {
    const cert = await certificate('*', 'any.example.com');
    const port = await closedPort();
    const dp = new DataPlane({ logger: silentLogger });
    const plain = httpServer('switch', [{ hostname: '*', routes: [route('r', {}, direct('plain'))] }], port);
    assert.deepEqual((await dp.apply(config([plain]))).failures, []);
    assert.equal((await send(port, '/')).body, 'plain');
    const secure: IRServer = { ...plain, protocol: 'HTTPS', tls: { certificates: [cert] } };
    assert.deepEqual((await dp.apply(config([secure]))).failures, []);
    assert.equal(await get(port, 'x.example.com', 'x.example.com'), 'plain');
    assert.equal((await handshake(port, undefined)).cn, 'any.example.com');
    await dp.shutdown(1000);
  });
});

/** POSTs `body` over HTTPS in 100 KB writes, with a Content-Length or chunked; resolves with the response body. */
function upload(port: number, path: string, body: Buffer, chunked: boolean): Promise<string> {
  return new Promise((resolve, reject) => {
    const headers = chunked ? {} : { 'content-length': body.length };
    const req = request({ host: '127.0.0.1', port, path, method: 'POST', servername: 'x.example.com', headers, rejectUnauthorized: false, agent: false }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve(text));
    });
    req.on('error', reject);
    for (let at = 0; at < body.length; at += 100_000) req.write(body.subarray(at, at + 100_000));
    req.end();
  });
}

describe('https uploads', () => {
  it('carries Content-Length and chunked bodies intact, to an upstream that reads at once and to one that waits', { timeout: 30_000 }, async () => {
    const cert = await certificate('*', 'any.example.com');
    const upstream = await startUpstream((req, res) => answerDigest(req, res, req.url === '/waits' ? 300 : 0));
    const dp = new DataPlane({ logger: silentLogger });
    const server: IRServer = { ...httpServer('up', [{ hostname: '*', routes: [route('up', {}, forwardTo('up'))] }]), protocol: 'HTTPS', tls: { certificates: [cert] } };
    try {
      assert.deepEqual((await dp.apply(config([server], { up: [upstream.port] }))).failures, []);
      const port = dp.boundPort('up')!;
      // More than socket buffers hold, so that bytes wait for the upstream. TLS reads land in the shared read buffer
      // too, so this fails if body bytes that wait are not copied.
      const body = randomBytes(8 * 1024 * 1024 + 3);
      for (const path of ['/at-once', '/waits']) {
        for (const chunked of [false, true]) assert.equal(await upload(port, path, body, chunked), digestOf(body), `${path}, ${chunked ? 'chunked' : 'Content-Length'}`);
      }
    } finally {
      await dp.shutdown(1000);
      await upstream.close();
    }
  });
});
