import { isIP } from 'node:net';
import { parseAllDocuments, stringify } from 'yaml';

export interface ObjectMeta {
  name: string;
  namespace?: string;
  generation?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

/** A Kubernetes object as read from YAML; fields beyond kind and metadata stay untyped. */
export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta;
  [field: string]: any;
}

export function parseManifests(text: string, source: string): KubeObject[] {
  const objects: KubeObject[] = [];
  for (const doc of parseAllDocuments(text)) {
    if (doc.errors.length > 0) throw new Error(`${source}: ${doc.errors[0]!.message}`);
    const value: unknown = doc.toJS();
    if (value === null || value === undefined) continue;
    const obj = value as KubeObject;
    if (typeof obj.kind !== 'string' || typeof obj.metadata?.name !== 'string') {
      throw new Error(`${source}: document without kind or metadata.name`);
    }
    objects.push(obj);
  }
  return objects;
}

export function serializeManifests(objects: readonly KubeObject[]): string {
  return objects.map((o) => stringify(o)).join('---\n');
}

export function objectKey(kind: string, namespace: string | undefined, name: string): string {
  return `${kind}/${namespace ?? ''}/${name}`;
}

export function keyOf(obj: KubeObject): string {
  return objectKey(obj.kind, obj.metadata.namespace, obj.metadata.name);
}

export interface ApplierOptions {
  gatewayClassName: string;
  controllerName: string;
}

/**
 * Upstream's Applier points every Gateway at the suite's GatewayClass and
 * every GatewayClass at the implementation's controller. The manifests
 * express that with two placeholders, so substituting them leaves each file
 * otherwise byte-for-byte as upstream ships it.
 */
export function prepareManifest(text: string, opts: ApplierOptions): string {
  return text
    .replaceAll('{GATEWAY_CLASS_NAME}', opts.gatewayClassName)
    .replaceAll('{GATEWAY_CONTROLLER_NAME}', opts.controllerName);
}

export interface GatewaySpecAddress {
  type?: string;
  value: string;
}

/** upstream flags.parseAddress: an IP is an IPAddress, anything else a Hostname. */
export function parseAddress(v: string): GatewaySpecAddress {
  return { type: isIP(v) ? 'IPAddress' : 'Hostname', value: v };
}

export interface AddressOverlay {
  usable: GatewaySpecAddress[];
  unusable: GatewaySpecAddress[];
}

/**
 * Upstream's Applier.prepareGateway: a Gateway whose spec.addresses holds
 * PLACEHOLDER_USABLE_ADDRS / PLACEHOLDER_UNUSABLE_ADDRS gets the suite's
 * addresses instead, keeping only addresses of type test/fake-invalid-type
 * (first), then the unusable ones, then the usable ones. Returns whether
 * anything was rewritten.
 */
export function overlayStaticAddresses(objects: KubeObject[], overlay: AddressOverlay): boolean {
  let changed = false;
  for (const o of objects) {
    const addrs = o.kind === 'Gateway' ? (o.spec?.addresses as GatewaySpecAddress[] | undefined) : undefined;
    if (!addrs || addrs.length === 0) continue;
    const usable = addrs.some((a) => a.value === 'PLACEHOLDER_USABLE_ADDRS');
    const unusable = addrs.some((a) => a.value === 'PLACEHOLDER_UNUSABLE_ADDRS');
    const special = addrs.filter((a) => a.type === 'test/fake-invalid-type');
    o.spec.addresses = [...special, ...(unusable ? overlay.unusable : []), ...(usable ? overlay.usable : [])].map((a) => ({ ...a }));
    changed = true;
  }
  return changed;
}
