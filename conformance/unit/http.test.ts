import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { test } from 'node:test';
import type { PeerCertificate } from 'node:tls';
import { buildReport } from '../report.js';
import { profiles } from '../features.js';
import { calculateHost, compareRoundTrip, makeRequest } from '../utils/http.js';
import { canonicalHeaderKey, RoundTripper, verifyHostname, type CapturedRequest, type CapturedResponse } from '../utils/roundtripper.js';

test('CalculateHost drops the scheme default port only', () => {
  assert.equal(calculateHost('127.20.0.1:80', 'http'), '127.20.0.1');
  assert.equal(calculateHost('127.20.0.1:443', 'https'), '127.20.0.1');
  assert.equal(calculateHost('127.20.0.1:8080', 'http'), '127.20.0.1:8080');
  assert.equal(calculateHost('[::1]:80', 'http'), '[::1]');
});

test('header names are canonicalized like Go', () => {
  assert.equal(canonicalHeaderKey('x-header-set'), 'X-Header-Set');
  assert.equal(canonicalHeaderKey('VERSION'), 'Version');
  assert.equal(canonicalHeaderKey('bad header'), 'bad header');
});

test('host name verification allows Go-style single-label wildcards', () => {
  const cert = { subjectaltname: 'URI:*, DNS:*.org, DNS:*.wildcard.org' } as PeerCertificate;
  assert.equal(verifyHostname('example.org', cert), undefined);
  assert.equal(verifyHostname('fourth-example.wildcard.org', cert), undefined);
  assert.ok(verifyHostname('a.b.example.org', cert));
  assert.ok(verifyHostname('example.com', cert));
});

const captured = (over: Partial<CapturedRequest> = {}): CapturedRequest => ({
  path: '/', host: 'example.com', method: 'GET', protocol: 'HTTP/1.1', headers: {}, namespace: 'ns', pod: 'infra-backend-v1-abc-def',
  tls: { serverName: '', peerCertificates: [] }, ...over,
});
const response = (over: Partial<CapturedResponse> = {}): CapturedResponse => ({ statusCode: 200, contentLength: 0, protocol: 'HTTP/1.1', headers: {}, ...over });

test('CompareRoundTrip checks status, backend, namespace, path and headers', () => {
  const { req, expected } = makeRequest({
    request: { path: '/set', headers: { 'X-A': '1' } },
    expectedRequest: { path: '/set', headers: { 'x-a': '1', 'X-B': 'b1,b2' }, absentHeaders: ['X-Gone'] },
    backend: 'infra-backend-v1',
    namespace: 'ns',
  }, '127.0.0.1:80', 'HTTP', 'http');
  const ok = captured({ path: '/set', headers: { 'X-A': ['1'], 'X-B': ['b1', 'b2'] } });
  assert.equal(compareRoundTrip(req, ok, response(), expected), undefined);
  assert.match(compareRoundTrip(req, ok, response({ statusCode: 404 }), expected)!, /one of \[200\], got 404/);
  assert.match(compareRoundTrip(req, { ...ok, namespace: 'other' }, response(), expected)!, /namespace/);
  assert.match(compareRoundTrip(req, { ...ok, pod: 'infra-backend-v2-x-y' }, response(), expected)!, /pod name/);
  assert.match(compareRoundTrip(req, { ...ok, headers: { ...ok.headers, 'X-Gone': ['v'] } }, response(), expected)!, /X-Gone header to not be set/);
  assert.match(compareRoundTrip(req, { ...ok, path: '/' }, response(), expected)!, /path/);
});

test('CompareRoundTrip checks the SNI and client certificate the backend saw', () => {
  const { req, expected } = makeRequest({ request: { path: '/', sni: 'abc.example.com', clientCert: 'PEM-A' }, namespace: 'ns' }, '127.0.0.1:80', 'HTTP', 'http');
  const seen = (serverName: string, peerCertificates: string[]) => captured({ tls: { serverName, peerCertificates } });
  assert.equal(compareRoundTrip(req, seen('abc.example.com', ['PEM-A', 'PEM-CA']), response(), expected), undefined);
  assert.match(compareRoundTrip(req, seen('other.example.com', ['PEM-A']), response(), expected)!, /SNI/);
  assert.match(compareRoundTrip(req, seen('abc.example.com', ['PEM-B']), response(), expected)!, /client certificate/);
});

