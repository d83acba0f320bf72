import { SupportGateway, SupportHTTPRoute } from '../features.js';
import { InfraBackendServiceNameV1, InfraBackendServiceNameV2, InfrastructureNamespace } from '../harness/suite.js';
import { getTestCaseName, type ExpectedResponse } from '../utils/http.js';
import { gatewayAndHTTPRoutesMustBeAccepted, getTLSSecret, httpRouteMustHaveResolvedRefsConditionsTrue, newGatewayRef } from '../utils/kubernetes.js';
import { makeTLSRequestAndExpectEventuallyConsistentResponse } from '../utils/tls.js';
import type { ConformanceTest } from './types.js';

export const HTTPRouteHTTPSListener: ConformanceTest = {
  shortName: 'HTTPRouteHTTPSListener',
  description: "HTTPRoute attaches to a Gateway's HTTPS listener in the same namespace",
  features: [SupportGateway, SupportHTTPRoute],
  manifests: ['tests/httproute-https-listener.yaml'],
  test: async (t, s) => {
    const ns = InfrastructureNamespace;
    const routeNN = { name: 'httproute-https-test', namespace: ns };
    const routeNoHostNN = { name: 'httproute-https-test-no-hostname', namespace: ns };
    const gwNN = { name: 'same-namespace-with-https-listener', namespace: ns };
    const gwAddr = await gatewayAndHTTPRoutesMustBeAccepted(t, s, s.controllerName, newGatewayRef(gwNN), routeNN, routeNoHostNN);
    await httpRouteMustHaveResolvedRefsConditionsTrue(t, s, routeNN, gwNN);
    await httpRouteMustHaveResolvedRefsConditionsTrue(t, s, routeNoHostNN, gwNN);

    const { certPem: serverCertPem } = await getTLSSecret(t, s, { namespace: ns, name: 'tls-validity-checks-certificate' });
    if (serverCertPem === '') t.fatal('missing required server certificate pem for the test');

    const cases = [
      { host: 'example.org', statusCode: 200, backend: InfraBackendServiceNameV1 },
      { host: 'unknown-example.org', statusCode: 404, backend: '' },
      { host: 'second-example.org', statusCode: 200, backend: InfraBackendServiceNameV2 },
    ];
    for (const [i, tc] of cases.entries()) {
      const expected: ExpectedResponse = {
        request: { host: tc.host, path: '/' },
        response: { statusCode: tc.statusCode },
        backend: tc.backend,
        namespace: InfrastructureNamespace,
      };
      await t.run(getTestCaseName(expected, i), (t) => makeTLSRequestAndExpectEventuallyConsistentResponse(t, s, gwAddr, serverCertPem, tc.host, expected));
    }
  },
};
