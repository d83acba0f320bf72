import { SupportGateway, SupportHTTPRoute } from '../features.js';
import { InfraBackendServiceNameV1, InfrastructureNamespace } from '../harness/suite.js';
import { awaitConvergence, makeRequestAndExpectEventuallyConsistentResponse } from '../utils/http.js';
import { gatewayAndHTTPRoutesMustBeAccepted, newGatewayRef } from '../utils/kubernetes.js';
import { H2CPriorKnowledgeProtocol } from '../utils/roundtripper.js';
import { dialWebSocket, OpBinary, OpText } from '../utils/websocket.js';
import type { ConformanceTest } from './types.js';

// Upstream's httproute-backend-protocol-h2c.go and
// httproute-backend-protocol-websocket.go: the backendRef names a Service
// port whose appProtocol is kubernetes.io/h2c or kubernetes.io/ws.

export const HTTPRouteBackendProtocolH2C: ConformanceTest = {
  shortName: 'HTTPRouteBackendProtocolH2C',
  description: 'A HTTPRoute with a BackendRef that has an appProtocol kubernetes.io/h2c should be functional',
  features: [SupportGateway, SupportHTTPRoute, 'HTTPRouteBackendProtocolH2C'],
  manifests: ['tests/httproute-backend-protocol-h2c.yaml'],
  test: async (t, s) => {
    const ns = InfrastructureNamespace;
    const routeNN = { name: 'backend-protocol-h2c', namespace: ns };
    const gwNN = { name: 'same-namespace', namespace: ns };
    const gwAddr = await gatewayAndHTTPRoutesMustBeAccepted(t, s, s.controllerName, newGatewayRef(gwNN), routeNN);
    // Only prior knowledge: the HTTP/1.1 Upgrade to h2c is deprecated (RFC 9113 section 3.1).
    await t.run('http2 prior knowledge request should reach backend', (t) => makeRequestAndExpectEventuallyConsistentResponse(t, s, gwAddr, {
      request: { path: '/', protocol: H2CPriorKnowledgeProtocol },
      response: { statusCode: 200 },
      backend: InfraBackendServiceNameV1,
      namespace: InfrastructureNamespace,
    }));
  },
};

export const HTTPRouteBackendProtocolWebSocket: ConformanceTest = {
  shortName: 'HTTPRouteBackendProtocolWebSocket',
  description: 'A HTTPRoute with a BackendRef that has an appProtocol kubernetes.io/ws should be functional',
  features: [SupportGateway, SupportHTTPRoute, 'HTTPRouteBackendProtocolWebSocket'],
  manifests: ['tests/httproute-backend-protocol-websocket.yaml'],
  test: async (t, s) => {
    const ns = InfrastructureNamespace;
    const routeNN = { name: 'backend-protocol-ws', namespace: ns };
    const gwNN = { name: 'same-namespace', namespace: ns };
    const gwAddr = await gatewayAndHTTPRoutesMustBeAccepted(t, s, s.controllerName, newGatewayRef(gwNN), routeNN);
    const { requiredConsecutiveSuccesses, maxTimeToConsistency, convergenceRetryDelay, requestTimeout } = s.timeouts;

    await t.run('websocket connection should reach backend', (t) => awaitConvergence(t, requiredConsecutiveSuccesses, maxTimeToConsistency, convergenceRetryDelay, async () => {
      // Go's t.Name() has the subtest's spaces turned into underscores; with them the Origin would not parse as a URL.
      const origin = `ws://gateway/${t.name.replaceAll(' ', '_')}`;
      let ws;
      try {
        ws = await dialWebSocket(`ws://${gwAddr}/ws`, '', origin, requestTimeout);
      } catch (err) {
        const msg = `failed to dial: ${(err as Error).message}`;
        t.log(msg);
        return msg;
      }
      try {
        const text = 'Websocket Support!';
        ws.send(OpText, text);
        const textReply = await ws.receive(requestTimeout);
        if (textReply.opcode !== OpText || textReply.data.toString('utf8') !== text) {
          return `unexpected reply - want: ${text} got: ${textReply.data.toString('utf8')} (opcode ${textReply.opcode})`;
        }
        const binary = Buffer.from([1, 2, 3, 4, 5, 6, 7]);
        ws.send(OpBinary, binary);
        const binaryReply = await ws.receive(requestTimeout);
        if (!binaryReply.data.equals(binary)) return `unexpected reply - want: ${binary.toString('hex')} got: ${binaryReply.data.toString('hex')}`;
        return undefined;
      } catch (err) {
        const msg = `websocket exchange failed: ${(err as Error).message}`;
        t.log(msg);
        return msg;
      } finally {
        ws.close();
      }
    }));
  },
};
