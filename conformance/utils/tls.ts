// Port of upstream conformance/utils/tls/tls.go (server-authenticated part).
import { makeRequest, waitForConsistentResponse, type ExpectedResponse, type HTTPContext } from './http.js';
import { HTTPSProtocol } from './roundtripper.js';
import type { T } from './t.js';

export async function makeTLSRequestAndExpectEventuallyConsistentResponse(
  t: T, s: HTTPContext, gwAddr: string, serverCertificate: string, serverName: string, expected: ExpectedResponse,
): Promise<void> {
  const { req, expected: norm } = makeRequest(expected, gwAddr, HTTPSProtocol, 'https');
  req.serverName = serverName;
  req.serverCertificate = serverCertificate;
  await waitForConsistentResponse(t, s.roundTripper, req, norm, s.timeouts.requiredConsecutiveSuccesses, s.timeouts.maxTimeToConsistency, s.timeouts.convergenceRetryDelay);
}
