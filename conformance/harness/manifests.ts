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
