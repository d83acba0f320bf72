import { SupportGateway, SupportHTTPRoute } from '../features.js';
import { InfrastructureNamespace } from '../harness/suite.js';
import { expectEventuallyConsistentResponses, type ExpectedResponse, type Response } from '../utils/http.js';
import { gatewayAndHTTPRoutesMustBeAccepted, httpRouteMustHaveResolvedRefsConditionsTrue, newGatewayRef } from '../utils/kubernetes.js';
import type { ConformanceTest } from './types.js';

/**
 * A preflight is answered by the gateway with no echo body, so upstream
 * expects an OPTIONS request with empty host, path and namespace: what the
 * round tripper reports when the response is not the echo's JSON.
 */
function preflight(testCaseName: string, path: string, headers: Record<string, string>, response: Response): ExpectedResponse {
  return {
    testCaseName,
    request: { path, method: 'OPTIONS', headers },
    expectedRequest: { host: '', method: 'OPTIONS', path: '' },
    namespace: '',
    response,
  };
}

function simple(testCaseName: string, path: string, method: string, headers: Record<string, string>, response: Response): ExpectedResponse {
  return { testCaseName, namespace: InfrastructureNamespace, request: { path, method, headers }, response };
}

const eitherOrder = (a: string, b: string) => [`${a}, ${b}`, `${b}, ${a}`];
const requested12 = { 'access-control-request-headers': 'x-header-1, x-header-2' };

function cors1Allowed(origin: string): Response {
  return {
    statusCodes: [200, 204],
    validHeaderValues: {
      'access-control-allow-origin': [origin],
      'access-control-allow-methods': eitherOrder('GET', 'OPTIONS'),
      'access-control-allow-headers': eitherOrder('x-header-1', 'x-header-2'),
      'access-control-expose-headers': eitherOrder('x-header-3', 'x-header-4'),
      'access-control-max-age': ['3600'],
      'access-control-allow-credentials': ['true'],
    },
    // Implementations differ on a space after commas; both are valid.
    ignoreWhitespace: true,
  };
}

