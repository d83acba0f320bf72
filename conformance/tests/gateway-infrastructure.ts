import { SupportGateway } from '../features.js';
import { InfrastructureNamespace } from '../harness/suite.js';
import { gatewayMustHaveCondition, gatewayMustHaveLatestConditions, namespacesMustBeReady } from '../utils/kubernetes.js';
import { poll } from '../utils/t.js';
import type { ConformanceTest } from './types.js';

/** Upstream's GatewayNameLabelKey. */
export const gatewayNameLabel = 'gateway.networking.k8s.io/gateway-name';

interface Generated {
  id?: string;
  owner?: string;
  metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> };
}

function missingFrom(actual: Record<string, string> | undefined, wanted: Record<string, string>): string[] {
  return Object.entries(wanted).filter(([k, v]) => actual?.[k] !== v).map(([k, v]) => `${k}=${v}`);
}

/**
 * Upstream lists the ServiceAccounts, Pods and Services labelled with the
 * Gateway's name and requires the first of each kind to carry every
 * spec.infrastructure label and annotation. A standalone gateway generates no
 * Kubernetes objects; what it generates per Gateway are the servers (bound
 * sockets) in its /config, so those stand in for them: the servers owned by
 * the Gateway, found by the same gateway-name label in `metadata.labels`,
 * must carry the labels and annotations in `metadata`.
 */
export const GatewayInfrastructure: ConformanceTest = {
  shortName: 'GatewayInfrastructure',
  description: 'Propagation of metadata from Gateway infrastructure to generated components',
  features: [SupportGateway, 'GatewayInfrastructurePropagation'],
  manifests: ['tests/gateway-infrastructure.yaml'],
  test: async (t, s) => {
    const ns = InfrastructureNamespace;
    await namespacesMustBeReady(t, s, [ns]);
    const gwNN = { name: 'gateway-with-infrastructure-metadata', namespace: ns };
    await gatewayMustHaveLatestConditions(t, s, gwNN);
    const gw = await s.cluster.get('Gateway', ns, gwNN.name).catch((err: Error) => t.fatal(`error getting Gateway: ${err.message}`));
    await gatewayMustHaveCondition(t, s, gwNN, { type: 'Accepted', status: 'True' });

    const labels = (gw.spec?.infrastructure?.labels ?? {}) as Record<string, string>;
    const annotations = (gw.spec?.infrastructure?.annotations ?? {}) as Record<string, string>;
    let found: Generated[] = [];
    let last = '';
    const ok = await poll(s.timeouts.defaultPollInterval, s.timeouts.defaultTestTimeout, async () => {
      try {
        const config = await s.gatewayConfig();
        const servers = (config?.servers ?? []) as Generated[];
        found = servers.filter((g) => g.metadata?.labels?.[gatewayNameLabel] === gwNN.name && (g.owner ?? '').startsWith(`${ns}/`));
        last = `servers: ${JSON.stringify(servers.map((g) => ({ id: g.id, owner: g.owner, metadata: g.metadata })))}`;
      } catch (err) {
        last = (err as Error).message;
      }
      return found.length > 0;
    });
    if (!ok) t.fatal(`expected a generated server in /config labelled ${gatewayNameLabel}=${gwNN.name} (owner ${ns}/...); ${last}`);

    const first = found[0]!;
    const missingLabels = missingFrom(first.metadata?.labels, labels);
    if (missingLabels.length > 0) {
      t.fatal(`expected server ${first.id} label set ${JSON.stringify(first.metadata?.labels ?? {})} to contain all Gateway infrastructure labels ${JSON.stringify(labels)}; missing ${missingLabels.join(', ')}`);
    }
    const missingAnnotations = missingFrom(first.metadata?.annotations, annotations);
    if (missingAnnotations.length > 0) {
      t.fatal(`expected server ${first.id} annotation set ${JSON.stringify(first.metadata?.annotations ?? {})} to contain all Gateway infrastructure annotations ${JSON.stringify(annotations)}; missing ${missingAnnotations.join(', ')}`);
    }
  },
};
