import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BackendTLSPolicy } from './backendtlspolicy.js';
import { BackendTLSPolicyConflictResolution } from './backendtlspolicy-conflict-resolution.js';
import { BackendTLSPolicyInvalidCACertificateRef } from './backendtlspolicy-invalid-ca-certificate-ref.js';
import { BackendTLSPolicyInvalidKind } from './backendtlspolicy-invalid-kind.js';
import { BackendTLSPolicyObservedGenerationBump } from './backendtlspolicy-observed-generation-bump.js';
import { BackendTLSPolicySANValidation } from './backendtlspolicy-san.js';
import { GatewayInvalidTLSBackendConfiguration } from './gateway-invalid-tls-backend-configuration.js';
import { GatewayTLSBackendClientCertificate } from './gateway-tls-backend-client-certificate.js';
import { GatewayListenerUnsupportedProtocol } from './gateway-invalid-listeners-unsupported-protocol.js';
import { GatewayInvalidParametersRef } from './gateway-invalid-parameters-ref.js';
import { GatewayInvalidRouteKind } from './gateway-invalid-route-kind.js';
import { GatewayInvalidTLSConfiguration } from './gateway-invalid-tls-configuration.js';
import { GatewayModifyListeners } from './gateway-modify-listeners.js';
import { GatewayObservedGenerationBump } from './gateway-observed-generation-bump.js';
import { GatewayWithAttachedRoutes, GatewayWithAttachedRoutesWithPort8080 } from './gateway-with-attached-routes.js';
import {
  GatewaySecretInvalidReferenceGrant, GatewaySecretMissingReferenceGrant,
  GatewaySecretReferenceGrantAllInNamespace, GatewaySecretReferenceGrantSpecific,
} from './gateway-secret-reference-grant.js';
import { GatewayClassObservedGenerationBump } from './gatewayclass-observed-generation-bump.js';
import { GRPCExactMethodMatching } from './grpcroute-exact-method-matching.js';
import { GRPCRouteHeaderMatching } from './grpcroute-header-matching.js';
import { GRPCRouteListenerHostnameMatching } from './grpcroute-listener-hostname-matching.js';
import { GRPCRouteNamedRule } from './grpcroute-named-rule.js';
import { GRPCRouteWeight } from './grpcroute-weight.js';
import { HTTPRouteCrossNamespace } from './httproute-cross-namespace.js';
import { HTTPRouteExactPathMatching } from './httproute-exact-path-matching.js';
import { HTTPRouteHeaderMatching } from './httproute-header-matching.js';
import { HTTPRouteHostnameIntersection } from './httproute-hostname-intersection.js';
import { HTTPRouteHTTPSListener } from './httproute-https-listener.js';
import { HTTPRouteInvalidBackendRefUnknownKind } from './httproute-invalid-backendref-unknown-kind.js';
import { HTTPRouteInvalidCrossNamespaceBackendRef } from './httproute-invalid-cross-namespace-backend-ref.js';
import { HTTPRouteInvalidCrossNamespaceParentRef } from './httproute-invalid-cross-namespace-parent-ref.js';
import { HTTPRouteInvalidNonExistentBackendRef } from './httproute-invalid-nonexistent-backendref.js';
import { HTTPRouteInvalidParentRefNotMatchingSectionName } from './httproute-invalid-parentref-not-matching-section-name.js';
import { HTTPRouteInvalidReferenceGrant } from './httproute-invalid-reference-grant.js';
import { HTTPRouteListenerHostnameMatching } from './httproute-listener-hostname-matching.js';
import { HTTPRouteMatching } from './httproute-matching.js';
import { HTTPRouteMatchingAcrossRoutes } from './httproute-matching-across-routes.js';
import { HTTPRouteMultipleGateways } from './httproute-multiple-gateways.js';
import { HTTPRouteObservedGenerationBump } from './httproute-observed-generation-bump.js';
import { HTTPRouteNoBackendRefs } from './httproute-omitted-backendrefs.js';
import { HTTPRoutePartiallyInvalidViaInvalidReferenceGrant } from './httproute-partially-invalid-via-invalid-reference-grant.js';
import { HTTPRoutePathMatchOrder } from './httproute-path-match-order.js';
import { HTTPRouteRedirectHostAndStatus } from './httproute-redirect-host-and-status.js';
import { HTTPRouteReferenceGrant } from './httproute-reference-grant.js';
import { HTTPRouteBackendRequestHeaderModifier, HTTPRouteRequestHeaderModifier } from './httproute-request-header-modifier.js';
import { HTTPRouteServiceTypes } from './httproute-service-types.js';
import { HTTPRouteSimpleSameNamespace } from './httproute-simple-same-namespace.js';
import { HTTPRouteWeight } from './httproute-weight.js';
import { GatewayOptionalAddressValue, GatewayStaticAddresses } from './gateway-addresses.js';
import { GatewayHTTPListenerIsolation } from './gateway-http-listener-isolation.js';
import { GatewayFrontendInvalidDefaultClientCertificateValidation } from './gateway-invalid-default-frontend-client-certificate-validation.js';
import { GatewayFrontendClientCertificateValidation } from './gateway-with-clientcertificate-validation.js';
import { GatewayFrontendClientCertificateValidationInsecureFallback } from './gateway-with-clientcertificate-validation-insecure-fallback.js';
import { GatewayInvalidFrontendClientCertificateValidation } from './gateway-with-invalid-clientcertificate-validation.js';
import { GatewayInfrastructure } from './gateway-infrastructure.js';
import { HTTPRouteBackendProtocolH2C, HTTPRouteBackendProtocolWebSocket } from './httproute-backend-protocol.js';
import { HTTPRouteCORS } from './httproute-cors.js';
import { HTTPRouteHTTPSListenerDetectMisdirectedRequests } from './httproute-https-listener-detect-misdirected-requests.js';
import { HTTPRouteInvalidParentRefNotMatchingListenerPort, HTTPRouteInvalidParentRefSectionNameNotMatchingPort } from './httproute-invalid-parentref-port.js';
import { HTTPRouteListenerPortMatching } from './httproute-listener-port-matching.js';
import { HTTPRouteMethodMatching } from './httproute-method-matching.js';
import { HTTPRouteNamedRule } from './httproute-named-rule.js';
import { HTTPRouteQueryParamMatching } from './httproute-query-param-matching.js';
import { HTTPRouteRedirectPath } from './httproute-redirect-path.js';
import { HTTPRouteRedirectPort } from './httproute-redirect-port.js';
import { HTTPRouteRedirectPortAndScheme } from './httproute-redirect-port-and-scheme.js';
import { HTTPRouteRedirectScheme } from './httproute-redirect-scheme.js';
import { HTTPRoute303Redirect, HTTPRoute307Redirect, HTTPRoute308Redirect } from './httproute-redirect-status-codes.js';
import { HTTPRouteRequestHeaderModifierBackendWeights } from './httproute-request-header-modifier-backend-weights.js';
import { HTTPRouteRequestMirror, HTTPRouteRequestMultipleMirrors, HTTPRouteRequestPercentageMirror } from './httproute-request-mirror.js';
import { HTTPRouteResponseHeaderModifier } from './httproute-response-header-modifier.js';
import { HTTPRouteRetry } from './httproute-retry.js';
import { HTTPRouteRewriteHost } from './httproute-rewrite-host.js';
import { HTTPRouteRewritePath } from './httproute-rewrite-path.js';
import { HTTPRouteTimeoutBackendRequest, HTTPRouteTimeoutRequest } from './httproute-timeouts.js';
import {
  ListenerSetAllowedNamespaceNone, ListenerSetAllowedNamespaceSame, ListenerSetAllowedNamespaceSelector, ListenerSetAllowedRoutesNamespaces,
  ListenerSetAllowedRoutesSupportedKinds,
  ListenerSetDefaultNotAllowed, ListenerSetDualParentRefIndependence, ListenerSetGatewayParentSectionNameNotFound, ListenerSetHostnameConflict,
  ListenerSetHTTPRouting, ListenerSetProtocolConflict, ListenerSetReferenceGrant, ListenerSetRouteStatusScopedToParentRef,
} from './listenerset.js';
import { HTTPRouteDisallowedKind } from './httproute-disallowed-kind.js';
import { TCPRouteInvalidBackendRefNonexistent } from './tcproute-invalid-backendref-nonexistent.js';
import { TCPRouteInvalidCrossNamespaceBackendRef } from './tcproute-invalid-cross-namespace-backend-ref.js';
import { TCPRouteInvalidNonTCPListener } from './tcproute-invalid-non-tcp-listener.js';
import { TCPRouteMultipleRoutesAttachment } from './tcproute-multiple-routes-attachment.js';
import { TCPRouteParentRefAttachAll } from './tcproute-parentref-attach-all.js';
import { TCPRouteParentRefPortAndSectionName } from './tcproute-parentref-port-and-section-name.js';
import { TCPRouteReferenceGrant } from './tcproute-reference-grant.js';
import { TCPRouteWeightedRouting } from './tcproute-weighted-routing.js';
import { TLSRouteHostnameIntersection } from './tlsroute-hostname-intersection.js';
import { TLSRouteInvalidBackendRefNonexistent, TLSRouteInvalidBackendRefUnknownKind } from './tlsroute-invalid-backendref.js';
import { TLSRouteInvalidNoMatchingListener } from './tlsroute-invalid-no-matching-listener.js';
import { TLSRouteInvalidNoMatchingListenerHostname } from './tlsroute-invalid-no-matching-listener-hostname.js';
import { TLSRouteInvalidReferenceGrant } from './tlsroute-invalid-reference-grant.js';
import { TLSRouteListenerMixedTerminationNotSupported } from './tlsroute-listener-mixed-termination-not-supported.js';
import { TLSRouteListenerPassthroughSupportedKinds } from './tlsroute-listener-passthrough-supported-kinds.js';
import { TLSRouteListenerTerminateNotSupported } from './tlsroute-listener-terminate-not-supported.js';
import { TLSRouteListenerTerminateSupportedKinds } from './tlsroute-listener-terminate-supported-kinds.js';
import { TLSRouteMixedTerminationSameNamespace } from './tlsroute-mixed-termination-same-namespace.js';
import { TLSRouteSimpleSameNamespace } from './tlsroute-simple-same-namespace.js';
import { TLSRouteTerminateSimpleSameNamespace } from './tlsroute-terminate-simple-same-namespace.js';
import type { ConformanceTest } from './types.js';
import { UDPRouteInvalidBackendRefNonexistent } from './udproute-invalid-backendref-nonexistent.js';
import { UDPRouteInvalidCrossNamespaceBackendRef } from './udproute-invalid-cross-namespace-backend-ref.js';
import { UDPRouteMultipleRoutesAttachment } from './udproute-multiple-routes-attachment.js';
import { UDPRouteNotAllowedByListeners } from './udproute-not-allowed-by-listeners.js';
import { UDPRouteParentRefAttachAllListeners } from './udproute-parentref-attach-all-listeners.js';
import { UDPRouteParentRefPortAndSectionName } from './udproute-parentref-port-and-section-name.js';
import { UDPRouteReferenceGrant } from './udproute-reference-grant.js';
import { UDPRouteTest } from './udproute-simple.js';
import { UDPRouteWeightedRouting } from './udproute-weighted-routing.js';

