// Splicing a client socket to a new backend connection. Bytes go both ways
// with backpressure: a side whose peer's write buffer is full is paused until
// the peer drains, so at most about one high-water mark per direction is held.
// A FIN is passed on (both sockets are half-open), and each direction ends on
// its own. A side that closes before both its directions ended cleanly (an
// error, a reset, a timeout, a destroy) takes the other down with it.
//
// The handlers are shared functions reading the peer from the socket, so a
// connection costs no closures.

import { Socket } from 'node:net';
import type { ConnectionOptions } from 'node:tls';
import type { Logger } from '../../util/log.js';
import type { Counters } from '../stats.js';
import { connectTls } from '../upstream-tls.js';

export interface SpliceSettings {
  connectTimeoutMs: number;
  /** Applied to the backend socket once connected; the caller sets the client socket's own. */
  idleTimeoutMs: number;
  counters: Counters;
  logger: Logger;
}

const kPeer = Symbol('peer');
const kSettings = Symbol('settings');
const kEstablished = Symbol('established');
type Peered = Socket & { [kPeer]?: Socket; [kSettings]?: SpliceSettings; [kEstablished]?: boolean };

/**
 * Connects to `address:port`, over TLS with `tls` (the endpoint's options,
 * host and port included), and splices `client` to it; returns the backend
 * socket. `client` may be paused with bytes put back: they go first.
 */
export function splice(client: Socket, address: string, port: number, settings: SpliceSettings, tls?: ConnectionOptions): Socket {
  // tls.connect hands allowHalfOpen on to the socket, though its options type does not list it.
  const upstream = (tls ? connectTls({ ...tls, allowHalfOpen: true } as ConnectionOptions) : new Socket({ allowHalfOpen: true })) as Peered;
  upstream[kPeer] = client;
  upstream[kSettings] = settings;
  (client as Peered)[kPeer] = upstream;
  upstream.setTimeout(settings.connectTimeoutMs);
  upstream.on('timeout', onUpstreamTimeout);
  upstream.on('error', onUpstreamError);
  // Over TLS, the connect timeout runs until the backend's certificate is verified.
  upstream.once(tls ? 'secureConnect' : 'connect', onUpstreamConnect);
  forward(client);
  forward(upstream);
  // Bytes the client sends meanwhile queue in the connecting socket, within its high-water mark.
  if (!tls) upstream.connect({ port, host: address, noDelay: true });
  client.resume();
  return upstream;
}

function forward(s: Socket): void {
  s.on('data', onData);
  s.on('drain', onDrain);
  s.on('end', onEnd);
  s.on('close', onClose);
}

function onData(this: Peered, chunk: Buffer): void {
  if (!this[kPeer]!.write(chunk)) this.pause();
}

function onDrain(this: Peered): void {
  this[kPeer]!.resume();
}

function onEnd(this: Peered): void {
  this[kPeer]!.end();
}

function onClose(this: Peered): void {
  if (!this.readableEnded || !this.writableFinished) this[kPeer]!.destroy();
}

function onUpstreamConnect(this: Peered): void {
  this[kEstablished] = true;
  this.setTimeout(this[kSettings]!.idleTimeoutMs);
}

function onUpstreamTimeout(this: Peered): void {
  if (!this[kEstablished]) {
    const settings = this[kSettings]!;
    settings.counters.upstreamError();
    settings.logger.debug('backend connect timeout');
  }
  this.destroy();
}

function onUpstreamError(this: Peered, err: Error): void {
  const settings = this[kSettings]!;
  settings.counters.upstreamError();
  settings.logger.debug({ err }, 'backend connection error');
  this.destroy();
}
