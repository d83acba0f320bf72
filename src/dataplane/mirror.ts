// RequestMirror: fire-and-forget copies of a request. A mirror never delays or
// fails the request it copies: its response is drained unread, its errors are
// only logged at debug, and it is dropped rather than allowed to hold back the
// body stream it shares with the main upstream request.

import type { Logger } from '../util/log.js';
import type { CompiledMirror } from './router.js';
import { openUpstream, type UpstreamCall, type UpstreamListener, type UpstreamRequest } from './upstream.js';

/**
 * Bytes a mirror may have queued but not yet sent before it is dropped. The
 * main request's body is never paused for a mirror, so a slow mirror would
 * otherwise buffer the whole body in memory.
 */
const MIRROR_BUFFER_LIMIT = 1 << 20;

class MirrorListener implements UpstreamListener {
  constructor(
    private readonly logger: Logger,
    private readonly cluster: string,
  ) {}

  onUpstreamResponse(call: UpstreamCall): void {
    call.discard();
  }

  onUpstreamBodyEnd(): void {
    // Mirror responses are discarded, never piped.
  }

  onUpstreamError(_call: UpstreamCall, err: Error): void {
    this.logger.debug({ err, cluster: this.cluster }, 'mirror request failed');
  }

  onUpstreamUpgrade(): void {
    // Mirrors never ask for an upgrade.
  }
}

/** Starts the mirrors this request is sampled into; the caller feeds and ends their bodies. */
export function startMirrors(mirrors: readonly CompiledMirror[], r: UpstreamRequest, logger: Logger): UpstreamCall[] | undefined {
  let calls: UpstreamCall[] | undefined;
  for (const m of mirrors) {
    if (m.fraction < 1 && Math.random() >= m.fraction) continue;
    const ep = m.pool.pick();
    if (ep === undefined) continue;
    try {
      (calls ??= []).push(openUpstream(m.pool, ep, r, new MirrorListener(logger, m.pool.name)));
    } catch (err) {
      logger.debug({ err, cluster: m.pool.name }, 'cannot build mirror request');
    }
  }
  return calls;
}

/** Writes a body chunk to each mirror still keeping up; drops (aborts) those that are not. */
export function feedMirrors(calls: UpstreamCall[], chunk: Buffer): void {
  for (let i = calls.length - 1; i >= 0; i--) {
    const c = calls[i]!;
    if (c.body.writableLength > MIRROR_BUFFER_LIMIT) {
      c.abort();
      calls.splice(i, 1);
    } else {
      c.body.write(chunk);
    }
  }
}
