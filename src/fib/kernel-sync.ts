// The kernel FIB writer: the FibWriter (types.ts) over rtnetlink (Linux
// rtnetlink(7); RFC 3549 §3.1.1 route messages). Operations go through the
// coalescing write queue (queue.ts): one slot per route key, batches sent
// pipelined over the request socket, each outcome attributed by sequence
// number (RFC 3549 §2.3.2.2). A refusal is logged with the route and the
// errno, counted, shown as failed and retried with backoff; the writer never
// stops. Installs are RTM_NEWROUTE with NLM_F_CREATE|NLM_F_REPLACE, so a
// retry is always safe; "already gone" on delete is success (STYLE.md §11).
//
// sync() is the reconcile (BIRD krt_prune): dump the table, diff it against
// the desired routes in slices of at most a few milliseconds, write the
// difference; keepStale leaves our routes the RIB no longer wants while it
// is still converging after a restart (RFC 4724 §4.1). Route notifications
// from the monitor keep the writer's view of the kernel current and repair
// drift (someone ran `ip route del`); a monitor overrun (ENOBUFS) calls for
// a full resync by dump.

import type { Clock, TimerHandle } from '../lib/clock.js';
import { systemClock } from '../lib/clock.js';
import type { Logger } from '../lib/log.js';
import { loopTurns } from '../lib/loop-turns.js';
import { prefixToString, type PrefixKey } from '../lib/prefix.js';
import type { KernelRoute as NlKernelRoute, RouteOp } from './netlink/messages.js';
import type { NetlinkOutcome } from './netlink/transport.js';
import { FibQueue, type AckResult, type InFlightOp, type QueueOptions } from './queue.js';
import { driftVerdict, Reconciler, sameRoute, toOps, type ReconcileResult } from './reconcile.js';
import {
  fibOpKey,
  fromNetlinkRoute,
  toNetlinkOp,
  type DesiredRoute,
  type FailedRoute,
  type FibCounters,
  type FibOp,
  type FibOpKey,
  type FibSnapshot,
  type FibSyncResult,
  type FibWriter,
  type KernelNextHop,
  type KernelRoute,
  type UnresolvableReason,
} from './types.js';

/** What the writer needs of the netlink request socket (NetlinkRouteSocket; a fake in tests). */
export interface RouteSocket {
  applyRoutes(ops: readonly RouteOp[]): Promise<NetlinkOutcome[]>;
  dumpRoutes(family?: number): Promise<NlKernelRoute[]>;
  close(): void;
}

export interface KernelWriterOptions {
  readonly socket: RouteSocket;
  /** fib.table */
  readonly table: number;
  /** fib.protocol: only routes carrying it are ours. */
  readonly protocol: number;
  readonly logger: Logger;
  readonly clock?: Clock;
  /** Operations per batch handed to the socket (default 1024). */
  readonly batchSize?: number;
  /** Batches awaiting their outcomes at once (default 16: with batches of 1024, the transport's window). */
  readonly pipeline?: number;
  readonly queue?: QueueOptions;
  /** ifindex -> name, for log lines and the API. */
  readonly ifName?: (ifindex: number) => string | undefined;
  /** Time budget of one synchronous slice of reconcile work (default 8 ms). */
  readonly sliceMs?: number;
}

/** Per operation kind: acknowledged writes and refusals, for fib_operations_total. */
export interface OperationCounts {
  readonly add: { ok: number; error: number };
  readonly replace: { ok: number; error: number };
  readonly delete: { ok: number; error: number };
}

const ESRCH = 3;

