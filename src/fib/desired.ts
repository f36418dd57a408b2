// The desired FIB: what bgp-ts wants in the kernel, one DesiredRoute per
// prefix, kept from the RIB's best-path changes (RFC 4271 §9.1.2 phase 2
// results, §9.1.3's "install in the routing table") and this node's own blocks.
// Each change is turned into a route form by modes.ts (per IP pool
// encapsulation), its ECMP set capped at fib.ecmp, and compared with what was
// wanted before so only real changes reach the write queue. Inputs are kept so
// the whole table can be re-resolved when links, tunl0 or the pools change.
// PURE: no I/O.

import type { PrefixKey } from '../lib/prefix.js';
import { classifyPrefix, localForm, resolveNextHop, type FormContext } from './modes.js';
import { sameRoute } from './reconcile.js';
import {
  defaultMetric,
  type BestPathChange,
  type DesiredRoute,
  type FibOp,
  type KernelNextHop,
  type SkipReason,
  type UnresolvableReason,
} from './types.js';

export interface DesiredOptions {
  /** fib.table */
  readonly table: number;
  /** fib.protocol */
  readonly protocol: number;
  /** fib.ecmp: most next hops in one multipath route. */
  readonly ecmp: number;
  /** Route metric (RTA_PRIORITY); default 0 for IPv4, 1024 for IPv6 (the kernel's defaults). */
  readonly metric?: number;
}

/** What one best-path change did to the desired table. */
export interface DesiredUpdate {
  readonly prefix: PrefixKey;
  /** The route now wanted; undefined: nothing wanted (withdrawn or skipped). */
  readonly route: DesiredRoute | undefined;
  readonly previous: DesiredRoute | undefined;
  /** Set when the prefix is deliberately not programmed. */
  readonly skipped?: SkipReason;
  /** False when the kernel needs no write (same form as before). */
  readonly changed: boolean;
}

export type DesiredOutcome =
  | { readonly kind: 'route'; readonly route: DesiredRoute }
  | { readonly kind: 'skip'; readonly reason: SkipReason }
  | { readonly kind: 'withdrawn' };

function compareNextHop(a: KernelNextHop, b: KernelNextHop): number {
  const ga = a.gateway ?? '';
  const gb = b.gateway ?? '';
  if (ga !== gb) return ga < gb ? -1 : 1;
  return (a.ifindex ?? 0) - (b.ifindex ?? 0);
}

/**
 * One literal shape for every desired route (unresolvable always present):
 * the reconcile loop reads these fields 100k times and stays monomorphic.
 */
function makeRoute(
  prefix: PrefixKey,
  opts: DesiredOptions,
  type: 'unicast' | 'blackhole',
  nextHops: readonly KernelNextHop[],
  unresolvable: UnresolvableReason | undefined,
): DesiredRoute {
  return {
    prefix,
    table: opts.table,
    protocol: opts.protocol,
    metric: opts.metric ?? defaultMetric(prefix),
    type,
    nextHops,
    unresolvable,
  };
}

/** The desired route for one change, without any table state. */
export function desiredRouteFor(change: BestPathChange, ctx: FormContext, opts: DesiredOptions): DesiredOutcome {
  const { prefix } = change;
  if (change.local) {
    // An own block: blackholed so traffic to unallocated pod IPs dies here (Calico).
    const form = localForm(prefix, change.local.blackhole, ctx);
    if (form.kind === 'skip') return form;
    return { kind: 'route', route: makeRoute(prefix, opts, 'blackhole', [], undefined) };
  }
  const inputs = change.nextHops ?? [];
  if (inputs.length === 0) return { kind: 'withdrawn' };
  const cls = classifyPrefix(prefix, ctx);
  if (cls.kind === 'skip') return cls;

  const hops: KernelNextHop[] = [];
  let firstReason: UnresolvableReason | undefined;
  for (const input of inputs) {
    const form = resolveNextHop(prefix, cls.mode, input, ctx);
    let hop: KernelNextHop;
    if (form.kind === 'ipip') hop = { gateway: form.gateway, ifindex: form.ifindex, onlink: true };
    else if (form.kind === 'direct') hop = { gateway: form.gateway, ifindex: form.ifindex, onlink: false };
    else {
      if (form.kind === 'unresolvable') firstReason ??= form.reason;
      continue;
    }
    // One next hop per (gateway, interface): ADD-PATH can bring the same node twice.
    if (!hops.some((h) => h.gateway === hop.gateway && h.ifindex === hop.ifindex)) hops.push(hop);
  }
  if (hops.length === 0) {
    return { kind: 'route', route: makeRoute(prefix, opts, 'unicast', [], firstReason ?? 'no-nexthop') };
  }
  // A canonical order, then the fib.ecmp cap: the same set always yields the
  // same route, so a reordered best set causes no kernel write.
  if (hops.length > 1) hops.sort(compareNextHop);
  if (hops.length > opts.ecmp) hops.length = opts.ecmp;
  return { kind: 'route', route: makeRoute(prefix, opts, 'unicast', hops, undefined) };
}

