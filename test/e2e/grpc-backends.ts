// gRPC backends and clients for the acceptance suite, on @grpc/grpc-js: an
// implementation of gRPC independent of Archway's own echo server. Messages
// are JSON, serialized by hand, so no .proto file or code generator is needed.
// Every reply names the backend that produced it.

import * as grpc from '@grpc/grpc-js';

/** What a call asks of a backend. */
export interface EchoRequest {
  text?: string;
  /** Stream: how many messages to send. */
  count?: number;
  /** Stream: fail with ABORTED after this many messages. */
  failAfter?: number;
  /** Barrier: calls with the same group are answered together once `size` of them are waiting. */
  group?: string;
  size?: number;
  /** Counted per backend, so a test can tell how many calls with this tag a backend served. */
  tag?: string;
}

/** What a backend answers. */
export interface EchoReply {
  backend: string;
  path: string;
  /** The :authority the backend saw. */
  authority: string;
  /** The request's metadata whose names start with x-, first values, as text. */
  metadata: Record<string, string>;
  text?: string;
  /** Stream: the index of this message. */
  i?: number;
  /** Barrier: how many calls were released together. */
  released?: number;
  /** Over TLS: the common name of the client certificate the caller presented, if any. */
  clientCert?: string;
}

export const json = {
  serialize: (value: unknown): Buffer => Buffer.from(JSON.stringify(value)),
  deserialize: (bytes: Buffer): any => JSON.parse(bytes.toString('utf8')),
};

/** The services every backend serves, each with the same methods. */
export const SERVICES = [
  'archway.test.Echo', 'archway.test.Regional', 'archway.test.Anything', 'archway.test.Weighted', 'archway.test.Host', 'archway.test.Secure',
] as const;
const UNARY_METHODS = ['Unary', 'Fail', 'FailFast', 'Barrier', 'Ping', 'GetThing', 'PutThing'] as const;
const STREAM_METHODS = ['Stream'] as const;

/** A service definition for grpc-js, with JSON messages. */
export function definition(service: string): grpc.ServiceDefinition {
  const def: Record<string, grpc.MethodDefinition<EchoRequest, EchoReply>> = {};
  const method = (name: string, responseStream: boolean): grpc.MethodDefinition<EchoRequest, EchoReply> => ({
    path: `/${service}/${name}`,
    requestStream: false,
    responseStream,
    requestSerialize: json.serialize,
    requestDeserialize: json.deserialize,
    responseSerialize: json.serialize,
    responseDeserialize: json.deserialize,
  });
  for (const name of UNARY_METHODS) def[name] = method(name, false);
  for (const name of STREAM_METHODS) def[name] = method(name, true);
  return def as grpc.ServiceDefinition;
}

/** A client class for archway.test.Echo, made the generic way (no generated code). */
export const EchoClient = grpc.makeGenericClientConstructor(definition('archway.test.Echo'), 'Echo');

export interface GrpcBackend {
  name: string;
  port: number;
  /** Calls served, by path. */
  served: Map<string, number>;
  /** Calls served, by request tag. */
  tagged: Map<string, number>;
  close(): Promise<void>;
}

/**
 * Starts a grpc-js server on 127.0.0.1 that serves SERVICES: over TLS when
 * `tls` is given, then requiring a client certificate from `clientCa` if set.
 */
