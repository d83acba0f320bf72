// Port of upstream conformance/utils/http/mirror.go: a mirrored request is
// seen in the mirror backend's log. The echo is expected to print, for every
// request it echoes, a line containing
//     Echoing back request made to <request URI> to client (<remote address>)
// as upstream's echo-basic does; any line containing that text matches,
// whether it is printed plainly or inside a JSON log record.
import type { ExpectedResponse, HTTPContext } from './http.js';
import { sleep, type T } from './t.js';

export interface MirroredBackend {
  name: string;
  namespace: string;
  /** Percentage of requests mirrored, for the percentage test. */
  percent?: number;
}

export interface EchoLogContext extends HTTPContext {
  echoLogs(namespace: string, app: string, since: number): string[];
}

const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export function mirrorLogRegexp(path: string): RegExp {
  return new RegExp(`Echoing back request made to ${escapeRegExp(path)} to client`);
}

export const requestIDQueryParam = 'gateway-api-conformance-request-id';

/** Go's url.Values.Encode: keys sorted, query-escaped with '+' for spaces. */
function encodeQuery(params: Map<string, string[]>): string {
  const esc = (v: string) => encodeURIComponent(v).replace(/%20/g, '+').replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return [...params.keys()].sort().flatMap((k) => params.get(k)!.map((v) => `${esc(k)}=${esc(v)}`)).join('&');
}

function addQueryParam(rawURL: string, name: string, value: string): string {
  const q = rawURL.indexOf('?');
  const path = q < 0 ? rawURL : rawURL.slice(0, q);
  const params = new Map<string, string[]>();
  for (const [k, v] of new URLSearchParams(q < 0 ? '' : rawURL.slice(q + 1))) {
    params.set(k, [...(params.get(k) ?? []), v]);
  }
  params.set(name, [value]);
  return `${path}?${encodeQuery(params)}`;
}

/** Upstream's ExpectedResponse.AddRequestIDQueryParam: a unique id in the path so log lines match one request. */
export function addRequestIDQueryParam(er: ExpectedResponse, requestID: string): ExpectedResponse {
  const path = addQueryParam(er.request.path, requestIDQueryParam, requestID);
  const out: ExpectedResponse = { ...er, request: { ...er.request, path } };
  if (er.expectedRequest) {
    out.expectedRequest = { ...er.expectedRequest, path: er.expectedRequest.path === '' ? path : addQueryParam(er.expectedRequest.path, requestIDQueryParam, requestID) };
  }
  return out;
}

/**
 * Starts watching every mirror backend's log for the path, before the
 * request is sent; the returned function waits for the watchers. A mirror
 * whose log never shows the path within requestTimeout fails the test.
 */
export function expectMirroredRequest(t: T, s: EchoLogContext, mirrorPods: readonly MirroredBackend[], path: string): () => Promise<void> {
  mirrorPods.forEach((m, i) => {
    if (!m.name) t.fatal(`Mirrored BackendRef[${i}].Name wasn't provided in the testcase, this test should only check http request mirror.`);
  });
  const re = mirrorLogRegexp(path);
  // Like upstream, the window opens before the requests that will be sent.
  const since = Date.now() - s.timeouts.maxTimeToConsistency;
  const watchers = mirrorPods.map(async (m) => {
    const deadline = Date.now() + s.timeouts.requestTimeout;
    for (;;) {
      t.log(`Reading "${m.namespace}/${m.name}" logs`);
      if (s.echoLogs(m.namespace, m.name, since).some((l) => re.test(l))) return true;
      if (Date.now() >= deadline) {
        t.error(`Couldn't find mirrored request in "${m.namespace}/${m.name}" logs (no line matching /${re.source}/ within ${s.timeouts.requestTimeout}ms)`);
        return false;
      }
      await sleep(Math.min(250, Math.max(0, deadline - Date.now())));
    }
  });
  return async () => {
    const results = await Promise.all(watchers);
    if (results.every(Boolean)) t.log('Found mirrored request log in all desired backends');
  };
}
