import { SupportGateway, SupportUDPRoute } from '../features.js';
import { InfrastructureNamespace } from '../harness/suite.js';
import { describeMessage, exchange, newQuery, TypeA } from '../utils/dns.js';
import { gatewayAndUDPRoutesMustBeAccepted, newGatewayRef } from '../utils/kubernetes.js';
import { poll } from '../utils/t.js';
import type { ConformanceTest } from './types.js';

export const UDPRouteTest: ConformanceTest = {
  shortName: 'UDPRoute',
  description: 'Make sure UDPRoute is working',
  features: [SupportUDPRoute, SupportGateway],
  manifests: ['tests/udproute-simple.yaml'],
  test: async (t, s) => {
    await t.run('Simple UDP request matching UDPRoute should reach coredns backend', async (t) => {
      const ns = InfrastructureNamespace;
      const domain = 'foo.bar.com.';
      const routeNN = { name: 'udp-coredns', namespace: ns };
      const gwNN = { name: 'udp-gateway', namespace: ns };
      const gwAddr = await gatewayAndUDPRoutesMustBeAccepted(t, s, s.controllerName, newGatewayRef(gwNN), routeNN);
      const query = newQuery(domain, TypeA);
      t.log(`performing DNS query ${domain} on ${gwAddr}`);
      let last = '';
      // Any DNS answer will do: it can only have come from coredns through the gateway.
      const ok = await poll(s.timeouts.convergenceRetryDelay, s.timeouts.defaultTestTimeout, async () => {
        try {
          t.log(`got DNS response: ${describeMessage(await exchange(query, gwAddr, 2_000))}`);
          return true;
        } catch (err) {
          last = (err as Error).message;
          t.log(`failed to perform a UDP query: ${last}`);
          return false;
        }
      });
      if (!ok) t.error(`failed to perform DNS query: ${last}`);
    });
  },
};
