// Port of upstream conformance/utils/grpc/grpc.go: calls to the echo
// backend's GrpcEcho service through the gateway, and the expectation that
// they eventually and consistently reach the right backend.
import { Client, credentials, Metadata, status as Status, type ChannelOptions } from '@grpc/grpc-js';
import { decodeEchoResponse, encodeEchoRequest, grpcEchoPath, type EchoResponse, type GrpcEchoMethod } from '../../src/echo/grpc-proto.js';
import type { TimeoutConfig } from './config.js';
import { awaitConvergence } from './http.js';
import type { T } from './t.js';
import { randomEntropy } from './weight.js';

/** Metadata describing the outgoing request. */
export interface RequestMetadata {
  /** The :authority to send; the address dialled when unset. */
  authority?: string;
  /** Outgoing metadata pairs (keys are sent lower-cased, as gRPC metadata keys are). */
  metadata?: Record<string, string>;
}

export interface Response {
  code: Status;
  headers: Metadata;
  trailers: Metadata;
  /** Set when the call succeeded. */
  response?: EchoResponse;
}

export interface ExpectedResponse {
  /** The method to call; upstream sets exactly one of EchoRequest, EchoTwoRequest and EchoThreeRequest. */
  method: GrpcEchoMethod;
  requestMetadata?: RequestMetadata;
  /** The status the call must end with; OK when unset, upstream's zero value. */
  response?: { code: Status };
  /** Prefix of the pod name that must have answered. */
  backend?: string;
  namespace?: string;
  testCaseName?: string;
}

// Go's codes.Code.String(), for messages and test case names that read like upstream's.
const codeNames = [
  'OK', 'Canceled', 'Unknown', 'InvalidArgument', 'DeadlineExceeded', 'NotFound', 'AlreadyExists', 'PermissionDenied',
  'ResourceExhausted', 'FailedPrecondition', 'Aborted', 'OutOfRange', 'Unimplemented', 'Internal', 'Unavailable',
  'DataLoss', 'Unauthenticated',
];

export function codeName(code: Status): string {
  return codeNames[code] ?? `Code(${code})`;
}

function mapDeterministicString(m: Record<string, string>): string {
  return `{${Object.keys(m).sort().map((k) => `${k}:${m[k]}`).join(',')}}`;
}

export function getTestCaseName(er: ExpectedResponse, i: number): string {
  if (er.testCaseName) return er.testCaseName;
  const metadata = er.requestMetadata?.metadata ?? {};
  const headerStr = Object.keys(metadata).length > 0 ? ` with headers '${mapDeterministicString(metadata)}'` : '';
  const reqStr = `${i} request to '${er.requestMetadata?.authority ?? ''}${grpcEchoPath(er.method)}'${headerStr}`;
  if (er.backend) return `${reqStr} should go to ${er.backend}`;
  const code = er.response?.code ?? Status.OK;
  return `${reqStr} should receive a ${codeName(code)} (${code})`;
}

/** Upstream's Client: how the tests send RPCs; a custom one must allow concurrent sendRPC calls. */
export interface GRPCClient {
  sendRPC(t: T, address: string, expected: ExpectedResponse, timeoutMs: number): Promise<Response>;
  close(): void;
}

// Go's and grpc-js's reconnect backoff starts at 1s and grows; after a refused
// connection that would outlast the suite's scaled-down consistency window.
const RECONNECT_BACKOFF_MS = 250;

/**
 * Upstream's DefaultClient: one plaintext HTTP/2 channel, dialled on first
 * use with the authority of that first request, and dropped after a call that
 * ends Internal (a broken connection) so the next call dials again.
 */
export class DefaultClient implements GRPCClient {
  private conn: Client | undefined;

  private ensureConnection(address: string, req: RequestMetadata | undefined): Client {
    if (!this.conn) {
      const options: ChannelOptions = {
        'grpc.initial_reconnect_backoff_ms': RECONNECT_BACKOFF_MS,
        'grpc.max_reconnect_backoff_ms': RECONNECT_BACKOFF_MS,
        ...(req?.authority ? { 'grpc.default_authority': req.authority } : {}),
      };
      this.conn = new Client(address, credentials.createInsecure(), options);
    }
    return this.conn;
  }

  private resetConnection(): void {
    this.conn?.close();
    this.conn = undefined;
  }

