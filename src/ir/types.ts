// The intermediate representation: what the data plane serves. Plain,
// JSON-serialisable data with no Gateway API objects in it, so it can be sent
// to worker processes or data-plane pods unchanged.

export const IR_VERSION = 1;

export interface IRConfig {
  irVersion: typeof IR_VERSION;
  /** One server per bound (address, port). */
  servers: IRServer[];
  /** Upstream clusters referenced by name from route actions. */
  clusters: Record<string, IRCluster>;
}

export interface IRServer {
  /** `address:port` (`address:port/udp` for UDP, which may share a port number with TCP); unique within the config. */
  id: string;
  address: string;
  port: number;
  /**
   * HTTP and HTTPS serve `virtualHosts`; TLS routes connections by the
   * ClientHello's server name (`tlsRoutes`); TCP and UDP send every
   * connection or client session to `streamRoute`.
   */
  protocol: 'HTTP' | 'HTTPS' | 'TLS' | 'TCP' | 'UDP';
  /** `namespace/name` of the Gateway that owns the socket, for logs and metrics. */
  owner: string;
  /**
   * Labels and annotations for whatever runs this server: the Gateway's
   * spec.infrastructure ones plus `gateway.networking.k8s.io/gateway-name`.
   * Standalone they are informational; in Kubernetes they go on the
   * provisioned data-plane objects.
   */
  metadata?: { labels: Record<string, string>; annotations: Record<string, string> };
  /** Present when protocol is HTTPS. */
  tls?: IRServerTLS;
  /**
   * Virtual hosts, most specific first: exact hostnames, then wildcards by
   * length, then `*`. A request uses the first virtual host its Host matches
   * and never falls through to a less specific one.
   */
  virtualHosts: IRVirtualHost[];
  /**
   * TLS only: routes by server name, in the same specificity order as
   * virtual hosts. A connection whose server name matches none (or that
   * sends none and there is no `*` entry) is closed.
   */
  tlsRoutes?: IRTLSRoute[];
  /** TCP and UDP only: absent when no route is attached, and then connections are closed and datagrams dropped. */
  streamRoute?: IRStreamRoute;
}

export interface IRTLSRoute {
  /** Exact name, `*.suffix` (one or more labels), or `*`. */
  hostname: string;
  /** `tlsroute/<namespace>/<name>`, for logs and metrics. */
  name: string;
  /**
   * Absent: passthrough; the client's TLS bytes, ClientHello included, go
   * to the backend untouched. Present: TLS is terminated here with these
   * certificates and the plaintext bytes go to the backend.
   */
  terminate?: IRServerTLS;
  backends: IRStreamBackend[];
}

export interface IRStreamRoute {
  /** `tcproute/<namespace>/<name>` or `udproute/<namespace>/<name>`. */
  name: string;
  backends: IRStreamBackend[];
}

export interface IRStreamBackend {
  /** Weight-0 entries are omitted by the translator. */
  weight: number;
  /** Absent when the backendRef is invalid: a connection that picks it is closed, a datagram dropped. */
  cluster?: string;
}

export interface IRServerTLS {
  /**
   * Certificates selected by SNI: the first whose hostname pattern matches
   * (same specificity order as virtual hosts); the first entry is also the
   * default for clients that send no SNI or an unknown name.
   */
  certificates: IRCertificate[];
  /** Client certificates asked for and checked (Gateway spec.tls.frontend, resolved for this port). */
  clientValidation?: IRClientValidation;
  /**
   * Answer 421 to a request whose Host belongs to another listener of this
   * port than the one its connection's server name chose (a coalesced
   * connection): each entry is one listener's hostname pattern, in the same
   * specificity order as virtual hosts.
   */
  listenerHostnames?: string[];
}

export interface IRClientValidation {
  /** PEM bundle of the CAs a client certificate must chain to. */
  caPem: string;
  /**
   * AllowValidOnly: a connection without a valid client certificate fails
   * the handshake. AllowInsecureFallback: it is served anyway.
   */
  mode: 'AllowValidOnly' | 'AllowInsecureFallback';
}

export interface IRCertificate {
  /** Exact name, `*.suffix`, or `*` for any. */
  hostname: string;
  certPem: string;
  keyPem: string;
}

export interface IRVirtualHost {
  /** Exact name, `*.suffix` (matches one or more labels), or `*`. */
  hostname: string;
  /** Rules in precedence order; the first whose match accepts the request wins. */
  routes: IRRoute[];
}

export interface IRRoute {
  /** Stable identifier: `httproute/<ns>/<name>/rule/<i>/match/<j>`. */
  name: string;
  /** The rule's `name`, when it has one (for logs and metrics). */
  ruleName?: string;
  match: IRMatch;
  /** Applied to the request before forwarding. */
  requestHeaders?: IRHeaderMutation;
  /** Applied to the response before it is sent to the client (also to local responses). */
  responseHeaders?: IRHeaderMutation;
  /** Rewrites the forwarded request (never the client-visible URL). */
  urlRewrite?: IRURLRewrite;
  /** Copies of the request sent fire-and-forget; responses are discarded. */
  mirrors?: IRMirror[];
  /** Answered at the gateway: preflight requests, and CORS headers on actual responses. */
  cors?: IRCors;
  timeouts?: IRTimeouts;
  retry?: IRRetry;
  action: IRAction;
}

