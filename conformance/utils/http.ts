// Port of upstream conformance/utils/http/http.go.
import { isIP } from 'node:net';
import type { TimeoutConfig } from './config.js';
import {
  isRedirect, isTimeoutError, type CapturedRequest, type CapturedResponse, type RedirectRequest, type Request as RTRequest, type RoundTripper,
} from './roundtripper.js';
import { sleep, type T } from './t.js';

/** The request to make; as ExpectedRequest, also what should reach the backend. */
export interface Request {
  host?: string;
  method?: string;
  path: string;
  headers?: Record<string, string>;
  /** Round tripper protocol for this request, e.g. H2C_PRIOR_KNOWLEDGE; defaults to the caller's. */
  protocol?: string;
  /** As ExpectedRequest: the server name the backend must have seen in the gateway's TLS connection. */
  sni?: string;
  /** As ExpectedRequest: a certificate (PEM) among those the gateway presented to the backend. */
  clientCert?: string;
}

export interface ExpectedRequest extends Request {
  /** Headers that must not reach the backend. */
  absentHeaders?: string[];
}

export interface Response {
  statusCode?: number;
  statusCodes?: number[];
  headers?: Record<string, string>;
  /** Each header's joined value must be one of these. */
  validHeaderValues?: Record<string, string[]>;
  absentHeaders?: string[];
  /** Protocol the response must come back with, e.g. HTTP/2.0. */
  protocol?: string;
  /** Drop spaces from header values before comparing (validHeaderValues and headers). */
  ignoreWhitespace?: boolean;
}

export interface ExpectedResponse {
  request: Request;
  /** Defaults to `request`. */
  expectedRequest?: ExpectedRequest;
  redirectRequest?: Partial<RedirectRequest>;
  backendSetResponseHeaders?: Record<string, string>;
  response?: Response;
  /** Prefix of the pod name that must have answered. */
  backend?: string;
  namespace?: string;
  testCaseName?: string;
}

/** ExpectedResponse with upstream's defaults applied by MakeRequest. */
interface Normalized extends ExpectedResponse {
  request: Request & { method: string };
  statusCodes: number[];
}

/** Go's net.SplitHostPort + the scheme-default-port rule of upstream's CalculateHost. */
export function calculateHost(gwAddr: string, scheme: string): string {
  const hp = splitHostPort(gwAddr);
  if (!hp) return isIP(gwAddr) === 6 ? `[${gwAddr}]` : gwAddr;
  const { host, port } = hp;
  if ((scheme.toLowerCase() === 'http' && port === '80') || (scheme.toLowerCase() === 'https' && port === '443')) {
    return host.includes(':') ? `[${host}]` : host;
  }
  return gwAddr;
}

/** Go's net.SplitHostPort for the addresses the suite builds; undefined without a port. */
export function splitHostPort(addr: string): { host: string; port: string } | undefined {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d+)$/.exec(addr);
  return m ? { host: m[1] ?? m[2]!, port: m[3]! } : undefined;
}

