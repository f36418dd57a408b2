// Dry-run FIB writers (no I/O). DryRunWriter, the full simulation used by
// tests and tools, runs the same pipeline as the kernel writer (write
// queue with coalescing and backoff, reconcile diff, drift verdicts) against a
// simulated kernel table held in memory, and records every write it would have
// sent. No I/O. Tests use `refuse` to make the "kernel" return an errno and
// kernelEvent() to play a route notification (someone ran `ip route del`).
// DryRunRecorder is what the daemon runs when it may not write routes: a
// bounded record of the last writes, counters, no per-route state of its own.
// DisabledWriter stands in when fib.enabled is false.

import type { PrefixKey } from '../lib/prefix.js';
import { FibQueue, type AckResult, type QueueOptions } from './queue.js';
import { diff, driftVerdict, toOps } from './reconcile.js';
import {
  fibOpKey,
  type DesiredRoute,
  type FailedRoute,
  type FibCounters,
  type FibOp,
  type FibOpKey,
  type FibSnapshot,
  type FibSyncResult,
  type FibWriter,
  type KernelRoute,
  type UnresolvableReason,
} from './types.js';

export type { FibWriter } from './types.js';

export interface DryRunOptions {
  readonly table: number;
  readonly protocol: number;
  /** Milliseconds; defaults to a clock that never moves (retries wait for flush(now)). */
  readonly now?: () => number;
  /** The simulated kernel's answer: an errno to refuse the op, undefined to accept. */
  readonly refuse?: (op: FibOp) => number | undefined;
  /** Routes the simulated kernel holds at start (any protocol, table fib.table). */
  readonly initial?: readonly KernelRoute[];
  readonly batchSize?: number;
  readonly queue?: QueueOptions;
  /** Keep at most this many write records (oldest dropped). */
  readonly maxRecords?: number;
}

/** One write the dry-run writer would have sent, with the simulated answer. */
export interface WriteRecord {
  readonly at: number;
  readonly op: FibOp;
  readonly result: AckResult;
}

const ESRCH = 3;

export class DryRunWriter implements FibWriter {
  private readonly queue: FibQueue;
  /** The simulated table fib.table: every protocol, keyed like the kernel (prefix, metric). */
  private readonly kernel = new Map<FibOpKey, KernelRoute>();
  private readonly unresolved = new Map<PrefixKey, UnresolvableReason>();
  private readonly log: WriteRecord[] = [];
  private desired: ReadonlyMap<PrefixKey, DesiredRoute> = new Map();
  private keepStale = false;
  private closed = false;
  private counters = { adds: 0, replaces: 0, deletes: 0, errors: 0, driftRepairs: 0, reconciles: 0 };
  private readonly now: () => number;

  constructor(private readonly opts: DryRunOptions) {
    this.queue = new FibQueue(opts.queue);
    this.now = opts.now ?? (() => 0);
    for (const r of opts.initial ?? []) this.kernel.set(fibOpKey(r), r);
  }

  apply(ops: readonly FibOp[]): void {
    if (this.closed) return;
    for (const op of ops) {
      if (op.kind !== 'delete' && op.route.unresolvable !== undefined) {
        // Wanted but not installable: reported, and whatever form was there goes.
        this.unresolved.set(op.route.prefix, op.route.unresolvable);
        this.queue.push({ kind: 'delete', route: op.route, cause: op.cause });
        continue;
      }
      this.unresolved.delete(op.route.prefix);
      this.queue.push(op);
    }
    this.flush();
  }

  /** Sends everything due at `now` (retries whose backoff has passed included). */
  flush(now = this.now()): void {
    for (;;) {
      const batch = this.queue.takeBatch(this.opts.batchSize ?? 256, now);
      if (batch.length === 0) return;
      for (const { seq, op } of batch) {
        const result = this.write(op);
        this.log.push({ at: now, op, result });
        // Trim in chunks: shift() per write would move the whole array each time.
        const max = this.opts.maxRecords;
        if (max !== undefined && this.log.length >= 2 * max + 1) this.log.splice(0, this.log.length - max);
        this.queue.ack(seq, result, now);
      }
    }
  }

