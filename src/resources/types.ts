// Kubernetes objects as the providers hand them to the translator. Only the
// fields Archway reads are typed; everything arrives already schema-validated.

export interface ObjectMeta {
  name: string;
  namespace?: string;
  generation?: number;
  creationTimestamp?: string;
  uid?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  observedGeneration?: number;
  lastTransitionTime: string;
}

export interface KubeObject<K extends string = string, S = unknown> {
  apiVersion: string;
  kind: K;
  metadata: ObjectMeta;
  spec?: S;
  /** Where the object came from (file:line for the file provider), for messages. */
  source?: string;
}

// ---- Gateway API ---------------------------------------------------------

export interface LocalObjectReference { group: string; kind: string; name: string }

export interface GatewayClassSpec {
  controllerName: string;
  parametersRef?: { group: string; kind: string; name: string; namespace?: string };
  description?: string;
}
export type GatewayClass = KubeObject<'GatewayClass', GatewayClassSpec>;

export interface SecretObjectReference { group?: string; kind?: string; name: string; namespace?: string }

export interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist'; values?: string[] }[];
}

export interface RouteGroupKind { group?: string; kind: string }

export interface AllowedRoutes {
  namespaces?: { from?: 'All' | 'Same' | 'Selector' | 'None'; selector?: LabelSelector };
  kinds?: RouteGroupKind[];
}

export interface ListenerSpec {
  name: string;
  hostname?: string;
  port: number;
  protocol: string;
  tls?: {
    mode?: 'Terminate' | 'Passthrough';
    certificateRefs?: SecretObjectReference[];
    options?: Record<string, string>;
  };
  allowedRoutes?: AllowedRoutes;
}

export interface GatewaySpec {
  gatewayClassName: string;
  listeners: ListenerSpec[];
  /** Which namespaces' ListenerSets may attach (default: none). */
  allowedListeners?: { namespaces?: { from?: 'All' | 'Same' | 'Selector' | 'None'; selector?: LabelSelector } };
  addresses?: { type?: string; value?: string }[];
  infrastructure?: {
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    parametersRef?: { group: string; kind: string; name: string };
  };
  tls?: GatewayTLSConfig;
}
export type Gateway = KubeObject<'Gateway', GatewaySpec>;

export interface GatewayTLSConfig {
  /** The Gateway as a TLS client of its backends; whether a backend gets TLS at all is up to BackendTLSPolicies. */
  backend?: { clientCertificateRef?: SecretObjectReference };
  /** Client certificate validation for the Gateway's HTTPS listeners: `default`, overridden per port. */
  frontend?: { default: FrontendTLSSettings; perPort?: { port: number; tls: FrontendTLSSettings }[] };
}

export interface FrontendTLSSettings {
  validation?: {
    caCertificateRefs: { group: string; kind: string; name: string; namespace?: string }[];
    mode?: 'AllowValidOnly' | 'AllowInsecureFallback';
  };
}

export interface ListenerSetSpec {
  parentRef: { group?: string; kind?: string; namespace?: string; name: string };
  listeners: ListenerSpec[];
}
export type ListenerSet = KubeObject<'ListenerSet', ListenerSetSpec>;

export interface ParentReference {
  group?: string;
  kind?: string;
  namespace?: string;
  name: string;
  sectionName?: string;
  port?: number;
}

export interface HTTPHeader { name: string; value: string }
export interface HTTPHeaderFilter { set?: HTTPHeader[]; add?: HTTPHeader[]; remove?: string[] }

export interface HTTPPathModifier {
  type: 'ReplaceFullPath' | 'ReplacePrefixMatch';
  replaceFullPath?: string;
  replacePrefixMatch?: string;
}

export interface HTTPRouteFilter {
  type: string;
  requestHeaderModifier?: HTTPHeaderFilter;
  responseHeaderModifier?: HTTPHeaderFilter;
  requestRedirect?: {
    scheme?: string;
    hostname?: string;
    path?: HTTPPathModifier;
    port?: number;
    statusCode?: number;
  };
  urlRewrite?: { hostname?: string; path?: HTTPPathModifier };
  requestMirror?: {
    backendRef: BackendObjectReference;
    percent?: number;
    fraction?: { numerator: number; denominator?: number };
  };
  cors?: {
    allowOrigins?: string[];
    allowCredentials?: boolean;
    allowMethods?: string[];
    allowHeaders?: string[];
    exposeHeaders?: string[];
    maxAge?: number;
  };
  extensionRef?: LocalObjectReference;
}

export interface BackendObjectReference {
  group?: string;
  kind?: string;
  name: string;
  namespace?: string;
  port?: number;
}

export interface BackendRef extends BackendObjectReference {
  weight?: number;
}

export interface HTTPBackendRef extends BackendRef {
  filters?: HTTPRouteFilter[];
}

export interface HTTPRouteMatch {
  path?: { type?: 'Exact' | 'PathPrefix' | 'RegularExpression'; value?: string };
  headers?: { type?: 'Exact' | 'RegularExpression'; name: string; value: string }[];
  queryParams?: { type?: 'Exact' | 'RegularExpression'; name: string; value: string }[];
  method?: string;
}

export interface HTTPRouteRule {
  name?: string;
  matches?: HTTPRouteMatch[];
  filters?: HTTPRouteFilter[];
  backendRefs?: HTTPBackendRef[];
  timeouts?: { request?: string; backendRequest?: string };
  retry?: { codes?: number[]; attempts?: number; backoff?: string };
  sessionPersistence?: Record<string, unknown>;
}

export interface HTTPRouteSpec {
  parentRefs?: ParentReference[];
  hostnames?: string[];
  rules?: HTTPRouteRule[];
}
export type HTTPRoute = KubeObject<'HTTPRoute', HTTPRouteSpec>;