test('CompareRoundTrip checks redirects with upstream defaults', () => {
  const { req, expected } = makeRequest({ request: { path: '/r' }, response: { statusCode: 302 }, redirectRequest: { host: 'example.org' } }, '127.0.0.1:80', 'HTTP', 'http');
  const redirect = (host: string, port: string, path = '/r', scheme = 'http') => response({ statusCode: 302, redirectRequest: { scheme, host, port, path } });
  assert.equal(compareRoundTrip(req, captured(), redirect('example.org', ''), expected), undefined);
  assert.equal(compareRoundTrip(req, captured(), redirect('example.org', '80'), expected), undefined);
  assert.match(compareRoundTrip(req, captured(), redirect('example.org', '8080'), expected)!, /port/);
  assert.match(compareRoundTrip(req, captured(), redirect('other.org', ''), expected)!, /hostname/);
  assert.match(compareRoundTrip(req, captured(), redirect('example.org', '', '/x'), expected)!, /path/);
});

test('the round tripper sends Host and headers and captures echo JSON and Location', async () => {
  const server = createServer((req, res) => {
    if (req.url === '/redirect') {
      res.writeHead(301, { Location: 'http://example.org:80/target' }).end();
      return;
    }
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify({ path: req.url, host: req.headers.host, method: req.method, proto: 'HTTP/1.1', headers: { Version: [req.headers.version] }, namespace: 'ns', pod: 'p' }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  try {
    const rt = new RoundTripper(2_000);
    const { req } = makeRequest({ request: { host: 'example.com', path: '/a?b=c', headers: { version: 'two' } } }, `127.0.0.1:${port}`, 'HTTP', 'http');
    const { cReq, cRes } = await rt.captureRoundTrip(req);
    assert.equal(cRes.statusCode, 200);
    assert.deepEqual([cReq.path, cReq.host, cReq.namespace], ['/a?b=c', 'example.com', 'ns']);
    assert.deepEqual(cReq.headers.Version, ['two']);

    const redirect = makeRequest({ request: { path: '/redirect' } }, `127.0.0.1:${port}`, 'HTTP', 'http');
    const r = await rt.captureRoundTrip(redirect.req);
    assert.deepEqual(r.cRes.redirectRequest, { scheme: 'http', host: 'example.org', port: '80', path: '/target' });
  } finally {
    server.close();
  }
});

test('report statistics follow upstream: not-supported tests are left out', () => {
  const http = profiles.filter((p) => p.name === 'GATEWAY-HTTP');
  const report = buildReport({
    outcomes: [
      { shortName: 'A', features: ['Gateway', 'HTTPRoute'], provisional: false, outcome: 'passed' },
      { shortName: 'B', features: ['Gateway'], provisional: false, outcome: 'failed' },
      { shortName: 'C', features: ['Gateway', 'HTTPRoute', 'HTTPRouteQueryParamMatching'], provisional: false, outcome: 'skipped' },
      { shortName: 'D', features: ['Gateway', 'HTTPRoute', 'HTTPRouteCORS'], provisional: false, outcome: 'notSupported' },
    ],
    profiles: http,
    supportedFeatures: new Set(['Gateway', 'HTTPRoute', 'ReferenceGrant', 'HTTPRouteQueryParamMatching']),
    gatewayAPIVersion: 'v1.6.1',
  });
  const [p] = report.profiles;
  assert.equal(p.name, 'GATEWAY-HTTP');
  assert.deepEqual(p.core.statistics, { Passed: 1, Skipped: 0, Failed: 1 });
  assert.equal(p.core.result, 'failure');
  assert.deepEqual(p.core.failedTests, ['B']);
  assert.deepEqual(p.extended.statistics, { Passed: 0, Skipped: 1, Failed: 0 });
  assert.equal(p.extended.result, 'partial');
  assert.deepEqual(p.extended.supportedFeatures, ['HTTPRouteQueryParamMatching']);
  assert.ok(p.extended.unsupportedFeatures.includes('HTTPRouteCORS'));
  assert.equal(p.summary, 'Core tests failed with 1 test failures. Extended tests partially succeeded with 1 test skips.');
});
