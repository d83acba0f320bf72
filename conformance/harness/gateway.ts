import { request } from 'node:http';
import { archwayBin } from './paths.js';
import { freePort, spawnTracked, type Tracked } from './processes.js';

/** One entry of the admin server's /status: an object's status subresource. */
export interface StatusItem {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; generation?: number };
  status?: any;
}

function get(url: string, timeoutMs: number): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent: false, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`GET ${url}: no answer within ${timeoutMs}ms`)));
    req.on('error', reject);
    req.end();
  });
}

export interface GatewayOptions {
  configDir: string;
  addressPool: string;
  debug: boolean;
  readyTimeoutMs: number;
}

/** `archway serve` on the config dir, with its admin server on a free loopback port. */
export class GatewayProcess {
  private constructor(readonly process: Tracked, readonly admin: string) {}

  static async start(opts: GatewayOptions): Promise<GatewayProcess> {
    const adminPort = await freePort();
    const args = [archwayBin, 'serve', '--config', opts.configDir, '--admin', `127.0.0.1:${adminPort}`, '--address-pool', opts.addressPool];
    if (opts.debug) args.push('--log-level', 'debug');
    const proc = spawnTracked(process.execPath, args, opts.debug ? { echoTo: process.stderr } : {});
    const gw = new GatewayProcess(proc, `http://127.0.0.1:${adminPort}`);
    const deadline = Date.now() + opts.readyTimeoutMs;
    for (;;) {
      if (proc.exited) throw new Error(`archway serve exited before becoming ready:\n${proc.output()}`);
      const res = await get(`${gw.admin}/readyz`, 1_000).catch(() => undefined);
      if (res?.status === 200) return gw;
      if (Date.now() > deadline) {
        await proc.stop();
        throw new Error(`archway serve not ready within ${opts.readyTimeoutMs}ms (last /readyz: ${res ? res.status : 'no answer'}):\n${proc.output()}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** GET /config: the applied IR (503 until the first configuration). */
  async config(timeoutMs: number): Promise<any> {
    if (this.process.exited) throw new Error(`archway serve has exited:\n${this.process.output()}`);
    const res = await get(`${this.admin}/config`, timeoutMs);
    if (res.status !== 200) throw new Error(`GET /config: HTTP ${res.status}: ${res.body.slice(0, 200)}`);
    return JSON.parse(res.body);
  }

  async status(timeoutMs: number): Promise<StatusItem[]> {
    if (this.process.exited) throw new Error(`archway serve has exited:\n${this.process.output()}`);
    const res = await get(`${this.admin}/status`, timeoutMs);
    if (res.status !== 200) throw new Error(`GET /status: HTTP ${res.status}: ${res.body.slice(0, 200)}`);
    const list = JSON.parse(res.body) as { items?: StatusItem[] };
    return list.items ?? [];
  }
}
