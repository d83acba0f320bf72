import { BackendTLSPolicy as BackendTLSPolicyV1 } from '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/BackendTLSPolicy';
import { Gateway as GatewayV1 } from '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/Gateway';
import { GatewayClass as GatewayClassV1 } from '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/GatewayClass';
import { GRPCRoute as GRPCRouteV1 } from '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/GRPCRoute';
import { HTTPRoute as HTTPRouteV1 } from '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/HTTPRoute';
import { ListenerSet as ListenerSetV1 } from '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/ListenerSet';
import { ReferenceGrant as ReferenceGrantV1 } from '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/ReferenceGrant';
import { TLSRoute as TLSRouteV1 } from '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1/TLSRoute';
import { ReferenceGrant as ReferenceGrantV1alpha2 } from '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1alpha2/ReferenceGrant';
import { TCPRoute as TCPRouteV1alpha2 } from '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1alpha2/TCPRoute';
import { TLSRoute as TLSRouteV1alpha2 } from '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1alpha2/TLSRoute';
import { UDPRoute as UDPRouteV1alpha2 } from '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1alpha2/UDPRoute';
import { BackendTLSPolicy as BackendTLSPolicyV1alpha3 } from '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1alpha3/BackendTLSPolicy';
import { TLSRoute as TLSRouteV1alpha3 } from '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1alpha3/TLSRoute';
import { Gateway as GatewayV1beta1 } from '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1beta1/Gateway';
import { GatewayClass as GatewayClassV1beta1 } from '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1beta1/GatewayClass';
import { HTTPRoute as HTTPRouteV1beta1 } from '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1beta1/HTTPRoute';
import { ReferenceGrant as ReferenceGrantV1beta1 } from '@kubernetes-models/gateway-api/gateway.networking.k8s.io/v1beta1/ReferenceGrant';
import type { KubeObject, SnapshotKind } from '../resources/types.js';
import type { FieldPath } from './parse.js';

/** A rule violation at a field of the object. */
export interface Issue {
  path: FieldPath;
  message: string;
}

type Json = Record<string, unknown>;
type Check = (obj: Json) => Issue[];

// Each model class wants its own typed data; the point of validating is that ours is unchecked.
type ModelClass = new (data: never) => { validate(): void };

// The shape of the errors the generated validators attach (ajv's ErrorObject).
interface SchemaError {
  instancePath: string;
  keyword: string;
  message?: string;
  params: Record<string, unknown>;
}

const GATEWAY_API = 'gateway.networking.k8s.io';

interface KindRule {
  namespaced: boolean;
  /**
   * apiVersion → validation; only versions a real cluster would serve are
   * listed: those of the standard channel CRDs, and the older versions
   * the experimental channel CRDs of v1.6.1 still serve.
   */
  versions: Record<string, Check>;
}

const KIND_RULES: Record<SnapshotKind, KindRule> = {
  GatewayClass: gatewayApi(false, { v1: GatewayClassV1, v1beta1: GatewayClassV1beta1 }),
  Gateway: gatewayApi(true, { v1: GatewayV1, v1beta1: GatewayV1beta1 }),
  ListenerSet: gatewayApi(true, { v1: ListenerSetV1 }),
  HTTPRoute: gatewayApi(true, { v1: HTTPRouteV1, v1beta1: HTTPRouteV1beta1 }),
  GRPCRoute: gatewayApi(true, { v1: GRPCRouteV1 }),
  TLSRoute: gatewayApi(true, { v1: TLSRouteV1, v1alpha2: TLSRouteV1alpha2, v1alpha3: TLSRouteV1alpha3 }),
  TCPRoute: streamRouteV1(gatewayApi(true, { v1alpha2: TCPRouteV1alpha2 })),
  UDPRoute: streamRouteV1(gatewayApi(true, { v1alpha2: UDPRouteV1alpha2 })),
  ReferenceGrant: gatewayApi(true, {
    v1: ReferenceGrantV1, v1beta1: ReferenceGrantV1beta1, v1alpha2: ReferenceGrantV1alpha2,
  }),
  BackendTLSPolicy: gatewayApi(true, { v1: BackendTLSPolicyV1, v1alpha3: BackendTLSPolicyV1alpha3 }),
  // The metadata checks every kind gets are all a Namespace needs.
  Namespace: { namespaced: false, versions: { v1: () => [] } },
  Service: { namespaced: true, versions: { v1: checkService } },
  EndpointSlice: { namespaced: true, versions: { 'discovery.k8s.io/v1': checkEndpointSlice } },
  Secret: { namespaced: true, versions: { v1: checkSecret } },
  ConfigMap: { namespaced: true, versions: { v1: checkConfigMap } },
};

