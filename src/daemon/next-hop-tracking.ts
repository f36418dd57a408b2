// Next-hop tracking (RFC 4271 §9.1.2, §9.1.2.2 e; BIRD's gateway
// direct/recursive, FRR's NHT): the resolver (fib/next-hop-resolver.ts) fed
// by the FIB's netlink monitor, one cache entry per distinct next hop (and
// resolution mode) shared by every path using it, and the lookups the RIB's
// decision context calls. A kernel change re-resolves the cached entries (a
// few thousand at most) once per turn; the next hops whose answer changed
// start a walk, sliced through the loop-turn budget, over the Loc-RIB's index
// from next hop to prefixes (loc-rib.ts indexNextHops): exactly the prefixes
// with a candidate using one of them are re-decided, nothing else is visited.
// A change arriving during a walk is kept for the next walk.
//
// Mode per path: a one-hop eBGP peer (its address on one of our connected
// subnets) must give a next hop on a connected subnet (RFC 4271 §5.1.3 b,
// §6.3 b); iBGP and multihop eBGP next hops resolve recursively over the
// kept non-bgp-ts routes. IGP cost = the resolving route's kernel metric.
//
// RFC 4271 §6.3: a semantically incorrect NEXT_HOP (loopback, unspecified,
// multicast, link-local without an interface, one of ours) is logged as
// `next-hop-invalid`, at most once a minute per (peer, next hop, reason) with
// the count of repeats held back; the path stays in the Adj-RIB-In, ineligible
// with its reason, and the session stays up.

import type { Logger } from '../lib/log.js';
import type { LoopTurns } from '../lib/loop-turns.js';
import type { Family, PrefixKey } from '../lib/prefix.js';
import { prefixFamily, prefixToString } from '../lib/prefix.js';
import type { IneligibleReason } from '../rib/decision/context.js';
import type { KernelAddress } from '../fib/netlink/interfaces.js';
import type { KernelRoute } from '../fib/netlink/messages.js';
import type { RtnlEvent } from '../fib/netlink/events.js';
import { NextHopResolver, type ConnectedSubnets, type Resolution, type ResolveMode } from '../fib/next-hop-resolver.js';
import type { KernelFeed } from '../fib/factory.js';
import type { Path, PeerInfo, Rib } from '../rib/index.js';
import type { AttrSet } from '../rib/attr-store.js';

interface Entry {
  readonly address: string;
  readonly mode: ResolveMode;
  res: Resolution;
}

const UNRESOLVED: Resolution = Object.freeze({ reachable: false });

/** One `next-hop-invalid` line per (peer, next hop, reason) per this many ms. */
export const INVALID_LOG_INTERVAL_MS = 60_000;
/** Rate-limit entries kept before the oldest are forgotten. */
const INVALID_LOG_KEYS = 4096;

/** How long one walk slice may run, ms (never past the turn's budget). */
const WALK_SLICE_MS = 6;

/**
 * RFC 4271 §6.3: logs a semantically incorrect NEXT_HOP as `next-hop-invalid`,
 * once per INVALID_LOG_INTERVAL_MS per (peer, next hop, reason), with how many
 * were held back since. Used by the tracker, and alone when the FIB does not
 * write the kernel (no tracking, but the validity rules still apply).
 */
export class NextHopFaultLog {
  /** Paths seen with a semantically incorrect next hop. */
  count = 0;
  private readonly logged = new Map<string, { at: number; held: number }>();

