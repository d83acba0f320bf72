// The data plane in N worker processes, fed by the one translator in the
// primary. Workers are node:cluster children sharing each listening socket:
// the primary binds it once and every worker accepts on it (SCHED_NONE, so the
// kernel hands each connection to whichever worker is waiting), so a worker
// that stops or restarts leaves the others serving on the same port.
//
// Every apply goes to every worker and completes when all have swapped it in;
// a worker that (re)starts is given the latest IR before it is counted ready.

import cluster, { type Worker } from 'node:cluster';
import { fileURLToPath } from 'node:url';
import type { DataPlaneStats } from '../dataplane/index.js';
import { zeroStats } from '../dataplane/stats.js';
import { IREncoder } from '../ir/delta.js';
import type { IRConfig, IRServer } from '../ir/types.js';
import type { Logger } from '../util/log.js';
import type { ServerFailure } from './controller.js';

/**
 * Messages from primary to worker. The IR travels as text from IREncoder,
 * made once per apply (cloning a string for each worker is a copy, cloning
 * the object graph would be a walk of every route per worker), and holding
 * only the routes the workers do not have yet.
 */
export type ToWorker =
  | { type: 'apply'; seq: number; ir: string }
  | { type: 'stats'; seq: number }
  | { type: 'shutdown'; timeoutMs: number };

/** Messages from worker to primary. */
export type FromWorker =
  | { type: 'ready' }
  /** `resync`: the worker could not use a delta (it holds other routes) and needs the whole config. */
  | { type: 'applied'; seq: number; failures: ServerFailure[]; stale: string[]; resync?: boolean }
  | { type: 'stats'; seq: number; stats: DataPlaneStats };

/** A restart loop (a worker that dies at once, every time) is slowed to this pace. */
const RESPAWN_MIN_INTERVAL_MS = 1_000;
/** How long past its drain timeout a stopping worker may take to exit before it is killed. */
const EXIT_GRACE_MS = 5_000;

interface Member {
  worker: Worker;
  /** The one worker that binds UDP servers (see DataPlaneOptions.udp). */
  udp: boolean;
  /**
   * Set by its 'ready' message. Until then the worker may still be loading, with no handler for messages,
   * and a message sent to it is lost.
   */
  listening: boolean;
  /** Listening, and holding the latest config. */
  ready: boolean;
  /** Replies awaited from this worker, by sequence number. */
  waiting: Map<number, (reply: FromWorker | undefined) => void>;
}

export interface WorkerPoolOptions {
  count: number;
  logger: Logger;
  logLevel: string;
}

export class WorkerPool {
  private readonly members = new Map<number, Member>();
  private readonly encoder = new IREncoder();
  /** The latest config applied, for workers that (re)start or fall out of step. */
  private latest: IRConfig | undefined;
  /**
   * Per server, the last version the workers took without a failure. A
   * worker keeps serving a server's last good certificates when new ones do
   * not load; a replacement worker has none, so it is given these first.
   */
  private readonly lastGood = new Map<string, IRServer>();
  private seq = 0;
  /** Set once shutdown() starts: what each worker is given to drain. */
  private drainTimeoutMs: number | undefined;
  private lastSpawn = 0;
  private statsInFlight: Promise<DataPlaneStats> | undefined;
  /** Resolves once the first `count` workers are up: the first apply waits for them, so readiness means serving. */
  private readonly started: Promise<void>;
  private markStarted!: () => void;

  constructor(private readonly options: WorkerPoolOptions) {
    this.started = new Promise((resolve) => { this.markStarted = resolve; });
    cluster.schedulingPolicy = cluster.SCHED_NONE;
    cluster.setupPrimary({ exec: fileURLToPath(new URL('./worker.js', import.meta.url)), serialization: 'advanced' });
    for (let i = 0; i < options.count; i++) this.spawn(i === 0);
  }

  async apply(config: IRConfig): Promise<{ failures: ServerFailure[] }> {
    const ir = this.encoder.encode(config);
    this.latest = config;
    await this.started;
    const ready = [...this.members.values()].filter((m) => m.ready);
    const replies = await Promise.all(ready.map(async (m) => {
      const reply = await this.ask(m, (seq) => ({ type: 'apply', seq, ir }));
      return reply?.type === 'applied' && reply.resync ? this.bringUpToDate(m) : reply;
    }));
    // Every worker binds through the primary's one socket, so they report the same failures.
    const failures = new Map<string, ServerFailure>();
    for (const r of replies) if (r?.type === 'applied') for (const f of r.failures) failures.set(f.serverId, f);
    const stale = new Set(replies.flatMap((r) => (r?.type === 'applied' ? r.stale : [])));
    const wanted = new Set(config.servers.map((s) => s.id));
    for (const id of this.lastGood.keys()) if (!wanted.has(id)) this.lastGood.delete(id);
    for (const s of config.servers) if (!failures.has(s.id) && !stale.has(s.id)) this.lastGood.set(s.id, s);
    return { failures: [...failures.values()] };
  }

  /** Counters summed over the live workers. One query at a time; concurrent callers share it. */
  stats(): Promise<DataPlaneStats> {
    this.statsInFlight ??= this.collectStats().finally(() => { this.statsInFlight = undefined; });
    return this.statsInFlight;
  }

  /** Asks every worker to drain, and waits for them to exit. */
  async shutdown(timeoutMs: number): Promise<void> {
    this.drainTimeoutMs = timeoutMs;
    await Promise.all([...this.members.values()].map((m) => this.stop(m, timeoutMs)));
  }

