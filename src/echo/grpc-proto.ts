// The wire contract of the Gateway API conformance gRPC echo service
// (upstream conformance/echo-basic/grpcecho.proto): its names and messages,
// with a protobuf codec for exactly these messages. The echo server encodes
// responses with it and the conformance client decodes them, so both sides
// agree on field numbers without a code generator.

export const GRPC_ECHO_SERVICE = 'gateway_api_conformance.echo_basic.grpcecho.GrpcEcho';

/** EchoThree is declared but intentionally not implemented, so a route to it answers Unimplemented. */
export const GRPC_ECHO_METHODS = ['Echo', 'EchoTwo', 'EchoThree'] as const;
export type GrpcEchoMethod = (typeof GRPC_ECHO_METHODS)[number];

/** The HTTP/2 :path of a method, e.g. /gateway_api_conformance.echo_basic.grpcecho.GrpcEcho/Echo. */
export function grpcEchoPath(method: string): string {
  return `/${GRPC_ECHO_SERVICE}/${method}`;
}

/** message Header { string key = 1; string value = 2; } */
export interface Header {
  key: string;
  value: string;
}

/** message Context { namespace = 1; ingress = 2; service_name = 3; pod = 4; } (all strings) */
export interface Context {
  namespace: string;
  ingress: string;
  serviceName: string;
  pod: string;
}

/** message TLSAssertions { version = 1; negotiated_protocol = 2; server_name = 3; cipher_suite = 4; repeated peer_certificates = 5; } */
export interface TLSAssertions {
  version: string;
  negotiatedProtocol: string;
  serverName: string;
  cipherSuite: string;
  peerCertificates: string[];
}

/** message Assertions { fully_qualified_method = 1; repeated Header headers = 2; authority = 3; Context context = 4; TLSAssertions tls_assertions = 5; } */
export interface Assertions {
  fullyQualifiedMethod: string;
  headers: Header[];
  authority: string;
  context?: Context;
  tlsAssertions?: TLSAssertions;
}

/** message EchoRequest {} */
export type EchoRequest = Record<string, never>;

/** message EchoResponse { Assertions assertions = 1; EchoRequest request = 2; } */
export interface EchoResponse {
  assertions?: Assertions;
  request?: EchoRequest;
}

const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_LEN = 2;
const WIRE_FIXED32 = 5;

function varint(n: number): Buffer {
  const bytes: number[] = [];
  for (; n >= 0x80; n = Math.floor(n / 0x80)) bytes.push((n % 0x80) | 0x80);
  bytes.push(n);
  return Buffer.from(bytes);
}

/** Proto3 leaves scalars at their default value off the wire; a present sub-message is written even when empty. */
class Writer {
  private readonly parts: Buffer[] = [];

  string(field: number, value: string): this {
    return value === '' ? this : this.bytes(field, Buffer.from(value, 'utf8'));
  }

  strings(field: number, values: readonly string[]): this {
    for (const v of values) this.bytes(field, Buffer.from(v, 'utf8'));
    return this;
  }

  message(field: number, encoded: Buffer | undefined): this {
    return encoded === undefined ? this : this.bytes(field, encoded);
  }

  private bytes(field: number, value: Buffer): this {
    this.parts.push(varint(field * 8 + WIRE_LEN), varint(value.length), value);
    return this;
  }

