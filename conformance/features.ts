// Feature names and conformance profiles, from upstream pkg/features and
// conformance/utils/suite/profiles.go at v1.6.1.

export type FeatureName = string;

export const SupportGateway = 'Gateway';
export const SupportHTTPRoute = 'HTTPRoute';
export const SupportReferenceGrant = 'ReferenceGrant';
export const SupportTLSRoute = 'TLSRoute';
export const SupportTLSRouteModeTerminate = 'TLSRouteModeTerminate';
export const SupportTLSRouteModeMixed = 'TLSRouteModeMixed';
export const SupportTCPRoute = 'TCPRoute';
export const SupportUDPRoute = 'UDPRoute';
export const SupportListenerSet = 'ListenerSet';
export const SupportGRPCRoute = 'GRPCRoute';

const gatewayExtended = [
  'GatewayPort8080', 'GatewayStaticAddresses', 'GatewayHTTPListenerIsolation',
  'GatewayHTTPSListenerDetectMisdirectedRequests', 'GatewayInfrastructurePropagation',
  'GatewayAddressEmpty', 'GatewayBackendClientCertificate',
  'GatewayFrontendClientCertificateValidation',
  'GatewayFrontendClientCertificateValidationInsecureFallback', SupportListenerSet,
];

const httpRouteExtended = [
  'HTTPRouteDestinationPortMatching', 'HTTPRouteBackendRequestHeaderModification',
  'HTTPRouteQueryParamMatching', 'HTTPRouteMethodMatching', 'HTTPRouteResponseHeaderModification',
  'HTTPRoutePortRedirect', 'HTTPRouteSchemeRedirect', 'HTTPRoutePathRedirect',
  'HTTPRouteHostRewrite', 'HTTPRoutePathRewrite', 'HTTPRouteRequestMirror',
  'HTTPRouteRequestMultipleMirrors', 'HTTPRouteRequestPercentageMirror', 'HTTPRouteRequestTimeout',
  'HTTPRouteBackendTimeout', 'HTTPRouteParentRefPort', 'HTTPRouteBackendProtocolH2C',
  'HTTPRouteBackendProtocolWebSocket', 'HTTPRouteNamedRouteRule', 'HTTPRouteCORS',
  'HTTPRoute303RedirectStatusCode', 'HTTPRoute307RedirectStatusCode', 'HTTPRoute308RedirectStatusCode',
  'HTTPRouteRetry', 'HTTPRouteRetryBackendTimeout', 'HTTPRouteRetryConnectionError',
];

const backendTLSPolicy = ['BackendTLSPolicy', 'BackendTLSPolicySANValidation'];
const tlsRouteExtended = [SupportTLSRouteModeTerminate, SupportTLSRouteModeMixed];

/** Mesh features never count as GatewayClass features (upstream drops them when inferring). */
export const meshFeatures = new Set([
  'Mesh', 'MeshClusterIPMatching', 'MeshConsumerRoute', 'MeshHTTPRouteRewritePath',
  'MeshHTTPRouteSchemeRedirect', 'MeshHTTPRouteRedirectPort', 'MeshHTTPRouteRedirectPath',
  'MeshHTTPRouteBackendRequestHeaderModification', 'MeshHTTPRouteQueryParamMatching',
  'MeshHTTPRouteNamedRouteRule',
]);

export interface ConformanceProfile {
  name: string;
  /** The route kind the profile is about; the report covers a profile once a test of that kind is ported. */
  routeFeature: FeatureName;
  core: ReadonlySet<FeatureName>;
  extended: ReadonlySet<FeatureName>;
}

export const profiles: readonly ConformanceProfile[] = [
  {
    name: 'GATEWAY-HTTP',
    routeFeature: SupportHTTPRoute,
    core: new Set([SupportGateway, SupportReferenceGrant, SupportHTTPRoute]),
    extended: new Set([...gatewayExtended, ...httpRouteExtended, ...backendTLSPolicy]),
  },
  {
    name: 'GATEWAY-TLS',
    routeFeature: SupportTLSRoute,
    core: new Set([SupportGateway, SupportReferenceGrant, SupportTLSRoute]),
    extended: new Set([...gatewayExtended, ...tlsRouteExtended]),
  },
  {
    // Upstream lists TCPRoute (and UDPRoute below) as both core and extended feature of its profile.
    name: 'GATEWAY-TCP',
    routeFeature: SupportTCPRoute,
    core: new Set([SupportGateway, SupportTCPRoute, SupportReferenceGrant]),
    extended: new Set([...gatewayExtended, SupportTCPRoute]),
  },
  {
    name: 'GATEWAY-UDP',
    routeFeature: SupportUDPRoute,
    core: new Set([SupportGateway, SupportUDPRoute, SupportReferenceGrant]),
    extended: new Set([...gatewayExtended, SupportUDPRoute]),
  },
  {
    name: 'GATEWAY-GRPC',
    routeFeature: SupportGRPCRoute,
    core: new Set([SupportGateway, SupportReferenceGrant, SupportGRPCRoute]),
    extended: new Set(gatewayExtended),
  },
];

/** A test belongs to every profile that covers all of its features, core or extended. */
export function profilesForTest(features: readonly FeatureName[], selected: readonly ConformanceProfile[]): ConformanceProfile[] {
  return selected.filter((p) => features.every((f) => p.core.has(f) || p.extended.has(f)));
}

export function isExtendedIn(profile: ConformanceProfile, features: readonly FeatureName[]): boolean {
  return features.some((f) => !profile.core.has(f));
}