  constructor(
    private readonly logger: Logger,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** The decision context's nextHopFaultSeen. */
  readonly seen = (route: Path, family: Family, reason: IneligibleReason, prefix: PrefixKey): void => {
    this.count++;
    const nextHop = (family === 'ipv4-unicast' ? route.attrs.nextHopV4 : route.attrs.nextHopV6) ?? '(none)';
    const key = `${route.peer.address}|${nextHop}|${reason}`;
    const now = this.now();
    const seen = this.logged.get(key);
    if (seen && now - seen.at < INVALID_LOG_INTERVAL_MS) {
      seen.held++;
      return;
    }
    if (!seen && this.logged.size >= INVALID_LOG_KEYS) this.logged.delete(this.logged.keys().next().value!);
    this.logged.set(key, { at: now, held: 0 });
    this.logger.warn(
      { event: 'next-hop-invalid', peer: route.peer.address, asn: route.peer.asn, nextHop, reason, family, prefix: prefixToString(prefix), ...(seen ? { heldBack: seen.held } : {}) },
      `${route.peer.address} sent ${prefixToString(prefix)} with next hop ${nextHop} (${reason}): kept, not used; the session stays up`,
    );
  };
}

export interface NextHopTrackingOptions {
  readonly rib: Rib;
  readonly turns: LoopTurns;
  readonly logger: Logger;
  readonly tables: readonly number[];
  readonly protocol: number;
  /** The FIB host context's addresses (one answer to "on my subnet" for crossSubnet and here); absent = our own. */
  readonly subnets?: ConnectedSubnets;
  /** Called after a slice re-decided something: the RIB runner publishes it. */
  readonly changed: () => void;
  /** Milliseconds now (tests); performance.now() by default. */
  readonly now?: () => number;
}

export interface NextHopTrackingStats {
  readonly nextHops: number;
  readonly kernelRoutes: number;
  readonly walks: number;
  readonly redecided: number;
  /** Prefixes the walks looked at (the index's entries for the changed next hops). */
  readonly visited: number;
  /** Paths that arrived with a semantically incorrect next hop (RFC 4271 §6.3). */
  readonly invalidNextHops: number;
  /** A walk is under way or queued. */
  readonly busy: boolean;
}

export class NextHopTracking {
  readonly resolver: NextHopResolver;
  /** `${mode}|${address}` → its entry: one per distinct next hop, shared by every path using it. */
  private readonly cache = new Map<string, Entry>();
  /** The same entries reached from a path's attribute set (per mode and family). */
  private connectedV4 = new WeakMap<AttrSet, Entry>();
  private connectedV6 = new WeakMap<AttrSet, Entry>();
  private recursiveV4 = new WeakMap<AttrSet, Entry>();
  private recursiveV6 = new WeakMap<AttrSet, Entry>();
  private ownCache = new Map<string, boolean>();
  private resolving: { it: Iterator<Entry>; changed: Set<string> } | undefined;
  private oneHop = new WeakMap<PeerInfo, boolean>();
  private dirtyKernel = false;
  private pendingChanged = new Set<string>();
  private walking: { changed: ReadonlyMap<string, number>; it: Iterator<[number, PrefixKey]> } | undefined;
  private walks = 0;
  private redecided = 0;
  private visited = 0;
  /** `${peer}|${nextHop}|${reason}` -> when it was last logged and how many were held back since. */
  private readonly invalid: NextHopFaultLog;

  constructor(private readonly opts: NextHopTrackingOptions) {
    this.resolver = new NextHopResolver({ tables: opts.tables, protocol: opts.protocol }, opts.subnets);
    // The walk reads the next hop -> prefixes index; the Loc-RIB keeps it from now on.
    opts.rib.locRib.indexNextHops();
    this.invalid = new NextHopFaultLog(opts.logger, opts.now);
  }

  /** The start-up dump (before the lookups are handed to the RIB). */
  load(routes: readonly KernelRoute[], addresses: readonly KernelAddress[]): void {
    for (const a of addresses) this.resolver.address('new', a);
    for (const r of routes) this.resolver.route('new', r);
  }

  /** The lookups for the decision context (Rib.setNextHopLookups). */
  lookups() {
    return {
      ownAddress: (address: string) => this.isOwn(address),
      nextHopReachable: (route: Path, family: Family) => this.entry(route, family).reachable,
      igpCost: (route: Path, family: Family) => this.entry(route, family).metric,
      nextHopFaultSeen: this.invalid.seen,
    };
  }

  /** The resolution a path's next hop has now (explain, tests). */
  resolution(route: Path, family: Family): Resolution {
    return this.entry(route, family);
  }

  /**
   * After a monitor overrun (notifications lost): the dumps replace what was
   * kept, and every cached next hop is resolved again. Our addresses are
   * re-read only when not shared (the host context re-reads shared ones).
   */
  reload(routes: readonly KernelRoute[], addresses: readonly KernelAddress[] | undefined): void {
    this.resolver.replaceRoutes(routes);
    if (addresses) {
      this.resolver.subnets.clear();
      for (const a of addresses) this.resolver.address('new', a);
    }
    this.oneHopReset();
    this.markDirty();
  }

