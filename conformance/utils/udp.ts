// Port of upstream conformance/utils/udp/udp.go and of the udpEchoSendOnce
// helper of its UDPRoute tests: datagrams to echo-basic's UDP mode, which
// answers each with JSON naming its namespace, service and pod.
import { createSocket } from 'node:dgram';
import { isIPv6 } from 'node:net';
import type { TimeoutConfig } from './config.js';
import { splitHostPort } from './http.js';
import { poll, type T } from './t.js';

/**
 * Sends one datagram from a connected socket (as Go's Dial("udp") makes) and
 * resolves with the first reply `accept` takes; replies it refuses are skipped.
 */
export function udpRoundTrip(addr: string, payload: Buffer | string, timeoutMs: number, accept: (reply: Buffer) => boolean = () => true): Promise<Buffer> {
  const hp = splitHostPort(addr);
  if (!hp) return Promise.reject(new Error(`address ${addr}: missing port in address`));
  return new Promise((resolve, reject) => {
    const socket = createSocket(isIPv6(hp.host) ? 'udp6' : 'udp4');
    const timer = setTimeout(() => finish(new Error(`read udp ${addr}: i/o timeout after ${timeoutMs}ms`)), timeoutMs);
    let done = false;
    const finish = (err: Error | undefined, reply?: Buffer) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.close();
      if (err) reject(err);
      else resolve(reply!);
    };
    // An ICMP port unreachable surfaces here as ECONNREFUSED on the connected socket.
    socket.on('error', (err) => finish(err));
    socket.on('message', (msg) => {
      if (accept(msg)) finish(undefined, msg);
    });
    socket.connect(Number(hp.port), hp.host, () => socket.send(payload));
  });
}

export interface UDPExpectedResponse {
  /** When set, the "service" the answering backend reports. */
  service?: string;
  /** When set, the "namespace" the answering backend reports. */
  namespace?: string;
}

interface EchoResponse {
  request?: string;
  namespace?: string;
  service?: string;
  pod?: string;
}

// Upstream's read deadline for one probe, and its read buffer.
const probeTimeoutMs = 2_000;
const readBufferBytes = 1024;

/** Upstream's ExpectEchoResponse: some answer comes back through the gateway. */
export function expectEchoResponse(t: T, s: { timeouts: TimeoutConfig }, timeoutMs: number, gwAddr: string): Promise<void> {
  return expectEchoResponseFromBackend(t, s, timeoutMs, gwAddr, {});
}

/** Upstream's ExpectEchoResponseFromBackend: an answer comes back, from the expected service and namespace when given. */
export async function expectEchoResponseFromBackend(t: T, s: { timeouts: TimeoutConfig }, timeoutMs: number, gwAddr: string, expected: UDPExpectedResponse): Promise<void> {
  const want = expected.service || expected.namespace ? ` expecting backend service=${JSON.stringify(expected.service ?? '')} namespace=${JSON.stringify(expected.namespace ?? '')}` : '';
  t.log(`performing UDP echo probe on ${gwAddr}${want}`);
  let last = '';
  const ok = await poll(s.timeouts.convergenceRetryDelay, timeoutMs, async () => {
    let reply: Buffer;
    try {
      reply = (await udpRoundTrip(gwAddr, 'gateway-api-conformance-udp-echo', probeTimeoutMs)).subarray(0, readBufferBytes);
    } catch (err) {
      last = `failed to read UDP echo response: ${(err as Error).message}`;
      t.log(last);
      return false;
    }
    if (!expected.service && !expected.namespace) {
      t.log(`got UDP echo response (${reply.length} bytes) from ${gwAddr}`);
      return true;
    }
    let resp: EchoResponse;
    try {
      resp = JSON.parse(reply.toString('utf8')) as EchoResponse;
    } catch (err) {
      last = `failed to decode UDP echo response from ${gwAddr}: ${(err as Error).message}`;
      t.log(last);
      return false;
    }
    if (expected.service && resp.service !== expected.service) {
      last = `UDP echo response service=${JSON.stringify(resp.service ?? '')} did not match expected ${JSON.stringify(expected.service)} (pod=${resp.pod ?? ''})`;
      t.log(last);
      return false;
    }
    if (expected.namespace && resp.namespace !== expected.namespace) {
      last = `UDP echo response namespace=${JSON.stringify(resp.namespace ?? '')} did not match expected ${JSON.stringify(expected.namespace)} (pod=${resp.pod ?? ''})`;
      t.log(last);
      return false;
    }
    t.log(`got UDP echo response from ${gwAddr} service=${JSON.stringify(resp.service)} namespace=${JSON.stringify(resp.namespace)} pod=${JSON.stringify(resp.pod)}`);
    return true;
  });
  if (!ok) t.error(`UDP echo probe never succeeded against ${gwAddr}${want}: ${last}`);
}

/** The UDPRoute tests' udpEchoSendOnce: one datagram, the answering pod's name. */
export async function udpEchoSendOnce(gwAddr: string, timeoutMs: number): Promise<string> {
  const reply = await udpRoundTrip(gwAddr, 'gateway-api-conformance-udp-weight\n', timeoutMs).catch((err: Error) => {
    throw new Error(`reading UDP echo response: ${err.message}`);
  });
  const text = reply.toString('utf8');
  let resp: EchoResponse;
  try {
    resp = JSON.parse(text) as EchoResponse;
  } catch (err) {
    throw new Error(`decoding UDP echo response ${JSON.stringify(text)}: ${(err as Error).message}`);
  }
  if (!resp.pod) throw new Error(`UDP echo response missing pod name: ${JSON.stringify(text)}`);
  return resp.pod;
}
