import assert from 'node:assert/strict';
import { createServer as createH2Server } from 'node:http2';
import { createServer } from 'node:net';
import { test } from 'node:test';
import { overlayStaticAddresses, parseAddress, type KubeObject } from '../harness/manifests.js';
import { compareRoundTrip, makeRequest } from '../utils/http.js';
import { addRequestIDQueryParam, mirrorLogRegexp, requestIDQueryParam } from '../utils/mirror.js';
import { H2CPriorKnowledgeProtocol, RoundTripper, type CapturedRequest, type CapturedResponse } from '../utils/roundtripper.js';
import { acceptKey, decodeFrame, dialWebSocket, encodeFrame, OpBinary, OpText } from '../utils/websocket.js';

test('websocket accept key matches RFC 6455 section 1.3', () => {
  assert.equal(acceptKey('dGhlIHNhbXBsZSBub25jZQ=='), 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
});

test('websocket frames round-trip through encode/decode for all length forms', () => {
  for (const len of [0, 5, 125, 126, 65535, 65536]) {
    const payload = Buffer.alloc(len, 7);
    const frame = decodeFrame(encodeFrame(OpBinary, payload));
    assert.ok(frame);
    assert.equal(frame.opcode, OpBinary);
    assert.ok(frame.fin);
    assert.ok(frame.payload.equals(payload));
  }
  assert.equal(decodeFrame(encodeFrame(OpText, Buffer.from('abc')).subarray(0, 4)), undefined);
});

test('websocket dial and echo against a minimal server', async () => {
  const server = createServer((sock) => {
    let buf = Buffer.alloc(0);
    let upgraded = false;
    sock.on('data', (c: Buffer) => {
      buf = Buffer.concat([buf, c]);
      if (!upgraded) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        const key = /Sec-WebSocket-Key: (.*)\r\n/.exec(buf.toString('latin1'))![1]!;
        sock.write(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${acceptKey(key)}\r\n\r\n`);
        upgraded = true;
        buf = buf.subarray(end + 4);
      }
      for (let f = decodeFrame(buf); f; f = decodeFrame(buf)) {
        buf = buf.subarray(f.size);
        const head = Buffer.from([0x80 | f.opcode, f.payload.length]);
        sock.write(Buffer.concat([head, f.payload]));
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  const ws = await dialWebSocket(`ws://127.0.0.1:${port}/ws`, '', 'ws://gateway/x', 2000);
  ws.send(OpText, 'Websocket Support!');
  assert.equal((await ws.receive(2000)).data.toString(), 'Websocket Support!');
  ws.send(OpBinary, Buffer.from([1, 2, 3]));
  assert.deepEqual([...(await ws.receive(2000)).data], [1, 2, 3]);
  ws.close();
  server.close();
});

test('h2c prior knowledge round trip reports HTTP/2.0 and the echo JSON', async () => {
  const server = createH2Server((req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ path: req.url, host: req.headers[':authority'], method: req.method, proto: 'HTTP/2.0', headers: {}, namespace: 'ns', pod: 'p-1' }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  const { req, expected } = makeRequest({ request: { path: '/', protocol: H2CPriorKnowledgeProtocol, host: 'example.org' }, backend: 'p', namespace: 'ns' },
    `127.0.0.1:${port}`, 'HTTP', 'http');
  const { cReq, cRes } = await new RoundTripper(2000).captureRoundTrip(req);
  assert.equal(cRes.protocol, 'HTTP/2.0');
  assert.equal(cReq.host, 'example.org');
  assert.equal(compareRoundTrip(req, cReq, cRes, expected), undefined);
  server.close();
});

test('validHeaderValues and ignoreWhitespace compare like upstream', () => {
  const { req, expected } = makeRequest({
    request: { path: '/cors', method: 'OPTIONS' },
    expectedRequest: { path: '', method: 'OPTIONS' },
    response: { statusCodes: [200, 204], validHeaderValues: { 'access-control-allow-methods': ['GET, OPTIONS', 'OPTIONS, GET'] }, ignoreWhitespace: true },
  }, '127.0.0.1:80', 'HTTP', 'http');
  const cReq: CapturedRequest = {
    path: '', host: '', method: 'OPTIONS', protocol: '', headers: {}, namespace: '', pod: '', tls: { serverName: '', peerCertificates: [] },
  };
  const cRes = (v: string): CapturedResponse => ({ statusCode: 204, contentLength: 0, protocol: 'HTTP/1.1', headers: { 'Access-Control-Allow-Methods': [v] } });
  assert.equal(compareRoundTrip(req, cReq, cRes('OPTIONS,GET'), expected), undefined);
  assert.match(compareRoundTrip(req, cReq, cRes('GET'), expected) ?? '', /one of/);
});

test('request id query param is added like url.Values.Encode and matched in mirror logs', () => {
  const er = addRequestIDQueryParam({ request: { path: '/mirror?b=2&a=1' }, expectedRequest: { path: '/mirror' } }, 'id-1');
  assert.equal(er.request.path, `/mirror?a=1&b=2&${requestIDQueryParam}=id-1`);
  assert.equal(er.expectedRequest?.path, `/mirror?${requestIDQueryParam}=id-1`);
  const re = mirrorLogRegexp(er.request.path);
  assert.ok(re.test(`Echoing back request made to ${er.request.path} to client (127.0.0.1:1234)`));
  assert.ok(!re.test('Echoing back request made to /mirror?a=1 to client (127.0.0.1:1234)'));
});

test('static address placeholders are overlaid like upstream Applier', () => {
  const gw: KubeObject = {
    apiVersion: 'gateway.networking.k8s.io/v1', kind: 'Gateway', metadata: { name: 'g', namespace: 'n' },
    spec: { addresses: [{ type: 'test/fake-invalid-type', value: 'x' }, { value: 'PLACEHOLDER_UNUSABLE_ADDRS' }, { value: 'PLACEHOLDER_USABLE_ADDRS' }] },
  };
  assert.ok(overlayStaticAddresses([gw], { usable: [parseAddress('127.20.255.254')], unusable: [parseAddress('192.0.2.1')] }));
  assert.deepEqual(gw.spec.addresses, [
    { type: 'test/fake-invalid-type', value: 'x' },
    { type: 'IPAddress', value: '192.0.2.1' },
    { type: 'IPAddress', value: '127.20.255.254' },
  ]);
  assert.deepEqual(parseAddress('gw.example.com'), { type: 'Hostname', value: 'gw.example.com' });
});