  private markDirty(): void {
    if (!this.dirtyKernel) {
      this.dirtyKernel = true;
      if (!this.resolving) this.opts.turns.schedule(() => this.reresolve());
    }
  }

  /** A monitor notification: the resolver takes it; re-resolution runs once per turn. */
  event(ev: RtnlEvent): void {
    // An address event counts even when the resolver's (shared) subnets already took it from the host context.
    const changed = ev.kind === 'route' ? this.resolver.route(ev.change, ev.route) : ev.kind === 'addr' ? (this.resolver.address(ev.change, ev.address), true) : false;
    if (!changed) return;
    if (ev.kind === 'addr') this.oneHopReset();
    this.markDirty();
  }

  stats(): NextHopTrackingStats {
    return { nextHops: this.cache.size, kernelRoutes: this.resolver.size(), walks: this.walks, redecided: this.redecided, visited: this.visited, invalidNextHops: this.invalid.count, busy: this.dirtyKernel || this.resolving !== undefined || this.walking !== undefined };
  }

  private modeOf(peer: PeerInfo): ResolveMode {
    if (peer.ibgp) return 'recursive';
    let one = this.oneHop.get(peer);
    if (one === undefined) this.oneHop.set(peer, (one = this.resolver.connectedSubnet(peer.address) !== undefined));
    return one ? 'connected' : 'recursive';
  }

  private oneHopReset(): void {
    // Our subnets changed: which peers are one hop away (so which entry a path uses) and
    // which addresses are ours are asked again (a WeakMap has no clear).
    this.oneHop = new WeakMap();
    this.connectedV4 = new WeakMap();
    this.connectedV6 = new WeakMap();
    this.recursiveV4 = new WeakMap();
    this.recursiveV6 = new WeakMap();
    this.ownCache.clear();
  }

  private entry(route: Path, family: Family): Resolution {
    const mode = this.modeOf(route.peer);
    // One entry per (next hop, mode), found through the path's attribute set without building a key.
    const byAttrs = mode === 'connected' ? (family === 'ipv4-unicast' ? this.connectedV4 : this.connectedV6) : family === 'ipv4-unicast' ? this.recursiveV4 : this.recursiveV6;
    const e = byAttrs.get(route.attrs);
    if (e) return e.res;
    const address = family === 'ipv4-unicast' ? route.attrs.nextHopV4 : route.attrs.nextHopV6;
    if (address === undefined) return UNRESOLVED;
    const key = `${mode}|${address}`;
    let entry = this.cache.get(key);
    if (!entry) {
      entry = { address, mode, res: this.resolver.resolve(address, mode) };
      this.cache.set(key, entry);
    }
    byAttrs.set(route.attrs, entry);
    return entry.res;
  }

  /** RFC 4271 §5.1.3 a, cached per address text until our addresses change. */
  private isOwn(address: string): boolean {
    let own = this.ownCache.get(address);
    if (own === undefined) this.ownCache.set(address, (own = this.resolver.isOwn(address)));
    return own;
  }

  /** Re-resolves every cached next hop, a slice per turn; those whose answer changed are re-decided. */
  private reresolve(): void {
    this.dirtyKernel = false;
    if (!this.resolving) this.resolving = { it: this.cache.values(), changed: new Set() };
    const r = this.resolving;
    const deadline = this.opts.turns.deadline(WALK_SLICE_MS);
    for (let n = 1; ; n++) {
      if ((n & 63) === 0 && performance.now() >= deadline) {
        this.opts.turns.schedule(() => this.reresolve());
        return;
      }
      const next = r.it.next();
      if (next.done) break;
      const e = next.value;
      const now = this.resolver.resolve(e.address, e.mode);
      if (now.reachable !== e.res.reachable || now.metric !== e.res.metric) {
        r.changed.add(e.address);
        this.opts.logger.info(
          { event: 'next-hop-changed', nextHop: e.address, mode: e.mode, reachable: now.reachable, ...(now.metric !== undefined ? { metric: now.metric } : {}), ...(now.via ? { via: now.via } : {}) },
          `next hop ${e.address} ${now.reachable ? `resolves (${now.via})` : 'is unreachable'}`,
        );
      }
      e.res = now;
    }
    this.resolving = undefined;
    // Changes that came in while this pass ran: another pass.
    if (this.dirtyKernel) this.opts.turns.schedule(() => this.reresolve());
    if (r.changed.size === 0) return;
    for (const a of r.changed) this.pendingChanged.add(a);
    if (!this.walking) this.startWalk();
  }

