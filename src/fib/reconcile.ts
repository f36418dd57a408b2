// Reconcile: the kernel table as observed against the desired table, as a PURE
// diff (DESIGN.md, FIB; BIRD's krt_prune, holo's purge_stale_routes). A kernel
// route is ours when it carries fib.protocol in fib.table; every other route
// is left alone. Ours and wanted in the same form: adopted untouched. Ours in
// another form: replaced. Ours and no longer wanted: deleted, or kept while
// the RIB is still converging after a restart (keepStale, RFC 4724 §4.1: keep
// forwarding state until End-of-RIB or the restart timer). Wanted and absent:
// added. A foreign route already holding the key (table, prefix, metric) is a
// conflict we report instead of overwriting.
//
// Work can be fed in slices (observe() per dump chunk) so a 1M-route
// reconcile never blocks the event loop in one piece. Drift notifications
// (someone deleted or changed a route of ours) become repair operations.

import type { PrefixKey } from '../lib/prefix.js';
import type { DesiredRoute, FibOp, FibOpCause, KernelNextHop, KernelRoute } from './types.js';

export interface ReconcileOptions {
  /** Keep our routes that are no longer wanted (still converging after a restart). */
  readonly keepStale: boolean;
  /** fib.protocol: only routes with this rtm_protocol are ours. */
  readonly protocol: number;
  /** fib.table: routes of other tables are ignored. */
  readonly table: number;
}

export interface ReconcileResult {
  readonly add: DesiredRoute[];
  readonly replace: { readonly route: DesiredRoute; readonly observed: KernelRoute }[];
  readonly delete: KernelRoute[];
  /** Ours and already right: nothing to write. */
  readonly adopt: KernelRoute[];
  /** Ours, not wanted, kept because of keepStale (swept by a later diff). */
  readonly kept: KernelRoute[];
  /** Wanted but not installable (no tunnel, no interface...); reported, not written. */
  readonly unresolvable: DesiredRoute[];
  /** Wanted, but a route of another protocol holds the same (table, prefix, metric). */
  readonly conflicts: { readonly route: DesiredRoute; readonly observed: KernelRoute }[];
}

/**
 * A desired next hop matches an observed one when gateway and onlink agree and,
 * if the desired one names an interface, the interface too (a direct next hop
 * leaves the interface to the kernel's connected route).
 */
function hopMatches(want: KernelNextHop, have: KernelNextHop): boolean {
  return (
    want.gateway === have.gateway &&
    want.onlink === have.onlink &&
    (want.ifindex === undefined || want.ifindex === have.ifindex)
  );
}

/**
 * Same route form: type, table, protocol, metric and the next-hop set, ECMP
 * next hops compared regardless of order. `want` is the desired side.
 */
export function sameRoute(want: KernelRoute, have: KernelRoute): boolean {
  if (
    want.prefix !== have.prefix ||
    want.type !== have.type ||
    want.table !== have.table ||
    want.protocol !== have.protocol ||
    want.metric !== have.metric
  )
    return false;
  const a = want.nextHops;
  const b = have.nextHops;
  if (a.length !== b.length) return false;
  if (a.length === 1) return hopMatches(a[0]!, b[0]!);
  // Multipath sets are at most fib.ecmp long: a quadratic match is cheapest.
  const used = new Array<boolean>(b.length).fill(false);
  for (const hop of a) {
    let found = false;
    for (let i = 0; i < b.length; i++) {
      if (!used[i] && hopMatches(hop, b[i]!)) {
        used[i] = true;
        found = true;
        break;
      }
    }
    if (!found) return false;
  }
  return true;
}

/** An incremental diff: feed the kernel dump in chunks, then finish(). */
export class Reconciler {
  private readonly handled = new Set<DesiredRoute>();
  private readonly conflictsByPrefix = new Map<PrefixKey, KernelRoute>();
  private pending: Iterator<DesiredRoute> | undefined;
  private readonly result: ReconcileResult = {
    add: [],
    replace: [],
    delete: [],
    adopt: [],
    kept: [],
    unresolvable: [],
    conflicts: [],
  };

  constructor(
    private readonly desired: ReadonlyMap<PrefixKey, DesiredRoute>,
    private readonly opts: ReconcileOptions,
  ) {}