export interface GRPCRouteMatch {
  method?: { type?: 'Exact' | 'RegularExpression'; service?: string; method?: string };
  headers?: { type?: 'Exact' | 'RegularExpression'; name: string; value: string }[];
}

/** Its filters are a subset of HTTPRoute's, with the same fields. */
export interface GRPCRouteRule {
  name?: string;
  matches?: GRPCRouteMatch[];
  filters?: HTTPRouteFilter[];
  backendRefs?: HTTPBackendRef[];
  sessionPersistence?: Record<string, unknown>;
}

export interface GRPCRouteSpec {
  parentRefs?: ParentReference[];
  hostnames?: string[];
  rules?: GRPCRouteRule[];
}
export type GRPCRoute = KubeObject<'GRPCRoute', GRPCRouteSpec>;

/** A rule of a TLSRoute, TCPRoute or UDPRoute: no matches, only where connections go. */
export interface StreamRouteRule {
  name?: string;
  backendRefs?: BackendRef[];
}

export interface TLSRouteSpec {
  parentRefs?: ParentReference[];
  /** SNI names; required from v1, optional in v1alpha2. */
  hostnames?: string[];
  rules?: StreamRouteRule[];
}
export type TLSRoute = KubeObject<'TLSRoute', TLSRouteSpec>;

export interface StreamRouteSpec {
  parentRefs?: ParentReference[];
  rules?: StreamRouteRule[];
}
export type TCPRoute = KubeObject<'TCPRoute', StreamRouteSpec>;
export type UDPRoute = KubeObject<'UDPRoute', StreamRouteSpec>;

export interface ReferenceGrantSpec {
  from: { group: string; kind: string; namespace: string }[];
  to: { group: string; kind: string; name?: string }[];
}
export type ReferenceGrant = KubeObject<'ReferenceGrant', ReferenceGrantSpec>;

export interface BackendTLSPolicySpec {
  /** Services in the policy's namespace; `sectionName` names one port of the Service. */
  targetRefs: { group: string; kind: string; name: string; sectionName?: string }[];
  validation: {
    caCertificateRefs?: LocalObjectReference[];
    wellKnownCACertificates?: string;
    hostname: string;
    subjectAltNames?: { type: 'Hostname' | 'URI'; hostname?: string; uri?: string }[];
  };
  options?: Record<string, string>;
}
export type BackendTLSPolicy = KubeObject<'BackendTLSPolicy', BackendTLSPolicySpec>;

// ---- core / discovery -----------------------------------------------------

export type Namespace = KubeObject<'Namespace', unknown>;

export interface ServicePort {
  name?: string;
  port: number;
  targetPort?: number | string;
  protocol?: string;
  appProtocol?: string;
}
export interface ServiceSpec {
  type?: string;
  clusterIP?: string;
  externalName?: string;
  ports?: ServicePort[];
  selector?: Record<string, string>;
}
export type Service = KubeObject<'Service', ServiceSpec>;

export interface EndpointSlice extends KubeObject<'EndpointSlice', never> {
  addressType?: string;
  endpoints?: {
    addresses: string[];
    conditions?: { ready?: boolean; serving?: boolean; terminating?: boolean };
  }[];
  ports?: { name?: string; port?: number; protocol?: string; appProtocol?: string }[];
}

export interface Secret extends KubeObject<'Secret', never> {
  type?: string;
  /** Decoded values: the provider turns base64 `data` and `stringData` into text. */
  data?: Record<string, string>;
}

/** CA bundles for client and backend certificate validation come from ConfigMaps. */
export interface ConfigMap extends KubeObject<'ConfigMap', never> {
  data?: Record<string, string>;
}

/** Everything the translator sees, at one instant. */
export interface Snapshot {
  gatewayClasses: GatewayClass[];
  gateways: Gateway[];
  listenerSets: ListenerSet[];
  httpRoutes: HTTPRoute[];
  grpcRoutes: GRPCRoute[];
  tlsRoutes: TLSRoute[];
  tcpRoutes: TCPRoute[];
  udpRoutes: UDPRoute[];
  referenceGrants: ReferenceGrant[];
  backendTLSPolicies: BackendTLSPolicy[];
  namespaces: Namespace[];
  services: Service[];
  endpointSlices: EndpointSlice[];
  secrets: Secret[];
  configMaps: ConfigMap[];
}

export function emptySnapshot(): Snapshot {
  return {
    gatewayClasses: [], gateways: [], listenerSets: [], httpRoutes: [], grpcRoutes: [], tlsRoutes: [], tcpRoutes: [], udpRoutes: [],
    referenceGrants: [], backendTLSPolicies: [], namespaces: [], services: [], endpointSlices: [], secrets: [], configMaps: [],
  };
}

/** Maps a Kubernetes kind to the snapshot collection that holds it. */
export const SNAPSHOT_KINDS = {
  GatewayClass: 'gatewayClasses',
  Gateway: 'gateways',
  ListenerSet: 'listenerSets',
  HTTPRoute: 'httpRoutes',
  GRPCRoute: 'grpcRoutes',
  TLSRoute: 'tlsRoutes',
  TCPRoute: 'tcpRoutes',
  UDPRoute: 'udpRoutes',
  ReferenceGrant: 'referenceGrants',
  BackendTLSPolicy: 'backendTLSPolicies',
  Namespace: 'namespaces',
  Service: 'services',
  EndpointSlice: 'endpointSlices',
  Secret: 'secrets',
  ConfigMap: 'configMaps',
} as const satisfies Record<string, keyof Snapshot>;

export type SnapshotKind = keyof typeof SNAPSHOT_KINDS;
