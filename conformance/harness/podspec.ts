// What the kubelet would give a pod's container that the backend processes
// need: its env with the Downward API fields filled in, and its Secret and
// ConfigMap volumes as files. A directory stands in for the container's
// filesystem; env values and args naming a path under a mount are rewritten
// to point into it.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { DeploymentInfo } from './endpointslices.js';
import type { KubeObject } from './manifests.js';

/** Finds the Secrets and ConfigMaps a pod mounts; asynchronous because the suite's own Secrets may still be being generated. */
export type ObjectLookup = (kind: string, namespace: string, name: string) => Promise<KubeObject | undefined>;

/** A lookup in a list of objects. */
export function findIn(objects: readonly KubeObject[]): (kind: string, namespace: string, name: string) => KubeObject | undefined {
  return (kind, namespace, name) => objects.find((o) => o.kind === kind && o.metadata.namespace === namespace && o.metadata.name === name);
}

export interface Container {
  image: string;
  args: string[];
  env: Record<string, string>;
}

interface KeyToPath {
  key: string;
  path: string;
}

/** The files a Secret or ConfigMap volume holds: every key, or only the listed items. */
async function volumeFiles(volume: Record<string, any>, namespace: string, lookup: ObjectLookup): Promise<Map<string, Buffer>> {
  let data: Record<string, Buffer>;
  let items: KeyToPath[] | undefined;
  if (volume.secret) {
    const secret = await lookup('Secret', namespace, volume.secret.secretName);
    if (!secret) throw new Error(`volume ${volume.name}: Secret ${namespace}/${volume.secret.secretName} not found`);
    data = Object.fromEntries(Object.entries((secret.data ?? {}) as Record<string, string>).map(([k, v]) => [k, Buffer.from(v, 'base64')]));
    items = volume.secret.items;
  } else if (volume.configMap) {
    const cm = await lookup('ConfigMap', namespace, volume.configMap.name);
    if (!cm) throw new Error(`volume ${volume.name}: ConfigMap ${namespace}/${volume.configMap.name} not found`);
    data = Object.fromEntries(Object.entries((cm.data ?? {}) as Record<string, string>).map(([k, v]) => [k, Buffer.from(v, 'utf8')]));
    items = volume.configMap.items;
  } else {
    throw new Error(`volume ${volume.name}: only secret and configMap volumes are supported by the harness`);
  }
  const files = new Map<string, Buffer>();
  for (const { key, path } of items ?? Object.keys(data).map((k) => ({ key: k, path: k }))) {
    const content = data[key];
    if (content === undefined) throw new Error(`volume ${volume.name}: no key ${key}`);
    files.set(path, content);
  }
  return files;
}

/**
 * The first container of a pod of the Deployment, its volumes written under
 * `rootDir`. A missing Secret or ConfigMap is an error: the pod would not start.
 */
export async function materializeContainer(dep: DeploymentInfo, pod: { name: string; ip: string }, rootDir: string, lookup: ObjectLookup): Promise<Container> {
  const container = (dep.podSpec.containers as Record<string, any>[] | undefined)?.[0];
  if (!container) throw new Error(`Deployment ${dep.namespace}/${dep.name} has no container`);
  const volumes = new Map(((dep.podSpec.volumes ?? []) as Record<string, any>[]).map((v) => [v.name as string, v]));
  const mountPaths: string[] = [];
  for (const mount of (container.volumeMounts ?? []) as { name: string; mountPath: string }[]) {
    const volume = volumes.get(mount.name);
    if (!volume) throw new Error(`Deployment ${dep.namespace}/${dep.name}: volumeMount ${mount.name} names no volume`);
    for (const [path, content] of await volumeFiles(volume, dep.namespace, lookup)) {
      const file = join(rootDir, mount.mountPath, path);
      mkdirSync(dirname(file), { recursive: true });
      writeFileSync(file, content, { mode: 0o600 });
    }
    mountPaths.push(mount.mountPath.replace(/\/+$/, ''));
  }
  const local = (value: string) => (mountPaths.some((m) => value === m || value.startsWith(`${m}/`)) ? join(rootDir, value) : value);

  const fields: Record<string, string> = { 'metadata.name': pod.name, 'metadata.namespace': dep.namespace, 'status.podIP': pod.ip };
  const env: Record<string, string> = {};
  for (const e of (container.env ?? []) as { name: string; value?: string; valueFrom?: { fieldRef?: { fieldPath: string } } }[]) {
    if (e.valueFrom) {
      const field = e.valueFrom.fieldRef ? fields[e.valueFrom.fieldRef.fieldPath] : undefined;
      if (field === undefined) throw new Error(`Deployment ${dep.namespace}/${dep.name}: env ${e.name}: only the fieldRefs ${Object.keys(fields).join(', ')} are supported by the harness`);
      env[e.name] = field;
    } else {
      env[e.name] = local(e.value ?? '');
    }
  }
  return { image: String(container.image ?? ''), args: ((container.args ?? []) as string[]).map(local), env };
}
