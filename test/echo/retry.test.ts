import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';
import { startEchoServer, type EchoServer } from '../../src/echo/index.js';

function get(port: number, path: string) {
  return new Promise<{ status: number; body: string; type?: string }>((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, body, type: res.headers['content-type'] }));
    }).on('error', reject);
  });
}

describe('/retry/ simulation', () => {
  let echo: EchoServer;
  const logs: string[] = [];
  before(async () => {
    echo = await startEchoServer({ port: 0, host: '127.0.0.1', log: (line) => logs.push(line) });
  });
  after(() => echo.close());

  test('fails with responseCode until succeedAfter attempts were made, per uuid', async () => {
    const uuid = randomUUID();
    const path = `/retry/code-500-attempts-3?responseCode=503&succeedAfter=2&uuid=${uuid}`;
    logs.length = 0;
    assert.deepEqual(await get(echo.port, path), { status: 503, body: '', type: undefined });
    assert.equal((await get(echo.port, `/retry/x?responseCode=500&succeedAfter=1&uuid=${randomUUID()}`)).status, 500, 'another uuid counts on its own');
    assert.equal((await get(echo.port, path)).status, 503);
    const success = await get(echo.port, path);
    assert.equal(success.status, 200);
    assert.equal(JSON.parse(success.body).path, path);
    assert.equal((await get(echo.port, path)).status, 200);
    assert.equal(logs.length, 2, 'only successful attempts reach the echo handler');
  });

  test('succeedAfter=0 echoes straight away', async () => {
    assert.equal((await get(echo.port, `/retry/?succeedAfter=0&uuid=${randomUUID()}`)).status, 200);
  });

  test('resets the connection when no responseCode is given', async () => {
    const path = `/retry/x?succeedAfter=1&uuid=${randomUUID()}`;
    await assert.rejects(get(echo.port, path), { code: 'ECONNRESET' });
    assert.equal((await get(echo.port, path)).status, 200);
  });

  test('delayRetry delays the failure and reports a bad duration as 500', async () => {
    const start = Date.now();
    assert.equal((await get(echo.port, `/retry/x?succeedAfter=1&responseCode=502&delayRetry=150ms&uuid=${randomUUID()}`)).status, 502);
    assert.ok(Date.now() - start >= 140);
    const bad = await get(echo.port, `/retry/x?succeedAfter=1&responseCode=502&delayRetry=later&uuid=${randomUUID()}`);
    assert.equal(bad.status, 500);
    assert.deepEqual(JSON.parse(bad.body), { message: 'time: invalid duration "later"' });
  });

  test('validates its parameters as upstream', async () => {
    assert.deepEqual(await get(echo.port, '/retry/x?succeedAfter=1'), { status: 400, body: 'uuid is required', type: 'text/plain; charset=utf-8' });
    assert.deepEqual(await get(echo.port, '/retry/x?uuid=u&succeedAfter=two'), { status: 400, body: 'succeedAfter is required', type: 'text/plain; charset=utf-8' });
    await assert.rejects(get(echo.port, `/retry/x?succeedAfter=1&responseCode=42&uuid=${randomUUID()}`), { code: 'ECONNRESET' }, 'Go panics on a code below 100');
  });
});
