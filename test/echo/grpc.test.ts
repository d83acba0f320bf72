import assert from 'node:assert/strict';
import http2 from 'node:http2';
import { after, before, describe, test } from 'node:test';
import { Client, credentials, Metadata, status, type ChannelCredentials, type ChannelOptions } from '@grpc/grpc-js';
import { generate } from 'selfsigned';
import { startGRPCEchoServer, type GRPCEchoServer } from '../../src/echo/index.js';
import {
  decodeEchoRequest, decodeEchoResponse, encodeEchoRequest, encodeEchoResponse, grpcEchoPath, type EchoResponse,
} from '../../src/echo/grpc-proto.js';

interface Outcome {
  code: status;
  details: string;
  response?: EchoResponse;
}

/** One unary call with a grpc-js client on its own channel. */
function call(target: string, method: string, metadata: Record<string, string> = {},
  options: ChannelOptions = {}, creds: ChannelCredentials = credentials.createInsecure()): Promise<Outcome> {
  const client = new Client(target, creds, options);
  const md = new Metadata();
  for (const [key, value] of Object.entries(metadata)) md.set(key, value);
  return new Promise((resolve) => {
    client.makeUnaryRequest(grpcEchoPath(method), encodeEchoRequest, decodeEchoResponse, {}, md, { deadline: Date.now() + 5_000 }, (err, response) => {
      client.close();
      resolve(err ? { code: err.code, details: err.details } : { code: status.OK, details: '', ...(response ? { response } : {}) });
    });
  });
}

/** A raw HTTP/2 request, for what a gRPC client would never send. */
function rawRequest(port: number, headers: http2.OutgoingHttpHeaders, body: Buffer): Promise<http2.IncomingHttpHeaders> {
  return new Promise((resolve, reject) => {
    const session = http2.connect(`http://127.0.0.1:${port}`);
    session.on('error', reject);
    const req = session.request({ ':method': 'POST', ':path': grpcEchoPath('Echo'), 'content-type': 'application/grpc', ...headers });
    let received: http2.IncomingHttpHeaders = {};
    req.on('response', (h) => (received = h));
    req.on('trailers', (h) => (received = { ...received, ...h }));
    req.on('error', reject);
    req.resume();
    req.on('end', () => {
      session.close();
      resolve(received);
    });
    req.end(body);
  });
}

/** A length-prefixed gRPC message. */
function frame(message: Buffer, compressed = 0): Buffer {
  const prefix = Buffer.alloc(5);
  prefix[0] = compressed;
  prefix.writeUInt32BE(message.length, 1);
  return Buffer.concat([prefix, message]);
}

