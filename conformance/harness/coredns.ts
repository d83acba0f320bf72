// A stand-in for the coredns Deployment of the base manifests, which the
// UDPRoute test queries through the gateway. It answers over UDP what the
// mounted Corefile configures: zones served by the whoami plugin answer as
// whoami does; a zone whose answers would come from another server (forward)
// gets SERVFAIL, which is what coredns returns when its upstreams cannot be
// reached, as none can from the suite.
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import {
  ClassINET, decodeMessage, encodeMessage, RcodeFormatError, RcodeRefused, RcodeServerFailure, srvData, TypeA, TypeOPT, TypeSRV,
  type Message, type ResourceRecord,
} from '../utils/dns.js';

/** One server block: `zone[:port] ... { plugin args... }`. */
export interface ServerBlock {
  /** Lower case, fully qualified ("." for the root). */
  zones: string[];
  port: number;
  /** The plugin directives in the block, by name. */
  plugins: string[];
}

const defaultPort = 53;

/** The server blocks of a Corefile: keys, and the first word of each directive line inside the braces. */
export function parseCorefile(text: string): ServerBlock[] {
  const blocks: ServerBlock[] = [];
  let keys: string[] = [];
  let current: ServerBlock | undefined;
  let depth = 0;
  for (const rawLine of text.split('\n')) {
    const tokens = rawLine.replace(/#.*/, '').replace(/[{}]/g, ' $& ').split(/\s+/).filter(Boolean);
    let directive = true;
    for (const token of tokens) {
      if (token === '{') {
        if (++depth === 1) {
          current = blockFor(keys);
          keys = [];
        }
      } else if (token === '}') {
        if (depth === 0) throw new Error('Corefile: unexpected }');
        if (--depth === 0) blocks.push(current!);
      } else if (depth === 0) {
        keys.push(token);
      } else if (depth === 1 && directive) {
        current!.plugins.push(token);
      }
      directive = false;
    }
  }
  if (depth !== 0 || keys.length > 0) throw new Error('Corefile: unterminated server block');
  return blocks;
}

function blockFor(keys: readonly string[]): ServerBlock {
  if (keys.length === 0) throw new Error('Corefile: server block without a zone');
  let port: number | undefined;
  const zones = keys.map((key) => {
    const m = /^(?:dns:\/\/)?([^:]*)(?::(\d+))?$/.exec(key);
    if (!m) throw new Error(`Corefile: cannot read server key ${key}`);
    const keyPort = m[2] === undefined ? defaultPort : Number(m[2]);
    if (port !== undefined && port !== keyPort) throw new Error(`Corefile: one block on two ports (${key})`);
    port = keyPort;
    const zone = (m[1] || '.').toLowerCase();
    return zone.endsWith('.') ? zone : `${zone}.`;
  });
  return { zones, port: port!, plugins: [] };
}

/** The block of the most specific zone (among the blocks on one port) that contains the name. */
function matchZone(blocks: readonly ServerBlock[], qname: string): ServerBlock | undefined {
  let best: { block: ServerBlock; length: number } | undefined;
  for (const block of blocks) {
    for (const zone of block.zones) {
      if (zone !== '.' && qname !== zone && !qname.endsWith(`.${zone}`)) continue;
      if (!best || zone.length > best.length) best = { block, length: zone.length };
    }
  }
  return best?.block;
}

/** coredns echoes the client's EDNS0 record (its buffer size, at least 512, and DO bit). */
function ednsFor(query: Message): ResourceRecord[] {
  const opt = query.additionals.find((rr) => rr.type === TypeOPT);
  if (!opt) return [];
  return [{ name: '.', type: TypeOPT, class: Math.max(opt.class, 512), ttl: opt.ttl & 0x8000, data: Buffer.alloc(0) }];
}

/** whoami: no answers; the client's address (A) and its transport and port (SRV) in the additional section. */
function whoami(qname: string, client: RemoteInfo): ResourceRecord[] {
  return [
    { name: qname, type: TypeA, class: ClassINET, ttl: 0, data: Buffer.from(client.address.split('.').map(Number)) },
    { name: qname === '.' ? '_udp.' : `_udp.${qname}`, type: TypeSRV, class: ClassINET, ttl: 0, data: srvData(0, 0, client.port, '.') },
  ];
}

/** The reply to one datagram, or undefined when none is due (not a query, or not even a header). */
function respond(blocks: readonly ServerBlock[], packet: Buffer, client: RemoteInfo): Buffer | undefined {
  if (packet.length < 12 || (packet[2]! & 0x80) !== 0) return undefined;
  const reply = (query: Message | undefined, rcode: number, additionals: ResourceRecord[] = [], authoritative = false): Buffer => encodeMessage({
    id: packet.readUInt16BE(0), response: true, opcode: (packet[2]! >> 3) & 0xf, authoritative, truncated: false,
    recursionDesired: (packet[2]! & 0x1) !== 0, recursionAvailable: false, rcode,
    questions: query?.questions ?? [], answers: [], authorities: [], additionals: [...additionals, ...(query ? ednsFor(query) : [])],
  });
  let query: Message;
  try {
    query = decodeMessage(packet);
  } catch {
    return reply(undefined, RcodeFormatError);
  }
  if (query.questions.length !== 1) return reply(query, RcodeFormatError);
  const qname = query.questions[0]!.name.toLowerCase();
  const block = matchZone(blocks, qname);
  if (!block) return reply(query, RcodeRefused);
  if (block.plugins.includes('whoami')) return reply(query, 0, whoami(qname, client), true);
  return reply(query, RcodeServerFailure);
}

export interface CoreDNS {
  /** The port the Corefile names, and the port actually bound for it. */
  ports: { containerPort: number; port: number }[];
  close(): Promise<void>;
}

/** Serves each port of the Corefile over UDP on a free port of `host` (IPv4, like the suite's pods). */
export async function startCoreDNS(corefile: string, host: string): Promise<CoreDNS> {
  const blocks = parseCorefile(corefile);
  const sockets: Socket[] = [];
  const ports: CoreDNS['ports'] = [];
  const close = () => Promise.all(sockets.map((s) => new Promise<void>((r) => s.close(() => r())))).then(() => undefined);
  try {
    for (const containerPort of [...new Set(blocks.map((b) => b.port))]) {
      const onPort = blocks.filter((b) => b.port === containerPort);
      const socket = createSocket('udp4');
      socket.on('message', (packet, client) => {
        const out = respond(onPort, packet, client);
        if (out) socket.send(out, client.port, client.address);
      });
      await new Promise<void>((resolve, reject) => {
        socket.once('error', reject);
        socket.bind(0, host, () => {
          socket.off('error', reject);
          resolve();
        });
      });
      // A reply to a client that has gone must not end the server.
      socket.on('error', () => {});
      sockets.push(socket);
      ports.push({ containerPort, port: socket.address().port });
    }
  } catch (err) {
    await close();
    throw err;
  }
  return { ports, close };
}
