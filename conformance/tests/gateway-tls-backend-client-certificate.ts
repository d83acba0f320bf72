import { SupportBackendTLSPolicy, SupportGateway, SupportGatewayBackendClientCertificate, SupportHTTPRoute } from '../features.js';
import { InfrastructureNamespace } from '../harness/suite.js';
import { makeRequestAndExpectEventuallyConsistentResponse } from '../utils/http.js';
import {
  backendTLSPolicyMustHaveAcceptedConditionTrue, gatewayAndRoutesMustBeAccepted, gatewayMustHaveCondition, getTLSSecret,
  httpRouteMustHaveResolvedRefsConditionsTrue, namespacesMustBeReady, newGatewayRef,
} from '../utils/kubernetes.js';
import type { ConformanceTest } from './types.js';

export const GatewayTLSBackendClientCertificate: ConformanceTest = {
  shortName: 'GatewayTLSBackendClientCertificate',
  description: 'A Gateway with a client certificate configured should present the certificate when connecting to a backend using TLS.',
  features: [SupportGateway, SupportGatewayBackendClientCertificate, SupportHTTPRoute, SupportBackendTLSPolicy],
  manifests: ['tests/gateway-tls-backend-client-certificate.yaml'],
  test: async (t, s) => {
    const ns = InfrastructureNamespace;
    const routeNN = { name: 'gateway-tls-backend-client-certificate', namespace: ns };
    const gwNN = { name: 'gateway-tls-backend-client-certificate', namespace: ns };
    const policyNN = { name: 'gateway-tls-backend-client-certificate-test', namespace: ns };

    await namespacesMustBeReady(t, s, [ns]);
    const gwAddr = await gatewayAndRoutesMustBeAccepted(t, s, s.controllerName, newGatewayRef(gwNN), 'HTTPRoute', false, routeNN);
    await httpRouteMustHaveResolvedRefsConditionsTrue(t, s, routeNN, gwNN);
    await backendTLSPolicyMustHaveAcceptedConditionTrue(t, s, policyNN, gwNN);
    await gatewayMustHaveCondition(t, s, gwNN, { type: 'ResolvedRefs', status: 'True', reason: 'ResolvedRefs' });

    await t.run('HTTP request sent to Service using TLS should succeed and the configured client certificate should be presented.', async (t) => {
      const { certPem: expectedClientCert } = await getTLSSecret(t, s, { name: 'tls-checks-client-certificate', namespace: ns });
      if (expectedClientCert === '') t.fatal('missing required server certificate pem for the test');
      await makeRequestAndExpectEventuallyConsistentResponse(t, s, gwAddr, {
        namespace: ns,
        request: { path: '/', host: 'abc.example.com', sni: 'abc.example.com', clientCert: expectedClientCert },
        response: { statusCodes: [200] },
      });
    });
  },
};
