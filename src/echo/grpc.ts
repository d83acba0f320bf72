import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { podContext, type PodIdentity } from './context.js';
import {
  decodeEchoRequest, encodeEchoResponse, GRPC_ECHO_METHODS, GRPC_ECHO_SERVICE, grpcEchoPath,
  type Assertions, type Context, type GrpcEchoMethod, type Header,
} from './grpc-proto.js';
import { listen } from './listen.js';
import { tlsConnectionState } from './tls-state.js';

/**
 * A port of echo-basic's gRPC mode (GRPC_ECHO_SERVER): the GrpcEcho service,
 * whose answers tell the GRPCRoute conformance tests which method, authority
 * and metadata reached which pod. It is served on node:http2 rather than a
 * gRPC library so that the echoed metadata is exactly what grpc-go hands its
 * handlers (:authority included) and the TLS details are at hand.
 */
export interface GRPCEchoOptions extends PodIdentity {
  /** Upstream's HTTP_PORT listener: gRPC over cleartext HTTP/2 (prior knowledge). */
  port: number;
  host?: string;
  /** Upstream's HTTPS_PORT listener (TLS_SERVER_CERT, TLS_SERVER_PRIV_KEY): PEM contents. */
  tls?: { port: number; cert: string | Buffer; key: string | Buffer };
  /** Receives the line upstream prints on stdout for each RPC. */
  log?: (line: string) => void;
}

export interface GRPCEchoServer {
  port: number;
  tlsPort?: number;
  close(): Promise<void>;
}

// grpc-go's default limit on a received message.
const MAX_RECEIVE_MESSAGE_BYTES = 4 * 1024 * 1024;
// Each message on the wire is preceded by a compressed flag and a 4-byte length.
const MESSAGE_PREFIX_BYTES = 5;

/** The gRPC status codes this server answers with. */
const Code = { OK: 0, InvalidArgument: 3, ResourceExhausted: 8, Unimplemented: 12, Internal: 13 } as const;

class StatusError extends Error {
  constructor(readonly code: number, message: string, readonly httpStatus = 200) {
    super(message);
  }
}

export async function startGRPCEchoServer(opts: GRPCEchoOptions): Promise<GRPCEchoServer> {
  const host = opts.host ?? '0.0.0.0';
  const log = opts.log ?? (() => {});
  const c = podContext(opts);
  const context: Context = { namespace: c.namespace, ingress: c.ingress, serviceName: c.service, pod: c.pod };
  const closers: (() => Promise<void>)[] = [];
  const close = () => Promise.all(closers.map((fn) => fn())).then(() => undefined);
  try {
    // Node passes the headers as received (in order, repeats kept) as a fourth argument that @types/node leaves out.
    const onStream = (tls: boolean) => (stream: http2.ServerHttp2Stream, _headers: unknown, _flags: unknown, rawHeaders?: string[]) =>
      serveStream(stream, rawHeaders!, { context, tls, log });
    const plain = http2.createServer();
    plain.on('stream', onStream(false));
    closers.push(await listen(plain, opts.port, host));
    const result: GRPCEchoServer = { port: (plain.address() as AddressInfo).port, close };
    if (opts.tls) {
      // grpc-go's TLS credentials: TLS 1.2 or newer, h2 by ALPN only.
      const secure = http2.createSecureServer({ cert: opts.tls.cert, key: opts.tls.key, minVersion: 'TLSv1.2' });
      secure.on('stream', onStream(true));
      closers.push(await listen(secure, opts.tls.port, host));
      result.tlsPort = (secure.address() as AddressInfo).port;
    }
    return result;
  } catch (err) {
    await close();
    throw err;
  }
}

interface Listener {
  context: Context;
  tls: boolean;
  log: (line: string) => void;
}

/** grpc-go keeps these out of a handler's metadata (isReservedHeader), except :authority and user-agent. */
function reserved(name: string): boolean {
  if (name === ':authority' || name === 'user-agent') return false;
  return name.startsWith(':') || ['content-type', 'grpc-message-type', 'grpc-encoding', 'grpc-message', 'grpc-status', 'grpc-timeout', 'te'].includes(name);
}

/** application/grpc, optionally with a +subtype or ;parameters, as grpcutil.ContentSubtype accepts. */
function isGRPCContentType(value: string): boolean {
  return /^application\/grpc(?:$|[+;])/.test(value);
}

