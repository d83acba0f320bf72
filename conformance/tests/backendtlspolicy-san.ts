import { SupportBackendTLSPolicy, SupportBackendTLSPolicySANValidation, SupportGateway, SupportHTTPRoute } from '../features.js';
import { InfrastructureNamespace } from '../harness/suite.js';
import { makeRequestAndExpectEventuallyConsistentResponse, makeRequestAndExpectFailure, type ExpectedResponse } from '../utils/http.js';
import {
  backendTLSPolicyMustHaveCondition, gatewayAndRoutesMustBeAccepted, httpRouteMustHaveResolvedRefsConditionsTrue,
  namespacesMustBeReady, newGatewayRef, type ExpectedCondition,
} from '../utils/kubernetes.js';
import type { ConformanceTest } from './types.js';

export const BackendTLSPolicySANValidation: ConformanceTest = {
  shortName: 'BackendTLSPolicySANValidation',
  description: 'BackendTLSPolicySANValidation extend BackendTLSPolicy with SubjectAltNames validation',
  features: [SupportGateway, SupportHTTPRoute, SupportBackendTLSPolicy, SupportBackendTLSPolicySANValidation],
  manifests: ['tests/backendtlspolicy-san.yaml'],
  test: async (t, s) => {
    const ns = InfrastructureNamespace;
    const routeNN = { name: 'backendtlspolicy-san-test', namespace: ns };
    const gwNN = { name: 'same-namespace', namespace: ns };
    await namespacesMustBeReady(t, s, [ns]);
    const gwAddr = await gatewayAndRoutesMustBeAccepted(t, s, s.controllerName, newGatewayRef(gwNN), 'HTTPRoute', false, routeNN);
    await httpRouteMustHaveResolvedRefsConditionsTrue(t, s, routeNN, gwNN);

    const policyCond: ExpectedCondition = { type: 'Accepted', status: 'True', reason: 'Accepted' };
    const serverStr = 'abc.example.com';
    const request = (path: string, ok: boolean): ExpectedResponse => ({
      namespace: ns, request: { host: serverStr, path, sni: serverStr }, ...(ok ? { response: { statusCodes: [200] } } : {}),
    });
    const cases: [string, string, string, boolean][] = [
      ['HTTP request sent to Service with valid BackendTLSPolicy containing dns SAN should succeed', 'san-dns', '/backendtlspolicy-san-dns', true],
      ['HTTP request sent to Service targeted by BackendTLSPolicy with mismatched dns SAN should return an HTTP error', 'san-dns-mismatch', '/backendtlspolicy-san-dns-mismatch', false],
      ['HTTP request sent to Service with valid BackendTLSPolicy containing uri SAN should succeed', 'san-uri', '/backendtlspolicy-san-uri', true],
      ['HTTP request sent to Service targeted by BackendTLSPolicy with mismatched uri SAN should return an HTTP error', 'san-uri-mismatch', '/backendtlspolicy-san-uri-mismatch', false],
      ['HTTP request sent to Service with valid BackendTLSPolicy containing multi SAN should succeed', 'multiple-sans', '/backendtlspolicy-multiple-sans', true],
      ['HTTP request sent to Service targeted by BackendTLSPolicy with mismatched multi SAN should return an HTTP error', 'multiple-mismatch-sans', '/backendtlspolicy-multiple-mismatch-sans', false],
    ];
    for (const [name, policy, path, ok] of cases) {
      await t.run(name, async (t) => {
        await backendTLSPolicyMustHaveCondition(t, s, { name: policy, namespace: ns }, gwNN, policyCond);
        if (ok) await makeRequestAndExpectEventuallyConsistentResponse(t, s, gwAddr, request(path, true));
        else await makeRequestAndExpectFailure(t, s, gwAddr, request(path, false));
      });
    }
  },
};