export type IRPathModifier =
  | { type: 'ReplaceFullPath'; value: string }
  /** Replaces the `prefix` the request matched (a PathPrefix match value) with `value`, segment-wise. */
  | { type: 'ReplacePrefixMatch'; value: string; prefix: string };

export interface IRURLRewrite {
  /** Sent as Host to the backend. */
  hostname?: string;
  path?: IRPathModifier;
}

export interface IRMirror {
  /** Mirrors whose backendRef is invalid are left out by the translator. */
  cluster: string;
  /** Share of requests mirrored, 0..1 (1 = every request). */
  fraction: number;
}

export interface IRCors {
  /** `*`, or origins `scheme://host[:port]` where host may start with `*.`. */
  allowOrigins: string[];
  allowCredentials: boolean;
  /** Methods, or [`*`]. */
  allowMethods: string[];
  /** Header names, or [`*`]. */
  allowHeaders: string[];
  exposeHeaders: string[];
  /** Seconds a preflight answer may be cached. */
  maxAgeSeconds: number;
}

export interface IRTimeouts {
  /** Whole request, from arrival until the response is complete; 504 when it expires before response headers. */
  requestMs?: number;
  /** Each attempt to the backend; 504 when it expires before headers. */
  backendRequestMs?: number;
}

export interface IRRetry {
  /** Status codes that make an attempt retryable (connection errors always are). */
  codes: number[];
  /** Total attempts including the first. */
  attempts: number;
  /** Wait before each retry. */
  backoffMs: number;
}

export interface IRMatch {
  path: { type: 'Exact' | 'PathPrefix' | 'RegularExpression'; value: string };
  headers?: IRStringMatch[];
  queryParams?: IRStringMatch[];
  method?: string;
}

export interface IRStringMatch {
  /** Header names are lower-cased by the translator; query names are kept as is. */
  name: string;
  type: 'Exact' | 'RegularExpression';
  value: string;
}

export interface IRHeaderMutation {
  /** Names lower-cased. */
  set?: { name: string; value: string }[];
  add?: { name: string; value: string }[];
  remove?: string[];
}

export type IRAction = IRForwardAction | IRRedirectAction | IRDirectResponseAction;

export interface IRForwardAction {
  type: 'forward';
  /** Weighted choice; weight-0 entries are omitted by the translator. */
  backends: IRWeightedBackend[];
}

export interface IRWeightedBackend {
  weight: number;
  /** Cluster name, or absent when the backendRef is invalid: such picks answer `invalidStatus`. */
  cluster?: string;
  /** Status served when this backend is picked but invalid (500 per spec). */
  invalidStatus?: number;
  /** backendRef-level filters, applied after the route's own. */
  requestHeaders?: IRHeaderMutation;
  responseHeaders?: IRHeaderMutation;
}

export interface IRRedirectAction {
  type: 'redirect';
  statusCode: number;
  /** Absent: keep the request's scheme. */
  scheme?: string;
  /** Absent: keep the request's host (without its port). */
  hostname?: string;
  /**
   * Port for Location, resolved by the translator per spec (explicit port,
   * else the scheme's well-known port, else the listener's). The data plane
   * leaves it out of Location when it is the default for the final scheme.
   */
  port?: number;
  /** Absent: keep the request's path. The query string is always kept. */
  path?: IRPathModifier;
}

export interface IRDirectResponseAction {
  type: 'directResponse';
  status: number;
  body?: string;
}

export interface IRCluster {
  /**
   * `namespace/service:port` (`…/udp` for a UDP port); `…/tls` when a
   * BackendTLSPolicy makes connections TLS, and `…/tls/client:<namespace>/<secret>`
   * for a Gateway that presents that client certificate.
   */
  name: string;
  /**
   * `http1`: HTTP/1.1, and Upgrade (WebSocket) passed through when a client asks;
   * `h2c`: HTTP/2 over cleartext with prior knowledge (appProtocol kubernetes.io/h2c);
   * `ws`: WebSocket backend (appProtocol kubernetes.io/ws), HTTP/1.1 otherwise.
   */
  protocol: 'http1' | 'h2c' | 'ws';
  endpoints: IREndpoint[];
  /** Present when a BackendTLSPolicy applies: connections to the endpoints are TLS. */
  tls?: IRUpstreamTLS;
}

export interface IRUpstreamTLS {
  /** Sent as SNI; also the name the certificate must match when `subjectAltNames` is absent. */
  serverName: string;
  /** PEM bundle of trusted CAs; absent: the system's trust store (wellKnownCACertificates: System). */
  caPem?: string;
  /** When present, the certificate must carry one of these instead of `serverName`. */
  subjectAltNames?: { type: 'Hostname' | 'URI'; value: string }[];
  /** Presented to the backend (Gateway spec.tls.backend.clientCertificateRef). */
  clientCertificate?: { certPem: string; keyPem: string };
}

export interface IREndpoint {
  address: string;
  port: number;
}