  private startWalk(): void {
    // Changed next hops in order: a prefix using several of them is re-decided under the first only.
    const changed = new Map<string, number>();
    for (const a of this.pendingChanged) changed.set(a, changed.size);
    this.pendingChanged = new Set();
    this.walks++;
    this.walking = { changed, it: this.affected(changed) };
    this.opts.turns.schedule(this.walkSlice);
  }

  /** The prefixes using each changed next hop, from the Loc-RIB's index, with the next hop's order. */
  private *affected(changed: ReadonlyMap<string, number>): Generator<[number, PrefixKey]> {
    for (const [nh, order] of changed) {
      const set = this.opts.rib.locRib.prefixesVia(nh);
      if (set) for (const p of set) yield [order, p];
    }
  }

  /** One slice of the walk: re-decide the prefixes with a candidate whose next hop changed. */
  private readonly walkSlice = (): void => {
    const w = this.walking;
    if (!w) return;
    const deadline = this.opts.turns.deadline(WALK_SLICE_MS);
    const several = w.changed.size > 1;
    let any = false;
    for (let n = 0; ; n++) {
      if ((n & 255) === 255 && performance.now() >= deadline) {
        if (any) this.opts.changed();
        this.opts.turns.schedule(this.walkSlice);
        return;
      }
      const r = w.it.next();
      if (r.done) break;
      const [order, prefix] = r.value;
      this.visited++;
      if (several && this.seenEarlier(prefix, order, w.changed)) continue;
      this.opts.rib.redecide(prefix);
      this.redecided++;
      any = true;
    }
    this.walking = undefined;
    if (any) this.opts.changed();
    if (this.pendingChanged.size > 0) this.startWalk();
  };

  /** Whether a candidate of `prefix` uses a changed next hop walked before the one of `order` (it was re-decided then). */
  private seenEarlier(prefix: PrefixKey, order: number, changed: ReadonlyMap<string, number>): boolean {
    const v4 = prefixFamily(prefix) === 'ipv4-unicast';
    for (const c of this.opts.rib.locRib.candidates(prefix)) {
      const nh = v4 ? c.attrs.nextHopV4 : c.attrs.nextHopV6;
      const o = nh === undefined ? undefined : changed.get(nh);
      if (o !== undefined && o < order) return true;
    }
    return false;
  }
}

/**
 * The tables a next hop resolves in: the FIB's table, and those the kernel
 * falls back to when it checks a gateway of a route in another table (its full
 * lookup: main 254 and default 253; the local table 255 holds only our own
 * addresses, which the resolver knows as such).
 */
export function nextHopTables(fibTable: number): number[] {
  return [...new Set([fibTable, 254, 253])];
}

/**
 * Subscribes first, then dumps (a change between the two is seen at least
 * once: the resolver's updates are idempotent), then hands the lookups to the
 * RIB. A failed dump leaves tracking off (every next hop resolvable, as
 * before), with a warning: never a lost route.
 */
export async function startNextHopTracking(feed: KernelFeed, opts: NextHopTrackingOptions): Promise<NextHopTracking | undefined> {
  const t = new NextHopTracking({ ...opts, ...(feed.subnets ? { subnets: feed.subnets } : {}) });
  feed.subscribe((ev) => t.event(ev));
  feed.onOverflow?.(() => {
    Promise.all([feed.dumpRoutes(), feed.subnets ? undefined : feed.dumpAddresses()])
      .then(([routes, addresses]) => t.reload(routes, addresses))
      .catch((err: Error) => opts.logger.warn({ event: 'next-hop-tracking', err: err.message }, 'cannot re-read the kernel routes after a monitor overrun: next hops resolve as last known'));
  });
  try {
    const [routes, addresses] = await Promise.all([feed.dumpRoutes(), feed.dumpAddresses()]);
    t.load(routes, addresses);
  } catch (err) {
    opts.logger.warn({ event: 'next-hop-tracking', err: (err as Error).message }, 'cannot read the kernel routes: next hops are not tracked');
    return undefined;
  }
  opts.rib.setNextHopLookups(t.lookups());
  opts.logger.info({ event: 'next-hop-tracking', kernelRoutes: t.resolver.size(), tables: opts.tables }, 'next hops resolve against the kernel routing table');
  return t;
}