export class KernelFibWriter implements FibWriter {
  private readonly queue: FibQueue;
  private readonly clock: Clock;
  /** Our routes as the kernel holds them (ACKs and notifications keep it current). */
  private readonly installed = new Map<FibOpKey, KernelRoute>();
  private readonly unresolved = new Map<PrefixKey, UnresolvableReason>();
  /** Next-hop sets of the kernel's form of our routes, one per distinct single hop (see shareHops). */
  private readonly hopSets = new Map<string, readonly KernelNextHop[]>();
  private desired: ReadonlyMap<PrefixKey, DesiredRoute> = new Map();
  private keepStale = true;
  private inFlightBatches = 0;
  private retryTimer: TimerHandle | undefined;
  private retryAt: number | undefined;
  private closed = false;
  private syncing: Promise<FibSyncResult> | undefined;
  private resyncWanted = false;
  /** A monitor overrun's resync, waiting for the batches in flight (see overflow). */
  private resyncAfterWrites = false;
  private idleWaiters: (() => void)[] = [];
  private counters = { adds: 0, replaces: 0, deletes: 0, errors: 0, driftRepairs: 0, reconciles: 0 };
  readonly operations: OperationCounts = { add: { ok: 0, error: 0 }, replace: { ok: 0, error: 0 }, delete: { ok: 0, error: 0 } };
  /** Reconcile durations (seconds) not yet handed to the metrics. */
  private durations: number[] = [];
  lastReconcileAt: number | undefined;
  readonly opts: KernelWriterOptions;

  constructor(opts: KernelWriterOptions) {
    this.opts = opts;
    this.queue = new FibQueue(opts.queue);
    this.clock = opts.clock ?? systemClock;
  }

  apply(ops: readonly FibOp[]): void {
    if (this.closed) return;
    for (const op of ops) this.push(op);
    this.pump();
  }

  /** Whether a write for `key` is queued, in flight or waiting to retry (the queue holds its slot until done). */
  private owed(key: FibOpKey): boolean {
    return this.queue.has(key);
  }

  private push(op: FibOp): void {
    const key = fibOpKey(op.route);
    if (op.kind !== 'delete' && op.route.unresolvable !== undefined) {
      // Wanted but not installable now: reported; whatever form was there goes.
      this.unresolved.set(op.route.prefix, op.route.unresolvable);
      if (!this.installed.has(key) && !this.owed(key)) return;
      op = { kind: 'delete', route: op.route, cause: op.cause };
    } else {
      if (this.unresolved.size > 0) this.unresolved.delete(op.route.prefix);
      // Adopt: the kernel already holds exactly this route and nothing is owed for it.
      // A delete of a route neither installed nor owed has nothing to remove.
      const have = this.installed.get(key);
      if (op.kind === 'delete') {
        if (have === undefined && !this.owed(key)) return;
      } else if (have !== undefined && (have === op.route || sameRoute(op.route, have)) && !this.owed(key)) return;
    }
    this.queue.push(op, key);
  }

  /** Sends batches while the pipeline has room; arms the retry timer for backoff. */
  private pump(): void {
    const max = this.opts.pipeline ?? 16;
    while (!this.closed && this.inFlightBatches < max) {
      const batch = this.queue.takeBatch(this.opts.batchSize ?? 1024, this.clock.now());
      if (batch.length === 0) break;
      const nl = new Array<RouteOp>(batch.length);
      for (let i = 0; i < batch.length; i++) nl[i] = toNetlinkOp(batch[i]!.op);
      this.inFlightBatches++;
      void this.opts.socket
        .applyRoutes(nl)
        .then(
          (outcomes) => this.settle(batch, outcomes),
          (err: Error) => this.settle(batch, batch.map(() => ({ ok: false, errno: 5, code: 'EIO', message: err.message }) as const)),
        )
        .finally(() => {
          this.inFlightBatches--;
          this.pump();
        });
    }
    this.armRetry();
    // Nothing in flight after the loop means nothing is ready to send either: an owed resync goes now.
    if (this.resyncAfterWrites && this.inFlightBatches === 0 && !this.closed) this.resyncNow();
    if (this.inFlightBatches === 0 && this.queue.depth() === 0) for (const w of this.idleWaiters.splice(0)) w();
  }