export const HTTPRouteCORS: ConformanceTest = {
  shortName: 'HTTPRouteCORS',
  description: 'An HTTPRoute with CORS filter should allow CORS requests from specified origins',
  features: [SupportGateway, SupportHTTPRoute, 'HTTPRouteCORS'],
  manifests: ['tests/httproute-cors.yaml'],
  test: async (t, s) => {
    const ns = InfrastructureNamespace;
    const routes = ['cors-multiple-origins-methods-headers', 'cors-wildcard-methods', 'cors-wildcard-origin', 'cors-wildcard-methods-headers']
      .map((name) => ({ name, namespace: ns }));
    const gwNN = { name: 'same-namespace', namespace: ns };
    const gwAddr = await gatewayAndHTTPRoutesMustBeAccepted(t, s, s.controllerName, newGatewayRef(gwNN), routes[0]!, routes[1]!);
    for (const r of routes) await httpRouteMustHaveResolvedRefsConditionsTrue(t, s, r, gwNN);

    await expectEventuallyConsistentResponses(t, s, gwAddr, [
      preflight('CORS preflight request from an exact matching origin should be allowed', '/cors-1',
        { Origin: 'https://www.foo.com', 'access-control-request-method': 'GET', ...requested12 }, cors1Allowed('https://www.foo.com')),
      preflight('CORS preflight request from a wildcard matching origin should be allowed', '/cors-1',
        { Origin: 'https://www.bar.com', 'access-control-request-method': 'GET', ...requested12 }, cors1Allowed('https://www.bar.com')),
      preflight("CORS preflight request from a wildcard matching any number of periods left to '*' should be allowed", '/cors-1',
        { Origin: 'https://xpto.www.bar.com', 'access-control-request-method': 'GET', ...requested12 }, cors1Allowed('https://xpto.www.bar.com')),
      preflight('CORS preflight request from a non-matching origin should not be allowed', '/cors-1',
        { Origin: 'https://foobar.com', 'access-control-request-method': 'GET' },
        { statusCodes: [200, 204, 403], absentHeaders: ['access-control-allow-origin'] }),
      simple('Simple request from an exact matching origin should be allowed', '/cors-1', 'GET',
        { Origin: 'https://www.foo.com', 'access-control-request-method': 'GET', ...requested12 },
        { statusCode: 200, headers: { 'access-control-allow-origin': 'https://www.foo.com' } }),
      simple('Simple request from a wildcard matching origin should be allowed', '/cors-1', 'GET',
        { Origin: 'https://www.bar.com', 'access-control-request-method': 'GET', ...requested12 },
        { statusCode: 200, headers: { 'access-control-allow-origin': 'https://www.bar.com' } }),
      simple('Simple request from a non-matching origin should not be allowed', '/cors-1', 'GET',
        { Origin: 'https://foobar.com', 'access-control-request-method': 'GET' },
        { absentHeaders: ['access-control-allow-origin'] }),
      preflight('CORS preflight request with POST method should be allowed by allowMethods with wildcard', '/cors-2',
        { Origin: 'https://www.foo.com', 'access-control-request-method': 'POST' }, {
          statusCodes: [200, 204],
          validHeaderValues: { 'access-control-allow-methods': ['POST', '*'] },
          headers: { 'access-control-allow-origin': 'https://www.foo.com' },
          absentHeaders: ['access-control-allow-credentials'],
        }),
      preflight('CORS preflight request should not receive access-control-allow-credentials header without access-control-allow-credentials set to true', '/cors-2',
        { Origin: 'https://www.foo.com', 'access-control-request-method': 'POST' },
        { statusCodes: [200, 204], absentHeaders: ['Access-Control-Allow-Credentials'] }),
      preflight("CORS preflight request from a wildcard origin should return header with '*' or with the requested Origin", '/cors-wildcard-origin',
        { Origin: 'https://foobar.com', 'access-control-request-method': 'PUT' }, {
          statusCodes: [200, 204],
          // Echoing the Origin or '*' are both valid without credentials.
          validHeaderValues: { 'access-control-allow-origin': ['https://foobar.com', '*'], 'access-control-allow-methods': ['PUT'] },
          absentHeaders: ['Access-Control-Allow-Credentials'],
        }),
      preflight("CORS preflight request from a wildcard origin containing a port should return header with '*' or with the requested Origin", '/cors-wildcard-origin',
        { Origin: 'https://foobar.com:12345', 'access-control-request-method': 'PUT' }, {
          statusCodes: [200, 204],
          validHeaderValues: { 'access-control-allow-origin': ['https://foobar.com:12345', '*'], 'access-control-allow-methods': ['PUT'] },
          absentHeaders: ['Access-Control-Allow-Credentials'],
        }),
      simple("Request from a wildcard origin containing a port should return header with '*' or with the requested Origin", '/cors-wildcard-origin', 'PUT',
        { Origin: 'https://foobar.com:12345' },
        { statusCode: 200, validHeaderValues: { 'access-control-allow-origin': ['https://foobar.com:12345', '*'] } }),
      simple("Simple request from a wildcard origin should return header with '*' or with the requested Origin", '/cors-wildcard-origin', 'PUT',
        { Origin: 'https://foobar.com' }, {
          statusCode: 200,
          validHeaderValues: { 'access-control-allow-origin': ['https://foobar.com', '*'] },
          absentHeaders: ['Access-Control-Allow-Credentials'],
        }),
      preflight('CORS preflight request requesting specific method and headers should be allowed and always echo the origin with allowCredentials set to true', '/cors-wildcard-methods-headers',
        { Origin: 'https://other.foo.com', 'access-control-request-method': 'PUT', ...requested12 }, {
          statusCodes: [200, 204],
          validHeaderValues: {
            'access-control-allow-origin': ['https://other.foo.com'],
            'access-control-allow-methods': ['PUT'],
            'access-control-allow-headers': eitherOrder('x-header-1', 'x-header-2'),
            'access-control-allow-credentials': ['true'],
          },
          ignoreWhitespace: true,
        }),
      preflight('CORS preflight request requesting specific method and headers should hide access-control-allow-credentials headers with allowCredentials set to false', '/cors-wildcard-methods-headers-unauth',
        { Origin: 'https://other.foo.com', 'access-control-request-method': 'PUT', ...requested12 }, {
          statusCodes: [200, 204],
          validHeaderValues: {
            'access-control-allow-origin': ['https://other.foo.com', '*'],
            'access-control-allow-methods': ['PUT', '*'],
            'access-control-allow-headers': [...eitherOrder('x-header-1', 'x-header-2'), '*'],
          },
          absentHeaders: ['access-control-allow-credentials'],
          ignoreWhitespace: true,
        }),
      {
        testCaseName: 'CORS request should receive access-control-allow-credentials header with allowCredentials set to true',
        request: { path: '/cors-wildcard-methods-headers', method: 'GET', headers: { Origin: 'https://other.foo.com' } },
        namespace: ns,
        response: { statusCode: 200, validHeaderValues: { 'access-control-allow-origin': ['https://other.foo.com'], 'access-control-allow-credentials': ['true'] } },
      },
      {
        testCaseName: 'CORS request should not receive access-control-allow-credentials header without allowCredentials set to true',
        request: { path: '/cors-wildcard-methods-headers-unauth', method: 'GET', headers: { Origin: 'https://other.foo.com' } },
        namespace: ns,
        response: {
          statusCode: 200,
          validHeaderValues: { 'access-control-allow-origin': ['https://other.foo.com', '*'] },
          absentHeaders: ['access-control-allow-credentials'],
        },
      },
    ]);
  },
};
