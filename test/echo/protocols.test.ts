import assert from 'node:assert/strict';
import http from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';
import { connect as tlsConnect } from 'node:tls';
import { after, before, describe, test } from 'node:test';
import { generate } from 'selfsigned';
import { startEchoServer, type EchoServer } from '../../src/echo/index.js';

function h2Request(url: string, path: string, headers: http2.OutgoingHttpHeaders = {}, options: http2.SecureClientSessionOptions = {}) {
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    const session = http2.connect(url, options);
    session.on('error', reject);
    const req = session.request({ ':path': path, ...headers });
    let body = '';
    let status = 0;
    req.setEncoding('utf8');
    req.on('response', (h) => (status = Number(h[':status'])));
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      session.close();
      resolve({ status, body });
    });
    req.on('error', reject);
  });
}

function h1Request(port: number, path: string, headers: http.OutgoingHttpHeaders = {}) {
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path, headers, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, body }));
    }).on('error', reject);
  });
}

describe('h2c port', () => {
  let echo: EchoServer;
  const logs: string[] = [];
  before(async () => {
    echo = await startEchoServer({ port: 0, h2cPort: 0, host: '127.0.0.1', pod: 'p', log: (line) => logs.push(line) });
  });
  after(() => echo.close());

  test('answers HTTP/2 with prior knowledge as Go reports it', async () => {
    logs.length = 0;
    const res = await h2Request(`http://127.0.0.1:${echo.h2cPort}`, '/h2c?x=1', { 'x-test': ['a', 'b'], cookie: ['c=1', 'd=2'] });
    assert.equal(res.status, 200);
    const body = JSON.parse(res.body);
    assert.equal(body.proto, 'HTTP/2.0');
    assert.equal(body.path, '/h2c?x=1');
    assert.equal(body.host, `127.0.0.1:${echo.h2cPort}`);
    assert.equal(body.method, 'GET');
    assert.equal(body.pod, 'p');
    assert.equal(body.httpPort, String(echo.port), 'upstream reports the HTTP port on every listener');
    assert.ok(Object.keys(body.headers).every((k) => !k.startsWith(':')), 'no pseudo-headers');
    assert.deepEqual(body.headers['X-Test'], ['a', 'b']);
    assert.deepEqual(body.headers.Cookie, ['c=1; d=2']);
    assert.match(logs[0]!, /^Echoing back request made to \/h2c\?x=1 to client \(127\.0\.0\.1:\d+\)$/);
  });

  test('has no mux: special paths are echoed too', async () => {
    const res = await h2Request(`http://127.0.0.1:${echo.h2cPort}`, '/status/500');
    assert.equal(res.status, 200);
    assert.equal(JSON.parse(res.body).path, '/status/500');
  });

  test('refuses plain HTTP/1.1 but echoes HTTP/1.1 asking to upgrade to h2c', async () => {
    assert.deepEqual(await h1Request(echo.h2cPort!, '/'), { status: 400, body: 'Expected h2c request' });
    const upgrade = await h1Request(echo.h2cPort!, '/up', { connection: 'Upgrade, HTTP2-Settings', upgrade: 'h2c', 'http2-settings': '' });
    assert.equal(upgrade.status, 200);
    assert.equal(JSON.parse(upgrade.body).proto, 'HTTP/1.1');
  });

  test('the main port does not speak h2c', async () => {
    await assert.rejects(h2Request(`http://127.0.0.1:${echo.port}`, '/'));
  });
});