export function joinHostPort(host: string, port: string | number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

export function makeRequest(expected: ExpectedResponse, gwAddr: string, protocol: string, scheme: string): { req: RTRequest; expected: Normalized } {
  const statusCodes = [...(expected.response?.statusCodes ?? [])];
  const sc = expected.response?.statusCode;
  if (sc !== undefined && sc !== 0 && !statusCodes.includes(sc)) statusCodes.push(sc);
  if (statusCodes.length === 0) statusCodes.push(200);
  const request = { ...expected.request, method: expected.request.method || 'GET' };

  const [path, query] = splitOnce(request.path, '?');
  const url = new URL(`${scheme}://${calculateHost(gwAddr, scheme)}`);
  url.pathname = path;
  if (query !== undefined) url.search = `?${query}`;

  const headers: Record<string, string[]> = {};
  for (const [name, value] of Object.entries(request.headers ?? {})) headers[name] = [value];
  headers['X-Echo-Set-Header'] = [Object.entries(expected.backendSetResponseHeaders ?? {}).map(([n, v]) => `${n}:${v}`).join(',')];

  return {
    req: { url, host: request.host ?? '', protocol: request.protocol || protocol, method: request.method, headers },
    expected: { ...expected, request, statusCodes },
  };
}

function splitOnce(s: string, sep: string): [string, string | undefined] {
  const i = s.indexOf(sep);
  return i < 0 ? [s, undefined] : [s.slice(0, i), s.slice(i + 1)];
}

export function getTestCaseName(er: ExpectedResponse, i: number): string {
  if (er.testCaseName) return er.testCaseName;
  const headerStr = er.request.headers ? ' with headers' : '';
  const reqStr = `${i} request to '${er.request.host ?? ''}${er.request.path}'${headerStr}`;
  if (er.backend) return `${reqStr} should go to ${er.backend}`;
  const codes = [...(er.response?.statusCodes ?? [])];
  if (er.response?.statusCode && !codes.includes(er.response.statusCode)) codes.push(er.response.statusCode);
  return `${reqStr} should receive one of [${(codes.length ? codes : [200]).join(' ')}]`;
}

function lowerKeys(h: Record<string, string[]>): Map<string, string[]> {
  return new Map(Object.entries(h).map(([k, v]) => [k.toLowerCase(), v]));
}

/** Returns why the round trip does not meet the expectation, or undefined when it does. */
export function compareRoundTrip(req: RTRequest, cReq: CapturedRequest, cRes: CapturedResponse, expected: Normalized): string | undefined {
  if (isTimeoutError(cRes.statusCode) && expected.statusCodes.some(isTimeoutError)) return undefined;
  if (!expected.statusCodes.includes(cRes.statusCode)) {
    return `expected status code to be one of [${expected.statusCodes.join(' ')}], got ${cRes.statusCode}`;
  }
  if (expected.response?.protocol && expected.response.protocol !== cRes.protocol) {
    return `expected protocol to be ${expected.response.protocol}, got ${cRes.protocol}`;
  }

  if (cRes.statusCode === 200 || cRes.statusCode === 204) {
    const er: ExpectedRequest = expected.expectedRequest ?? expected.request;
    const method = er.method || 'GET';
    if (er.host && er.host !== cReq.host) return `expected host to be ${er.host}, got ${cReq.host}`;
    if (er.path !== cReq.path) return `expected path to be ${er.path}, got ${cReq.path}`;
    if (method !== cReq.method) return `expected method to be ${method}, got ${cReq.method}`;
    if ((expected.namespace ?? '') !== cReq.namespace) return `expected namespace to be ${expected.namespace ?? ''}, got ${cReq.namespace}`;

    const reqHeaders = lowerKeys(cReq.headers);
    for (const [name, want] of Object.entries(er.headers ?? {})) {
      const got = reqHeaders.get(name.toLowerCase());
      if (!got) return `expected ${name} header to be set, actual headers: ${JSON.stringify(cReq.headers)}`;
      if (got.join(',') !== want) return `expected ${name} header to be set to ${want}, got ${got.join(',')}`;
    }

    const resHeaders = lowerKeys(cRes.headers);
    const squash = (v: string) => (expected.response?.ignoreWhitespace ? v.replaceAll(' ', '') : v);
    for (const [name, valid] of Object.entries(expected.response?.validHeaderValues ?? {})) {
      const got = resHeaders.get(name.toLowerCase());
      if (!got) return `expected ${name} response header to be set, actual headers: ${JSON.stringify(cRes.headers)}`;
      const gotStr = squash(got.join(','));
      if (!valid.map(squash).includes(gotStr)) return `expected ${name} response header to be set to one of ${JSON.stringify(valid)}, got ${gotStr}`;
    }
    for (const [name, want] of Object.entries(expected.response?.headers ?? {})) {
      const got = resHeaders.get(name.toLowerCase());
      if (!got) return `expected ${name} response header to be set, actual headers: ${JSON.stringify(cRes.headers)}`;
      if (squash(got.join(',')) !== squash(want)) return `expected ${name} response header to be set to ${want}, got ${got.join(',')}`;
    }
    for (const name of expected.response?.absentHeaders ?? []) {
      const got = resHeaders.get(name.toLowerCase());
      if (got) return `expected ${name} response header to not be set, got ${got.join(',')}`;
    }
    for (const name of er.absentHeaders ?? []) {
      const got = reqHeaders.get(name.toLowerCase());
      if (got) return `expected ${name} header to not be set, got ${got.join(',')}`;
    }

    if (!cReq.pod.startsWith(expected.backend ?? '')) return `expected pod name to start with ${expected.backend}, got ${cReq.pod}`;
    if (er.sni && er.sni !== cReq.tls.serverName) return `expected SNI ${JSON.stringify(cReq.tls.serverName)} to be equal to ${JSON.stringify(er.sni)}`;
    if (er.clientCert && !cReq.tls.peerCertificates.includes(er.clientCert)) return 'expected client certificate was not captured';
  } else if (isRedirect(cRes.statusCode)) {
    if (!expected.redirectRequest) return undefined;
    const got = cRes.redirectRequest!;
    const want = {
      host: expected.redirectRequest.host || got.host,
      scheme: expected.redirectRequest.scheme || req.url.protocol.replace(/:$/, ''),
      path: expected.redirectRequest.path || req.url.pathname,
      port: expected.redirectRequest.port ?? '',
    };
    if (want.host !== got.host) return `expected redirected hostname to be "${want.host}", got "${got.host}"`;
    if (want.port === '') {
      const scheme = got.scheme.toLowerCase();
      if (scheme === 'http' && got.port !== '80' && got.port !== '') return `for http scheme, expected redirected port to be 80 or not set, got "${got.port}"`;
      if (scheme === 'https' && got.port !== '443' && got.port !== '') return `for https scheme, expected redirected port to be 443 or not set, got "${got.port}"`;
    } else if (want.port !== got.port) {
      return `expected redirected port to be "${want.port}", got "${got.port}"`;
    }
    if (want.scheme !== got.scheme) return `expected redirected scheme to be "${want.scheme}", got "${got.scheme}"`;
    if (want.path !== got.path) return `expected redirected path to be "${want.path}", got "${got.path}"`;
  }
  return undefined;
}

/**
 * Calls fn until it succeeds `threshold` times in a row; fn returns undefined
 * on success or why it failed. Fails the test with the last reason when
 * consistency is not reached in time.
 */
export async function awaitConvergence(t: T, threshold: number, maxTimeMs: number, retryDelayMs: number,
  fn: (elapsedMs: number) => Promise<string | undefined>): Promise<void> {
  const start = Date.now();
  let successes = 0;
  let attempts = 0;
  let lastFailure = '';
  for (;;) {
    if (Date.now() - start >= maxTimeMs) {
      t.fatal(`not consistent after ${maxTimeMs}ms (${attempts} attempts, ${successes}/${threshold} successes in a row); last failure: ${lastFailure}`);
    }
    const failure = await fn(Date.now() - start);
    attempts++;
    if (failure === undefined) {
      if (++successes >= threshold) return;
      continue;
    }
    successes = 0;
    lastFailure = failure;
    await sleep(Math.min(retryDelayMs, Math.max(0, maxTimeMs - (Date.now() - start))));
  }
}

export async function waitForConsistentResponse(t: T, rt: RoundTripper, req: RTRequest, expected: Normalized, threshold: number, maxTimeMs: number, retryDelayMs: number): Promise<void> {
  await awaitConvergence(t, threshold, maxTimeMs, retryDelayMs, async (elapsed) => {
    let captured;
    try {
      captured = await rt.captureRoundTrip(req);
    } catch (err) {
      const msg = `request failed: ${(err as Error).message}`;
      t.log(`${msg} (after ${elapsed}ms)`);
      return msg;
    }
    const mismatch = compareRoundTrip(req, captured.cReq, captured.cRes, expected);
    if (mismatch) t.log(`${req.method} ${req.url.href} Host=${req.host}: ${mismatch} (after ${elapsed}ms)`);
    return mismatch;
  });
  t.log('request passed');
}

export interface HTTPContext {
  roundTripper: RoundTripper;
  timeouts: TimeoutConfig;
}

/** Upstream's MakeRequestAndExpectEventuallyConsistentResponse over plain HTTP. */
export async function makeRequestAndExpectEventuallyConsistentResponse(t: T, s: HTTPContext, gwAddr: string, expected: ExpectedResponse): Promise<void> {
  const { req, expected: norm } = makeRequest(expected, gwAddr, 'HTTP', 'http');
  t.log(`making ${req.method} request to host ${expected.request.host ?? ''} via ${req.url.href}`);
  await waitForConsistentResponse(t, s.roundTripper, req, norm, s.timeouts.requiredConsecutiveSuccesses, s.timeouts.maxTimeToConsistency, s.timeouts.convergenceRetryDelay);
}

/**
 * Upstream's MakeRequestAndExpectFailure: the request must fail (any status
 * but 200, or none) 5 times in a row; a 200 fails the test at once.
 */
export async function makeRequestAndExpectFailure(t: T, s: HTTPContext, gwAddr: string, expected: ExpectedResponse): Promise<void> {
  const { req } = makeRequest(expected, gwAddr, 'HTTP', 'http');
  await awaitConvergence(t, 5, s.timeouts.maxTimeToConsistency, s.timeouts.convergenceRetryDelay, async (elapsed) => {
    let status: number;
    try {
      status = (await s.roundTripper.captureRoundTrip(req)).cRes.statusCode;
    } catch (err) {
      const msg = `request failed, not ready yet: ${(err as Error).message}`;
      t.log(`${msg} (after ${elapsed}ms)`);
      return msg;
    }
    if (isTimeoutError(status)) return `got ${status}, not ready yet`;
    if (status === 200) t.fatal(`request ${req.method} ${req.url.href} Host=${req.host} should fail, returned HTTP status 200 instead`);
    return undefined;
  });
  t.log('expectation for failing request is met');
}

/** Upstream's AddEntropy: half the time, a random X-Jitter header replaces the request headers. */
export function addEntropy(exp: ExpectedResponse): ExpectedResponse {
  if (Math.random() < 0.5) return exp;
  return { ...exp, request: { ...exp.request, headers: { 'X-Jitter': String(Math.floor(Math.random() * 10_000)) } } };
}

/** The loop every upstream routing test ends with: each case as a parallel subtest. */
export async function expectEventuallyConsistentResponses(t: T, s: HTTPContext, gwAddr: string, cases: readonly ExpectedResponse[]): Promise<void> {
  await t.parallel(cases.map((tc, i) => [getTestCaseName(tc, i), (t: T) => makeRequestAndExpectEventuallyConsistentResponse(t, s, gwAddr, tc)] as const));
}
