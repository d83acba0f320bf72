import assert from 'node:assert/strict';
import http from 'node:http';
import { after, before, describe, test } from 'node:test';
import { startEchoServer, type EchoServer } from '../../src/echo/index.js';
import { canonicalHeaderKey, parseGoDuration } from '../../src/echo/go-compat.js';

interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

function request(
  port: number, path: string,
  opts: { method?: string; headers?: http.OutgoingHttpHeaders; body?: string; agent?: http.Agent } = {},
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method: opts.method ?? 'GET', headers: opts.headers, agent: opts.agent }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

describe('echo server', () => {
  let echo: EchoServer;
  const logs: string[] = [];
  before(async () => {
    echo = await startEchoServer({
      port: 0, host: '127.0.0.1', namespace: 'ns1', service: 'infra-backend-v1', pod: 'pod-a', log: (line) => logs.push(line),
    });
  });
  after(() => echo.close());

  test('echoes the request as upstream JSON', async () => {
    const res = await request(echo.port, '/some/path?x=1&y=two', {
      headers: { 'x-forwarded-for': '10.0.0.1', 'x-multi': ['first', 'second'], 'USER-AGENT': 'test' },
    });
    assert.equal(res.status, 200);
    assert.equal(res.headers['content-type'], 'application/json');
    assert.equal(res.headers['x-content-type-options'], 'nosniff');
    const body = JSON.parse(res.body);
    assert.deepEqual(Object.keys(body), ['path', 'host', 'method', 'proto', 'headers', 'httpPort', 'namespace', 'ingress', 'service', 'pod']);
    assert.equal(body.httpPort, String(echo.port));
    assert.equal(body.path, '/some/path?x=1&y=two');
    assert.equal(body.host, `127.0.0.1:${echo.port}`);
    assert.equal(body.method, 'GET');
    assert.equal(body.proto, 'HTTP/1.1');
    assert.equal(body.namespace, 'ns1');
    assert.equal(body.service, 'infra-backend-v1');
    assert.equal(body.pod, 'pod-a');
    assert.equal(body.ingress, '');
    assert.deepEqual(body.headers['X-Forwarded-For'], ['10.0.0.1']);
    assert.deepEqual(body.headers['X-Multi'], ['first', 'second']);
    assert.deepEqual(body.headers['User-Agent'], ['test']);
    // Go keeps Host out of the header map.
    assert.equal(body.headers.Host, undefined);
    assert.deepEqual(Object.keys(body.headers), Object.keys(body.headers).sort());
  });

  test('logs each echoed request with the line mirror conformance checks search for', async () => {
    logs.length = 0;
    await request(echo.port, '/mirror/path?q=1');
    await request(echo.port, '/health');
    await request(echo.port, '/status/500');
    assert.equal(logs.length, 1, 'only the echo handler logs, as upstream');
    assert.match(logs[0]!, /^Echoing back request made to \/mirror\/path\?q=1 to client \(127\.0\.0\.1:\d+\)$/);
  });

  test('an Upgrade request outside /ws is echoed like any other', async () => {
    const res = await request(echo.port, '/plain', { headers: { connection: 'Upgrade', upgrade: 'h2c' } });
    assert.equal(res.status, 200);
    assert.equal(res.headers.connection, 'close');
    assert.equal(JSON.parse(res.body).path, '/plain');
  });

  test('X-Echo-Set-Header sets response headers', async () => {
    const res = await request(echo.port, '/', {
      headers: { 'x-echo-set-header': 'X-Foo: bar, X-Foo: baz,Other-Header:1,bad name: dropped' },
    });
    assert.equal(res.status, 200);
    assert.equal(res.headers['x-foo'], 'bar,baz');
    assert.equal(res.headers['other-header'], '1');
    assert.equal(res.headers['bad name'], undefined);
  });

  test('/status/<code> answers that code, anything else under /status/ is 400', async () => {
    assert.equal((await request(echo.port, '/status/418')).status, 418);
    assert.equal((await request(echo.port, '/status/503')).status, 503);
    assert.equal((await request(echo.port, '/status/abc')).status, 400);
    assert.equal((await request(echo.port, '/status/404?x=1')).status, 400);
    await assert.rejects(request(echo.port, '/status/099'), { code: 'ECONNRESET' }, 'Go panics on codes below 100');
  });

  test('/health answers OK', async () => {
    const res = await request(echo.port, '/health');
    assert.equal(res.status, 200);
    assert.equal(res.body, 'OK');
  });

  test('doubled slashes are collapsed for routing only', async () => {
    // Routed to the status handler, whose pattern then sees the raw URI: upstream answers 400 too.
    assert.equal((await request(echo.port, '//status/404')).status, 400);
    const res = await request(echo.port, '//a//b');
    assert.equal(JSON.parse(res.body).path, '//a//b');
  });

  test('?delay= accepts Go durations and reports bad ones as 500', async () => {
    assert.equal((await request(echo.port, '/?delay=5ms')).status, 200);
    const bad = await request(echo.port, '/?delay=soon');
    assert.equal(bad.status, 500);
    assert.deepEqual(JSON.parse(bad.body), { message: 'time: invalid duration "soon"' });
    const form = await request(echo.port, '/?delay=1ms', {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'delay=oops',
    });
    assert.equal(form.status, 500, 'a url-encoded body takes precedence over the query, as in Go');
  });

  test('drains request bodies so keep-alive connections stay usable', async () => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const first = await request(echo.port, '/upload', { method: 'POST', body: 'x'.repeat(100_000), agent });
      assert.equal(first.status, 200);
      assert.deepEqual(JSON.parse(first.body).headers['Content-Length'], ['100000']);
      const second = await request(echo.port, '/after', { agent });
      assert.equal(JSON.parse(second.body).path, '/after');
    } finally {
      agent.destroy();
    }
  });
});

