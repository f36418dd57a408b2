// The shell between the RIB's best paths and the kernel FIB (DESIGN.md data
// flow: Loc-RIB -> fib/ writer). Best-path changes (RFC 4271 §9.1.2 results
// with their ECMP set, and this node's own blocks) arrive batched per RIB
// slice; they are applied to the desired table (per-pool encapsulation,
// modes.ts) in slices of at most ~10 ms and handed to the writer, which
// coalesces per prefix and pipelines batches to the kernel.
//
// Restart handling (RFC 4724 §4.1): start({ keepStale }) reconciles with the
// kernel keeping our routes left by a previous run (adopting them); they stay
// while the RIB converges until the owner of every restart verdict
// (src/daemon/graceful-restart.ts) calls sweepStale(), which waits for the
// changes already queued here and then reconciles without keepStale. At
// shutdown the routes stay in the kernel when asked (the next run adopts
// them), else they are removed.
//
// Link and address changes (tunl0 created or down, a local subnet added)
// re-resolve every route's form. A missing tunnel where ipip is needed is
// logged once, shown in status() and in the readiness reasons; with
// fib.manageTunnel the device is created (RTM_NEWLINK kind "ipip").
//
// Modes: with fib.enabled false the service keeps nothing (no desired table
// work, no writer traffic) and only counts the changes it is handed; the
// daemon asks the RIB not to build them at all. In dry run the recorder keeps
// the last writes only, and the API lists the desired table's resolvable
// routes as would-install, never installed (daemon/fib-view.ts).

import type { BgpConfig } from '../config/schema.js';
import { loopTurns } from '../lib/loop-turns.js';
import type { Logger } from '../lib/log.js';
import type { Family, PrefixKey } from '../lib/prefix.js';
import { DesiredTable, opsForUpdate } from './desired.js';
import type { FibBackend } from './factory.js';
import { compileFormContext } from './modes.js';
import type { BestPathChange, DesiredRoute, FibOp, FibSyncResult } from './types.js';

/** Time one slice of desired-table work may take at most (never past the loop turn's end, lib/loop-turns.ts). */
export const FIB_SLICE_MS = 10;
const STEP = 256;

export interface FibServiceOptions {
  readonly config: BgpConfig;
  readonly logger: Logger;
  readonly backend: FibBackend;
}

export type TunnelState = 'up' | 'down' | 'missing' | 'not-needed';

/** What the service reports beyond the writer's snapshot. */
export interface FibServiceStatus {
  readonly mode: FibBackend['mode'];
  readonly reason?: string;
  readonly reconciled: boolean;
  /** Still keeping stale kernel routes while the RIB converges after a restart. */
  readonly converging: boolean;
  readonly tunnel: TunnelState;
  readonly desired: number;
  readonly lastSync?: FibSyncResult;
  /** Disabled mode: best-path changes handed to the service and ignored. */
  readonly ignoredChanges?: number;
}

/** What the API's FIB view is built from (src/daemon/fib-view.ts). */
export interface FibViewState {
  readonly backend: FibBackend;
  readonly table: DesiredTable;
  readonly config: BgpConfig;
  readonly reconciled: boolean;
  readonly converging: boolean;
  readonly lastReconcile?: Date;
}

export class FibService {
  private readonly logger: Logger;
  private config: BgpConfig;
  private table: DesiredTable;
  private queued: BestPathChange[][] = [];
  private queuedAt = 0;
  private scheduled = false;
  private started = false;
  private stopped = false;
  private reconciled = false;
  private converging = true;
  /** sweepStale() asked while changes were still queued: sweep once they are applied. */
  private sweepWanted: 'end-of-rib' | 'timer' | undefined;
  private tunnelLogged: TunnelState | undefined;
  private lastSync: FibSyncResult | undefined;
  private lastReconcile: Date | undefined;
  private preserved: readonly Family[] = [];
  /** False with fib.enabled false: changes are only counted. */
  private readonly active: boolean;
  private ignored = 0;

  constructor(private readonly opts: FibServiceOptions) {
    this.logger = opts.logger;
    this.config = opts.config;
    this.active = opts.backend.mode !== 'disabled';
    this.table = new DesiredTable(compileFormContext(opts.config, opts.backend.host.input()), this.desiredOptions(opts.config));
  }

  private desiredOptions(c: BgpConfig) {
    return { table: c.fib.table, protocol: c.fib.protocol, ecmp: c.fib.ecmp };
  }

  get backend(): FibBackend {
    return this.opts.backend;
  }

  /** Whether best-path changes matter here (false with fib.enabled false: the RIB need not build them). */
  get wantsBestPathChanges(): boolean {
    return this.active;
  }

