// Features Archway implements, as named by the conformance suite. Advertised
// in GatewayClass status.supportedFeatures (GEP-2162) so that conformance
// runs can infer them; add a name only when its tests pass.
export const SUPPORTED_FEATURES = ['Gateway', 'HTTPRoute', 'ReferenceGrant'] as const;
