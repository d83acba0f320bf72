import { SupportGateway, SupportHTTPRoute } from '../features.js';
import { InfraBackendServiceNameV1, InfraBackendServiceNameV2, InfraBackendServiceNameV3, InfrastructureNamespace } from '../harness/suite.js';
import { getTestCaseName, type ExpectedResponse } from '../utils/http.js';
import { gatewayAndHTTPRoutesMustBeAccepted, getTLSSecret, httpRouteMustHaveResolvedRefsConditionsTrue, newGatewayRef } from '../utils/kubernetes.js';
import { H2Protocol } from '../utils/roundtripper.js';
import { makeTLSRequestAndExpectEventuallyConsistentResponse } from '../utils/tls.js';
import type { ConformanceTest } from './types.js';

export const HTTPRouteHTTPSListenerDetectMisdirectedRequests: ConformanceTest = {
  shortName: 'HTTPRouteHTTPSListenerDetectMisdirectedRequests',
  description: 'HTTPS listeners on the same port detect misdirected requests and return HTTP 421 when appropriate',
  features: [SupportGateway, 'GatewayHTTPSListenerDetectMisdirectedRequests', SupportHTTPRoute],
  manifests: ['tests/httproute-https-listener-detect-misdirected-requests.yaml'],
  test: async (t, s) => {
    const ns = InfrastructureNamespace;
    const routeNNs = [1, 2, 3, 4].map((i) => ({ name: `https-listener-detect-misdirected-requests-test-${i}`, namespace: ns }));
    const gwNN = { name: 'same-namespace-with-https-listener', namespace: ns };
    const gwAddr = await gatewayAndHTTPRoutesMustBeAccepted(t, s, s.controllerName, newGatewayRef(gwNN), ...routeNNs);
    for (const routeNN of routeNNs) await httpRouteMustHaveResolvedRefsConditionsTrue(t, s, routeNN, gwNN);

    const { certPem: serverCertPem } = await getTLSSecret(t, s, { namespace: ns, name: 'tls-validity-checks-certificate' });
    if (serverCertPem === '') t.fatal('missing required server certificate pem for the test');

    const cases: { serverName: string; host: string; statusCode: number; backend?: string }[] = [
      { serverName: 'example.org', host: 'example.org', statusCode: 200, backend: InfraBackendServiceNameV1 },
      { serverName: 'example.org', host: 'second-example.org', statusCode: 421 },
      { serverName: 'example.org', host: 'unknown-example.org', statusCode: 404 },

      { serverName: 'second-example.org', host: 'second-example.org', statusCode: 200, backend: InfraBackendServiceNameV2 },
      { serverName: 'second-example.org', host: 'example.org', statusCode: 421 },
      { serverName: 'second-example.org', host: 'unknown-example.org', statusCode: 421 },

      { serverName: 'third-example.wildcard.org', host: 'third-example.wildcard.org', statusCode: 200, backend: InfraBackendServiceNameV3 },
      { serverName: 'third-example.wildcard.org', host: 'fith-example.wildcard.org', statusCode: 200, backend: InfraBackendServiceNameV3 },
      { serverName: 'third-example.wildcard.org', host: 'fourth-example.wildcard.org', statusCode: 421 },
      { serverName: 'third-example.wildcard.org', host: 'second-example.org', statusCode: 421 },
      { serverName: 'third-example.wildcard.org', host: 'unknown-example.org', statusCode: 421 },

      // infra-backend-v4 does not exist: the fourth route reuses infra-backend-v1.
      { serverName: 'fourth-example.wildcard.org', host: 'fourth-example.wildcard.org', statusCode: 200, backend: InfraBackendServiceNameV1 },
      { serverName: 'fourth-example.wildcard.org', host: 'fith-example.wildcard.org', statusCode: 421 },

      { serverName: 'unknown-example.org', host: 'example.org', statusCode: 200, backend: InfraBackendServiceNameV1 },
      { serverName: 'unknown-example.org', host: 'unknown-example.org', statusCode: 404 },
    ];
    for (const [i, tc] of cases.entries()) {
      const expected: ExpectedResponse = {
        request: { host: tc.host, path: '/detect-misdirected-requests', protocol: H2Protocol },
        response: { statusCodes: [tc.statusCode] },
        backend: tc.backend ?? '',
        namespace: InfrastructureNamespace,
      };
      await t.run(getTestCaseName(expected, i), (t) =>
        makeTLSRequestAndExpectEventuallyConsistentResponse(t, s, gwAddr, serverCertPem, tc.serverName, expected));
    }
  },
};