  /**
   * Reads the host and reconciles with the kernel. keepStale (graceful restart
   * peers configured): our routes of a previous run stay, adopted, until
   * sweepStale(); else routes nobody wants go at once.
   */
  async start(opts: { keepStale: boolean }): Promise<void> {
    const { backend } = this.opts;
    await backend.start();
    if (!this.active) {
      // fib.enabled false: nothing to reconcile, nothing to wait for.
      this.started = true;
      this.reconciled = true;
      this.converging = false;
      return;
    }
    backend.host.onChange(() => this.recompile('host'));
    this.started = true;
    this.recompile('start');
    if (this.queued.length > 0) this.schedule();
    await this.ensureTunnel();
    this.lastSync = await backend.writer.sync(this.table.routes(), { keepStale: opts.keepStale });
    this.lastReconcile = new Date();
    this.reconciled = true;
    this.converging = opts.keepStale;
    // RFC 4724 §3 F bit: our routes of the last run really in the kernel, by family (never in dry run).
    if (backend.mode === 'kernel' && opts.keepStale && this.lastSync.adopted + this.lastSync.kept > 0) {
      const fams = new Set<Family>();
      for (const r of backend.writer.snapshot().installed) fams.add(typeof r.prefix === 'number' ? 'ipv4-unicast' : 'ipv6-unicast');
      this.preserved = (['ipv4-unicast', 'ipv6-unicast'] as const).filter((f) => fams.has(f));
    }
    if (this.converging)
      this.logger.info({ event: 'fib-converging', kept: this.lastSync.kept }, 'keeping kernel routes from the last run until the RIB has converged');
  }

  /**
   * Families of which start() found and adopted our kernel routes of a previous
   * run (kernel mode, keepStale): the forwarding state we preserved across a
   * restart (RFC 4724 §3 F bit, §4.1). Empty otherwise.
   */
  preservedFamilies(): readonly Family[] {
    return this.preserved;
  }

  /** Whether routes of a previous run are still kept (start with keepStale, before sweepStale). */
  get isConverging(): boolean {
    return this.converging;
  }

  /** Best-path changes from the RIB (one batch per RIB slice). */
  bestPathChanges(changes: readonly BestPathChange[]): void {
    if (this.stopped || changes.length === 0) return;
    if (!this.active) {
      this.ignored += changes.length;
      return;
    }
    this.queued.push(changes as BestPathChange[]);
    this.schedule();
  }

  /**
   * The RIB has converged after our restart (RFC 4724 §4.1: End-of-RIB from
   * every graceful-restart peer, or the restart timer): once the changes
   * already handed over are applied, stale routes of the last run are swept.
   */
  sweepStale(why: 'end-of-rib' | 'timer'): void {
    if (!this.converging || this.stopped) return;
    if (this.queued.length > 0) {
      this.sweepWanted = why;
      return;
    }
    this.sweepWanted = undefined;
    this.converging = false;
    this.logger.info({ event: 'fib-stale-sweep', reason: why }, 'RIB converged after restart: sweeping stale kernel routes');
    void this.resync();
  }

  /** A full reconcile against the live desired table (sweeps stale routes unless still converging). */
  async resync(): Promise<FibSyncResult | undefined> {
    if (this.stopped) return undefined;
    try {
      this.lastSync = await this.opts.backend.writer.sync(this.table.routes(), { keepStale: this.converging });
      this.lastReconcile = new Date();
      return this.lastSync;
    } catch (e) {
      this.logger.error({ event: 'fib-reconcile-failed', err: (e as Error).message }, 'FIB reconcile failed');
      return undefined;
    }
  }

  private schedule(): void {
    // Changes wait until the host is known (their forms depend on its links).
    if (this.scheduled || !this.started) return;
    this.scheduled = true;
    loopTurns.schedule(() => this.slice());
  }

  /** Applies queued changes for at most FIB_SLICE_MS, hands the ops to the writer, yields. */
  private slice(): void {
    this.scheduled = false;
    if (this.stopped) return;
    const deadline = loopTurns.deadline(FIB_SLICE_MS);
    const ops: FibOp[] = [];
    while (this.queued.length > 0) {
      const batch = this.queued[0]!;
      const end = Math.min(batch.length, this.queuedAt + STEP);
      for (let i = this.queuedAt; i < end; i++) this.table.applyInto(batch[i]!, ops);
      this.queuedAt = end;
      if (end === batch.length) {
        this.queued.shift();
        this.queuedAt = 0;
      }
      if (performance.now() >= deadline) break;
    }
    if (ops.length > 0) this.opts.backend.writer.apply(ops);
    if (this.queued.length > 0) this.schedule();
    else if (this.sweepWanted) this.sweepStale(this.sweepWanted);
  }