test('context falls back to the upstream environment variables', async () => {
  const saved = { NAMESPACE: process.env.NAMESPACE, SERVICE_NAME: process.env.SERVICE_NAME, POD_NAME: process.env.POD_NAME };
  Object.assign(process.env, { NAMESPACE: 'env-ns', SERVICE_NAME: 'env-svc', POD_NAME: 'env-pod' });
  const echo = await startEchoServer({ port: 0, host: '127.0.0.1' });
  try {
    const body = JSON.parse((await request(echo.port, '/')).body);
    assert.deepEqual([body.namespace, body.service, body.pod], ['env-ns', 'env-svc', 'env-pod']);
  } finally {
    await echo.close();
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
});

test('canonicalHeaderKey matches Go', () => {
  assert.equal(canonicalHeaderKey('x-forwarded-for'), 'X-Forwarded-For');
  assert.equal(canonicalHeaderKey('CONTENT-TYPE'), 'Content-Type');
  assert.equal(canonicalHeaderKey('x_custom-header'), 'X_custom-Header');
  assert.equal(canonicalHeaderKey('not valid'), 'not valid');
});

test('parseGoDuration matches time.ParseDuration', () => {
  assert.equal(parseGoDuration('0'), 0);
  assert.equal(parseGoDuration('1.5s'), 1500);
  assert.equal(parseGoDuration('1m30s'), 90_000);
  assert.equal(parseGoDuration('-2ms'), -2);
  assert.equal(parseGoDuration('.5h'), 1_800_000);
  assert.equal(parseGoDuration('250us'), 0.25);
  assert.throws(() => parseGoDuration('10'), /missing unit in duration "10"/);
  assert.throws(() => parseGoDuration('10x'), /unknown unit "x" in duration "10x"/);
  assert.throws(() => parseGoDuration(''), /invalid duration ""/);
  assert.throws(() => parseGoDuration('.s'), /invalid duration/);
});
