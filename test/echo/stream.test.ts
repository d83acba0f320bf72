import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { connect, type Socket } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { connect as tlsConnect } from 'node:tls';
import { generate } from 'selfsigned';
import { startTCPEchoServer, startUDPEchoServer, TCP_WELCOME_MESSAGE, type TCPEchoServer, type UDPEchoServer } from '../../src/echo/index.js';

/** Writes `input`, half-closes, and returns everything the server sent until it closed. */
function converse(socket: Socket, input: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = '';
    socket.setEncoding('utf8');
    socket.on('data', (c: string) => (out += c));
    socket.on('error', reject);
    socket.on('close', () => resolve(out));
    socket.end(input);
  });
}

describe('TCP echo (echo-basic TCP_ECHO_SERVER)', () => {
  let echo: TCPEchoServer;
  const logs: string[] = [];
  before(async () => {
    const pems = await generate([{ name: 'commonName', value: 'abc.example.com' }], {
      keySize: 2048, extensions: [{ name: 'subjectAltName', altNames: [{ type: 2, value: 'abc.example.com' }] }],
    });
    echo = await startTCPEchoServer({
      port: 0, host: '127.0.0.1', namespace: 'ns', service: 'svc', pod: 'tcp-backend-abc-def',
      tls: { port: 0, cert: pems.cert, key: pems.private }, log: (l) => logs.push(l),
    });
  });
  after(() => echo.close());

  test('greets, then answers PING, IS_TLS and TEST lines and ignores others, including a last line without newline', async () => {
    const out = await converse(connect(echo.port, '127.0.0.1'), 'PING\r\nHELLO\nIS_TLS\nTEST');
    const lines = out.split('\n');
    assert.equal(`${lines[0]}\n`, TCP_WELCOME_MESSAGE);
    assert.deepEqual(lines.slice(1, 3), ['PONG', 'false']);
    assert.deepEqual(JSON.parse(lines[3]!), {
      namespace: 'ns', ingress: '', service: 'svc', pod: 'tcp-backend-abc-def',
      tcpport: String(echo.port), tlsport: String(echo.tlsPort), isTLS: false,
    });
    assert.equal(lines[4], '');
  });

  test('over TLS, reports the handshake with Go names and the SNI the client sent', async () => {
    const socket = tlsConnect({ port: echo.tlsPort!, host: '127.0.0.1', servername: 'abc.example.com', rejectUnauthorized: false });
    await new Promise((resolve) => socket.once('secureConnect', resolve));
    const lines = (await converse(socket, 'IS_TLS\nTEST\n')).split('\n');
    assert.equal(`${lines[0]}\n`, TCP_WELCOME_MESSAGE);
    assert.equal(lines[1], 'true');
    const payload = JSON.parse(lines[2]!);
    assert.equal(payload.isTLS, true);
    assert.equal(payload.tls.serverName, 'abc.example.com');
    assert.match(payload.tls.version, /^TLS 1\.[23]$/);
    assert.match(payload.tls.cipherSuite, /^TLS_/);
  });

  test('a failed handshake is logged and the connection closed', async () => {
    const socket = connect(echo.tlsPort!, '127.0.0.1');
    await converse(socket, 'not a client hello\n');
    assert.ok(logs.some((l) => l.startsWith('TLS Handshake failed')), logs.join('\n'));
  });
});

describe('UDP echo (echo-basic UDP_ECHO_SERVER)', () => {
  let echo: UDPEchoServer;
  const logs: string[] = [];
  before(async () => {
    echo = await startUDPEchoServer({ port: 0, host: '127.0.0.1', namespace: 'ns', service: 'udp-svc', pod: 'udp-backend-abc-def', log: (l) => logs.push(l) });
  });
  after(() => echo.close());

  const exchange = (payload: Buffer | string) => new Promise<string>((resolve, reject) => {
    const socket = createSocket('udp4');
    socket.on('error', reject);
    socket.on('message', (msg) => {
      socket.close();
      resolve(msg.toString('utf8'));
    });
    socket.send(payload, echo.port, '127.0.0.1');
  });

  test('answers each datagram with what it received and the pod context, as JSON', async () => {
    assert.deepEqual(JSON.parse(await exchange('Hello <World>\n')), {
      request: 'Hello <World>\n', namespace: 'ns', ingress: '', service: 'udp-svc', pod: 'udp-backend-abc-def',
    });
    assert.ok(logs.some((l) => /^Received UDP Hello <World>\n from 127\.0\.0\.1:\d+$/.test(l)), logs.join('\n'));
  });

  test('escapes HTML characters as Go does and echoes only the first 1 KiB', async () => {
    const raw = await exchange(Buffer.concat([Buffer.from('<&>'), Buffer.alloc(2000, 'x')]));
    assert.match(raw, /^\{"request":"\\u003c\\u0026\\u003ex+"/);
    assert.equal(JSON.parse(raw).request.length, 1024);
  });
});
