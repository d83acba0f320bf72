import { SupportBackendTLSPolicy, SupportGateway, SupportHTTPRoute } from '../features.js';
import { InfrastructureNamespace } from '../harness/suite.js';
import { makeRequestAndExpectEventuallyConsistentResponse, type ExpectedResponse } from '../utils/http.js';
import {
  backendTLSPolicyMustHaveCondition, gatewayAndRoutesMustBeAccepted, httpRouteMustHaveResolvedRefsConditionsTrue,
  namespacesMustBeReady, newGatewayRef, type ExpectedCondition,
} from '../utils/kubernetes.js';
import type { ConformanceTest } from './types.js';

export const BackendTLSPolicyConflictResolution: ConformanceTest = {
  shortName: 'BackendTLSPolicyConflictResolution',
  description: 'Verifies that when multiple BackendTLSPolicies target the same Service, only one policy is accepted while conflicting policies are rejected, and traffic continues to route successfully.',
  features: [SupportGateway, SupportHTTPRoute, SupportBackendTLSPolicy],
  manifests: ['tests/backendtlspolicy-conflict-resolution.yaml'],
  test: async (t, s) => {
    const ns = InfrastructureNamespace;
    const routeNN = { name: 'backendtlspolicy-conflict-resolution', namespace: ns };
    const gwNN = { name: 'same-namespace', namespace: ns };
    await namespacesMustBeReady(t, s, [ns]);
    const gwAddr = await gatewayAndRoutesMustBeAccepted(t, s, s.controllerName, newGatewayRef(gwNN), 'HTTPRoute', false, routeNN);
    await httpRouteMustHaveResolvedRefsConditionsTrue(t, s, routeNN, gwNN);

    const acceptedCond: ExpectedCondition = { type: 'Accepted', status: 'True', reason: 'Accepted' };
    const conflictedCond: ExpectedCondition = { type: 'Accepted', status: 'False', reason: 'Conflicted' };
    const request = (path: string, sni: string): ExpectedResponse => ({
      namespace: ns, request: { host: 'abc.example.com', path, sni }, response: { statusCode: 200 },
    });

    await t.run('Conflicting BackendTLSPolicies targeting the same Service without a section name', async (t) => {
      await t.run('First BackendTLSPolicy should be accepted', (t) =>
        backendTLSPolicyMustHaveCondition(t, s, { name: 'conflicted-without-section-name-1', namespace: ns }, gwNN, acceptedCond));
      // Not specific to BackendTLSPolicy: the conflict-resolution rules of GEP-713.
      await t.run('Second BackendTLSPolicy should have a false Accepted condition with reason Conflicted ', (t) =>
        backendTLSPolicyMustHaveCondition(t, s, { name: 'conflicted-without-section-name-2', namespace: ns }, gwNN, conflictedCond));
      await t.run('HTTP request sent to Service using the accepted BackendTLSPolicy should succeed', (t) =>
        makeRequestAndExpectEventuallyConsistentResponse(t, s, gwAddr, request('/backendtlspolicy-conflicted-without-section-name', 'other.example.com')));
    });

    await t.run('Conflicting BackendTLSPolicies targeting the same Service with the same section name', async (t) => {
      await t.run('First BackendTLSPolicy should be accepted', (t) =>
        backendTLSPolicyMustHaveCondition(t, s, { name: 'conflicted-with-section-name-1', namespace: ns }, gwNN, acceptedCond));
      await t.run('Second BackendTLSPolicy should have a false Accepted condition with reason Conflicted ', (t) =>
        backendTLSPolicyMustHaveCondition(t, s, { name: 'conflicted-with-section-name-2', namespace: ns }, gwNN, conflictedCond));
      await t.run('HTTP request sent to Service using the accepted BackendTLSPolicy should succeed', (t) =>
        makeRequestAndExpectEventuallyConsistentResponse(t, s, gwAddr, request('/backendtlspolicy-conflicted-with-section-name', 'other.example.com')));
    });

    await t.run('BackendTLSPolicies targeting the same Service with and without a section name', async (t) => {
      await t.run('BackendTLSPolicy with section name should be accepted', (t) =>
        backendTLSPolicyMustHaveCondition(t, s, { name: 'not-conflicted-with-section-name', namespace: ns }, gwNN, acceptedCond));
      await t.run('BackendTLSPolicy without section name should be accepted', (t) =>
        backendTLSPolicyMustHaveCondition(t, s, { name: 'not-conflicted-without-section-name', namespace: ns }, gwNN, acceptedCond));
      await t.run('HTTP request sent to Service using the BackendTLSPolicy with section name should succeed', (t) =>
        makeRequestAndExpectEventuallyConsistentResponse(t, s, gwAddr, request('/backendtlspolicy-not-conflicted-with-section-name', 'other.example.com')));
      await t.run('HTTP request sent to Service using the BackendTLSPolicy without section name should succeed', (t) =>
        makeRequestAndExpectEventuallyConsistentResponse(t, s, gwAddr, request('/backendtlspolicy-not-conflicted-without-section-name', 'abc.example.com')));
    });
  },
};
