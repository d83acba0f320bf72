import { rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TimeoutConfig } from '../utils/config.js';
import { poll } from '../utils/t.js';
import type { GatewayProcess, StatusItem } from './gateway.js';
import { keyOf, objectKey, serializeManifests, type KubeObject } from './manifests.js';

const routeKinds: ReadonlySet<string> = new Set(['HTTPRoute', 'GRPCRoute', 'TLSRoute', 'TCPRoute', 'UDPRoute']);

/** Kinds whose status the gateway publishes at /status. */
const statusKinds: ReadonlySet<string> = new Set(['GatewayClass', 'Gateway', 'ListenerSet', 'BackendTLSPolicy', ...routeKinds]);

export class NotFoundError extends Error {}

export interface Pod {
  namespace: string;
  name: string;
  labels: Record<string, string>;
  ip: string;
  ready: () => boolean;
}

const gatewayGroup = 'gateway.networking.k8s.io';

/**
 * The API server applies CRD defaults when a controller writes status; the
 * admin endpoint is not an API server, so apply the defaults the suite's
 * comparisons depend on before handing status to them.
 */
function withCRDDefaults(kind: string, status: any): any {
  if (!status || typeof status !== 'object') return status;
  const s = structuredClone(status);
  if (kind === 'Gateway') {
    for (const a of s.addresses ?? []) a.type ??= 'IPAddress';
  }
  if (kind === 'Gateway' || kind === 'ListenerSet') {
    for (const l of s.listeners ?? []) for (const k of l.supportedKinds ?? []) k.group ??= gatewayGroup;
  }
  if (routeKinds.has(kind)) {
    for (const p of s.parents ?? []) {
      if (!p.parentRef) continue;
      p.parentRef.group ??= gatewayGroup;
      p.parentRef.kind ??= 'Gateway';
    }
  }
  return s;
}

/**
 * The suite's view of "the cluster": specs are the manifest files it wrote
 * into the gateway's config directory, status and generation come from the
 * admin /status endpoint, pods are the echo processes. Writes go through a
 * rename so the gateway's watcher never reads a half-written file.
 */
export class Cluster {
  private readonly files = new Map<string, KubeObject[]>();
  private readonly pods = new Map<string, Pod>();
  private gateway?: GatewayProcess;

  constructor(
    private readonly configDir: string,
    private readonly stagingDir: string,
    private readonly timeouts: TimeoutConfig,
  ) {}

  /** Files seeded before this call form the gateway's first configuration. */
  connect(gateway: GatewayProcess): void {
    this.gateway = gateway;
  }

  /** Writes a file before the gateway runs; nothing to wait for. */
  async seed(fileName: string, text: string, objects: KubeObject[]): Promise<void> {
    this.checkUnique(fileName, objects);
    await this.write(fileName, text);
    this.files.set(fileName, objects);
  }

  /** Like kubectl apply of a new file: returns once the gateway has seen every object that has a status. */
  async apply(fileName: string, text: string, objects: KubeObject[]): Promise<void> {
    await this.seed(fileName, text, objects);
    await this.waitVisible(objects.filter((o) => this.hasStatus(o)).map(keyOf), this.timeouts.createTimeout, `applying ${fileName}`);
  }

  /** Deletes a file and waits until the gateway has dropped its objects. */
  async remove(fileName: string): Promise<void> {
    const objects = this.files.get(fileName);
    if (!objects) return;
    this.files.delete(fileName);
    await unlink(join(this.configDir, fileName));
    await this.waitGone(objects.filter((o) => statusKinds.has(o.kind)).map(keyOf), `removing ${fileName}`);
  }

  async waitReady(objects: readonly KubeObject[]): Promise<void> {
    await this.waitVisible(objects.filter((o) => this.hasStatus(o)).map(keyOf), this.timeouts.createTimeout, 'initial configuration');
  }

  /**
   * Whether the gateway will publish the object's status. A route none of
   * whose parents exists has none: no controller knows it is theirs (upstream
   * GatewayInvalidFrontendClientCertificateValidation applies such a route).
   */
  private hasStatus(o: KubeObject): boolean {
    if (!statusKinds.has(o.kind)) return false;
    if (!routeKinds.has(o.kind)) return true;
    const parentRefs: { kind?: string; namespace?: string; name: string }[] = o.spec?.parentRefs ?? [];
    return parentRefs.some((ref) => this.spec(ref.kind ?? 'Gateway', ref.namespace ?? o.metadata.namespace, ref.name) !== undefined);
  }

  /** The object as last written, without status. */
  spec(kind: string, namespace: string | undefined, name: string): KubeObject | undefined {
    const key = objectKey(kind, namespace, name);
    for (const objects of this.files.values()) {
      const found = objects.find((o) => keyOf(o) === key);
      if (found) return found;
    }
    return undefined;
  }

  async get(kind: string, namespace: string | undefined, name: string): Promise<KubeObject> {
    const local = this.spec(kind, namespace, name);
    if (!local) throw new NotFoundError(`${kind} ${namespace ? `${namespace}/` : ''}${name} not found`);
    if (!statusKinds.has(kind)) return structuredClone(local);
    const item = (await this.status()).get(objectKey(kind, namespace, name));
    if (!item) throw new NotFoundError(`${kind} ${namespace ? `${namespace}/` : ''}${name} is not in the gateway's /status`);
    return {
      ...structuredClone(local),
      metadata: { ...structuredClone(local.metadata), generation: item.metadata.generation },
      status: withCRDDefaults(kind, item.status),
    };
  }