export async function startGrpcBackend(name: string, tls?: { cert: string; key: string; clientCa?: string }): Promise<GrpcBackend> {
  const served = new Map<string, number>();
  const tagged = new Map<string, number>();
  const waiting = new Map<string, { release: (released: number) => void; fail: (message: string) => void }[]>();
  const count = (map: Map<string, number>, key: string): void => { map.set(key, (map.get(key) ?? 0) + 1); };

  const describe = (call: grpc.ServerUnaryCall<EchoRequest, EchoReply> | grpc.ServerWritableStream<EchoRequest, EchoReply>, extra: Partial<EchoReply> = {}): EchoReply => {
    const metadata: Record<string, string> = {};
    for (const [key, values] of Object.entries(call.metadata.getMap())) {
      if (key.startsWith('x-')) metadata[key] = Buffer.isBuffer(values) ? values.toString('base64') : String(values);
    }
    const peer = call.getAuthContext().sslPeerCertificate;
    const clientCert = peer?.subject?.CN;
    return { backend: name, path: call.getPath(), authority: call.getHost(), metadata, ...(clientCert ? { clientCert: String(clientCert) } : {}), ...extra };
  };

  const unary = (call: grpc.ServerUnaryCall<EchoRequest, EchoReply>, callback: grpc.sendUnaryData<EchoReply>): void => {
    const path = call.getPath();
    const method = path.slice(path.lastIndexOf('/') + 1);
    count(served, path);
    if (call.request.tag) count(tagged, call.request.tag);
    if (method === 'FailFast') {
      // No response headers first: grpc-js then answers in gRPC's trailers-only form (one HEADERS frame ending the stream).
      const trailers = new grpc.Metadata();
      trailers.set('x-reason', `refused-at-${name}`);
      callback({ code: grpc.status.PERMISSION_DENIED, details: `refused at ${name}`, metadata: trailers });
      return;
    }
    const initial = new grpc.Metadata();
    initial.set('x-initial', name);
    call.sendMetadata(initial);
    if (method === 'Fail') {
      const trailers = new grpc.Metadata();
      trailers.set('x-reason', `missing-at-${name}`);
      trailers.set('x-blob-bin', Buffer.from([0, 1, 2, 0xfe, 0xff]));
      callback({ code: grpc.status.NOT_FOUND, details: `thing not found at ${name}`, metadata: trailers });
      return;
    }
    if (method === 'Barrier') {
      const group = call.request.group ?? '';
      const size = call.request.size ?? 1;
      const list = waiting.get(group) ?? [];
      waiting.set(group, list);
      const timer = setTimeout(() => {
        // Not enough calls ever met here at once: fail them all, saying how many did.
        const had = list.length;
        waiting.delete(group);
        for (const w of list.splice(0)) w.fail(`barrier ${group}: only ${had} of ${size} calls arrived together`);
      }, 30_000);
      list.push({
        release: (released) => { clearTimeout(timer); callback(null, describe(call, { released })); },
        fail: (message) => { clearTimeout(timer); callback({ code: grpc.status.DEADLINE_EXCEEDED, details: message }); },
      });
      if (list.length >= size) {
        waiting.delete(group);
        const all = list.splice(0);
        for (const w of all) w.release(all.length);
      }
      return;
    }
    const trailers = new grpc.Metadata();
    trailers.set('x-served-by', name);
    callback(null, describe(call, { text: call.request.text }), trailers);
  };

  const stream = (call: grpc.ServerWritableStream<EchoRequest, EchoReply>): void => {
    count(served, call.getPath());
    if (call.request.tag) count(tagged, call.request.tag);
    const n = call.request.count ?? 1;
    const failAfter = call.request.failAfter;
    const initial = new grpc.Metadata();
    initial.set('x-initial', name);
    call.sendMetadata(initial);
    for (let i = 0; i < n; i++) {
      if (failAfter !== undefined && i === failAfter) {
        const trailers = new grpc.Metadata();
        trailers.set('x-failed-at', String(i));
        call.emit('error', { code: grpc.status.ABORTED, details: `stream aborted at ${name} after ${i}`, metadata: trailers });
        return;
      }
      call.write(describe(call, { i, text: call.request.text }));
    }
    const trailers = new grpc.Metadata();
    trailers.set('x-sent', String(n));
    trailers.set('x-served-by', name);
    call.end(trailers);
  };

  const server = new grpc.Server();
  for (const service of SERVICES) {
    const implementation: grpc.UntypedServiceImplementation = {};
    for (const m of UNARY_METHODS) implementation[m] = unary;
    for (const m of STREAM_METHODS) implementation[m] = stream;
    server.addService(definition(service), implementation);
  }
  const credentials = tls
    ? grpc.ServerCredentials.createSsl(tls.clientCa ? Buffer.from(tls.clientCa) : null,
      [{ cert_chain: Buffer.from(tls.cert), private_key: Buffer.from(tls.key) }], tls.clientCa !== undefined)
    : grpc.ServerCredentials.createInsecure();
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync('127.0.0.1:0', credentials, (err, p) => (err ? reject(err) : resolve(p)));
  });
  return {
    name, port, served, tagged,
    close: () => new Promise<void>((resolve) => {
      server.forceShutdown();
      resolve();
    }),
  };
}