  /** Resolves with the call's status (not only OK); rejects only when no call could be made. */
  async sendRPC(t: T, address: string, expected: ExpectedResponse, timeoutMs: number): Promise<Response> {
    const conn = this.ensureConnection(address, expected.requestMetadata);
    const metadata = new Metadata();
    for (const [key, value] of Object.entries(expected.requestMetadata?.metadata ?? {})) metadata.set(key, value);
    t.log('Sending RPC');
    return new Promise((resolve) => {
      let headers = new Metadata();
      let response: EchoResponse | undefined;
      const call = conn.makeUnaryRequest(grpcEchoPath(expected.method), encodeEchoRequest, decodeEchoResponse, {}, metadata,
        { deadline: Date.now() + timeoutMs }, (err, value) => {
          if (!err) response = value;
        });
      call.on('metadata', (m: Metadata) => (headers = m));
      // grpc-js reports the status after the callback, with the trailers.
      call.on('status', (status) => {
        if (status.code === Status.OK) {
          t.log(`RPC finished with response ${JSON.stringify(response)}`);
        } else {
          t.log(`RPC finished with error: ${codeName(status.code)}: ${status.details}`);
          if (status.code === Status.INTERNAL) {
            t.log('Received code Internal. Resetting connection.');
            this.resetConnection();
          }
        }
        resolve({ code: status.code, headers, trailers: status.metadata, ...(response ? { response } : {}) });
      });
    });
  }

  close(): void {
    this.conn?.close();
  }
}

/** Why the response does not meet the expectation, or undefined when it does. */
export function compareResponse(expected: ExpectedResponse, response: Response): string | undefined {
  const want = expected.response?.code ?? Status.OK;
  if (want !== response.code) {
    return `expected status code to be ${codeName(want)} (${want}), but got ${codeName(response.code)} (${response.code})`;
  }
  if (response.code === Status.OK) {
    const assertions = response.response?.assertions;
    const method = assertions?.fullyQualifiedMethod ?? '';
    if (grpcEchoPath(expected.method) !== method) return `expected path to be ${grpcEchoPath(expected.method)}, got ${method}`;
    const namespace = assertions?.context?.namespace ?? '';
    if (expected.namespace && expected.namespace !== namespace) return `expected namespace to be ${expected.namespace}, got ${namespace}`;
    const pod = assertions?.context?.pod ?? '';
    if (!pod.startsWith(expected.backend ?? '')) return `expected pod name to start with ${expected.backend}, got ${pod}`;
  }
  return undefined;
}

export interface GRPCContext {
  timeouts: TimeoutConfig;
}

/**
 * Upstream's MakeRequestAndExpectEventuallyConsistentResponse. Without a
 * client, a DefaultClient made for this expectation and closed after it; a
 * given client stays open for its owner.
 */
export async function makeRequestAndExpectEventuallyConsistentResponse(
  t: T, s: GRPCContext, gwAddr: string, expected: ExpectedResponse, client?: GRPCClient,
): Promise<void> {
  const c = client ?? new DefaultClient();
  try {
    await awaitConvergence(t, s.timeouts.requiredConsecutiveSuccesses, s.timeouts.maxTimeToConsistency, s.timeouts.convergenceRetryDelay, async (elapsed) => {
      let resp: Response;
      try {
        resp = await c.sendRPC(t, gwAddr, expected, s.timeouts.maxTimeToConsistency - elapsed);
      } catch (err) {
        const msg = `failed to send RPC: ${(err as Error).message}`;
        t.log(`${msg}, not ready yet (after ${elapsed}ms)`);
        return msg;
      }
      const mismatch = compareResponse(expected, resp);
      if (mismatch) t.log(`response expectation failed for request to ${gwAddr}${grpcEchoPath(expected.method)}, not ready yet: ${mismatch} (after ${elapsed}ms)`);
      return mismatch;
    });
  } finally {
    if (!client) c.close();
  }
  t.log('Request passed');
}

/** The loop every upstream GRPCRoute test ends with: each case as a parallel subtest. */
export async function expectEventuallyConsistentResponses(t: T, s: GRPCContext, gwAddr: string, cases: readonly ExpectedResponse[]): Promise<void> {
  await t.parallel(cases.map((tc, i) => [getTestCaseName(tc, i), (t: T) => makeRequestAndExpectEventuallyConsistentResponse(t, s, gwAddr, tc)] as const));
}

/** Upstream's AddEntropy: half the time, a random x-jitter metadata entry is added to the request. */
export function addEntropy(exp: ExpectedResponse): ExpectedResponse {
  const jitter = randomEntropy();
  if (jitter === undefined) return exp;
  const rm = exp.requestMetadata;
  return { ...exp, requestMetadata: { ...rm, metadata: { ...rm?.metadata, 'x-jitter': jitter } } };
}
