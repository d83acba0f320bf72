// The DNS wire format (RFC 1035) as far as the UDPRoute test needs it: the
// test's query (upstream uses miekg/dns) and the coredns stand-in's answers.
import { randomInt } from 'node:crypto';
import { udpRoundTrip } from './udp.js';

export const TypeA = 1;
export const TypeAAAA = 28;
export const TypeSRV = 33;
export const TypeOPT = 41;
export const ClassINET = 1;

export const RcodeSuccess = 0;
export const RcodeFormatError = 1;
export const RcodeServerFailure = 2;
export const RcodeRefused = 5;

export interface Question {
  /** Fully qualified, with the trailing dot. */
  name: string;
  type: number;
  class: number;
}

export interface ResourceRecord {
  name: string;
  type: number;
  class: number;
  ttl: number;
  data: Buffer;
}

export interface Message {
  id: number;
  response: boolean;
  opcode: number;
  authoritative: boolean;
  truncated: boolean;
  recursionDesired: boolean;
  recursionAvailable: boolean;
  rcode: number;
  questions: Question[];
  answers: ResourceRecord[];
  authorities: ResourceRecord[];
  additionals: ResourceRecord[];
}

/** miekg/dns SetQuestion: a random id, recursion desired, one question of class IN. */
export function newQuery(name: string, type: number): Message {
  return {
    id: randomInt(0x10000), response: false, opcode: 0, authoritative: false, truncated: false,
    recursionDesired: true, recursionAvailable: false, rcode: RcodeSuccess,
    questions: [{ name, type, class: ClassINET }], answers: [], authorities: [], additionals: [],
  };
}

function encodeName(name: string): Buffer {
  const labels = name.split('.').filter((l) => l !== '');
  const parts: Buffer[] = [];
  for (const label of labels) {
    const bytes = Buffer.from(label, 'utf8');
    if (bytes.length > 63) throw new Error(`dns: label ${label} longer than 63 bytes`);
    parts.push(Buffer.from([bytes.length]), bytes);
  }
  parts.push(Buffer.from([0]));
  return Buffer.concat(parts);
}

function u16(n: number): Buffer {
  const b = Buffer.alloc(2);
  b.writeUInt16BE(n);
  return b;
}

function encodeRecord(rr: ResourceRecord): Buffer {
  const fixed = Buffer.alloc(10);
  fixed.writeUInt16BE(rr.type, 0);
  fixed.writeUInt16BE(rr.class, 2);
  fixed.writeUInt32BE(rr.ttl >>> 0, 4);
  fixed.writeUInt16BE(rr.data.length, 8);
  return Buffer.concat([encodeName(rr.name), fixed, rr.data]);
}

export function encodeMessage(m: Message): Buffer {
  const header = Buffer.alloc(12);
  header.writeUInt16BE(m.id, 0);
  header.writeUInt16BE((m.response ? 0x8000 : 0) | ((m.opcode & 0xf) << 11) | (m.authoritative ? 0x400 : 0) | (m.truncated ? 0x200 : 0) |
    (m.recursionDesired ? 0x100 : 0) | (m.recursionAvailable ? 0x80 : 0) | (m.rcode & 0xf), 2);
  header.writeUInt16BE(m.questions.length, 4);
  header.writeUInt16BE(m.answers.length, 6);
  header.writeUInt16BE(m.authorities.length, 8);
  header.writeUInt16BE(m.additionals.length, 10);
  return Buffer.concat([
    header,
    ...m.questions.map((q) => Buffer.concat([encodeName(q.name), u16(q.type), u16(q.class)])),
    ...[...m.answers, ...m.authorities, ...m.additionals].map(encodeRecord),
  ]);
}

/** A name at `offset`, following compression pointers; returns it and the offset after it. */
function decodeName(b: Buffer, offset: number): [string, number] {
  const labels: string[] = [];
  let pos = offset;
  let end: number | undefined;
  for (let jumps = 0; ; jumps++) {
    if (pos >= b.length) throw new Error('dns: name runs past the message');
    const len = b[pos]!;
    if (len === 0) {
      end ??= pos + 1;
      break;
    }
    if ((len & 0xc0) === 0xc0) {
      if (pos + 1 >= b.length || jumps > 32) throw new Error('dns: bad compression pointer');
      end ??= pos + 2;
      pos = ((len & 0x3f) << 8) | b[pos + 1]!;
      continue;
    }
    if ((len & 0xc0) !== 0 || pos + 1 + len > b.length) throw new Error('dns: bad label');
    labels.push(b.toString('utf8', pos + 1, pos + 1 + len));
    pos += 1 + len;
  }
  return [`${labels.join('.')}.`, end];
}