function gatewayApi(namespaced: boolean, models: Record<string, ModelClass>): KindRule {
  const versions: Record<string, Check> = {};
  for (const [version, model] of Object.entries(models)) {
    versions[`${GATEWAY_API}/${version}`] = (obj) => schemaIssues(model, obj);
  }
  return { namespaced, versions };
}

/**
 * Adds v1 to a TCPRoute or UDPRoute rule. The models package has only their
 * v1alpha2 schema; in the v1.6.1 CRDs v1 is that schema with at most one
 * rule, so a v1 object is checked as v1alpha2 and then for its rule count.
 */
function streamRouteV1(rule: KindRule): KindRule {
  const v1alpha2 = rule.versions[`${GATEWAY_API}/v1alpha2`]!;
  const v1: Check = (obj) => {
    const issues = v1alpha2({ ...obj, apiVersion: `${GATEWAY_API}/v1alpha2` });
    const rules = isObject(obj.spec) ? obj.spec.rules : undefined;
    if (Array.isArray(rules) && rules.length > 1) {
      issues.push({ path: ['spec', 'rules'], message: `${renderPath(['spec', 'rules'])} must NOT have more than 1 item` });
    }
    return issues;
  };
  return { ...rule, versions: { [`${GATEWAY_API}/v1`]: v1, ...rule.versions } };
}

export function isSnapshotKind(kind: string): kind is SnapshotKind {
  return Object.hasOwn(KIND_RULES, kind);
}

export function isNamespaced(kind: SnapshotKind): boolean {
  return KIND_RULES[kind].namespaced;
}

/** `Kind ns/name`, or `Kind name` for cluster-scoped kinds. */
export function objectLabel(kind: string, namespace: string | undefined, name: unknown): string {
  const n = typeof name === 'string' && name !== '' ? name : '<unnamed>';
  return namespace ? `${kind} ${namespace}/${n}` : `${kind} ${n}`;
}

/**
 * Validates an object of a kind the snapshot carries. The caller has already
 * checked that `apiVersion` and `kind` are strings.
 */
export function validateObject(kind: SnapshotKind, obj: Json): Issue[] {
  const rule = KIND_RULES[kind];
  const apiVersion = obj.apiVersion as string;
  const check = rule.versions[apiVersion];
  if (!check) {
    const supported = Object.keys(rule.versions).join(', ');
    return [{ path: ['apiVersion'], message: `apiVersion ${apiVersion} is not served for ${kind} (supported: ${supported})` }];
  }
  const issues = checkMetadata(kind, obj.metadata);
  // A name we cannot trust makes further messages confusing; report that alone.
  if (issues.length > 0) return issues;
  return check(obj);
}

function checkMetadata(kind: SnapshotKind, metadata: unknown): Issue[] {
  if (!isObject(metadata)) return [{ path: ['metadata'], message: 'metadata.name is required' }];
  const issues: Issue[] = [];
  const { name, namespace } = metadata;
  if (name === undefined || name === '') {
    issues.push({ path: ['metadata'], message: 'metadata.name is required' });
  } else if (typeof name !== 'string' || !(kind === 'Namespace' ? isDnsLabel(name) : isDnsSubdomain(name))) {
    const rule = kind === 'Namespace' ? 'a DNS-1123 label' : 'a DNS-1123 subdomain';
    issues.push({ path: ['metadata', 'name'], message: `metadata.name ${JSON.stringify(name)} must be ${rule} (lowercase letters, digits, '-'${kind === 'Namespace' ? '' : ", '.'"})` });
  }
  if (KIND_RULES[kind].namespaced && namespace !== undefined && namespace !== '' && !(typeof namespace === 'string' && isDnsLabel(namespace))) {
    issues.push({ path: ['metadata', 'namespace'], message: `metadata.namespace ${JSON.stringify(namespace)} must be a DNS-1123 label` });
  }
  for (const field of ['labels', 'annotations'] as const) {
    const map = metadata[field];
    if (map === undefined) continue;
    if (!isObject(map)) {
      issues.push({ path: ['metadata', field], message: `metadata.${field} must be a map of strings` });
      continue;
    }
    for (const [k, v] of Object.entries(map)) {
      if (typeof v !== 'string') issues.push({ path: ['metadata', field, k], message: `${renderPath(['metadata', field, k])} must be a string` });
    }
  }
  return issues;
}

