// The desired FIB: what bgp-ts wants in the kernel, one DesiredRoute per
// prefix, kept from the RIB's best-path changes (RFC 4271 §9.1.2 phase 2
// results, §9.1.3's "install in the routing table") and this node's own blocks.
// Each change is turned into a route form by modes.ts (per IP pool
// encapsulation), its ECMP set capped at fib.ecmp, and compared with what was
// wanted before so only real changes reach the write queue. Inputs are kept so
// the whole table can be re-resolved when links, tunl0 or the pools change.
// Per route the work is small: the daemon hands over one next-hop list per
// attribute set, so the resolved next hops are cached per (list, family,
// mode) until the context changes and shared by every route using them; a
// change to the same form as before is recognised by identity and costs no
// write. PURE: no I/O.

import type { PrefixKey } from '../lib/prefix.js';
import { classifyPrefix, localForm, resolveNextHop, type EncapMode, type FormContext } from './modes.js';
import { sameRoute } from './reconcile.js';
import {
  defaultMetric,
  type BestPathChange,
  type DesiredRoute,
  type FibOp,
  type KernelNextHop,
  type NextHopInput,
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

const NO_HOPS: readonly KernelNextHop[] = [];

/** Next hops resolved for one input list, family and mode (shared by every route using them). */
interface ResolvedHops {
  readonly hops: readonly KernelNextHop[];
  readonly reason: UnresolvableReason | undefined;
}

/** Input next-hop list -> "family/mode" -> its resolution; valid for one FormContext. */
export type ResolveCache = WeakMap<readonly NextHopInput[], Map<string, ResolvedHops>>;

function resolveHops(prefix: PrefixKey, mode: EncapMode, inputs: readonly NextHopInput[], ctx: FormContext, opts: DesiredOptions): ResolvedHops {
  const hops: KernelNextHop[] = [];
  let firstReason: UnresolvableReason | undefined;
  for (const input of inputs) {
    const form = resolveNextHop(prefix, mode, input, ctx);
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
  if (hops.length === 0) return { hops, reason: firstReason ?? 'no-nexthop' };
  // A canonical order, then the fib.ecmp cap: the same set always yields the
  // same route, so a reordered best set causes no kernel write.
  if (hops.length > 1) hops.sort(compareNextHop);
  if (hops.length > opts.ecmp) hops.length = opts.ecmp;
  return { hops, reason: undefined };
}

function resolveCached(prefix: PrefixKey, mode: EncapMode, inputs: readonly NextHopInput[], ctx: FormContext, opts: DesiredOptions, cache: ResolveCache | undefined): ResolvedHops {
  // Only single next-hop lists are shared by the daemon (one per attribute set); multipath lists are per route.
  if (!cache || inputs.length !== 1) return resolveHops(prefix, mode, inputs, ctx, opts);
  let byMode = cache.get(inputs);
  if (!byMode) {
    byMode = new Map();
    cache.set(inputs, byMode);
  }
  // Resolution depends on the prefix only through its family (modes.ts resolveNextHop).
  const k = typeof prefix === 'number' ? mode : `6${mode}`;
  let r = byMode.get(k);
  if (!r) {
    r = resolveHops(prefix, mode, inputs, ctx, opts);
    byMode.set(k, r);
  }
  return r;
}

/**
 * The desired route for one change, without any table state. With `cache`,
 * next hops resolved for the same input list (by identity) are reused.
 */
export function desiredRouteFor(change: BestPathChange, ctx: FormContext, opts: DesiredOptions, cache?: ResolveCache): DesiredOutcome {
  const { prefix } = change;
  if (change.local) {
    // An own block: blackholed so traffic to unallocated pod IPs dies here (Calico).
    const form = localForm(prefix, change.local.blackhole, ctx);
    if (form.kind === 'skip') return form;
    return { kind: 'route', route: makeRoute(prefix, opts, 'blackhole', NO_HOPS, undefined) };
  }
  const inputs = change.nextHops ?? [];
  if (inputs.length === 0) return { kind: 'withdrawn' };
  const cls = classifyPrefix(prefix, ctx);
  if (cls.kind === 'skip') return cls;
  const r = resolveCached(prefix, cls.mode, inputs, ctx, opts, cache);
  return { kind: 'route', route: makeRoute(prefix, opts, 'unicast', r.hops, r.reason) };
}

/** The desired table: a Map from prefix key to the route wanted for it. */
export class DesiredTable {
  private readonly wanted = new Map<PrefixKey, DesiredRoute>();
  private readonly skips = new Map<PrefixKey, SkipReason>();
  private readonly inputs = new Map<PrefixKey, BestPathChange>();
  private cache: ResolveCache = new WeakMap();

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
    const outcome = desiredRouteFor(change, this.ctx, this.opts, this.cache);
    if (outcome.kind === 'withdrawn') this.inputs.delete(change.prefix);
    else this.inputs.set(change.prefix, change);
    return this.record(change.prefix, outcome);
  }

  /**
   * apply() for a stream of changes: the kernel writes each change calls for
   * (opsForUpdate) are appended to `ops`, without an update object per change.
   * Returns how many were appended.
   */
  applyInto(change: BestPathChange, ops: FibOp[]): number {
    const { prefix } = change;
    const outcome = desiredRouteFor(change, this.ctx, this.opts, this.cache);
    const previous = this.wanted.get(prefix);
    if (outcome.kind === 'route') {
      this.inputs.set(prefix, change);
      const route = outcome.route;
      if (this.skips.size > 0) this.skips.delete(prefix);
      if (previous && isSameForm(route, previous)) return 0;
      this.wanted.set(prefix, route);
      ops.push({ kind: previous ? 'replace' : 'add', route, cause: 'rib' });
      return 1;
    }
    if (outcome.kind === 'withdrawn') this.inputs.delete(prefix);
    else this.inputs.set(prefix, change);
    if (outcome.kind === 'skip') this.skips.set(prefix, outcome.reason);
    else if (this.skips.size > 0) this.skips.delete(prefix);
    if (!previous) return 0;
    this.wanted.delete(prefix);
    ops.push({ kind: 'delete', route: previous, cause: 'rib' });
    return 1;
  }

  /**
   * Swaps the context (links up/down, tunl0 created, pools reloaded) and
   * re-resolves every prefix; returns only the prefixes whose route changed.
   */
  setContext(ctx: FormContext): DesiredUpdate[] {
    this.ctx = ctx;
    this.cache = new WeakMap();
    const out: DesiredUpdate[] = [];
    for (const change of this.inputs.values()) {
      const update = this.record(change.prefix, desiredRouteFor(change, ctx, this.opts, this.cache));
      if (update.changed) out.push(update);
    }
    return out;
  }

  private record(prefix: PrefixKey, outcome: DesiredOutcome): DesiredUpdate {
    const previous = this.wanted.get(prefix);
    if (outcome.kind === 'route') {
      this.skips.delete(prefix);
      if (previous && isSameForm(outcome.route, previous)) return { prefix, route: previous, previous, changed: false };
      this.wanted.set(prefix, outcome.route);
      return { prefix, route: outcome.route, previous, changed: true };
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

/** The kernel needs no write: the same form as before (identical shared next hops, or equal ones). */
function isSameForm(route: DesiredRoute, previous: DesiredRoute): boolean {
  if (previous.unresolvable !== route.unresolvable) return false;
  if (previous.nextHops === route.nextHops && previous.type === route.type && previous.metric === route.metric) return true;
  return sameRoute(route, previous);
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
