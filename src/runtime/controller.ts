import type { IRConfig } from '../ir/types.js';
import type { Condition, Snapshot } from '../resources/types.js';
import { translate, type StatusEntry } from '../translator/index.js';
import type { Logger } from '../util/log.js';
import type { AddressPool } from './address-pool.js';
import type { RuntimeMetrics } from './metrics.js';

export interface ServerFailure { serverId: string; owner: string; error: string }

/** What the controller needs of a data plane: apply a config, report the sockets it could not open. */
export interface DataPlaneTarget {
  apply(ir: IRConfig): Promise<{ failures: ServerFailure[] }>;
}

export interface ControllerOptions {
  logger: Logger;
  controllerName: string;
  bindAddress: string;
  addressPool?: AddressPool;
  dataPlane: DataPlaneTarget;
  metrics?: RuntimeMetrics;
  now?: () => string;
}

/**
 * Runs snapshots through the translator into the data plane, one at a time:
 * a snapshot that arrives while another is being applied replaces any
 * snapshot still waiting, so bursts of changes collapse into one apply.
 */
export class Controller {
  private statusEntries: StatusEntry[] = [];
  private currentIR: IRConfig | undefined;
  private poolAssignments: Record<string, string> = {};
  private pending: Snapshot | undefined;
  private running: Promise<void> | undefined;
  private applied = 0;

  constructor(private readonly options: ControllerOptions) {}

  get statuses(): readonly StatusEntry[] { return this.statusEntries; }
  get ir(): IRConfig | undefined { return this.currentIR; }
  get ready(): boolean { return this.applied > 0; }

  /** Queues a snapshot; resolves once it (or a newer one) has been applied. */
  submit(snapshot: Snapshot): Promise<void> {
    this.pending = snapshot;
    this.running ??= this.drain().finally(() => { this.running = undefined; });
    return this.running;
  }

  private async drain(): Promise<void> {
    while (this.pending) {
      const snapshot = this.pending;
      this.pending = undefined;
      await this.applySnapshot(snapshot);
    }
  }

  private async applySnapshot(snapshot: Snapshot): Promise<void> {
    const { logger, metrics } = this.options;
    const now = this.options.now?.() ?? new Date().toISOString();
    const started = process.hrtime.bigint();
    let result;
    try {
      if (this.options.addressPool) {
        const keys = snapshot.gateways.map((g) => `${g.metadata.namespace ?? 'default'}/${g.metadata.name}`);
        this.poolAssignments = this.options.addressPool.assign(keys, this.poolAssignments);
      }
      result = translate(snapshot, {
        controllerName: this.options.controllerName,
        bindAddress: this.options.bindAddress,
        poolAssignments: this.options.addressPool ? this.poolAssignments : undefined,
        now,
        previous: this.statusEntries,
      });
    } catch (err) {
      // A translator bug must not take down what is serving: keep the last good config.
      metrics?.reloads.inc({ result: 'error' });
      logger.error({ err }, 'translation failed; keeping the previous configuration');
      return;
    }
    const translated = process.hrtime.bigint();
    metrics?.translationSeconds.observe(Number(translated - started) / 1e9);

    const { failures } = await this.options.dataPlane.apply(result.ir);
    const programmed = process.hrtime.bigint();
    for (const f of failures) logger.error({ server: f.serverId, gateway: f.owner, error: f.error }, 'listener could not be opened');
    this.statusEntries = withBindFailures(result.statuses, snapshot, failures, result.ir, now);
    this.currentIR = result.ir;
    this.applied += 1;
    metrics?.reloads.inc({ result: failures.length > 0 ? 'partial' : 'ok' });
    metrics?.servers.set(result.ir.servers.length);
    logger.info({
      servers: result.ir.servers.length,
      routes: result.ir.servers.reduce((n, s) => n + s.virtualHosts.reduce((m, v) => m + v.routes.length, 0), 0),
      failures: failures.length,
      ms: Number(process.hrtime.bigint() - started) / 1e6,
      translateMs: Number(translated - started) / 1e6,
      dataPlaneMs: Number(programmed - translated) / 1e6,
    }, 'configuration applied');
  }
}

/**
 * Folds sockets the data plane could not open into Gateway status: the
 * translator cannot know that an address is missing from this host or a
 * port is taken by another process.
 */
function withBindFailures(
  statuses: StatusEntry[], snapshot: Snapshot, failures: ServerFailure[], ir: IRConfig, now: string,
): StatusEntry[] {
  if (failures.length === 0) return statuses;
  const portOf = new Map(ir.servers.map((s) => [s.id, s.port]));
  return statuses.map((entry) => {
    if (entry.kind !== 'Gateway') return entry;
    const key = `${entry.metadata.namespace}/${entry.metadata.name}`;
    const owned = failures.filter((f) => f.owner === key);
    if (owned.length === 0) return entry;
    const gateway = snapshot.gateways.find((g) => `${g.metadata.namespace ?? 'default'}/${g.metadata.name}` === key);
    const failedPorts = new Set(owned.map((f) => portOf.get(f.serverId)));
    const message = `could not bind ${owned.map((f) => `${f.serverId}: ${f.error}`).join('; ')}`;
    const notProgrammed = (reason: string): Condition => ({
      type: 'Programmed', status: 'False', reason, message, observedGeneration: entry.metadata.generation, lastTransitionTime: now,
    });
    const status = entry.status as { conditions: Condition[]; listeners: { name: string; conditions: Condition[] }[] };
    return {
      ...entry,
      status: {
        ...status,
        conditions: replaceCondition(status.conditions, notProgrammed('AddressNotUsable')),
        listeners: status.listeners.map((l) => {
          const port = gateway?.spec?.listeners.find((spec) => spec.name === l.name)?.port;
          return failedPorts.has(port) ? { ...l, conditions: replaceCondition(l.conditions, notProgrammed('Invalid')) } : l;
        }),
      },
    };
  });
}

function replaceCondition(conditions: Condition[], next: Condition): Condition[] {
  return conditions.map((c) => (c.type !== next.type ? c
    : { ...next, lastTransitionTime: c.status === next.status ? c.lastTransitionTime : next.lastTransitionTime }));
}