describe('gRPC echo over cleartext HTTP/2', () => {
  let echo: GRPCEchoServer;
  let target: string;
  const logs: string[] = [];

  before(async () => {
    echo = await startGRPCEchoServer({ port: 0, host: '127.0.0.1', namespace: 'ns-a', service: 'svc-b', pod: 'pod-c', log: (line) => logs.push(line) });
    target = `127.0.0.1:${echo.port}`;
  });
  after(() => echo.close());

  for (const method of ['Echo', 'EchoTwo']) {
    test(`${method} answers with the method, authority, metadata and pod context`, async () => {
      const { code, response } = await call(target, method, { foo: 'bar-1' });
      assert.equal(code, status.OK);
      const assertions = response?.assertions;
      assert.equal(assertions?.fullyQualifiedMethod, `/gateway_api_conformance.echo_basic.grpcecho.GrpcEcho/${method}`);
      assert.equal(assertions?.authority, target);
      assert.deepEqual(assertions?.context, { namespace: 'ns-a', ingress: process.env.INGRESS_NAME ?? '', serviceName: 'svc-b', pod: 'pod-c' });
      assert.deepEqual(assertions?.headers.filter((h) => h.key === 'foo'), [{ key: 'foo', value: 'bar-1' }]);
      assert.equal(assertions?.tlsAssertions, undefined);
      assert.equal(response?.request, undefined, 'upstream does not echo the (empty) request');
    });
  }

  test('the metadata is what grpc-go gives its handlers: :authority, user-agent and content-type, not te or grpc-timeout', async () => {
    const { response } = await call(target, 'Echo', { 'x-multi': 'v' }, { 'grpc.default_authority': 'foo.example.com' });
    const keys = response?.assertions?.headers.map((h) => h.key) ?? [];
    assert.equal(response?.assertions?.authority, 'foo.example.com');
    assert.deepEqual(response?.assertions?.headers.find((h) => h.key === ':authority'), { key: ':authority', value: 'foo.example.com' });
    for (const key of ['user-agent', 'content-type', 'x-multi']) assert.ok(keys.includes(key), `${key} in ${keys.join(', ')}`);
    for (const key of ['te', 'grpc-timeout', ':path', ':method', 'host']) assert.ok(!keys.includes(key), `${key} not in ${keys.join(', ')}`);
  });

  test('a Host header stands in for a missing :authority', async () => {
    const session = http2.connect(`http://127.0.0.1:${echo.port}`);
    try {
      const body = await new Promise<Buffer>((resolve, reject) => {
        // Node sends a given Host header instead of :authority.
        const req = session.request({ ':method': 'POST', ':path': grpcEchoPath('Echo'), 'content-type': 'application/grpc', host: 'h.example' });
        const chunks: Buffer[] = [];
        req.on('data', (c: Buffer) => chunks.push(c)).on('end', () => resolve(Buffer.concat(chunks))).on('error', reject);
        req.end(frame(Buffer.alloc(0)));
      });
      const assertions = decodeEchoResponse(body.subarray(5)).assertions;
      assert.equal(assertions?.authority, 'h.example');
      assert.ok(!assertions?.headers.some((h) => h.key === 'host'));
    } finally {
      session.close();
    }
  });

  test('EchoThree is declared but unimplemented; unknown methods and services are Unimplemented too', async () => {
    assert.deepEqual(await call(target, 'EchoThree'), { code: status.UNIMPLEMENTED, details: 'method EchoThree not implemented' });
    assert.deepEqual(await call(target, 'EchoFour'),
      { code: status.UNIMPLEMENTED, details: 'unknown method EchoFour for service gateway_api_conformance.echo_basic.grpcecho.GrpcEcho' });
    const client = new Client(target, credentials.createInsecure());
    const other = await new Promise<number>((resolve) => {
      client.makeUnaryRequest('/other.Service/Echo', encodeEchoRequest, decodeEchoResponse, {}, (err) => resolve(err?.code ?? status.OK));
    });
    client.close();
    assert.equal(other, status.UNIMPLEMENTED);
  });

  test('each RPC is logged on stdout as upstream does', async () => {
    await call(target, 'EchoTwo');
    assert.ok(logs.includes('Received over plaintext: /gateway_api_conformance.echo_basic.grpcecho.GrpcEcho/EchoTwo'), logs.join('\n'));
  });

  test('what is not a unary gRPC call gets grpc-go\'s answers', async () => {
    const check = async (headers: http2.OutgoingHttpHeaders, body: Buffer, httpStatus: number, code: number, message: RegExp) => {
      const got = await rawRequest(echo.port, headers, body);
      assert.equal(got[':status'], httpStatus);
      assert.equal(got['grpc-status'], String(code));
      assert.match(decodeURIComponent(String(got['grpc-message'])), message);
    };
    await check({ 'content-type': 'text/plain' }, Buffer.alloc(0), 415, status.INVALID_ARGUMENT, /invalid gRPC request content-type "text\/plain"/);
    await check({ ':method': 'PUT' }, frame(Buffer.alloc(0)), 405, status.INTERNAL, /:method "PUT" which should be POST/);
    await check({ 'grpc-encoding': 'gzip' }, frame(Buffer.alloc(0), 1), 200, status.UNIMPLEMENTED, /Decompressor is not installed for grpc-encoding "gzip"/);
    await check({}, Buffer.alloc(0), 200, status.INTERNAL, /unexpected EOF/);
    await check({}, Buffer.concat([frame(Buffer.alloc(0)), frame(Buffer.alloc(0))]), 200, status.INTERNAL, /protocol violation/);
    await check({}, frame(Buffer.from([0x0a, 0x05, 0x61])), 200, status.INTERNAL, /failed to unmarshal the received message/);
    const oversized = Buffer.alloc(5);
    oversized.writeUInt32BE(5 * 1024 * 1024, 1);
    await check({}, oversized, 200, status.RESOURCE_EXHAUSTED, /received message larger than max \(5242880 vs\. 4194304\)/);
    await check({}, Buffer.concat([oversized, Buffer.alloc(5 * 1024 * 1024)]), 200, status.RESOURCE_EXHAUSTED, /larger than max/);
    await check({ 'content-type': 'application/grpc+proto' }, frame(Buffer.from([0x08, 0x01])), 200, status.OK, /^$/);
  });
});

