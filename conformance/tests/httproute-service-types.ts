import { isIP } from 'node:net';
import { SupportGateway, SupportHTTPRoute } from '../features.js';
import type { Pod } from '../harness/cluster.js';
import { InfraBackendServiceNameV1, InfrastructureNamespace, type ConformanceSuite } from '../harness/suite.js';
import { getTestCaseName, makeRequestAndExpectEventuallyConsistentResponse, type ExpectedResponse } from '../utils/http.js';
import { gatewayAndHTTPRoutesMustBeAccepted, httpRouteMustHaveResolvedRefsConditionsTrue, newGatewayRef } from '../utils/kubernetes.js';
import type { T } from '../utils/t.js';
import type { ConformanceTest } from './types.js';

/**
 * Upstream fills the manual EndpointSlices with the pods' IPs and keeps the
 * slice's port (the container port, 3000). Here every pod shares 127.0.0.1
 * and listens on its own port, so the slice's port becomes that port: the
 * same address the container port would resolve to in a cluster.
 */
async function setupEndpointSlices(t: T, s: ConformanceSuite, prefixes: readonly string[], ns: string, pods: readonly Pod[]): Promise<void> {
  const families = [{ suffix: 'ip4', version: 4 }, { suffix: 'ip6', version: 6 }];
  for (const family of families) {
    for (const prefix of prefixes) {
      const name = `${prefix}-${family.suffix}`;
      await s.cluster.get('EndpointSlice', ns, name).catch((err: Error) => t.fatal(`unable to fetch EndpointSlice "${name}": ${err.message}`));
      const members = pods.filter((p) => isIP(p.ip) === family.version);
      if (members.length === 0) continue;
      const ports = new Set(members.map((p) => s.backendPort(p.namespace, p.name)));
      if (ports.size !== 1) t.fatal(`pods of ${name} listen on different ports (${[...ports].join(', ')}); one EndpointSlice cannot express that`);
      const [port] = ports;
      await s.cluster.patch('EndpointSlice', ns, name, (slice) => {
        slice.endpoints = members.map((p) => ({
          addresses: [p.ip],
          conditions: { ready: true, serving: true, terminating: false },
          targetRef: { kind: 'Pod', name: p.name, namespace: p.namespace },
        }));
        for (const sp of slice.ports ?? []) sp.port = port;
      }).catch((err: Error) => t.fatal(`failed to patch EndpointSlice "${name}": ${err.message}`));
    }
  }
}

export const HTTPRouteServiceTypes: ConformanceTest = {
  shortName: 'HTTPRouteServiceTypes',
  description: 'A single HTTPRoute should be able to route traffic to various service type backends',
  features: [SupportGateway, SupportHTTPRoute],
  manifests: ['tests/httproute-service-types.yaml'],
  test: async (t, s) => {
    const typeManualEndpointSlices = ['manual-endpointslices', 'headless-manual-endpointslices'];
    const typeManaged = ['headless'];
    const serviceTypes = [...typeManualEndpointSlices, ...typeManaged];
    const ns = InfrastructureNamespace;
    const routeNN = { name: 'service-types', namespace: ns };
    const gwNN = { name: 'same-namespace', namespace: ns };

    const gwAddr = await gatewayAndHTTPRoutesMustBeAccepted(t, s, s.controllerName, newGatewayRef(gwNN), routeNN);
    await httpRouteMustHaveResolvedRefsConditionsTrue(t, s, routeNN, gwNN);

    const deployment = await s.cluster.get('Deployment', ns, InfraBackendServiceNameV1)
      .catch((err: Error) => t.fatal(`Failed to fetch Deployment '${InfraBackendServiceNameV1}': ${err.message}`));
    const pods = s.cluster.listPods(ns, deployment.spec?.selector?.matchLabels ?? {});
    if (pods.length === 0) t.fatal(`Expected '${InfraBackendServiceNameV1}' to have running Pods`);

    await setupEndpointSlices(t, s, typeManualEndpointSlices, ns, pods);

    await t.parallel(serviceTypes.map((path, i) => {
      const expected: ExpectedResponse = {
        request: { path: `/${path}` },
        response: { statusCode: 200 },
        backend: InfraBackendServiceNameV1,
        namespace: InfrastructureNamespace,
      };
      return [getTestCaseName(expected, i), (t: T) => makeRequestAndExpectEventuallyConsistentResponse(t, s, gwAddr, expected)] as const;
    }));
  },
};
