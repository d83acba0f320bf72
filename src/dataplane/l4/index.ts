// The TLS, TCP and UDP data plane, for DataPlane to hold next to its HTTP
// listeners: compile with compileStreamServer (throws on a bad server), then
// create, update and close the listener exactly as an HTTP Listener.

import type { Logger } from '../../util/log.js';
import type { Counters } from '../stats.js';
import type { CompiledStreamServer } from './routes.js';
import { StreamListener, type StreamListenerOptions } from './stream-listener.js';
import { UdpListener, type UdpListenerOptions } from './udp.js';

export { compileStreamServer, isStreamProtocol, type ClusterLookup, type CompiledStreamServer } from './routes.js';
export { StreamListener, type StreamListenerOptions } from './stream-listener.js';
export { UdpListener, type UdpListenerOptions } from './udp.js';

export type L4Listener = StreamListener | UdpListener;
export type L4ListenerOptions = StreamListenerOptions & UdpListenerOptions;

/** A StreamListener for TLS and TCP servers, a UdpListener for UDP ones. */
export function createL4Listener(compiled: CompiledStreamServer, logger: Logger, counters: Counters, options: L4ListenerOptions = {}): L4Listener {
  return compiled.ir.protocol === 'UDP'
    ? new UdpListener(compiled, logger, counters, options)
    : new StreamListener(compiled, logger, counters, options);
}