  async list(kind: string, namespace?: string): Promise<KubeObject[]> {
    const out: KubeObject[] = [];
    for (const objects of this.files.values()) {
      for (const o of objects) {
        if (o.kind === kind && (namespace === undefined || o.metadata.namespace === namespace)) {
          out.push(await this.get(kind, o.metadata.namespace, o.metadata.name));
        }
      }
    }
    return out;
  }

  /**
   * Rewrites the object in its file. For objects with status, returns once
   * the gateway reports a new generation, as the API server bumps it
   * synchronously on a spec change.
   */
  async patch(kind: string, namespace: string | undefined, name: string, mutate: (obj: KubeObject) => void): Promise<void> {
    const [fileName, objects, index] = this.locate(kind, namespace, name);
    const before = statusKinds.has(kind) ? await this.get(kind, namespace, name) : undefined;
    const updated = structuredClone(objects[index]!);
    mutate(updated);
    const next = objects.map((o, i) => (i === index ? updated : o));
    await this.write(fileName, serializeManifests(next));
    this.files.set(fileName, next);
    if (!before) return;
    const oldGeneration = before.metadata.generation;
    const key = objectKey(kind, namespace, name);
    const seen = await poll(this.timeouts.defaultPollInterval, this.timeouts.createTimeout, async () => {
      const item = (await this.status()).get(key);
      return item !== undefined && item.metadata.generation !== oldGeneration;
    });
    if (!seen) {
      throw new Error(`patched ${key} but /status still shows metadata.generation ${oldGeneration} after ${this.timeouts.createTimeout}ms: the gateway did not pick up the change or does not bump generation on spec changes`);
    }
  }

  async delete(kind: string, namespace: string | undefined, name: string): Promise<void> {
    const [fileName, objects, index] = this.locate(kind, namespace, name);
    const next = objects.filter((_, i) => i !== index);
    if (next.length === 0) {
      this.files.delete(fileName);
      await unlink(join(this.configDir, fileName));
    } else {
      await this.write(fileName, serializeManifests(next));
      this.files.set(fileName, next);
    }
    if (statusKinds.has(kind)) await this.waitGone([objectKey(kind, namespace, name)], `deleting ${kind} ${name}`);
  }

  addPod(pod: Pod): void {
    this.pods.set(`${pod.namespace}/${pod.name}`, pod);
  }

  removePod(namespace: string, name: string): void {
    this.pods.delete(`${namespace}/${name}`);
  }

  listPods(namespace: string, matchLabels: Record<string, string> = {}): Pod[] {
    return [...this.pods.values()].filter((p) => p.namespace === namespace &&
      Object.entries(matchLabels).every(([k, v]) => p.labels[k] === v));
  }

  async config(): Promise<any> {
    if (!this.gateway) throw new Error('the gateway is not running');
    return this.gateway.config(this.timeouts.getTimeout);
  }

  async status(): Promise<Map<string, StatusItem>> {
    if (!this.gateway) throw new Error('the gateway is not running');
    const items = await this.gateway.status(this.timeouts.getTimeout);
    return new Map(items.map((i) => [objectKey(i.kind, i.metadata.namespace, i.metadata.name), i]));
  }

  private locate(kind: string, namespace: string | undefined, name: string): [string, KubeObject[], number] {
    const key = objectKey(kind, namespace, name);
    for (const [fileName, objects] of this.files) {
      const index = objects.findIndex((o) => keyOf(o) === key);
      if (index >= 0) return [fileName, objects, index];
    }
    throw new NotFoundError(`${key} not found in any applied manifest`);
  }

  private checkUnique(fileName: string, objects: readonly KubeObject[]): void {
    for (const o of objects) {
      const other = this.spec(o.kind, o.metadata.namespace, o.metadata.name);
      if (other) throw new Error(`${fileName}: ${keyOf(o)} is already defined by another applied manifest`);
    }
  }

  private async write(fileName: string, text: string): Promise<void> {
    const staged = join(this.stagingDir, fileName);
    await writeFile(staged, text);
    await rename(staged, join(this.configDir, fileName));
  }

  private async waitVisible(keys: readonly string[], timeoutMs: number, what: string): Promise<void> {
    let missing: string[] = [...keys];
    const ok = await poll(this.timeouts.defaultPollInterval, timeoutMs, async () => {
      const status = await this.status();
      missing = keys.filter((k) => !status.has(k));
      return missing.length === 0;
    });
    if (!ok) {
      const hint = missing.some((k) => k.startsWith('GatewayClass/')) ? ' (does the GatewayClass name the gateway\'s controller? see --controller-name)' : '';
      throw new Error(`${what}: not in the gateway's /status after ${timeoutMs}ms: ${missing.join(', ')}${hint}`);
    }
  }

  private async waitGone(keys: readonly string[], what: string): Promise<void> {
    let left: string[] = [...keys];
    const ok = await poll(this.timeouts.defaultPollInterval, this.timeouts.deleteTimeout, async () => {
      const status = await this.status();
      left = keys.filter((k) => status.has(k));
      return left.length === 0;
    });
    if (!ok) throw new Error(`${what}: still in the gateway's /status after ${this.timeouts.deleteTimeout}ms: ${left.join(', ')}`);
  }
}