/** The request as grpc-go's transport sees it: what becomes the handler's metadata, and what routes and decodes the call. */
interface Request {
  metadata: Header[];
  path: string;
  encoding: string;
}

/**
 * grpc-go's operateHeaders: rejects what is not a gRPC call with its HTTP
 * status and gRPC code, and gathers the metadata in arrival order.
 */
function parseHeaders(rawHeaders: readonly string[]): Request {
  let metadata: Header[] = [];
  let contentType: string | undefined;
  let isGRPC = false;
  let method = '';
  let path = '';
  let encoding = '';
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const key = rawHeaders[i]!;
    const value = rawHeaders[i + 1]!;
    if (key === 'content-type') {
      if (isGRPCContentType(value)) {
        isGRPC = true;
        metadata.push({ key, value });
      } else {
        contentType = value;
      }
    } else if (key === 'grpc-encoding') {
      encoding = value;
    } else if (key === ':method') {
      method = value;
    } else if (key === ':path') {
      path = value;
    } else if (!reserved(key)) {
      // Binary (-bin) values stay base64: the echoed value is a proto string, which must be UTF-8.
      metadata.push({ key, value });
    }
  }
  const count = (key: string) => metadata.filter((h) => h.key === key).length;
  if (count(':authority') > 1 || count('host') > 1) {
    throw new StatusError(Code.Internal, `num values of :authority: ${count(':authority')}, num values of host: ${count('host')}, both must only have 1 value as per HTTP/2 spec`, 400);
  }
  if (!isGRPC) throw new StatusError(Code.InvalidArgument, `invalid gRPC request content-type ${JSON.stringify(contentType ?? '')}`, 415);
  // gRFC A41: Host gives way to :authority, or stands in for a missing one.
  metadata = count(':authority') > 0
    ? metadata.filter((h) => h.key !== 'host')
    : metadata.map((h) => (h.key === 'host' ? { key: ':authority', value: h.value } : h));
  if (method !== 'POST') throw new StatusError(Code.Internal, `Received a HEADERS frame with :method ${JSON.stringify(method)} which should be POST`, 405);
  return { metadata, path, encoding };
}

/** grpc-go's handleStream: the service and method of a path, or the Unimplemented status it answers. */
function route(path: string): GrpcEchoMethod {
  const name = path.startsWith('/') ? path.slice(1) : path;
  const slash = name.lastIndexOf('/');
  if (slash < 0) throw new StatusError(Code.Unimplemented, `malformed method name: ${JSON.stringify(path)}`);
  const service = name.slice(0, slash);
  const method = name.slice(slash + 1);
  if (service !== GRPC_ECHO_SERVICE) throw new StatusError(Code.Unimplemented, `unknown service ${service}`);
  const known = GRPC_ECHO_METHODS.find((m) => m === method);
  if (!known) throw new StatusError(Code.Unimplemented, `unknown method ${method} for service ${service}`);
  return known;
}

/** The single message of a unary call, with grpc-go's answers to a body that is not one uncompressed message. */
function unaryMessage(body: Buffer): Buffer {
  if (body.length < MESSAGE_PREFIX_BYTES) throw new StatusError(Code.Internal, 'unexpected EOF');
  const flag = body[0]!;
  const length = body.readUInt32BE(1);
  if (flag > 1) throw new StatusError(Code.Internal, `grpc: received unexpected payload format ${flag}`);
  if (length > MAX_RECEIVE_MESSAGE_BYTES) {
    throw new StatusError(Code.ResourceExhausted, `grpc: received message larger than max (${length} vs. ${MAX_RECEIVE_MESSAGE_BYTES})`);
  }
  if (body.length < MESSAGE_PREFIX_BYTES + length) throw new StatusError(Code.Internal, 'unexpected EOF');
  if (body.length > MESSAGE_PREFIX_BYTES + length) throw new StatusError(Code.Internal, 'grpc: client streaming protocol violation: get <nil>, want <EOF>');
  // Flag 1 means compressed, and only the identity encoding is accepted (checked before the body is read).
  if (flag === 1) throw new StatusError(Code.Internal, 'grpc: compressed flag set with identity or empty encoding');
  return body.subarray(MESSAGE_PREFIX_BYTES);
}