  private armRetry(): void {
    const at = this.queue.nextRetryAt();
    if (at === undefined || this.closed) return;
    if (this.retryTimer && this.retryAt !== undefined && this.retryAt <= at) return;
    this.retryTimer?.cancel();
    this.retryAt = at;
    this.retryTimer = this.clock.after(Math.max(0, at - this.clock.now()), () => {
      this.retryTimer = undefined;
      this.retryAt = undefined;
      this.pump();
    });
  }

  /** Outcomes of one batch, each attributed to its route by position (the transport matched them by seq). */
  private settle(batch: readonly InFlightOp[], outcomes: readonly NetlinkOutcome[]): void {
    const now = this.clock.now();
    for (let i = 0; i < batch.length; i++) {
      const { seq, key, op } = batch[i]!;
      const o = outcomes[i] ?? { ok: false, errno: 5, code: 'EIO' };
      const result: AckResult = o.ok ? 'ok' : { errno: o.errno };
      const gone = !o.ok && op.kind === 'delete' && o.errno === ESRCH;
      if (o.ok || gone) {
        this.operations[op.kind].ok++;
        if (op.kind === 'delete') {
          this.counters.deletes++;
          this.installed.delete(key);
        } else {
          if (op.kind === 'add') this.counters.adds++;
          else this.counters.replaces++;
          // The desired route object itself (its `unresolvable` is unset here): no copy per install.
          this.installed.set(key, op.route.unresolvable === undefined ? op.route : kernelShape(op.route));
        }
      } else {
        this.operations[op.kind].error++;
        this.counters.errors++;
        this.logRefusal(op, o);
      }
      this.queue.ack(seq, result, now);
    }
  }

  private logRefusal(op: FibOp, o: Extract<NetlinkOutcome, { ok: false }>): void {
    const r = op.route;
    const hops = 'nextHops' in r && r.nextHops ? r.nextHops : [];
    this.opts.logger.warn(
      {
        event: 'fib-write-failed',
        op: op.kind,
        cause: op.cause,
        prefix: prefixToString(r.prefix),
        type: r.type,
        nextHops: hops.map((h) => ({ gateway: h.gateway, dev: h.ifindex === undefined ? undefined : (this.opts.ifName?.(h.ifindex) ?? h.ifindex), onlink: h.onlink })),
        errno: o.errno,
        code: o.code,
        ...(o.message ? { reason: o.message } : {}),
      },
      `kernel refused ${op.kind} ${prefixToString(r.prefix)}: ${o.code}${o.message ? ` (${o.message})` : ''}; retrying with backoff`,
    );
  }