  /**
   * Resolves once the worker has exited. One still starting is told when it
   * says it is ready (onMessage); one that has not exited by the end of its
   * drain and EXIT_GRACE_MS is killed, so shutdown always ends.
   */
  private stop(m: Member, timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      if (m.worker.isDead()) {
        resolve();
        return;
      }
      const deadline = setTimeout(() => {
        this.options.logger.warn({ worker: m.worker.id, pid: m.worker.process.pid }, 'data-plane worker did not exit after draining; killing it');
        m.worker.process.kill('SIGKILL');
      }, timeoutMs + EXIT_GRACE_MS);
      m.worker.once('exit', () => {
        clearTimeout(deadline);
        resolve();
      });
      if (m.listening) send(m.worker, { type: 'shutdown', timeoutMs });
    });
  }

  private async collectStats(): Promise<DataPlaneStats> {
    const ready = [...this.members.values()].filter((m) => m.ready);
    const replies = await Promise.all(ready.map((m) => this.ask(m, (seq) => ({ type: 'stats', seq }))));
    const sum = zeroStats();
    for (const r of replies) {
      if (r?.type !== 'stats') continue;
      const s = r.stats;
      sum.requests += s.requests;
      sum.active += s.active;
      sum.aborted += s.aborted;
      sum.upstreamErrors += s.upstreamErrors;
      for (const k of Object.keys(sum.responses) as (keyof DataPlaneStats['responses'])[]) sum.responses[k] += s.responses[k];
      for (const k of Object.keys(sum.l4) as (keyof DataPlaneStats['l4'])[]) sum.l4[k] += s.l4[k];
    }
    return sum;
  }

  private ask(m: Member, build: (seq: number) => ToWorker): Promise<FromWorker | undefined> {
    const seq = ++this.seq;
    return new Promise((resolve) => {
      m.waiting.set(seq, resolve);
      if (!send(m.worker, build(seq))) {
        m.waiting.delete(seq);
        resolve(undefined);
      }
    });
  }

  private spawn(udp: boolean): void {
    this.lastSpawn = Date.now();
    const worker = cluster.fork({ ARCHWAY_LOG_LEVEL: this.options.logLevel, ARCHWAY_WORKER_UDP: udp ? '1' : '0' });
    const member: Member = { worker, udp, listening: false, ready: false, waiting: new Map() };
    this.members.set(worker.id, member);
    worker.on('message', (msg: FromWorker) => void this.onMessage(member, msg));
    // IPC errors (a message to a worker that just exited) surface as 'exit' too.
    worker.on('error', (err) => this.options.logger.debug({ err, worker: worker.id }, 'worker channel error'));
    worker.once('exit', (code, signal) => this.onExit(member, code, signal));
  }

  private async onMessage(member: Member, msg: FromWorker): Promise<void> {
    if (msg.type === 'ready') {
      member.listening = true;
      if (this.drainTimeoutMs !== undefined) {
        send(member.worker, { type: 'shutdown', timeoutMs: this.drainTimeoutMs });
        return;
      }
      // Brought up to date before it counts, so an apply never waits on a worker that has nothing yet;
      // an apply that starts meanwhile skips this worker, so it is sent here too.
      await this.bringUpToDate(member);
      member.ready = true;
      if ([...this.members.values()].filter((m) => m.ready).length >= this.options.count) this.markStarted();
      this.options.logger.info({ worker: member.worker.id, pid: member.worker.process.pid }, 'data-plane worker ready');
      return;
    }
    const reply = member.waiting.get(msg.seq);
    member.waiting.delete(msg.seq);
    reply?.(msg);
  }

  /**
   * Sends the whole latest config (again, if an apply lands meanwhile),
   * preceded by the last good version of any server that failed since;
   * resolves with the last reply.
   */
  private async bringUpToDate(member: Member): Promise<FromWorker | undefined> {
    let sent: IRConfig | undefined;
    let reply: FromWorker | undefined;
    while (this.latest !== undefined && this.latest !== sent) {
      sent = this.latest;
      const fallback = this.withLastGood(sent);
      // Both encoded before either is sent, so the encoder ends on the config every worker will hold.
      const texts = [fallback && this.encoder.encode(fallback, { full: true }), this.encoder.encode(sent, { full: true })];
      for (const ir of texts) if (ir !== undefined) reply = await this.ask(member, (seq) => ({ type: 'apply', seq, ir }));
    }
    return reply;
  }

  /** `config` with the last good version of each server that has one of its own; undefined when that is `config`. */
  private withLastGood(config: IRConfig): IRConfig | undefined {
    let differs = false;
    const servers = config.servers.map((s) => {
      const good = this.lastGood.get(s.id) ?? s;
      if (good !== s) differs = true;
      return good;
    });
    return differs ? { ...config, servers } : undefined;
  }

  private onExit(member: Member, code: number | null, signal: string | null): void {
    this.members.delete(member.worker.id);
    for (const resolve of member.waiting.values()) resolve(undefined);
    member.waiting.clear();
    if (this.drainTimeoutMs !== undefined) return;
    const log = this.options.logger;
    if (code === 0) log.info({ worker: member.worker.id }, 'data-plane worker exited; starting a replacement');
    else log.error({ worker: member.worker.id, code, signal }, 'data-plane worker died; starting a replacement');
    const wait = Math.max(0, this.lastSpawn + RESPAWN_MIN_INTERVAL_MS - Date.now());
    setTimeout(() => {
      if (this.drainTimeoutMs === undefined) this.spawn(member.udp);
    }, wait);
  }
}

function send(worker: Worker, msg: ToWorker): boolean {
  if (!worker.isConnected()) return false;
  try {
    worker.send(msg);
    return true;
  } catch {
    return false;
  }
}
