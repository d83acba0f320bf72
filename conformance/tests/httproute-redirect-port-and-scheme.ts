import { SupportGateway, SupportHTTPRoute } from '../features.js';
import { InfrastructureNamespace } from '../harness/suite.js';
import { getTestCaseName, makeRequestAndExpectEventuallyConsistentResponse, type ExpectedResponse } from '../utils/http.js';
import { gatewayAndHTTPRoutesMustBeAccepted, getTLSSecret, httpRouteMustHaveResolvedRefsConditionsTrue, newGatewayRef } from '../utils/kubernetes.js';
import { makeTLSRequestAndExpectEventuallyConsistentResponse } from '../utils/tls.js';
import type { T } from '../utils/t.js';
import type { ConformanceTest } from './types.js';

type Target = { scheme: string; port?: string };

export const HTTPRouteRedirectPortAndScheme: ConformanceTest = {
  shortName: 'HTTPRouteRedirectPortAndScheme',
  description: 'An HTTPRoute with port and scheme redirect filter',
  features: [SupportGateway, SupportHTTPRoute, 'HTTPRoutePortRedirect', 'GatewayPort8080'],
  manifests: ['tests/httproute-redirect-port-and-scheme.yaml'],
  test: async (t, s) => {
    const ns = InfrastructureNamespace;
    const accepted = async (gw: string, route: string) => {
      const gwNN = { name: gw, namespace: ns };
      const routeNN = { name: route, namespace: ns };
      const addr = await gatewayAndHTTPRoutesMustBeAccepted(t, s, s.controllerName, newGatewayRef(gwNN), routeNN);
      await httpRouteMustHaveResolvedRefsConditionsTrue(t, s, routeNN, gwNN);
      return addr;
    };
    const gwAddr80 = await accepted('same-namespace', 'http-route-for-listener-on-port-80');
    const gwAddr8080 = await accepted('same-namespace-with-http-listener-on-8080', 'http-route-for-listener-on-port-8080');
    const gwAddr443 = await accepted('same-namespace-with-https-listener', 'http-route-for-listener-on-port-443');

    const { certPem: serverCertPem } = await getTLSSecret(t, s, { namespace: ns, name: 'tls-validity-checks-certificate' });
    if (serverCertPem === '') t.fatal('missing required server certificate pem for the test');

    const redirect = (path: string, to: Target, host?: string): ExpectedResponse => ({
      request: { path, ...(host ? { host } : {}) },
      response: { statusCode: 302 },
      redirectRequest: { scheme: to.scheme, host: 'example.org', ...(to.port ? { port: to.port } : {}) },
      namespace: ns,
    });

    const on80 = [
      redirect('/scheme-nil-and-port-nil', { scheme: 'http' }),
      redirect('/scheme-nil-and-port-80', { scheme: 'http' }),
      redirect('/scheme-nil-and-port-8080', { scheme: 'http', port: '8080' }),
      redirect('/scheme-https-and-port-nil', { scheme: 'https' }),
      redirect('/scheme-https-and-port-443', { scheme: 'https' }),
      redirect('/scheme-https-and-port-8443', { scheme: 'https', port: '8443' }),
    ];
    const on8080 = [
      redirect('/scheme-nil-and-port-nil', { scheme: 'http', port: '8080' }),
      redirect('/scheme-nil-and-port-80', { scheme: 'http' }),
      redirect('/scheme-https-and-port-nil', { scheme: 'https' }),
    ];
    const on443 = [
      redirect('/scheme-nil-and-port-nil', { scheme: 'https' }, 'example.org'),
      redirect('/scheme-nil-and-port-443', { scheme: 'https' }, 'example.org'),
      redirect('/scheme-nil-and-port-8443', { scheme: 'https', port: '8443' }, 'example.org'),
      redirect('/scheme-http-and-port-nil', { scheme: 'http' }, 'example.org'),
      redirect('/scheme-http-and-port-80', { scheme: 'http' }, 'example.org'),
      redirect('/scheme-http-and-port-8080', { scheme: 'http', port: '8080' }, 'example.org'),
    ];
    await t.parallel([
      ...on80.map((tc, i) => [`http-listener-on-80/${getTestCaseName(tc, i)}`,
        (t: T) => makeRequestAndExpectEventuallyConsistentResponse(t, s, gwAddr80, tc)] as const),
      ...on8080.map((tc, i) => [`http-listener-on-8080/${getTestCaseName(tc, i)}`,
        (t: T) => makeRequestAndExpectEventuallyConsistentResponse(t, s, gwAddr8080, tc)] as const),
      ...on443.map((tc, i) => [`https-listener-on-443/${getTestCaseName(tc, i)}`,
        (t: T) => makeTLSRequestAndExpectEventuallyConsistentResponse(t, s, gwAddr443, serverCertPem, 'example.org', tc)] as const),
    ]);
  },
};
