import { SupportBackendTLSPolicy, SupportGateway, SupportHTTPRoute } from '../features.js';
import { InfrastructureNamespace, type ConformanceSuite } from '../harness/suite.js';
import { makeRequestAndExpectEventuallyConsistentResponse, makeRequestAndExpectFailure } from '../utils/http.js';
import {
  backendTLSPolicyMustHaveCondition, gatewayAndRoutesMustBeAccepted, getConfigMapData, getTLSSecret,
  httpRouteMustHaveResolvedRefsConditionsTrue, namespacesMustBeReady, newGatewayRef, type ExpectedCondition,
} from '../utils/kubernetes.js';
import type { T } from '../utils/t.js';
import { makeTLSRequestAndExpectEventuallyConsistentResponse } from '../utils/tls.js';
import type { ConformanceTest } from './types.js';

export const BackendTLSPolicy: ConformanceTest = {
  shortName: 'BackendTLSPolicy',
  description: 'BackendTLSPolicy must be used to configure TLS connection between gateway and backend',
  features: [SupportGateway, SupportHTTPRoute, SupportBackendTLSPolicy],
  manifests: ['tests/backendtlspolicy.yaml'],
  test: async (t, s) => {
    const ns = InfrastructureNamespace;
    const acceptedCond: ExpectedCondition = { type: 'Accepted', status: 'True', reason: 'Accepted' };
    const resolvedRefsCond: ExpectedCondition = { type: 'ResolvedRefs', status: 'True', reason: 'ResolvedRefs' };

    await t.run('Re-encrypt HTTPS request sent to Service with valid BackendTLSPolicy should succeed', async (t) => {
      const routeNN = { name: 'backendtlspolicy-reencrypt', namespace: ns };
      const gwNN = { name: 'same-namespace-with-https-listener', namespace: ns };
      await namespacesMustBeReady(t, s, [ns]);
      const gwAddr = await gatewayAndRoutesMustBeAccepted(t, s, s.controllerName, newGatewayRef(gwNN), 'HTTPRoute', false, routeNN);
      await httpRouteMustHaveResolvedRefsConditionsTrue(t, s, routeNN, gwNN);

      const validPolicyNN = { name: 'normative-test', namespace: ns };
      await backendTLSPolicyMustHaveCondition(t, s, validPolicyNN, gwNN, acceptedCond);
      await backendTLSPolicyMustHaveCondition(t, s, validPolicyNN, gwNN, resolvedRefsCond);

      // For the re-encrypt case, the client trusts the frontend listener's certificate.
      const { certPem: serverCertPem } = await getTLSSecret(t, s, { name: 'tls-validity-checks-certificate', namespace: ns });
      if (serverCertPem === '') t.fatal('missing required server certificate pem for the test');
      await makeTLSRequestAndExpectEventuallyConsistentResponse(t, s, gwAddr, serverCertPem, 'https-listener.org', {
        namespace: ns,
        request: { host: 'https-listener.org', path: '/backendtlspolicy', sni: 'https-listener.org' },
        expectedRequest: { path: '/backendtlspolicy', sni: 'abc.example.com' },
        response: { statusCodes: [200] },
      });
    });

    const routeNN = { name: 'backendtlspolicy', namespace: ns };
    const gwNN = { name: 'same-namespace', namespace: ns };
    await namespacesMustBeReady(t, s, [ns]);
    const gwAddr = await gatewayAndRoutesMustBeAccepted(t, s, s.controllerName, newGatewayRef(gwNN), 'HTTPRoute', false, routeNN);
    await httpRouteMustHaveResolvedRefsConditionsTrue(t, s, routeNN, gwNN);

    await t.run('HTTP request sent to Service with valid BackendTLSPolicy should succeed', async (t) => {
      const validPolicyNN = { name: 'normative-test', namespace: ns };
      await backendTLSPolicyMustHaveCondition(t, s, validPolicyNN, gwNN, acceptedCond);
      await backendTLSPolicyMustHaveCondition(t, s, validPolicyNN, gwNN, resolvedRefsCond);
      await makeRequestAndExpectEventuallyConsistentResponse(t, s, gwAddr, {
        namespace: ns,
        request: { host: 'abc.example.com', path: '/backendtlspolicy', sni: 'abc.example.com' },
        response: { statusCodes: [200] },
      });
    });

    await t.run('HTTP request sent to Service targeted by BackendTLSPolicy with mismatched hostname should return an HTTP error', async (t) => {
      const invalidPolicyNN = { name: 'host-mismatch', namespace: ns };
      await backendTLSPolicyMustHaveCondition(t, s, invalidPolicyNN, gwNN, acceptedCond);
      await backendTLSPolicyMustHaveCondition(t, s, invalidPolicyNN, gwNN, resolvedRefsCond);
      await makeRequestAndExpectFailure(t, s, gwAddr, {
        namespace: ns,
        request: { host: 'abc.example.org', path: '/backendtlspolicy-host-mismatch', sni: 'abc.example.com' },
      });
    });

    await t.run('HTTP request send to Service targeted by BackendTLSPolicy with mismatched cert should return HTTP error', async (t) => {
      const invalidCertPolicyNN = { name: 'cert-mismatch', namespace: ns };
      await backendTLSPolicyMustHaveCondition(t, s, invalidCertPolicyNN, gwNN, acceptedCond);
      await backendTLSPolicyMustHaveCondition(t, s, invalidCertPolicyNN, gwNN, resolvedRefsCond);
      await makeRequestAndExpectFailure(t, s, gwAddr, {
        namespace: ns,
        request: { host: 'abc.example.com', path: '/backendtlspolicy-cert-mismatch', sni: 'abc.example.com' },
      });
    });

    await t.run('Changing the content of a ConfigMap used by BackendTLSPolicy as CA certificate should be reconciled by the controller', async (t) => {
      const testPolicyNN = { name: 'reconcile-test', namespace: ns };
      await backendTLSPolicyMustHaveCondition(t, s, testPolicyNN, gwNN, acceptedCond);
      await backendTLSPolicyMustHaveCondition(t, s, testPolicyNN, gwNN, resolvedRefsCond);

      const originalCAData = (await getConfigMapData(t, s, { name: 'tls-checks-ca-certificate', namespace: ns }))['ca.crt'] ?? '';
      // A test-specific ConfigMap with the shared CA.
      const testCMName = 'tls-checks-ca-certificate-reconcile-test';
      const testCM = { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: testCMName, namespace: ns }, data: { 'ca.crt': originalCAData } };

      const policy = await s.cluster.get('BackendTLSPolicy', ns, testPolicyNN.name);
      const originalCACertRefs = structuredClone(policy.spec.validation.caCertificateRefs);
      await s.cluster.patch('BackendTLSPolicy', ns, testPolicyNN.name, (p) => {
        p.spec.validation.caCertificateRefs = [{ group: '', kind: 'ConfigMap', name: testCMName }];
      }).catch((err: Error) => t.fatal(`failed to update BackendTLSPolicy to use test-specific ConfigMap: ${err.message}`));

      const invalidAcceptedCond: ExpectedCondition = { type: 'Accepted', status: 'False', reason: 'NoValidCACertificate' };
      const invalidResolvedRefsCond: ExpectedCondition = { type: 'ResolvedRefs', status: 'False', reason: 'InvalidCACertificateRef' };

      await backendTLSPolicyMustHaveCondition(t, s, testPolicyNN, gwNN, invalidAcceptedCond);
      await backendTLSPolicyMustHaveCondition(t, s, testPolicyNN, gwNN, invalidResolvedRefsCond);
      await s.applyObjects(t, [testCM]);
      await backendTLSPolicyMustHaveCondition(t, s, testPolicyNN, gwNN, acceptedCond);
      await backendTLSPolicyMustHaveCondition(t, s, testPolicyNN, gwNN, resolvedRefsCond);

      await patchConfigMapCACert(t, s, { name: testCMName, namespace: ns }, '');
      await backendTLSPolicyMustHaveCondition(t, s, testPolicyNN, gwNN, invalidAcceptedCond);
      await backendTLSPolicyMustHaveCondition(t, s, testPolicyNN, gwNN, invalidResolvedRefsCond);

      await patchConfigMapCACert(t, s, { name: testCMName, namespace: ns }, originalCAData);
      await backendTLSPolicyMustHaveCondition(t, s, testPolicyNN, gwNN, acceptedCond);
      await backendTLSPolicyMustHaveCondition(t, s, testPolicyNN, gwNN, resolvedRefsCond);

      await s.cluster.patch('BackendTLSPolicy', ns, testPolicyNN.name, (p) => {
        p.spec.validation.caCertificateRefs = originalCACertRefs;
      }).catch((err: Error) => t.fatal(`failed to restore BackendTLSPolicy to use shared ConfigMap: ${err.message}`));
    });
  },
};

async function patchConfigMapCACert(t: T, s: ConformanceSuite, nn: { name: string; namespace: string }, caCertData: string): Promise<void> {
  await s.cluster.patch('ConfigMap', nn.namespace, nn.name, (cm) => {
    cm.data['ca.crt'] = caCertData;
  }).catch((err: Error) => t.fatal(`failed to patch ConfigMap ${nn.namespace}/${nn.name}: ${err.message}`));
}