  async sync(desired: ReadonlyMap<PrefixKey, DesiredRoute>, opts: { readonly keepStale: boolean }): Promise<FibSyncResult> {
    this.desired = desired;
    this.keepStale = opts.keepStale;
    this.counters.reconciles++;
    const result = diff(desired, this.kernel.values(), {
      keepStale: opts.keepStale,
      table: this.opts.table,
      protocol: this.opts.protocol,
    });
    this.unresolved.clear();
    for (const r of result.unresolvable) this.unresolved.set(r.prefix, r.unresolvable!);
    this.apply(toOps(result));
    return {
      added: result.add.length,
      replaced: result.replace.length,
      deleted: result.delete.length,
      adopted: result.adopt.length,
      kept: result.kept.length,
      unresolvable: result.unresolvable.length,
      conflicts: result.conflicts.length,
    };
  }

  /**
   * A route notification from the (simulated) kernel caused by someone else:
   * the table changes, then drift is repaired against the last synced desired
   * table. Returns true when a repair was queued.
   */
  kernelEvent(event: { readonly kind: 'new' | 'del'; readonly route: KernelRoute }): boolean {
    const key = fibOpKey(event.route);
    if (event.route.table === this.opts.table) {
      if (event.kind === 'new') this.kernel.set(key, event.route);
      else if (this.kernel.get(key)?.protocol === event.route.protocol) this.kernel.delete(key);
    }
    const verdict = driftVerdict(this.desired, event, {
      keepStale: this.keepStale,
      table: this.opts.table,
      protocol: this.opts.protocol,
    });
    if (verdict.kind !== 'repair') return false;
    this.counters.driftRepairs++;
    this.apply([verdict.op]);
    return true;
  }

  /** Every write sent so far, in order, with the simulated kernel's answer. */
  records(): readonly WriteRecord[] {
    const max = this.opts.maxRecords;
    return max !== undefined && this.log.length > max ? this.log.slice(this.log.length - max) : this.log;
  }

  /** The simulated table (all protocols). */
  kernelRoutes(): KernelRoute[] {
    return [...this.kernel.values()];
  }

  snapshot(): FibSnapshot {
    const installed: KernelRoute[] = [];
    for (const r of this.kernel.values()) if (r.protocol === this.opts.protocol) installed.push(r);
    const failed: FailedRoute[] = [];
    for (const f of this.queue.failed().values()) {
      failed.push({
        prefix: f.op.route.prefix,
        metric: f.op.route.metric,
        kind: f.op.kind,
        errno: f.errno,
        since: f.since,
        attempts: f.attempts,
        retryAt: f.retryAt,
      });
    }
    return {
      installed,
      pending: this.queue.depth(),
      failed,
      unresolvable: [...this.unresolved].map(([prefix, reason]) => ({ prefix, reason })),
      counters: { ...this.counters } satisfies FibCounters,
    };
  }

  async close(): Promise<void> {
    this.closed = true;
  }

  /** The simulated kernel: RTM_NEWROUTE with NLM_F_CREATE|NLM_F_REPLACE, or RTM_DELROUTE. */
  private write(op: FibOp): AckResult {
    const refused = this.opts.refuse?.(op);
    if (refused !== undefined) {
      this.counters.errors++;
      return { errno: refused };
    }
    const key = fibOpKey(op.route);
    if (op.kind === 'delete') {
      const have = this.kernel.get(key);
      // Only our own protocol's route at that key is deleted (RTM_DELROUTE carries rtm_protocol).
      if (!have || have.protocol !== op.route.protocol) return { errno: ESRCH };
      this.kernel.delete(key);
      this.counters.deletes++;
      return 'ok';
    }
    const { unresolvable: _unused, ...route } = op.route;
    this.kernel.set(key, route);
    if (op.kind === 'add') this.counters.adds++;
    else this.counters.replaces++;
    return 'ok';
  }
}

