import { createHash } from 'node:crypto';
import { isIPv4 } from 'node:net';

/** An IPv4 CIDR from which Gateways without spec.addresses get their own address. */
export class AddressPool {
  private readonly base: number;
  private readonly size: number;

  constructor(readonly cidr: string) {
    const match = /^(\d+\.\d+\.\d+\.\d+)\/(\d+)$/.exec(cidr);
    if (!match || !isIPv4(match[1]!)) throw new Error(`--address-pool ${cidr}: expected an IPv4 CIDR such as 127.10.0.0/16`);
    const bits = Number(match[2]);
    if (bits < 8 || bits > 30) throw new Error(`--address-pool ${cidr}: prefix length must be between 8 and 30`);
    const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
    this.base = (ipToInt(match[1]!) & mask) >>> 0;
    this.size = 2 ** (32 - bits);
  }

  /**
   * Assigns addresses to the given Gateway keys. Keys that already hold an
   * address keep it; new keys start at a slot derived from their name, so an
   * assignment does not depend on the order Gateways appear in, and probe
   * forward past taken slots. The network and broadcast addresses are never used.
   */
  assign(keys: string[], previous: Record<string, string>): Record<string, string> {
    const out: Record<string, string> = {};
    const taken = new Set<string>();
    for (const key of keys) {
      const prior = previous[key];
      if (prior && this.contains(prior) && !taken.has(prior)) {
        out[key] = prior;
        taken.add(prior);
      }
    }
    const usable = this.size - 2;
    for (const key of [...keys].sort()) {
      if (out[key]) continue;
      const start = createHash('sha256').update(key).digest().readUInt32BE(0) % usable;
      for (let i = 0; i < usable; i++) {
        const candidate = intToIp(this.base + 1 + ((start + i) % usable));
        if (!taken.has(candidate)) {
          out[key] = candidate;
          taken.add(candidate);
          break;
        }
      }
    }
    return out;
  }

  contains(ip: string): boolean {
    if (!isIPv4(ip)) return false;
    const n = ipToInt(ip);
    return n >= this.base && n < this.base + this.size;
  }
}

function ipToInt(ip: string): number {
  return ip.split('.').reduce((acc, octet) => acc * 256 + Number(octet), 0);
}

function intToIp(n: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join('.');
}