  observe(routes: Iterable<KernelRoute>): void {
    const { protocol, table, keepStale } = this.opts;
    const r = this.result;
    for (const route of routes) {
      if (route.table !== table) continue;
      const want = this.desired.get(route.prefix);
      const wanted = want !== undefined && want.unresolvable === undefined && want.metric === route.metric;
      if (route.protocol !== protocol) {
        // Never touched; but it blocks ours if it holds our key.
        if (wanted) this.conflictsByPrefix.set(route.prefix, route);
        continue;
      }
      if (wanted && !this.handled.has(want)) {
        this.handled.add(want);
        if (sameRoute(want, route)) r.adopt.push(route);
        else r.replace.push({ route: want, observed: route });
      } else if (keepStale) {
        r.kept.push(route);
      } else {
        r.delete.push(route);
      }
    }
  }

  /** Wanted routes never seen in the dump: add, or report. Call once, after the last observe(). */
  finish(): ReconcileResult {
    let done: ReconcileResult | undefined;
    while (!(done = this.finishSome(Infinity)));
    return done;
  }

  /**
   * finish() in slices: looks at up to `limit` wanted routes and returns the
   * result once all have been seen, else undefined (call again after yielding).
   */
  finishSome(limit: number): ReconcileResult | undefined {
    const r = this.result;
    const it = (this.pending ??= this.desired.values());
    for (let n = 0; n < limit; n++) {
      const next = it.next();
      if (next.done) return r;
      const want = next.value;
      if (this.handled.has(want)) continue;
      if (want.unresolvable !== undefined) r.unresolvable.push(want);
      else {
        const foreign = this.conflictsByPrefix.get(want.prefix);
        if (foreign) r.conflicts.push({ route: want, observed: foreign });
        else r.add.push(want);
      }
    }
    return undefined;
  }
}

/** diff(desired, observed) -> what to write, in one call. */
export function diff(
  desired: ReadonlyMap<PrefixKey, DesiredRoute>,
  observed: Iterable<KernelRoute>,
  opts: ReconcileOptions,
): ReconcileResult {
  const rec = new Reconciler(desired, opts);
  rec.observe(observed);
  return rec.finish();
}

/** The write operations of a diff: deletes first (they free keys), then replaces, then adds. */
export function toOps(result: ReconcileResult, cause: FibOpCause = 'reconcile'): FibOp[] {
  const ops: FibOp[] = [];
  for (const route of result.delete) ops.push({ kind: 'delete', route, cause });
  for (const { route } of result.replace) ops.push({ kind: 'replace', route, cause });
  for (const route of result.add) ops.push({ kind: 'add', route, cause });
  return ops;
}

/** What a route notification from the kernel (RTM_NEWROUTE / RTM_DELROUTE) calls for. */
export type DriftVerdict =
  | { readonly kind: 'none' }
  | { readonly kind: 'repair'; readonly op: FibOp }
  | { readonly kind: 'conflict'; readonly route: DesiredRoute; readonly observed: KernelRoute };

/**
 * Drift: a notification about a route in our table. Ours deleted while wanted
 * -> re-add; ours changed to another form -> replace; ours present but not
 * wanted -> delete (unless keepStale). Echoes of our own writes match the
 * desired table and call for nothing. A foreign route taking our key is a
 * conflict, reported, not fought over.
 */
export function driftVerdict(
  desired: ReadonlyMap<PrefixKey, DesiredRoute>,
  event: { readonly kind: 'new' | 'del'; readonly route: KernelRoute },
  opts: ReconcileOptions,
): DriftVerdict {
  const { route } = event;
  if (route.table !== opts.table) return { kind: 'none' };
  const want = desired.get(route.prefix);
  const wanted = want !== undefined && want.unresolvable === undefined && want.metric === route.metric;
  if (route.protocol !== opts.protocol) {
    return event.kind === 'new' && wanted ? { kind: 'conflict', route: want, observed: route } : { kind: 'none' };
  }
  if (event.kind === 'del') {
    return wanted ? { kind: 'repair', op: { kind: 'add', route: want, cause: 'drift' } } : { kind: 'none' };
  }
  if (wanted) {
    return sameRoute(want, route) ? { kind: 'none' } : { kind: 'repair', op: { kind: 'replace', route: want, cause: 'drift' } };
  }
  if (opts.keepStale) return { kind: 'none' };
  return { kind: 'repair', op: { kind: 'delete', route, cause: 'drift' } };
}