const implemented: readonly ConformanceTest[] = [
  GatewayListenerUnsupportedProtocol,
  GatewayInvalidParametersRef,
  GatewayInvalidRouteKind,
  GatewayInvalidTLSConfiguration,
  GatewayModifyListeners,
  GatewayObservedGenerationBump,
  GatewaySecretInvalidReferenceGrant,
  GatewaySecretMissingReferenceGrant,
  GatewaySecretReferenceGrantAllInNamespace,
  GatewaySecretReferenceGrantSpecific,
  GatewayWithAttachedRoutes,
  GatewayClassObservedGenerationBump,
  HTTPRouteCrossNamespace,
  HTTPRouteExactPathMatching,
  HTTPRouteHeaderMatching,
  HTTPRouteHostnameIntersection,
  HTTPRouteHTTPSListener,
  HTTPRouteInvalidBackendRefUnknownKind,
  HTTPRouteInvalidCrossNamespaceBackendRef,
  HTTPRouteInvalidCrossNamespaceParentRef,
  HTTPRouteInvalidNonExistentBackendRef,
  HTTPRouteInvalidParentRefNotMatchingSectionName,
  HTTPRouteInvalidReferenceGrant,
  HTTPRouteListenerHostnameMatching,
  HTTPRouteMatching,
  HTTPRouteMatchingAcrossRoutes,
  HTTPRouteMultipleGateways,
  HTTPRouteObservedGenerationBump,
  HTTPRouteNoBackendRefs,
  HTTPRoutePartiallyInvalidViaInvalidReferenceGrant,
  HTTPRoutePathMatchOrder,
  HTTPRouteRedirectHostAndStatus,
  HTTPRouteReferenceGrant,
  HTTPRouteRequestHeaderModifier,
  HTTPRouteServiceTypes,
  HTTPRouteSimpleSameNamespace,
  HTTPRouteWeight,
  // GATEWAY-HTTP extended
  GatewayFrontendClientCertificateValidation,
  GatewayFrontendClientCertificateValidationInsecureFallback,
  GatewayFrontendInvalidDefaultClientCertificateValidation,
  GatewayInvalidFrontendClientCertificateValidation,
  GatewayHTTPListenerIsolation,
  GatewayInfrastructure,
  GatewayOptionalAddressValue,
  GatewayStaticAddresses,
  GatewayWithAttachedRoutesWithPort8080,
  HTTPRoute303Redirect,
  HTTPRoute307Redirect,
  HTTPRoute308Redirect,
  HTTPRouteBackendProtocolH2C,
  HTTPRouteBackendProtocolWebSocket,
  HTTPRouteCORS,
  HTTPRouteHTTPSListenerDetectMisdirectedRequests,
  HTTPRouteInvalidParentRefNotMatchingListenerPort,
  HTTPRouteInvalidParentRefSectionNameNotMatchingPort,
  HTTPRouteListenerPortMatching,
  HTTPRouteMethodMatching,
  HTTPRouteNamedRule,
  HTTPRouteQueryParamMatching,
  HTTPRouteRedirectPath,
  HTTPRouteRedirectPortAndScheme,
  HTTPRouteRedirectPort,
  HTTPRouteRedirectScheme,
  HTTPRouteRequestHeaderModifierBackendWeights,
  HTTPRouteBackendRequestHeaderModifier,
  HTTPRouteRequestMirror,
  HTTPRouteRequestMultipleMirrors,
  HTTPRouteRequestPercentageMirror,
  HTTPRouteResponseHeaderModifier,
  HTTPRouteRetry,
  HTTPRouteRewriteHost,
  HTTPRouteRewritePath,
  HTTPRouteTimeoutBackendRequest,
  HTTPRouteTimeoutRequest,
  // GATEWAY-HTTP extended: BackendTLSPolicy and backend client certificates
  BackendTLSPolicy,
  BackendTLSPolicyConflictResolution,
  BackendTLSPolicyInvalidCACertificateRef,
  BackendTLSPolicyInvalidKind,
  BackendTLSPolicyObservedGenerationBump,
  BackendTLSPolicySANValidation,
  GatewayInvalidTLSBackendConfiguration,
  GatewayTLSBackendClientCertificate,
  // ListenerSet
  ListenerSetAllowedNamespaceNone,
  ListenerSetAllowedNamespaceSame,
  ListenerSetAllowedNamespaceSelector,
  ListenerSetAllowedRoutesNamespaces,
  ListenerSetDefaultNotAllowed,
  ListenerSetDualParentRefIndependence,
  ListenerSetGatewayParentSectionNameNotFound,
  ListenerSetHostnameConflict,
  ListenerSetHTTPRouting,
  ListenerSetProtocolConflict,
  ListenerSetReferenceGrant,
  ListenerSetRouteStatusScopedToParentRef,
  // Need TLSRoute
  HTTPRouteDisallowedKind,
  ListenerSetAllowedRoutesSupportedKinds,
  // GATEWAY-TLS
  TLSRouteHostnameIntersection,
  TLSRouteInvalidBackendRefNonexistent,
  TLSRouteInvalidBackendRefUnknownKind,
  TLSRouteInvalidNoMatchingListener,
  TLSRouteInvalidNoMatchingListenerHostname,
  TLSRouteInvalidReferenceGrant,
  TLSRouteListenerMixedTerminationNotSupported,
  TLSRouteListenerPassthroughSupportedKinds,
  TLSRouteListenerTerminateNotSupported,
  TLSRouteListenerTerminateSupportedKinds,
  TLSRouteMixedTerminationSameNamespace,
  TLSRouteSimpleSameNamespace,
  TLSRouteTerminateSimpleSameNamespace,
  // GATEWAY-TCP
  TCPRouteInvalidBackendRefNonexistent,
  TCPRouteInvalidCrossNamespaceBackendRef,
  TCPRouteInvalidNonTCPListener,
  TCPRouteMultipleRoutesAttachment,
  TCPRouteParentRefAttachAll,
  TCPRouteParentRefPortAndSectionName,
  TCPRouteReferenceGrant,
  TCPRouteWeightedRouting,
  // GATEWAY-UDP
  UDPRouteTest,
  UDPRouteInvalidBackendRefNonexistent,
  UDPRouteInvalidCrossNamespaceBackendRef,
  UDPRouteMultipleRoutesAttachment,
  UDPRouteNotAllowedByListeners,
  UDPRouteParentRefAttachAllListeners,
  UDPRouteParentRefPortAndSectionName,
  UDPRouteReferenceGrant,
  UDPRouteWeightedRouting,
  // GATEWAY-GRPC
  GRPCExactMethodMatching,
  GRPCRouteHeaderMatching,
  GRPCRouteListenerHostnameMatching,
  GRPCRouteNamedRule,
  GRPCRouteWeight,
];