/** Options every test client uses: its own connections, and no retries that could hide a failure. */
export function clientOptions(extra: grpc.ChannelOptions = {}): grpc.ChannelOptions {
  return { 'grpc.use_local_subchannel_pool': 1, 'grpc.enable_retries': 0, ...extra };
}

export interface UnaryResult {
  reply?: EchoReply;
  error?: grpc.ServiceError;
  status: grpc.StatusObject;
  headers?: grpc.Metadata;
}

function metadataOf(entries: Record<string, string | Buffer>): grpc.Metadata {
  const md = new grpc.Metadata();
  for (const [k, v] of Object.entries(entries)) md.set(k, v);
  return md;
}

/** One unary call to any path; resolves once the status is in, whatever it is. */
export function unaryCall(
  client: grpc.Client, path: string, request: EchoRequest, metadata: Record<string, string | Buffer> = {}, deadlineMs = 20_000,
): Promise<UnaryResult> {
  return new Promise((resolve) => {
    let done: { reply?: EchoReply; error?: grpc.ServiceError } | undefined;
    let status: grpc.StatusObject | undefined;
    let headers: grpc.Metadata | undefined;
    const finish = (): void => {
      if (done && status) resolve({ ...done, status, ...(headers ? { headers } : {}) });
    };
    const call = client.makeUnaryRequest<EchoRequest, EchoReply>(
      path, json.serialize, json.deserialize, request, metadataOf(metadata), { deadline: Date.now() + deadlineMs },
      (error, reply) => {
        done = error ? { error } : { reply: reply! };
        finish();
      },
    );
    call.on('metadata', (md: grpc.Metadata) => { headers = md; });
    call.on('status', (s: grpc.StatusObject) => {
      status = s;
      finish();
    });
  });
}

export interface StreamResult {
  messages: EchoReply[];
  status: grpc.StatusObject;
  headers?: grpc.Metadata;
}

/** One server-streaming call; resolves with every message and the final status. */
export function streamCall(
  client: grpc.Client, path: string, request: EchoRequest, metadata: Record<string, string | Buffer> = {}, deadlineMs = 20_000,
): Promise<StreamResult> {
  return new Promise((resolve) => {
    const messages: EchoReply[] = [];
    let headers: grpc.Metadata | undefined;
    const call = client.makeServerStreamRequest<EchoRequest, EchoReply>(
      path, json.serialize, json.deserialize, request, metadataOf(metadata), { deadline: Date.now() + deadlineMs },
    );
    call.on('data', (m: EchoReply) => messages.push(m));
    call.on('metadata', (md: grpc.Metadata) => { headers = md; });
    // A non-OK status is also emitted as 'error'; 'status' comes either way.
    call.on('error', () => undefined);
    call.on('status', (status: grpc.StatusObject) => resolve({ messages, status, ...(headers ? { headers } : {}) }));
  });
}

/** A gRPC message on the wire: uncompressed flag, 4-byte length, then the JSON. */
export function grpcFrame(value: unknown): Buffer {
  const body = json.serialize(value);
  const head = Buffer.alloc(5);
  head.writeUInt32BE(body.length, 1);
  return Buffer.concat([head, body]);
}

/** The messages of a gRPC response body. */
export function parseGrpcFrames(body: Buffer): unknown[] {
  const out: unknown[] = [];
  let at = 0;
  while (at + 5 <= body.length) {
    const length = body.readUInt32BE(at + 1);
    out.push(json.deserialize(body.subarray(at + 5, at + 5 + length)));
    at += 5 + length;
  }
  if (at !== body.length) throw new Error(`truncated gRPC frame at ${at} of ${body.length}`);
  return out;
}
