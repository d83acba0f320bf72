import { connect as connectH2, constants as h2 } from 'node:http2';
import { after, before, describe, it } from 'node:test';
import { DataPlane } from '../../src/dataplane/index.js';
import { silentLogger } from '../../src/util/log.js';
import { config, forwardTo, httpServer, route, startUpstream, type Upstream } from './helpers.js';

// An HTTP/2 client that resets a stream gives up on its request: the call
// upstream must end too, or every cancelled request keeps an upstream busy.

describe('HTTP/2 client cancelling a request in flight', () => {
  const dp = new DataPlane({ logger: silentLogger });
  let upstream: Upstream;
  let port = 0;
  /** Per request path: the upstream has it, and the upstream saw it end unanswered. */
  const arrivals = new Map<string, () => void>();
  const abortions = new Map<string, () => void>();

  before(async () => {
    upstream = await startUpstream((req, res) => {
      // Never answers: only the gateway giving up ends this request.
      res.on('close', () => { if (!res.writableFinished) abortions.get(req.url!)?.(); });
      arrivals.get(req.url!)?.();
      req.resume();
    });
    await dp.apply(config([httpServer('s', [{ hostname: '*', routes: [route('r', {}, forwardTo('up'))] }])], { up: [upstream.port] }));
    port = dp.boundPort('s')!;
  });
  after(async () => {
    await dp.shutdown(1000);
    await upstream.close();
  });

  // HEAD too: node:http2 emits no 'close' on the response of a HEAD request reset before it was answered.
  for (const method of ['GET', 'HEAD']) {
    it(`aborts the upstream call when the client resets the stream of a ${method}`, { timeout: 10_000 }, async () => {
      const path = `/hang-${method}`;
      const arrival = new Promise<void>((r) => arrivals.set(path, r));
      const abortion = new Promise<void>((r) => abortions.set(path, r));
      const session = connectH2(`http://127.0.0.1:${port}`);
      session.on('error', () => undefined);
      const stream = session.request({ ':method': method, ':path': path, ':authority': 'site.example' });
      stream.on('error', () => undefined);
      await arrival;
      stream.close(h2.NGHTTP2_CANCEL);
      await abortion;
      session.destroy();
    });
  }
});
