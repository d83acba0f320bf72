// Header modifier filters, compiled once per apply into "what to drop" and
// "what to append" so that applying one is a single pass over the headers.
// Spec order is set, then add, then remove: a set replaces, an add appends to
// whatever is left (including a set value), a remove wins over both.

import { validateHeaderName, validateHeaderValue, type OutgoingHttpHeaders } from 'node:http';
import type { IRHeaderMutation } from '../ir/types.js';

/**
 * RFC 9110 §7.6.1 connection-specific fields, plus the legacy Proxy-Connection
 * and h2c's HTTP2-Settings (RFC 7540 §3.2.1); together these are also every
 * field node:http2 refuses to send (RFC 9113 §8.2.2).
 */
export const HOP_BY_HOP: ReadonlySet<string> = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'transfer-encoding', 'upgrade', 'trailer', 'http2-settings']);

/** Request fields a proxy does not pass on as read: hop-by-hop ones, and the X-Forwarded ones it writes itself. */
export const NOT_FORWARDED: ReadonlySet<string> = new Set([...HOP_BY_HOP, 'x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host']);

/**
 * Fields the proxy writes or reads itself (framing, Date, Host, the
 * forwarding and connection fields): a filter touching one of them goes
 * through the field-list path, where that is worked out field by field.
 */
const PROXY_OWNED: ReadonlySet<string> = new Set([...NOT_FORWARDED, 'host', 'content-length', 'date', 'expect']);

export interface CompiledHeaderMutation {
  /** Lower-cased names whose existing values go: those set or removed. */
  drop: ReadonlySet<string>;
  /** Lower-cased name/value pairs added after the drop, in set-then-add order; removed names excluded. */
  append: readonly (readonly [string, string])[];
  /** Every lower-cased name it sets, adds or removes. */
  names: ReadonlySet<string>;
  /** `append` written out as field lines, each ending CRLF. */
  appendLines: string;
  /** Whether serialised field lines can be edited in place: it touches no field the proxy owns (PROXY_OWNED). */
  inPlace: boolean;
}

/** Throws on an invalid name or value, so a bad filter fails the apply instead of every request. */
export function compileMutation(m: IRHeaderMutation): CompiledHeaderMutation {
  const removed = new Set((m.remove ?? []).map((n) => n.toLowerCase()));
  const drop = new Set(removed);
  const append: (readonly [string, string])[] = [];
  const take = ({ name, value }: { name: string; value: string }): readonly [string, string] => {
    const lower = name.toLowerCase();
    validateHeaderName(lower);
    validateHeaderValue(lower, value);
    return [lower, value];
  };
  for (const pair of (m.set ?? []).map(take)) {
    drop.add(pair[0]);
    if (!removed.has(pair[0])) append.push(pair);
  }
  for (const pair of (m.add ?? []).map(take)) {
    if (!removed.has(pair[0])) append.push(pair);
  }
  for (const name of removed) validateHeaderName(name);
  const names = new Set([...drop, ...append.map(([name]) => name)]);
  return {
    drop,
    append,
    names,
    appendLines: append.map(([name, value]) => `${name}: ${value}\r\n`).join(''),
    inPlace: ![...names].some((name) => PROXY_OWNED.has(name)),
  };
}

/** Applies `m` to request headers keyed by lower-case name; an add joins an existing value with a comma. */
export function mutateRequest(out: OutgoingHttpHeaders, m: CompiledHeaderMutation): void {
  for (const name of m.drop) delete out[name];
  for (const [name, value] of m.append) {
    // Own fields only: a filter may name a field "constructor".
    const cur = Object.hasOwn(out, name) ? out[name] : undefined;
    out[name] = cur === undefined ? value : Array.isArray(cur) ? [...cur, value] : `${cur},${value}`;
  }
}