describe('https port', () => {
  let echo: EchoServer;
  let ca: { cert: string; private: string };
  let client: { cert: string; private: string };
  before(async () => {
    const server = await generate([{ name: 'commonName', value: 'abc.example.com' }], {
      keyType: 'ec', algorithm: 'sha256', extensions: [{ name: 'subjectAltName', altNames: [{ type: 2, value: 'abc.example.com' }] }],
    });
    ca = await generate([{ name: 'commonName', value: 'client-ca' }], {
      keyType: 'ec', algorithm: 'sha256', extensions: [{ name: 'basicConstraints', cA: true }, { name: 'keyUsage', keyCertSign: true, digitalSignature: true }],
    });
    client = await generate([{ name: 'commonName', value: 'client' }], {
      keyType: 'ec', algorithm: 'sha256', ca: { cert: ca.cert, key: ca.private },
    });
    echo = await startEchoServer({ port: 0, host: '127.0.0.1', https: { port: 0, cert: server.cert, key: server.private, clientCa: ca.cert } });
  });
  after(() => echo.close());

  function get(path: string, options: https.RequestOptions = {}) {
    return new Promise<{ status: number; body: string }>((resolve, reject) => {
      https.get({
        host: '127.0.0.1', port: echo.httpsPort, path, servername: 'abc.example.com', rejectUnauthorized: false, agent: false, ...options,
      }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode!, body }));
      }).on('error', reject);
    });
  }

  test('reports the TLS connection as upstream tls assertions', async () => {
    const body = JSON.parse((await get('/tls')).body);
    assert.equal(body.proto, 'HTTP/1.1');
    assert.equal(body.tls.serverName, 'abc.example.com');
    assert.match(body.tls.version, /^TLSv1\.[23]$/);
    assert.match(body.tls.cipherSuite, /^TLS_/);
    assert.equal(body.tls.peerCertificates, undefined);
    assert.equal(body.tls.negotiatedProtocol, undefined, 'no ALPN offered, omitted as Go omits it');
  });

  test('negotiates h2 by ALPN and serves the mux over it', async () => {
    const url = `https://127.0.0.1:${echo.httpsPort}`;
    const res = await h2Request(url, '/x', {}, { servername: 'abc.example.com', rejectUnauthorized: false });
    const body = JSON.parse(res.body);
    assert.equal(body.proto, 'HTTP/2.0');
    assert.equal(body.tls.negotiatedProtocol, 'h2');
    assert.equal((await h2Request(url, '/status/418', {}, { rejectUnauthorized: false })).status, 418);
  });

  test('reports a verified client certificate as PEM', async () => {
    const body = JSON.parse((await get('/client', { cert: client.cert, key: client.private })).body);
    // Go's pem.Encode ends the block with a newline; selfsigned does not.
    assert.deepEqual(body.tls.peerCertificates, [`${client.cert.trim()}\n`]);
    const chained = JSON.parse((await get('/client', { cert: `${client.cert}\n${ca.cert}`, key: client.private })).body);
    assert.deepEqual(chained.tls.peerCertificates, [`${client.cert.trim()}\n`, `${ca.cert.trim()}\n`], 'the chain as sent');
    const h2 = await h2Request(`https://127.0.0.1:${echo.httpsPort}`, '/', {}, { cert: client.cert, key: client.private, rejectUnauthorized: false });
    assert.deepEqual(JSON.parse(h2.body).tls.peerCertificates, [`${client.cert.trim()}\n`]);
  });

  test('drops a connection whose client certificate the CA did not sign', async () => {
    const stranger = await generate([{ name: 'commonName', value: 'stranger' }], { keyType: 'ec', algorithm: 'sha256' });
    await assert.rejects(get('/client', { cert: stranger.cert, key: stranger.private }));
  });

  test('serves /ws over TLS', async () => {
    const socket = tlsConnect({ host: '127.0.0.1', port: echo.httpsPort, servername: 'abc.example.com', rejectUnauthorized: false, ALPNProtocols: ['http/1.1'] });
    socket.write('GET /ws HTTP/1.1\r\nHost: e\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: a2V5\r\nSec-WebSocket-Version: 13\r\nOrigin: wss://g\r\n\r\n');
    const head = await new Promise<string>((resolve) => socket.once('data', (c: Buffer) => resolve(c.toString('latin1'))));
    assert.match(head, /^HTTP\/1\.1 101 Switching Protocols\r\n/);
    socket.destroy();
  });
});
