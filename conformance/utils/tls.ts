// Port of upstream conformance/utils/tls/tls.go. Upstream also asserts that
// a client certificate given to a request was asked for during the
// handshake (its GetClientCertificateHook ran); Node's TLS client has no such
// hook, so the port presents the certificate without that check (the
// data-plane tests check the certificate request with openssl instead).
import { isIP } from 'node:net';
import { connect, type PeerCertificate, type TLSSocket } from 'node:tls';
import type { TimeoutConfig } from './config.js';
import { makeRequest, splitHostPort, waitForConsistentResponse, type ExpectedResponse, type HTTPContext } from './http.js';
import { HTTPSProtocol, verifyHostname } from './roundtripper.js';
import { FatalError, poll, type T } from './t.js';

/** A client certificate and its key, as upstream's clientCertificate and clientCertificateKey. */
export interface ClientCertificate { certPem: string; keyPem: string }

export async function makeTLSRequestAndExpectEventuallyConsistentResponse(
  t: T, s: HTTPContext, gwAddr: string, serverCertificate: string, serverName: string, expected: ExpectedResponse,
  clientCertificate?: ClientCertificate,
): Promise<void> {
  const { req, expected: norm } = makeRequest(expected, gwAddr, HTTPSProtocol, 'https');
  req.serverName = serverName;
  req.serverCertificate = serverCertificate;
  if (clientCertificate) req.clientCertificate = clientCertificate;
  await waitForConsistentResponse(t, s.roundTripper, req, norm, s.timeouts.requiredConsecutiveSuccesses, s.timeouts.maxTimeToConsistency, s.timeouts.convergenceRetryDelay);
}

/** One request that must fail: no HTTP response at all (a refused handshake or connection), whatever the status would have been. */
export async function makeTLSRequestAndExpectFailureResponse(
  t: T, s: HTTPContext, gwAddr: string, serverCertificate: string, serverName: string, expected: ExpectedResponse,
  clientCertificate?: ClientCertificate,
): Promise<void> {
  const { req } = makeRequest(expected, gwAddr, HTTPSProtocol, 'https');
  req.serverName = serverName;
  req.serverCertificate = serverCertificate;
  if (clientCertificate) req.clientCertificate = clientCertificate;
  try {
    const { cRes } = await s.roundTripper.captureRoundTrip(req);
    t.fatal(`Request should fail, got status ${cRes.statusCode}`);
  } catch (err) {
    if (err instanceof FatalError) throw err;
    t.log(`request failed as expected: ${(err as Error).message}`);
  }
}

/**
 * Go's tls.Dialer with ServerName and MinVersion TLS 1.2: SNI (never for an
 * IP), the certificate checked against rootCA (the system roots when absent)
 * and the server name; resolves once the handshake is done.
 */
export function dialTLS(addr: string, serverName: string, rootCA: string | undefined, timeoutMs: number): Promise<TLSSocket> {
  const hp = splitHostPort(addr);
  if (!hp) return Promise.reject(new Error(`address ${addr}: missing port in address`));
  return new Promise((resolve, reject) => {
    const socket = connect({
      host: hp.host,
      port: Number(hp.port),
      ...(isIP(serverName) ? {} : { servername: serverName }),
      minVersion: 'TLSv1.2',
      // Go trusts a certificate found in its root pool even when it is a CA-signed leaf; OpenSSL needs this flag for that.
      ...(rootCA ? { ca: rootCA, allowPartialTrustChain: true } : {}),
      checkServerIdentity: (_host: string, cert: PeerCertificate) => verifyHostname(serverName, cert),
    });
    const timer = setTimeout(() => socket.destroy(new Error(`TLS dial ${addr}: no handshake within ${timeoutMs}ms`)), timeoutMs);
    socket.once('secureConnect', () => {
      clearTimeout(timer);
      socket.off('error', fail);
      resolve(socket);
    });
    const fail = (err: Error) => {
      clearTimeout(timer);
      socket.destroy();
      reject(err);
    };
    socket.once('error', fail);
  });
}

/**
 * Upstream's isConnectionRejected: the gateway reset the connection or closed
 * it (EOF) during the handshake; Node reports both as ECONNRESET.
 */
function isConnectionRejected(err: Error): boolean {
  return (err as NodeJS.ErrnoException).code === 'ECONNRESET';
}

/**
 * Dials with the given SNI until the gateway accepts the TCP connection and
 * then closes or resets it during the TLS handshake. A refused connection or
 * a completed (or otherwise failed) handshake is retried.
 */
export async function makeTLSConnectionAndExpectEventuallyConnectionRejection(t: T, s: { timeouts: TimeoutConfig }, gwAddr: string, serverName: string): Promise<void> {
  let last = '';
  const rejected = await poll(s.timeouts.convergenceRetryDelay, s.timeouts.maxTimeToConsistency, async () => {
    try {
      const socket = await dialTLS(gwAddr, serverName, undefined, s.timeouts.requestTimeout);
      socket.destroy();
      last = 'client could connect';
    } catch (err) {
      if (isConnectionRejected(err as Error)) {
        t.log(`connection was rejected during dial: ${(err as Error).message}`);
        return true;
      }
      last = `client could not connect: ${(err as Error).message}`;
    }
    t.log(`${last}; retrying`);
    return false;
  });
  if (!rejected) t.error(`connection to ${gwAddr} with SNI ${serverName} was never rejected within ${s.timeouts.maxTimeToConsistency}ms: ${last}`);
}