function schemaIssues(model: ModelClass, obj: Json): Issue[] {
  try {
    new model(obj as never).validate();
    return [];
  } catch (e) {
    const errors = (e as { errors?: SchemaError[] }).errors;
    if (!Array.isArray(errors)) return [{ path: [], message: (e as Error).message }];
    const seen = new Set<string>();
    const issues: Issue[] = [];
    for (const err of errors) {
      const issue = schemaIssue(err, obj);
      if (seen.has(issue.message)) continue;
      seen.add(issue.message);
      issues.push(issue);
    }
    return issues;
  }
}

function schemaIssue(err: SchemaError, obj: Json): Issue {
  const path = pointerToPath(err.instancePath, obj);
  const { params } = err;
  switch (err.keyword) {
    case 'required': {
      const full = [...path, String(params.missingProperty)];
      // Point at the parent: the missing field has no line of its own.
      return { path, message: `${renderPath(full)} is required` };
    }
    case 'additionalProperties': {
      const full = [...path, String(params.additionalProperty)];
      return { path: full, message: `${renderPath(full)} is not a known field` };
    }
    case 'enum':
      return { path, message: `${renderPath(path)} must be one of: ${(params.allowedValues as unknown[]).join(', ')}` };
    default:
      return { path, message: `${renderPath(path)} ${err.message ?? 'is invalid'}` };
  }
}

/** JSON pointer → path, with array indexes as numbers (told apart by looking at the data). */
function pointerToPath(pointer: string, obj: Json): (string | number)[] {
  const path: (string | number)[] = [];
  let current: unknown = obj;
  for (const raw of pointer.split('/').slice(1)) {
    const segment = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(current)) {
      const index = Number(segment);
      path.push(index);
      current = current[index];
    } else {
      path.push(segment);
      current = isObject(current) ? current[segment] : undefined;
    }
  }
  return path;
}

/** `spec.rules[0].backendRefs[0].port`, the notation of kubectl's error messages. */
function renderPath(path: FieldPath): string {
  let out = '';
  for (const segment of path) {
    if (typeof segment === 'number') out += `[${segment}]`;
    else if (/^[A-Za-z_][\w-]*$/.test(segment)) out += out === '' ? segment : `.${segment}`;
    else out += `[${JSON.stringify(segment)}]`;
  }
  return out || '<object>';
}

// ---- core kinds: the checks whose failure would otherwise surface far away ----

function checkService(obj: Json): Issue[] {
  const spec = obj.spec;
  if (spec === undefined) return [];
  if (!isObject(spec)) return [typeIssue(['spec'], 'an object')];
  const ports = spec.ports;
  if (ports === undefined) return [];
  if (!Array.isArray(ports)) return [typeIssue(['spec', 'ports'], 'a list')];
  const issues: Issue[] = [];
  ports.forEach((port, i) => {
    const at = ['spec', 'ports', i];
    if (!isObject(port)) {
      issues.push(typeIssue(at, 'an object'));
      return;
    }
    issues.push(...portIssues([...at, 'port'], port.port, true));
    if (typeof port.targetPort !== 'string') issues.push(...portIssues([...at, 'targetPort'], port.targetPort, false));
  });
  return issues;
}

const ADDRESS_TYPES = ['IPv4', 'IPv6', 'FQDN'];