  /** Re-resolves every route after a host or config change. */
  private recompile(why: 'start' | 'host' | 'reload'): void {
    if (!this.started || this.stopped || !this.active) return;
    const updates = this.table.setContext(compileFormContext(this.config, this.opts.backend.host.input()));
    const ops = updates.flatMap((u) => opsForUpdate(u));
    if (ops.length > 0) {
      this.logger.info({ event: 'fib-forms-changed', reason: why, routes: ops.length }, 'route forms re-resolved');
      this.opts.backend.writer.apply(ops);
    }
    this.reportTunnel();
  }

  /** Applies a reloaded config (pools, service CIDRs, default mode). Table/protocol changes need a restart. */
  reload(config: BgpConfig): void {
    this.config = config;
    this.recompile('reload');
  }

  private tunnelNeeded(): boolean {
    const c = this.config;
    return c.fib.defaultMode === 'ipip' || c.ipPools.some((p) => (p.mode ?? 'direct') !== 'direct' && p.program !== false);
  }

  tunnelState(): TunnelState {
    if (!this.active || !this.tunnelNeeded()) return 'not-needed';
    return this.opts.backend.host.tunnelState();
  }

  private reportTunnel(): void {
    const state = this.tunnelState();
    if (state === this.tunnelLogged) return;
    const name = this.opts.backend.host.tunnelName;
    if (state === 'missing' || state === 'down')
      this.logger.error(
        { event: 'fib-tunnel-unavailable', tunnel: name, state, manageTunnel: this.config.fib.manageTunnel },
        `${name} is ${state}: routes of ipip pools cannot be installed${state === 'missing' && !this.config.fib.manageTunnel ? ' (set fib.manageTunnel: true, or load the ipip module)' : ''}`,
      );
    else if (this.tunnelLogged === 'missing' || this.tunnelLogged === 'down') this.logger.info({ event: 'fib-tunnel-available', tunnel: name }, `${name} is up`);
    this.tunnelLogged = state;
  }

  private async ensureTunnel(): Promise<void> {
    if (!this.config.fib.manageTunnel || this.tunnelState() !== 'missing') return;
    const name = this.opts.backend.host.tunnelName;
    const r = await this.opts.backend.createTunnel(name, this.config.fib.tunnelMtu);
    if (r.ok) this.logger.info({ event: 'fib-tunnel-created', tunnel: name }, `created ${name}`);
    else
      this.logger.error(
        { event: 'fib-tunnel-create-failed', tunnel: name, errno: r.errno, code: r.code, ...(r.message ? { reason: r.message } : {}) },
        `cannot create ${name} (RTM_NEWLINK kind ipip): ${r.code}${r.code === 'EOPNOTSUPP' || r.errno === 95 ? ' - the kernel has no ipip module' : ''}`,
      );
  }

  /**
   * Stops feeding the kernel. keepRoutes (graceful restart): our routes stay
   * for the next run to adopt; else they are deleted first (bounded wait).
   */
  async stop(opts: { keepRoutes: boolean; drainMs?: number }): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.queued = [];
    const { backend } = this.opts;
    if (!opts.keepRoutes && backend.kernel) backend.kernel.removeAll();
    this.logger.info({ event: 'fib-stopped', keptRoutes: opts.keepRoutes, mode: backend.mode }, opts.keepRoutes ? 'FIB stopped; kernel routes left for the next run (graceful restart)' : 'FIB stopped; kernel routes removed');
    await backend.close({ drainMs: opts.keepRoutes ? 0 : (opts.drainMs ?? 5000) });
  }

  /** The desired table (live): what the kernel should hold. */
  desiredRoutes(): ReadonlyMap<PrefixKey, DesiredRoute> {
    return this.table.routes();
  }

  status(): FibServiceStatus {
    const b = this.opts.backend;
    return {
      mode: b.mode,
      ...(b.reason ? { reason: b.reason } : {}),
      reconciled: this.reconciled,
      converging: this.converging,
      tunnel: this.tunnelState(),
      desired: this.table.size,
      ...(this.lastSync ? { lastSync: this.lastSync } : {}),
      ...(this.active ? {} : { ignoredChanges: this.ignored }),
    };
  }

  /** Readiness reasons the FIB contributes to /readyz (empty: ready). */
  readyReasons(): string[] {
    const out: string[] = [];
    if (!this.reconciled) out.push('the FIB is not yet reconciled with the kernel');
    const t = this.tunnelState();
    if (t === 'missing' || t === 'down') out.push(`tunnel ${this.opts.backend.host.tunnelName} is ${t}: ipip routes cannot be installed`);
    return out;
  }

  /** The state the API's FIB view and fib_* metrics are built from. */
  viewState(): FibViewState {
    return {
      backend: this.opts.backend,
      table: this.table,
      config: this.config,
      reconciled: this.reconciled,
      converging: this.converging,
      ...(this.lastReconcile ? { lastReconcile: this.lastReconcile } : {}),
    };
  }
}