/** grpc-message is percent-encoded outside printable ASCII, and '%' itself. */
function encodeGrpcMessage(message: string): string {
  let out = '';
  for (const b of Buffer.from(message, 'utf8')) out += b >= 0x20 && b <= 0x7e && b !== 0x25 ? String.fromCharCode(b) : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  return out;
}

/** A trailers-only response: the status in the one HEADERS frame. */
function writeStatus(stream: http2.ServerHttp2Stream, err: StatusError): void {
  if (stream.destroyed || stream.headersSent) return;
  stream.respond({
    ':status': err.httpStatus, 'content-type': 'application/grpc',
    'grpc-status': String(err.code), 'grpc-message': encodeGrpcMessage(err.message),
  }, { endStream: true });
  // Whatever the client still sends is read and dropped, so the stream can close.
  stream.resume();
}

function writeMessage(stream: http2.ServerHttp2Stream, message: Buffer): void {
  if (stream.destroyed) return;
  const prefix = Buffer.alloc(MESSAGE_PREFIX_BYTES);
  prefix.writeUInt32BE(message.length, 1);
  stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
  stream.once('wantTrailers', () => stream.sendTrailers({ 'grpc-status': String(Code.OK), 'grpc-message': '' }));
  stream.end(Buffer.concat([prefix, message]));
}

/** Checks that the body is one valid EchoRequest (which has no fields to use); grpc-go's status when not. */
function checkRequest(body: Buffer): void {
  const message = unaryMessage(body);
  try {
    decodeEchoRequest(message);
  } catch (err) {
    throw new StatusError(Code.Internal, `grpc: failed to unmarshal the received message: ${(err as Error).message}`);
  }
}

function serveStream(stream: http2.ServerHttp2Stream, rawHeaders: readonly string[], listener: Listener): void {
  // A client that resets its stream is no concern of the echo; without a listener the error would end the process.
  stream.on('error', () => {});
  // Only StatusErrors are expected; anything else is a bug and left to surface.
  const failed = (err: unknown) => {
    if (!(err instanceof StatusError)) throw err;
    writeStatus(stream, err);
  };
  let request: Request;
  let method: GrpcEchoMethod;
  try {
    request = parseHeaders(rawHeaders);
    method = route(request.path);
    if (request.encoding !== '' && request.encoding !== 'identity') {
      throw new StatusError(Code.Unimplemented, `grpc: Decompressor is not installed for grpc-encoding ${JSON.stringify(request.encoding)}`);
    }
  } catch (err) {
    failed(err);
    return;
  }
  const answer = (body: Buffer) => {
    if (stream.destroyed) return;
    try {
      checkRequest(body);
    } catch (err) {
      failed(err);
      return;
    }
    if (method === 'EchoThree') {
      writeStatus(stream, new StatusError(Code.Unimplemented, 'method EchoThree not implemented'));
      return;
    }
    // Upstream prints the request message, which is always empty; the method says more.
    listener.log(`Received over ${listener.tls ? 'TLS' : 'plaintext'}: ${request.path}`);
    const assertions: Assertions = {
      fullyQualifiedMethod: grpcEchoPath(method),
      headers: request.metadata,
      authority: request.metadata.find((h) => h.key === ':authority')?.value ?? '',
      context: listener.context,
      // The server asks for no client certificate, as upstream's does not, so there are no peer certificates to report.
      ...(listener.tls ? { tlsAssertions: { ...tlsConnectionState(stream.session!.socket as TLSSocket), peerCertificates: [] } } : {}),
    };
    writeMessage(stream, encodeEchoResponse({ assertions }));
  };
  const chunks: Buffer[] = [];
  let size = 0;
  const onData = (chunk: Buffer) => {
    chunks.push(chunk);
    size += chunk.length;
    // A body this long is not one message within the limit: answer (with the error) without reading the rest.
    if (size > MESSAGE_PREFIX_BYTES + MAX_RECEIVE_MESSAGE_BYTES) {
      stream.off('data', onData);
      stream.off('end', onEnd);
      answer(Buffer.concat(chunks));
    }
  };
  const onEnd = () => answer(Buffer.concat(chunks));
  stream.on('data', onData);
  stream.on('end', onEnd);
}