function checkEndpointSlice(obj: Json): Issue[] {
  const issues: Issue[] = [];
  if (obj.addressType === undefined) issues.push({ path: [], message: 'addressType is required' });
  else if (!ADDRESS_TYPES.includes(obj.addressType as string)) {
    issues.push({ path: ['addressType'], message: `addressType must be one of: ${ADDRESS_TYPES.join(', ')}` });
  }
  const { endpoints, ports } = obj;
  if (endpoints !== undefined) {
    if (!Array.isArray(endpoints)) issues.push(typeIssue(['endpoints'], 'a list'));
    else endpoints.forEach((ep, i) => {
      const addresses = isObject(ep) ? ep.addresses : undefined;
      if (!Array.isArray(addresses) || addresses.length === 0 || !addresses.every((a) => typeof a === 'string')) {
        issues.push({ path: ['endpoints', i], message: `${renderPath(['endpoints', i, 'addresses'])} must be a non-empty list of strings` });
      }
    });
  }
  if (ports !== undefined) {
    if (!Array.isArray(ports)) issues.push(typeIssue(['ports'], 'a list'));
    else ports.forEach((port, i) => {
      if (!isObject(port)) issues.push(typeIssue(['ports', i], 'an object'));
      else issues.push(...portIssues(['ports', i, 'port'], port.port, false));
    });
  }
  return issues;
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

function checkSecret(obj: Json): Issue[] {
  const issues: Issue[] = [];
  const keys = new Set<string>();
  for (const field of ['data', 'stringData'] as const) {
    const map = obj[field];
    if (map === undefined || map === null) continue;
    if (!isObject(map)) {
      issues.push(typeIssue([field], 'a map'));
      continue;
    }
    for (const [key, value] of Object.entries(map)) {
      keys.add(key);
      if (typeof value !== 'string') issues.push(typeIssue([field, key], 'a string'));
      // Like the API server's decoder, line breaks inside base64 are tolerated.
      else if (field === 'data' && !BASE64.test(value.replace(/[\r\n]/g, ''))) {
        issues.push({ path: [field, key], message: `${renderPath([field, key])} is not valid base64` });
      }
    }
  }
  if (obj.type === 'kubernetes.io/tls') {
    for (const key of ['tls.crt', 'tls.key']) {
      if (!keys.has(key)) issues.push({ path: ['data'], message: `a kubernetes.io/tls Secret must have data[${JSON.stringify(key)}]` });
    }
  }
  return issues;
}

function checkConfigMap(obj: Json): Issue[] {
  const data = obj.data;
  if (data === undefined || data === null) return [];
  if (!isObject(data)) return [typeIssue(['data'], 'a map')];
  return Object.entries(data).filter(([, v]) => typeof v !== 'string').map(([k]) => typeIssue(['data', k], 'a string'));
}

function portIssues(path: FieldPath, value: unknown, required: boolean): Issue[] {
  if (value === undefined) return required ? [{ path: path.slice(0, -1), message: `${renderPath(path)} is required` }] : [];
  if (!Number.isInteger(value) || (value as number) < 1 || (value as number) > 65535) {
    return [{ path, message: `${renderPath(path)} must be an integer between 1 and 65535` }];
  }
  return [];
}

function typeIssue(path: FieldPath, what: string): Issue {
  return { path, message: `${renderPath(path)} must be ${what}` };
}

export function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isDnsLabel(s: string): boolean {
  return s.length <= 63 && /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/.test(s);
}

function isDnsSubdomain(s: string): boolean {
  return s.length <= 253 && /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/.test(s);
}

/** Turns a validated manifest into the object the snapshot carries. */
export function normalize(kind: SnapshotKind, obj: Json): KubeObject {
  const out = structuredClone(obj);
  const metadata = out.metadata as Json;
  // kubectl treats an empty namespace like an absent one.
  if (KIND_RULES[kind].namespaced) metadata.namespace ||= 'default';
  // The API server ignores a namespace on cluster-scoped objects; so do we.
  else delete metadata.namespace;
  if (kind === 'Secret') {
    const data: Record<string, string> = {};
    for (const [k, v] of Object.entries((out.data ?? {}) as Record<string, string>)) {
      data[k] = Buffer.from(v, 'base64').toString('utf8');
    }
    Object.assign(data, out.stringData ?? {});
    delete out.stringData;
    out.data = data;
  }
  return out as unknown as KubeObject;
}