  finish(): Buffer {
    return Buffer.concat(this.parts);
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Walks a serialized message and calls onField for every length-delimited
 * field, the only kind these messages have; other fields are unknown and
 * skipped. Malformed input throws, as unmarshalling fails in Go.
 */
function decode(buf: Buffer, onField: (number: number, bytes: Buffer) => void): void {
  let pos = 0;
  const readVarint = (): number => {
    let n = 0;
    for (let shift = 0; shift < 70; shift += 7) {
      if (pos >= buf.length) throw new Error('proto: truncated varint');
      const b = buf[pos++]!;
      n += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) return n;
    }
    throw new Error('proto: varint overflow');
  };
  const skip = (n: number) => {
    if (pos + n > buf.length) throw new Error('proto: truncated field');
    pos += n;
  };
  while (pos < buf.length) {
    const key = readVarint();
    const number = Math.floor(key / 8);
    if (number === 0) throw new Error('proto: invalid field number 0');
    switch (key % 8) {
      case WIRE_VARINT: readVarint(); break;
      case WIRE_FIXED64: skip(8); break;
      case WIRE_FIXED32: skip(4); break;
      case WIRE_LEN: {
        const len = readVarint();
        const start = pos;
        skip(len);
        onField(number, buf.subarray(start, pos));
        break;
      }
      default: throw new Error(`proto: unsupported wire type ${key % 8}`);
    }
  }
}

/** Proto3 strings must be valid UTF-8. */
function str(bytes: Buffer): string {
  return utf8.decode(bytes);
}

export function encodeEchoRequest(_request: EchoRequest): Buffer {
  return Buffer.alloc(0);
}

export function decodeEchoRequest(buf: Buffer): EchoRequest {
  decode(buf, () => {});
  return {};
}

function encodeContext(c: Context): Buffer {
  return new Writer().string(1, c.namespace).string(2, c.ingress).string(3, c.serviceName).string(4, c.pod).finish();
}

function encodeTLSAssertions(a: TLSAssertions): Buffer {
  return new Writer().string(1, a.version).string(2, a.negotiatedProtocol).string(3, a.serverName).string(4, a.cipherSuite)
    .strings(5, a.peerCertificates).finish();
}

function encodeAssertions(a: Assertions): Buffer {
  const w = new Writer().string(1, a.fullyQualifiedMethod);
  for (const h of a.headers) w.message(2, new Writer().string(1, h.key).string(2, h.value).finish());
  return w.string(3, a.authority)
    .message(4, a.context && encodeContext(a.context))
    .message(5, a.tlsAssertions && encodeTLSAssertions(a.tlsAssertions))
    .finish();
}

export function encodeEchoResponse(r: EchoResponse): Buffer {
  return new Writer()
    .message(1, r.assertions && encodeAssertions(r.assertions))
    .message(2, r.request && encodeEchoRequest(r.request))
    .finish();
}

function decodeHeader(buf: Buffer): Header {
  const h: Header = { key: '', value: '' };
  decode(buf, (n, b) => {
    if (n === 1) h.key = str(b);
    else if (n === 2) h.value = str(b);
  });
  return h;
}

function decodeContext(buf: Buffer): Context {
  const c: Context = { namespace: '', ingress: '', serviceName: '', pod: '' };
  const names = [undefined, 'namespace', 'ingress', 'serviceName', 'pod'] as const;
  decode(buf, (n, b) => {
    const name = names[n];
    if (name) c[name] = str(b);
  });
  return c;
}

function decodeTLSAssertions(buf: Buffer): TLSAssertions {
  const a: TLSAssertions = { version: '', negotiatedProtocol: '', serverName: '', cipherSuite: '', peerCertificates: [] };
  const names = [undefined, 'version', 'negotiatedProtocol', 'serverName', 'cipherSuite'] as const;
  decode(buf, (n, b) => {
    const name = names[n];
    if (name) a[name] = str(b);
    else if (n === 5) a.peerCertificates.push(str(b));
  });
  return a;
}

function decodeAssertions(buf: Buffer): Assertions {
  const a: Assertions = { fullyQualifiedMethod: '', headers: [], authority: '' };
  decode(buf, (n, b) => {
    if (n === 1) a.fullyQualifiedMethod = str(b);
    else if (n === 2) a.headers.push(decodeHeader(b));
    else if (n === 3) a.authority = str(b);
    else if (n === 4) a.context = decodeContext(b);
    else if (n === 5) a.tlsAssertions = decodeTLSAssertions(b);
  });
  return a;
}

export function decodeEchoResponse(buf: Buffer): EchoResponse {
  const r: EchoResponse = {};
  decode(buf, (n, b) => {
    if (n === 1) r.assertions = decodeAssertions(b);
    else if (n === 2) r.request = decodeEchoRequest(b);
  });
  return r;
}