  /** Resolves once nothing is queued or in flight (retries waiting count as work). */
  idle(): Promise<void> {
    if (this.inFlightBatches === 0 && this.queue.depth() === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * Reconcile: dump the kernel, diff against `desired` in bounded slices, write
   * the difference. Concurrent calls share one run; a call made during a run
   * schedules one more after it (its desired table is the live one).
   */
  sync(desired: ReadonlyMap<PrefixKey, DesiredRoute>, opts: { readonly keepStale: boolean }): Promise<FibSyncResult> {
    this.desired = desired;
    this.keepStale = opts.keepStale;
    if (this.syncing) {
      this.resyncWanted = true;
      return this.syncing;
    }
    const run = this.reconcile().finally(() => {
      this.syncing = undefined;
      if (this.resyncWanted && !this.closed) {
        this.resyncWanted = false;
        void this.sync(this.desired, { keepStale: this.keepStale }).catch((e: Error) =>
          this.opts.logger.error({ event: 'fib-reconcile-failed', err: e.message }, 'FIB reconcile failed'),
        );
      }
    });
    this.syncing = run;
    return run;
  }

  private async reconcile(): Promise<FibSyncResult> {
    const started = this.clock.now();
    const { table, protocol } = this.opts;
    const dumped = await this.opts.socket.dumpRoutes(0);
    const rec = new Reconciler(this.desired, { keepStale: this.keepStale, table, protocol });
    const observedOurs = new Map<FibOpKey, KernelRoute>();
    const budget = this.opts.sliceMs ?? 8;
    const CHUNK = 2048;
    // Slices of the one loop-turn budget (lib/loop-turns.ts), beside input, RIB and FIB work.
    let i = 0;
    await loopTurns.sliced((deadline) => {
      for (; i < dumped.length; i += CHUNK) {
        const part: KernelRoute[] = [];
        for (let j = i; j < Math.min(i + CHUNK, dumped.length); j++) {
          const r = fromNetlinkRoute(dumped[j]!);
          part.push(r);
          if (r.table === table && r.protocol === protocol) observedOurs.set(fibOpKey(r), r);
        }
        rec.observe(part);
        if (performance.now() >= deadline) {
          i += CHUNK;
          return false;
        }
      }
      return true;
    }, budget);
    let result: ReconcileResult | undefined;
    await loopTurns.sliced((deadline) => {
      while (!(result = rec.finishSome(CHUNK * 4))) if (performance.now() >= deadline) return false;
      return true;
    }, budget);
    if (!result) throw new Error('reconcile did not finish');
    // The dump is the truth about the kernel; keys with writes still owed keep the view ACKs give.
    for (const key of [...this.installed.keys()]) if (!observedOurs.has(key) && !this.owed(key)) this.installed.delete(key);
    for (const [key, r] of observedOurs) if (!this.owed(key)) this.installed.set(key, this.shareHops(r));
    for (const r of result.unresolvable) this.unresolved.set(r.prefix, r.unresolvable!);
    for (const c of result.conflicts)
      this.opts.logger.warn(
        { event: 'fib-conflict', prefix: prefixToString(c.route.prefix), protocol: c.observed.protocol },
        `a route of protocol ${c.observed.protocol} holds ${prefixToString(c.route.prefix)}; left alone`,
      );
    const ops = toOps(result);
    for (const op of ops) this.push(op);
    this.pump();
    this.counters.reconciles++;
    const seconds = (this.clock.now() - started) / 1000;
    this.durations.push(seconds);
    if (this.durations.length > 1000) this.durations.shift();
    this.lastReconcileAt = Date.now();
    const out: FibSyncResult = {
      added: result.add.length,
      replaced: result.replace.length,
      deleted: result.delete.length,
      adopted: result.adopt.length,
      kept: result.kept.length,
      unresolvable: result.unresolvable.length,
      conflicts: result.conflicts.length,
    };
    this.opts.logger.info({ event: 'fib-reconciled', keepStale: this.keepStale, durationMs: Math.round(seconds * 1000), dumped: dumped.length, ...out }, 'FIB reconciled with the kernel');
    return out;
  }

  /**
   * A route notification from the monitor (RTNLGRP_IPV4_ROUTE / _IPV6_ROUTE).
   * Keeps the view of our routes current and repairs drift. Returns true when
   * a repair was queued.
   */
  routeEvent(change: 'new' | 'del', nlRoute: NlKernelRoute): boolean {
    if (this.closed) return false;
    const route = fromNetlinkRoute(nlRoute);
    if (route.table !== this.opts.table) return false;
    const key = fibOpKey(route);
    if (route.protocol === this.opts.protocol) {
      if (change === 'new') this.installed.set(key, this.shareHops(route));
      else this.installed.delete(key);
    }
    // A write of ours for this key is queued or in flight: its outcome decides.
    if (this.owed(key) || this.syncing) return false;
    const verdict = driftVerdict(this.desired, { kind: change, route }, { keepStale: this.keepStale, table: this.opts.table, protocol: this.opts.protocol });
    if (verdict.kind === 'conflict') {
      this.opts.logger.warn({ event: 'fib-conflict', prefix: prefixToString(route.prefix), protocol: route.protocol }, 'a foreign route took the key of one of ours; left alone');
      return false;
    }
    if (verdict.kind !== 'repair') return false;
    this.counters.driftRepairs++;
    this.opts.logger.info(
      { event: 'fib-drift-repair', prefix: prefixToString(route.prefix), change, op: verdict.op.kind },
      `route ${prefixToString(route.prefix)} changed outside bgp-ts; repairing`,
    );
    this.push(verdict.op);
    this.pump();
    return true;
  }

  /**
   * The kernel's form of one of our routes, for the view, with its next-hop set
   * shared with every other route over the same single hop: the echo of each
   * write (and each dumped route) is decoded afresh, and 100k routes via one
   * node would otherwise hold 100k equal arrays, hop objects and gateway texts.
   * The signature covers every field of KernelNextHop (gateway, ifindex, onlink);
   * the sets are never mutated (readonly); the values are unchanged.
   */
  private shareHops(route: KernelRoute): KernelRoute {
    if (route.nextHops.length !== 1) return route;
    const h = route.nextHops[0]!;
    const sig = `${h.gateway ?? ''}%${h.ifindex ?? ''}%${h.onlink ? 1 : 0}`;
    const hops = this.hopSets.get(sig);
    if (hops === undefined) {
      if (this.hopSets.size >= 4096) this.hopSets.clear(); // a bound, not a cache policy: nodes are few
      this.hopSets.set(sig, route.nextHops);
      return route;
    }
    return hops === route.nextHops ? route : { ...route, nextHops: hops };
  }

  /**
   * Notifications were lost (ENOBUFS): resynchronise by dump, once no batch of
   * ours is in flight. What could overrun the monitor is the echo of our own
   * writes during a burst (one notification per route; the addon drains the
   * monitor every loop turn, so only a turn that outruns the receive queue
   * does); a dump of the whole table in the middle of the burst would decode
   * and diff every route while the writes it races go on.
   */
  overflow(): void {
    if (this.closed) return;
    this.opts.logger.warn({ event: 'fib-monitor-overrun' }, 'route notifications lost; resynchronising by dump');
    this.resyncAfterWrites = true;
    this.pump();
  }

  private resyncNow(): void {
    this.resyncAfterWrites = false;
    void this.sync(this.desired, { keepStale: this.keepStale }).catch((e: Error) =>
      this.opts.logger.error({ event: 'fib-reconcile-failed', err: e.message }, 'FIB resync failed'),
    );
  }

  /** Queues the deletion of every route of ours (clean shutdown without graceful restart). */
  removeAll(): void {
    const ops: FibOp[] = [];
    for (const r of this.installed.values()) ops.push({ kind: 'delete', route: r, cause: 'sweep' });
    this.unresolved.clear();
    this.apply(ops);
  }

  snapshot(): FibSnapshot {
    const failed: FailedRoute[] = [];
    for (const f of this.queue.failed().values()) {
      failed.push({ prefix: f.op.route.prefix, metric: f.op.route.metric, kind: f.op.kind, errno: f.errno, since: f.since, attempts: f.attempts, retryAt: f.retryAt });
    }
    return {
      installed: [...this.installed.values()],
      pending: this.queue.depth(),
      failed,
      unresolvable: [...this.unresolved].map(([prefix, reason]) => ({ prefix, reason })),
      counters: { ...this.counters } satisfies FibCounters,
    };
  }

  installedCount(): number {
    return this.installed.size;
  }

  queueDepth(): number {
    return this.queue.depth();
  }

  drainReconcileDurations(): number[] {
    return this.durations.splice(0);
  }

  /** Stops writing; `drain` waits (up to the timeout) for queued writes first. */
  async close(opts: { drainMs?: number } = {}): Promise<void> {
    if (this.closed) return;
    if (opts.drainMs) {
      await Promise.race([this.idle(), new Promise<void>((r) => this.clock.after(opts.drainMs!, r))]);
    }
    this.closed = true;
    this.retryTimer?.cancel();
    this.opts.socket.close();
    for (const w of this.idleWaiters.splice(0)) w();
  }
}

/** The desired route as the kernel will report it (no `unresolvable`). */
function kernelShape(r: DesiredRoute): KernelRoute {
  return { prefix: r.prefix, table: r.table, protocol: r.protocol, metric: r.metric, type: r.type, nextHops: r.nextHops };
}