/** Fields as lines, each ending CRLF; a list value makes one line per item. */
export function fieldLinesOf(headers: OutgoingHttpHeaders): string {
  let lines = '';
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined) continue;
    if (Array.isArray(value)) for (const v of value) lines += `${name}: ${v}\r\n`;
    else lines += `${name}: ${value}\r\n`;
  }
  return lines;
}

/**
 * What a matched route does to every response it produces, proxied or local:
 * CORS headers first, then the route's modifier, then the picked backend's,
 * each later step able to drop what an earlier one wrote.
 */
export interface ResponseEdits {
  /** Flat name/value list; replaces any upstream header of the same names. */
  readonly cors: readonly string[] | undefined;
  readonly route: CompiledHeaderMutation | undefined;
  readonly backend: CompiledHeaderMutation | undefined;
}

export const NO_EDITS: ResponseEdits = Object.freeze({ cors: undefined, route: undefined, backend: undefined });

/** Whether a header from stage `stage` (0 upstream, 1 CORS, 2 route) is dropped by a later stage. */
export function droppedAfter(edits: ResponseEdits, stage: number, lowerName: string): boolean {
  if (edits.backend?.drop.has(lowerName)) return true;
  if (stage < 2 && edits.route?.drop.has(lowerName)) return true;
  if (stage < 1 && edits.cors !== undefined && CORS_RESPONSE.has(lowerName)) return true;
  return false;
}

const CORS_RESPONSE = new Set([
  'access-control-allow-origin',
  'access-control-allow-credentials',
  'access-control-expose-headers',
  'access-control-allow-methods',
  'access-control-allow-headers',
  'access-control-max-age',
]);

/**
 * An upstream's field lines (each ending CRLF, hop-by-hop ones already out)
 * with the route's and backend's modifiers applied, as responseHeaders and
 * appendEdits apply them to a field list; undefined when the edits cannot
 * be made in place (CORS, or a modifier touching a field the proxy owns).
 */
export function editedResponseLines(lines: string, edits: ResponseEdits): string | undefined {
  const { route, backend } = edits;
  if (edits.cors !== undefined || (route !== undefined && !route.inPlace) || (backend !== undefined && !backend.inPlace)) return undefined;
  let out = (route?.drop.size ?? 0) + (backend?.drop.size ?? 0) > 0 ? withoutFields(lines, (name) => droppedAfter(edits, 0, name)) : lines;
  if (route !== undefined) {
    if (backend === undefined) out += route.appendLines;
    else for (const [name, value] of route.append) if (!droppedAfter(edits, 2, name)) out += `${name}: ${value}\r\n`;
  }
  if (backend !== undefined) out += backend.appendLines;
  return out;
}

/** Field lines (each ending CRLF) less those whose lower-cased name `drops` picks. */
export function withoutFields(lines: string, drops: (lowerName: string) => boolean | undefined): string {
  let out = '';
  let keptFrom = 0;
  let start = 0;
  while (start < lines.length) {
    const colon = lines.indexOf(':', start);
    const next = lines.indexOf('\n', colon) + 1;
    if (drops(lines.slice(start, colon).toLowerCase())) {
      out += lines.slice(keptFrom, start);
      keptFrom = next;
    }
    start = next;
  }
  return keptFrom === 0 ? lines : out + lines.slice(keptFrom);
}

/** Appends the edits' own headers to a flat list that already holds the (filtered) base headers. */
export function appendEdits(out: string[], edits: ResponseEdits): void {
  const cors = edits.cors;
  if (cors !== undefined) {
    for (let i = 0; i < cors.length; i += 2) {
      if (!droppedAfter(edits, 1, cors[i]!)) out.push(cors[i]!, cors[i + 1]!);
    }
  }
  if (edits.route) {
    for (const [name, value] of edits.route.append) {
      if (!droppedAfter(edits, 2, name)) out.push(name, value);
    }
  }
  if (edits.backend) {
    for (const [name, value] of edits.backend.append) out.push(name, value);
  }
}
