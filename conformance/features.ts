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
export const SupportBackendTLSPolicy = 'BackendTLSPolicy';
export const SupportBackendTLSPolicySANValidation = 'BackendTLSPolicySANValidation';
export const SupportGatewayBackendClientCertificate = 'GatewayBackendClientCertificate';
// Upstream's GATEWAY-GRPC profile does not list it, so GRPCRouteNamedRule counts towards no profile's report.
export const SupportGRPCRouteNamedRouteRule = 'GRPCRouteNamedRouteRule';

const gatewayExtended = [
  'GatewayPort8080', 'GatewayStaticAddresses', 'GatewayHTTPListenerIsolation',
  'GatewayHTTPSListenerDetectMisdirectedRequests', 'GatewayInfrastructurePropagation',
  'GatewayAddressEmpty', SupportGatewayBackendClientCertificate,
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

const backendTLSPolicy = [SupportBackendTLSPolicy, SupportBackendTLSPolicySANValidation];
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

/**
 * What a run reports and tests, standing in for upstream's
 * --conformance-profiles: the profiles with a ported test whose route kind
 * the implementation claims (in its GatewayClass status or
 * --supported-features), and the claimed features plus, as upstream adds
 * them, those profiles' core features. With no claims to go by (--run-test
 * alone), every profile with a ported test.
 */
export function profilesAndFeaturesUnderTest(
  ported: readonly ConformanceProfile[], claimed: ReadonlySet<FeatureName> | undefined,
): { profiles: ConformanceProfile[]; supported: Set<FeatureName> } {
  const selected = ported.filter((p) => claimed === undefined || claimed.has(p.routeFeature));
  const supported = new Set(claimed);
  for (const p of selected) for (const f of p.core) supported.add(f);
  return { profiles: selected, supported };
}

/** A test belongs to every profile that covers all of its features, core or extended. */
export function profilesForTest(features: readonly FeatureName[], selected: readonly ConformanceProfile[]): ConformanceProfile[] {
  return selected.filter((p) => features.every((f) => p.core.has(f) || p.extended.has(f)));
}

export function isExtendedIn(profile: ConformanceProfile, features: readonly FeatureName[]): boolean {
  return features.some((f) => !profile.core.has(f));
}
