import { createHash } from 'node:crypto';
import type { KubeObject } from './manifests.js';

/** What the EndpointSlice controller would know about one running pod. */
export interface PodEndpoint {
  namespace: string;
  pod: string;
  labels: Record<string, string>;
  ip: string;
  /**
   * The port the backend really listens on. Every Service targetPort maps to
   * it, the way kube-proxy forwards a Service port to the container port.
   */
  port: number;
  /** Container ports served on a port of their own (e.g. the echo's h2c port 3001), by container port. */
  targetPorts?: Record<number, number>;
}

export interface DeploymentInfo {
  namespace: string;
  name: string;
  podLabels: Record<string, string>;
  /** The pod template's spec: containers, volumes. */
  podSpec: Record<string, any>;
}

export function deploymentsIn(objects: readonly KubeObject[]): DeploymentInfo[] {
  return objects
    .filter((o) => o.kind === 'Deployment' && o.apiVersion === 'apps/v1')
    .map((o) => ({
      namespace: o.metadata.namespace ?? 'default',
      name: o.metadata.name,
      podLabels: { ...(o.spec?.template?.metadata?.labels ?? {}) },
      podSpec: o.spec?.template?.spec ?? {},
    }));
}

function selectorOf(service: KubeObject): Record<string, string> | undefined {
  const selector = service.spec?.selector as Record<string, string> | undefined;
  return selector && Object.keys(selector).length > 0 ? selector : undefined;
}

function selects(service: KubeObject, namespace: string, labels: Record<string, string>): boolean {
  const selector = selectorOf(service);
  if (service.kind !== 'Service' || !selector || (service.metadata.namespace ?? 'default') !== namespace) return false;
  return Object.entries(selector).every(([k, v]) => labels[k] === v);
}

/** Services selecting the pods of a Deployment, by name, so the first one is stable. */
export function servicesSelecting(objects: readonly KubeObject[], namespace: string, labels: Record<string, string>): KubeObject[] {
  return objects
    .filter((o) => selects(o, namespace, labels))
    .sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
}

function suffix(...parts: string[]): string {
  return createHash('sha256').update(parts.join('/')).digest('hex').slice(0, 5);
}

/**
 * The EndpointSlices the Kubernetes EndpointSlice controller would create:
 * one per (Service, pod) pair here, since each pod may listen on its own port
 * and a slice carries one set of ports for all its endpoints.
 */
export function endpointSlicesFor(services: readonly KubeObject[], pods: readonly PodEndpoint[]): KubeObject[] {
  const slices: KubeObject[] = [];
  for (const svc of services) {
    for (const pod of pods) {
      if (!selects(svc, pod.namespace, pod.labels)) continue;
      const ports = ((svc.spec?.ports ?? []) as { name?: string; protocol?: string; appProtocol?: string; port?: number; targetPort?: number | string }[]).map((p) => ({
        name: p.name ?? '',
        port: pod.targetPorts?.[Number(p.targetPort ?? p.port)] ?? pod.port,
        protocol: p.protocol ?? 'TCP',
        ...(p.appProtocol ? { appProtocol: p.appProtocol } : {}),
      }));
      slices.push({
        apiVersion: 'discovery.k8s.io/v1',
        kind: 'EndpointSlice',
        metadata: {
          name: `${svc.metadata.name}-${suffix(svc.metadata.name, pod.pod)}`,
          namespace: pod.namespace,
          labels: {
            'kubernetes.io/service-name': svc.metadata.name,
            'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io',
          },
        },
        addressType: 'IPv4',
        endpoints: [{
          addresses: [pod.ip],
          conditions: { ready: true, serving: true, terminating: false },
          targetRef: { kind: 'Pod', name: pod.pod, namespace: pod.namespace },
        }],
        ports,
      });
    }
  }
  return slices;
}