/** One line of upstream's tests-and-features.txt, with its port when there is one. */
export interface RegisteredTest {
  shortName: string;
  features: string[];
  provisional: boolean;
  impl?: ConformanceTest;
}

/**
 * Every upstream test, in upstream's order, so that tests without a port are
 * reported as skipped rather than silently left out.
 */
export function loadRegistry(upstreamDir: string): RegisteredTest[] {
  const byName = new Map(implemented.map((t) => [t.shortName, t]));
  const registry: RegisteredTest[] = [];
  for (const line of readFileSync(join(upstreamDir, 'tests-and-features.txt'), 'utf8').split('\n')) {
    const [shortName, ...rest] = line.trim().split(/\s+/);
    if (!shortName) continue;
    const provisional = rest.includes('Provisional');
    const features = rest.filter((w) => w !== 'Provisional').map((w) => w.replace(/^Support/, ''));
    const impl = byName.get(shortName);
    if (impl && [...impl.features].sort().join() !== [...features].sort().join()) {
      throw new Error(`${shortName}: ported with features [${impl.features.join(', ')}] but upstream lists [${features.join(', ')}]`);
    }
    byName.delete(shortName);
    registry.push({ shortName, features, provisional, ...(impl ? { impl } : {}) });
  }
  if (byName.size > 0) throw new Error(`ported tests missing from tests-and-features.txt: ${[...byName.keys()].join(', ')}`);
  return registry;
}
