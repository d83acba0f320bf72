import { isMap, isScalar, isSeq, LineCounter, parseAllDocuments, type Node } from 'yaml';

export type FieldPath = readonly (string | number)[];

/** One manifest out of a file, with enough of its YAML tree left to locate fields. */
export interface Manifest {
  value: unknown;
  /** 1-based line where the object starts. */
  line: number;
  /** Line of the deepest node along `path` that exists, so errors point at the field. */
  lineOf(path: FieldPath): number;
}

export interface ParseError {
  line?: number;
  message: string;
}

export interface ParsedFile {
  manifests: Manifest[];
  /** Syntax errors: non-empty means the file is unusable as a whole. */
  errors: ParseError[];
  /** Documents that are well-formed YAML but could not be turned into manifests. */
  skipped: ParseError[];
}

/**
 * Reads YAML (and therefore JSON) text with one or more documents. `kind: List`
 * and typed lists such as `HTTPRouteList` are flattened into their items, as
 * kubectl does, so exported cluster state can be fed in unchanged.
 */
export function parseManifests(text: string): ParsedFile {
  const lineCounter = new LineCounter();
  const lineAt = (offset: number) => lineCounter.linePos(offset).line;
  const manifests: Manifest[] = [];
  const errors: ParseError[] = [];
  const skipped: ParseError[] = [];

  for (const doc of parseAllDocuments(text, { lineCounter })) {
    for (const e of doc.errors) {
      // The library appends the location and a source excerpt; we report location separately.
      const message = e.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '');
      errors.push({ line: e.linePos?.[0].line, message });
    }
    if (doc.errors.length > 0 || doc.contents === null) continue;
    let value: unknown;
    try {
      value = doc.toJS();
    } catch (e) {
      errors.push({ line: lineAt(doc.contents.range[0]), message: (e as Error).message });
      continue;
    }
    if (value === null || value === undefined) continue;
    const root = doc.contents as Node;
    const items = listItems(value, root);
    if (items === undefined) {
      manifests.push(manifest(value, root, lineAt));
    } else if (items === 'invalid') {
      skipped.push({ line: lineAt(root.range![0]), message: `${(value as { kind: string }).kind}: items must be a list` });
    } else {
      items.forEach(([v, n]) => manifests.push(manifest(v, n, lineAt)));
    }
  }
  return { manifests, errors, skipped };
}

/** One YAML document's text and the 1-based line of the file it starts on. */
export interface DocumentText {
  text: string;
  line: number;
}

// A `---` marker at the start of a line, or a directive line (`%YAML`, `%TAG`).
const DOCUMENT_BOUNDARY = /^(?:---(?=[ \t\r\n]|$)|%)/gm;

/**
 * Splits text at its `---` document markers, so that an edit costs a parse of
 * the documents it touched rather than of the whole file. YAML forbids a
 * marker at the start of a line inside any scalar, so each piece parses as it
 * would in place. Directives belong to the document after a marker; text
 * with any comes back whole.
 */
export function splitDocuments(text: string): DocumentText[] {
  const starts = [0];
  for (const m of text.matchAll(DOCUMENT_BOUNDARY)) {
    if (m[0] === '%') return [{ text, line: 1 }];
    if (m.index > 0) starts.push(m.index);
  }
  const documents: DocumentText[] = [];
  let line = 1;
  for (let i = 0; i < starts.length; i++) {
    const piece = text.slice(starts[i], starts[i + 1]);
    documents.push({ text: piece, line });
    line += countNewlines(piece);
  }
  return documents;
}

function countNewlines(s: string): number {
  let n = 0;
  for (let i = s.indexOf('\n'); i !== -1; i = s.indexOf('\n', i + 1)) n += 1;
  return n;
}

function listItems(value: unknown, node: Node): [unknown, Node][] | 'invalid' | undefined {
  if (!isMap(node) || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const { kind, items } = value as { kind?: unknown; items?: unknown };
  if (typeof kind !== 'string' || !kind.endsWith('List') || !('items' in (value as object))) return undefined;
  const seq = childNode(node, 'items')?.value;
  if (!Array.isArray(items) || !isSeq(seq)) return 'invalid';
  return items.map((item, i) => [item, seq.items[i] as Node]);
}

function manifest(value: unknown, node: Node, lineAt: (offset: number) => number): Manifest {
  const start = lineAt(node.range![0]);
  return {
    value,
    line: start,
    lineOf(path) {
      let current: unknown = node;
      let line = start;
      for (const segment of path) {
        const child = childNode(current, segment);
        if (child === undefined) break;
        line = lineAt(child.at);
        current = child.value;
      }
      return line;
    },
  };
}

/** The node under `segment`, and the offset to report it at (a map entry's key, a sequence item). */
function childNode(node: unknown, segment: string | number): { value: unknown; at: number } | undefined {
  if (isMap(node)) {
    for (const pair of node.items) {
      if (isScalar(pair.key) && String(pair.key.value) === String(segment) && pair.key.range) {
        return { value: pair.value, at: pair.key.range[0] };
      }
    }
    return undefined;
  }
  if (isSeq(node) && typeof segment === 'number') {
    const item = node.items[segment] as Node | undefined;
    return item?.range ? { value: item, at: item.range[0] } : undefined;
  }
  return undefined;
}