/**
 * The dry-run writer the daemon uses (not root, fib.enabled true): it records
 * what it would write, bounded, and keeps no simulated kernel. Its "kernel"
 * accepts every write, so what is installed is the desired table's resolvable
 * routes (the bridge shows those as installed); only the last `maxRecords`
 * writes, the counters and the unresolvable prefixes are kept. Per route it
 * costs nothing beyond the desired table.
 */
export class DryRunRecorder implements FibWriter {
  private readonly ring: (WriteRecord | undefined)[];
  private next = 0;
  private total = 0;
  private readonly unresolved = new Map<PrefixKey, UnresolvableReason>();
  private counters = { adds: 0, replaces: 0, deletes: 0, errors: 0, driftRepairs: 0, reconciles: 0 };
  private closed = false;
  private readonly now: () => number;

  constructor(opts: { readonly maxRecords: number; readonly now?: () => number }) {
    this.ring = new Array<WriteRecord | undefined>(Math.max(0, opts.maxRecords)).fill(undefined);
    this.now = opts.now ?? Date.now;
  }

  apply(ops: readonly FibOp[]): void {
    if (this.closed) return;
    const at = this.ring.length > 0 ? this.now() : 0;
    for (const op of ops) {
      let write = op;
      if (op.kind !== 'delete' && op.route.unresolvable !== undefined) {
        // Wanted but not installable: reported, and whatever form was there goes.
        this.unresolved.set(op.route.prefix, op.route.unresolvable);
        write = { kind: 'delete', route: op.route, cause: op.cause };
      } else if (this.unresolved.size > 0) this.unresolved.delete(op.route.prefix);
      if (write.kind === 'add') this.counters.adds++;
      else if (write.kind === 'replace') this.counters.replaces++;
      else this.counters.deletes++;
      this.total++;
      if (this.ring.length === 0) continue;
      this.ring[this.next] = { at, op: write, result: 'ok' };
      this.next = (this.next + 1) % this.ring.length;
    }
  }

  /** Nothing to reconcile against: the unresolvable routes of `desired` are reported again. */
  async sync(desired: ReadonlyMap<PrefixKey, DesiredRoute>): Promise<FibSyncResult> {
    this.counters.reconciles++;
    this.unresolved.clear();
    for (const r of desired.values()) if (r.unresolvable !== undefined) this.unresolved.set(r.prefix, r.unresolvable);
    return { added: 0, replaced: 0, deleted: 0, adopted: 0, kept: 0, unresolvable: this.unresolved.size, conflicts: 0 };
  }

  /** The last writes (at most maxRecords), oldest first. */
  records(): readonly WriteRecord[] {
    const out: WriteRecord[] = [];
    const n = this.ring.length;
    for (let i = 0; i < n; i++) {
      const r = this.ring[(this.next + i) % n];
      if (r) out.push(r);
    }
    return out;
  }

  /** Writes recorded since start (also those no longer kept). */
  get written(): number {
    return this.total;
  }

  /** Prefixes wanted but not installable (the rest of the desired table counts as installed). */
  unresolvableCount(): number {
    return this.unresolved.size;
  }

  snapshot(): FibSnapshot {
    return {
      installed: [],
      pending: 0,
      failed: [],
      unresolvable: [...this.unresolved].map(([prefix, reason]) => ({ prefix, reason })),
      counters: { ...this.counters } satisfies FibCounters,
    };
  }

  async close(): Promise<void> {
    this.closed = true;
  }
}

/** fib.enabled false: no writer at all; the bridge never calls it with routes. */
export class DisabledWriter implements FibWriter {
  apply(): void {}

  async sync(): Promise<FibSyncResult> {
    return { added: 0, replaced: 0, deleted: 0, adopted: 0, kept: 0, unresolvable: 0, conflicts: 0 };
  }

  snapshot(): FibSnapshot {
    return { installed: [], pending: 0, failed: [], unresolvable: [], counters: { adds: 0, replaces: 0, deletes: 0, errors: 0, driftRepairs: 0, reconciles: 0 } };
  }

  async close(): Promise<void> {}
}
