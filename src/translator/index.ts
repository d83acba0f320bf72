import { IR_VERSION } from '../ir/types.js';
import type { Condition, Snapshot } from '../resources/types.js';
import { BackendResolver } from './backends.js';
import { finaliseConditions, type PendingCondition } from './conditions.js';
import {
  GATEWAY_GROUP, gatewayConditions, listenerConditions, listenerSetAttached, listenerSetConditions,
  supportedFeaturesStatus, translateGatewayClasses, translateGateways, type ListenerState,
} from './gateways.js';
import { translateHTTPRoutes } from './httproutes.js';
import { buildServers } from './servers.js';
import type { StatusEntry, TranslateOptions, TranslateResult } from './types.js';

export type { StatusEntry, TranslateOptions, TranslateResult } from './types.js';

const API_VERSION = `${GATEWAY_GROUP}/v1`;

/**
 * The translator: a pure function from one snapshot of resources to the IR
 * the data plane serves and the status of every object we own. Phases run in
 * a fixed order because each reads what the previous one decided.
 */
export function translate(snapshot: Snapshot, options: TranslateOptions): TranslateResult {
  const classes = translateGatewayClasses(snapshot, options);
  const gateways = translateGateways(snapshot, classes, options);
  const backends = new BackendResolver(snapshot);
  const routes = translateHTTPRoutes(snapshot, gateways, backends, options.controllerName);
  const { servers, clusters } = buildServers(gateways, routes, backends.clusters);

  const previous = new Map((options.previous ?? []).map((s) => [statusKey(s.kind, s.metadata.namespace, s.metadata.name), s]));
  const prior = (kind: string, namespace: string | undefined, name: string) => previous.get(statusKey(kind, namespace, name))?.status;
  const finalise = (next: PendingCondition[], before: unknown) => finaliseConditions(next, before as Condition[] | undefined, options.now);
  const listenerStatuses = (listeners: ListenerState[], generation: number | undefined, before: unknown) => {
    const prior = (before ?? []) as { name: string; conditions: Condition[] }[];
    return listeners.map((l) => ({
      name: l.spec.name,
      supportedKinds: l.supportedKinds,
      attachedRoutes: l.attachedRoutes,
      conditions: finalise(listenerConditions(l, generation), prior.find((b) => b.name === l.spec.name)?.conditions),
    }));
  };

  const statuses: StatusEntry[] = [];
  for (const c of classes) {
    const meta = c.gatewayClass.metadata;
    const before = prior('GatewayClass', undefined, meta.name);
    statuses.push({
      apiVersion: API_VERSION,
      kind: 'GatewayClass',
      metadata: { name: meta.name, generation: meta.generation },
      status: { conditions: finalise(c.conditions, before?.conditions), supportedFeatures: supportedFeaturesStatus() },
    });
  }
  for (const gw of gateways) {
    const meta = gw.gateway.metadata;
    const before = prior('Gateway', gw.namespace, meta.name);
    const status: Record<string, unknown> = {
      addresses: gw.addresses.map((value) => ({ type: 'IPAddress', value })),
      conditions: finalise(gatewayConditions(gw), before?.conditions),
      listeners: listenerStatuses(gw.listeners, meta.generation, before?.listeners),
    };
    if (gw.listenerSets.length > 0) status.attachedListenerSets = gw.listenerSets.filter(listenerSetAttached).length;
    statuses.push({
      apiVersion: API_VERSION,
      kind: 'Gateway',
      metadata: { name: meta.name, namespace: gw.namespace, generation: meta.generation },
      status,
    });
    for (const ls of gw.listenerSets) {
      const lsMeta = ls.listenerSet.metadata;
      const lsBefore = prior('ListenerSet', ls.namespace, lsMeta.name);
      statuses.push({
        apiVersion: API_VERSION,
        kind: 'ListenerSet',
        metadata: { name: lsMeta.name, namespace: ls.namespace, generation: lsMeta.generation },
        status: {
          conditions: finalise(listenerSetConditions(ls), lsBefore?.conditions),
          listeners: listenerStatuses(ls.listeners, lsMeta.generation, lsBefore?.listeners),
        },
      });
    }
  }
  for (const r of routes) {
    const meta = r.route.metadata;
    const before = prior('HTTPRoute', meta.namespace, meta.name);
    const beforeParents = (before?.parents ?? []) as { parentRef: Record<string, unknown>; conditions: Condition[] }[];
    statuses.push({
      apiVersion: API_VERSION,
      kind: 'HTTPRoute',
      metadata: { name: meta.name, namespace: meta.namespace, generation: meta.generation },
      status: {
        parents: r.parents.map((p) => ({
          parentRef: p.parentRef,
          controllerName: p.controllerName,
          conditions: finalise(p.conditions,
            beforeParents.find((b) => JSON.stringify(b.parentRef) === JSON.stringify(p.parentRef))?.conditions),
        })),
      },
    });
  }
  return { ir: { irVersion: IR_VERSION, servers, clusters }, statuses };
}

function statusKey(kind: string, namespace: string | undefined, name: string): string {
  return `${kind}/${namespace ?? ''}/${name}`;
}