/** Parses a message; throws on anything malformed, as miekg's Unpack does. */
export function decodeMessage(b: Buffer): Message {
  if (b.length < 12) throw new Error('dns: message shorter than its header');
  const flags = b.readUInt16BE(2);
  const counts = [4, 6, 8, 10].map((o) => b.readUInt16BE(o)) as [number, number, number, number];
  let pos = 12;
  const questions: Question[] = [];
  for (let i = 0; i < counts[0]; i++) {
    const [name, next] = decodeName(b, pos);
    if (next + 4 > b.length) throw new Error('dns: question runs past the message');
    questions.push({ name, type: b.readUInt16BE(next), class: b.readUInt16BE(next + 2) });
    pos = next + 4;
  }
  const records = (n: number): ResourceRecord[] => Array.from({ length: n }, () => {
    const [name, next] = decodeName(b, pos);
    if (next + 10 > b.length) throw new Error('dns: record runs past the message');
    const length = b.readUInt16BE(next + 8);
    if (next + 10 + length > b.length) throw new Error('dns: record data runs past the message');
    const rr = {
      name, type: b.readUInt16BE(next), class: b.readUInt16BE(next + 2), ttl: b.readUInt32BE(next + 4),
      data: b.subarray(next + 10, next + 10 + length),
    };
    pos = next + 10 + length;
    return rr;
  });
  return {
    id: b.readUInt16BE(0),
    response: (flags & 0x8000) !== 0,
    opcode: (flags >> 11) & 0xf,
    authoritative: (flags & 0x400) !== 0,
    truncated: (flags & 0x200) !== 0,
    recursionDesired: (flags & 0x100) !== 0,
    recursionAvailable: (flags & 0x80) !== 0,
    rcode: flags & 0xf,
    questions,
    answers: records(counts[1]),
    authorities: records(counts[2]),
    additionals: records(counts[3]),
  };
}

/** SRV record data: priority, weight, port, target. */
export function srvData(priority: number, weight: number, port: number, target: string): Buffer {
  return Buffer.concat([u16(priority), u16(weight), u16(port), encodeName(target)]);
}

const typeNames: Record<number, string> = { [TypeA]: 'A', [TypeAAAA]: 'AAAA', [TypeSRV]: 'SRV', [TypeOPT]: 'OPT' };
const rcodeNames: Record<number, string> = { [RcodeSuccess]: 'NOERROR', [RcodeFormatError]: 'FORMERR', [RcodeServerFailure]: 'SERVFAIL', [RcodeRefused]: 'REFUSED' };

/** One record in zone-file style, e.g. `_udp.foo.bar.com. 0 IN SRV 0 0 53 .`. */
export function describeRecord(rr: ResourceRecord): string {
  let data: string;
  if (rr.type === TypeA && rr.data.length === 4) data = [...rr.data].join('.');
  else if (rr.type === TypeAAAA && rr.data.length === 16) data = Array.from({ length: 8 }, (_, i) => rr.data.readUInt16BE(i * 2).toString(16)).join(':');
  else if (rr.type === TypeSRV && rr.data.length >= 7) data = `${rr.data.readUInt16BE(0)} ${rr.data.readUInt16BE(2)} ${rr.data.readUInt16BE(4)} ${decodeName(rr.data, 6)[0]}`;
  else data = rr.data.toString('hex');
  return `${rr.name} ${rr.ttl} ${rr.class === ClassINET ? 'IN' : `CLASS${rr.class}`} ${typeNames[rr.type] ?? `TYPE${rr.type}`} ${data}`;
}

/** A one-line summary for logs: status, question and every record. */
export function describeMessage(m: Message): string {
  const q = m.questions.map((x) => `${x.name} ${typeNames[x.type] ?? `TYPE${x.type}`}`).join(', ');
  const rrs = [...m.answers, ...m.authorities, ...m.additionals].map(describeRecord);
  return `id=${m.id} status=${rcodeNames[m.rcode] ?? m.rcode} question=[${q}] records=[${rrs.join('; ')}]`;
}

/**
 * miekg/dns Exchange over UDP: sends the query and returns the first reply
 * with the query's id (others are skipped as late answers to earlier
 * queries); a reply that does not parse is an error.
 */
export async function exchange(query: Message, addr: string, timeoutMs: number): Promise<Message> {
  const reply = await udpRoundTrip(addr, encodeMessage(query), timeoutMs, (b) => b.length < 2 || b.readUInt16BE(0) === query.id);
  return decodeMessage(reply);
}