describe('gRPC echo over TLS', () => {
  let echo: GRPCEchoServer;
  let cert: string;

  before(async () => {
    const pair = await generate([{ name: 'commonName', value: 'grpc.example.com' }], {
      keyType: 'ec', algorithm: 'sha256', extensions: [{ name: 'subjectAltName', altNames: [{ type: 2, value: 'grpc.example.com' }] }],
    });
    cert = pair.cert;
    echo = await startGRPCEchoServer({ port: 0, host: '127.0.0.1', pod: 'tls-pod', tls: { port: 0, cert: pair.cert, key: pair.private } });
  });
  after(() => echo.close());

  test('the TLS port adds the connection\'s TLS assertions', async () => {
    const { code, response } = await call(`127.0.0.1:${echo.tlsPort}`, 'Echo', {}, { 'grpc.ssl_target_name_override': 'grpc.example.com' },
      credentials.createSsl(Buffer.from(cert)));
    assert.equal(code, status.OK);
    const tls = response?.assertions?.tlsAssertions;
    assert.equal(tls?.version, 'TLSv1.3');
    assert.equal(tls?.negotiatedProtocol, 'h2');
    assert.equal(tls?.serverName, 'grpc.example.com');
    assert.match(tls?.cipherSuite ?? '', /^TLS_/);
    assert.deepEqual(tls?.peerCertificates, []);
    assert.equal(response?.assertions?.context?.pod, 'tls-pod');
  });

  test('the cleartext port still answers without TLS assertions', async () => {
    const { response } = await call(`127.0.0.1:${echo.port}`, 'Echo');
    assert.equal(response?.assertions?.tlsAssertions, undefined);
  });
});

test('EchoResponse survives a round trip through the codec, empty sub-messages included', () => {
  const full: EchoResponse = {
    assertions: {
      fullyQualifiedMethod: '/s/M', headers: [{ key: 'k', value: 'v' }, { key: 'k', value: 'w' }], authority: 'a:1',
      context: { namespace: '', ingress: '', serviceName: '', pod: '' },
      tlsAssertions: { version: 'TLSv1.3', negotiatedProtocol: 'h2', serverName: 'é.example', cipherSuite: 'TLS_AES_128_GCM_SHA256', peerCertificates: ['a', 'b'] },
    },
    request: {},
  };
  assert.deepEqual(decodeEchoResponse(encodeEchoResponse(full)), full);
  assert.deepEqual(decodeEchoResponse(Buffer.alloc(0)), {});
});

test('the codec skips unknown fields and rejects malformed input', () => {
  // Field 7 (varint), field 8 (fixed64), field 9 (fixed32), then assertions { fully_qualified_method: "m" }.
  const withUnknown = Buffer.from([0x38, 0x96, 0x01, 0x41, 1, 2, 3, 4, 5, 6, 7, 8, 0x4d, 1, 2, 3, 4, 0x0a, 0x03, 0x0a, 0x01, 0x6d]);
  assert.equal(decodeEchoResponse(withUnknown).assertions?.fullyQualifiedMethod, 'm');
  assert.deepEqual(decodeEchoRequest(Buffer.from([0x08, 0x01])), {});
  assert.throws(() => decodeEchoResponse(Buffer.from([0x0a, 0x05, 0x61])), /truncated/);
  assert.throws(() => decodeEchoResponse(Buffer.from([0x0b])), /wire type/);
  assert.throws(() => decodeEchoResponse(Buffer.from([0x0a, 0x03, 0x0a, 0x01, 0xff])), /invalid|encoded|utf/i);
});