/** The desired table: a Map from prefix key to the route wanted for it. */
export class DesiredTable {
  private readonly wanted = new Map<PrefixKey, DesiredRoute>();
  private readonly skips = new Map<PrefixKey, SkipReason>();
  private readonly inputs = new Map<PrefixKey, BestPathChange>();

  constructor(
    private ctx: FormContext,
    private readonly opts: DesiredOptions,
  ) {}

  /** Routes wanted in the kernel, unresolvable ones included (reconcile.ts skips those). */
  routes(): ReadonlyMap<PrefixKey, DesiredRoute> {
    return this.wanted;
  }

  /** Prefixes selected by the RIB but deliberately not programmed, with why (for the API). */
  skipped(): ReadonlyMap<PrefixKey, SkipReason> {
    return this.skips;
  }

  get(prefix: PrefixKey): DesiredRoute | undefined {
    return this.wanted.get(prefix);
  }

  get size(): number {
    return this.wanted.size;
  }

  context(): FormContext {
    return this.ctx;
  }

  /** Applies one best-path change (or a withdrawal) and reports what changed. */
  apply(change: BestPathChange): DesiredUpdate {
    const outcome = desiredRouteFor(change, this.ctx, this.opts);
    if (outcome.kind === 'withdrawn') this.inputs.delete(change.prefix);
    else this.inputs.set(change.prefix, change);
    return this.record(change.prefix, outcome);
  }

  /**
   * Swaps the context (links up/down, tunl0 created, pools reloaded) and
   * re-resolves every prefix; returns only the prefixes whose route changed.
   */
  setContext(ctx: FormContext): DesiredUpdate[] {
    this.ctx = ctx;
    const out: DesiredUpdate[] = [];
    for (const change of this.inputs.values()) {
      const update = this.record(change.prefix, desiredRouteFor(change, ctx, this.opts));
      if (update.changed) out.push(update);
    }
    return out;
  }

  private record(prefix: PrefixKey, outcome: DesiredOutcome): DesiredUpdate {
    const previous = this.wanted.get(prefix);
    if (outcome.kind === 'route') {
      this.skips.delete(prefix);
      this.wanted.set(prefix, outcome.route);
      const changed = !previous || !sameRoute(outcome.route, previous) || previous.unresolvable !== outcome.route.unresolvable;
      return { prefix, route: outcome.route, previous, changed };
    }
    this.wanted.delete(prefix);
    if (outcome.kind === 'skip') {
      this.skips.set(prefix, outcome.reason);
      return { prefix, route: undefined, previous, skipped: outcome.reason, changed: previous !== undefined };
    }
    this.skips.delete(prefix);
    return { prefix, route: undefined, previous, changed: previous !== undefined };
  }
}

/**
 * The kernel writes one desired-table update calls for: (re)install the wanted
 * route, or delete the previous one when nothing is wanted any more. An
 * unresolvable route is still handed over so the writer can report it.
 */
export function opsForUpdate(update: DesiredUpdate): FibOp[] {
  if (!update.changed) return [];
  if (update.route) {
    return [{ kind: update.previous ? 'replace' : 'add', route: update.route, cause: 'rib' }];
  }
  return update.previous ? [{ kind: 'delete', route: update.previous, cause: 'rib' }] : [];
}
