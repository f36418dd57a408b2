// Adj-RIB-In (RFC 4271 §3.2, §9): the routes one peer advertised to us, kept
// before import policy so the policy can be re-run without asking the peer
// again (soft reconfiguration inbound). Keyed by prefix key in a PrefixTable
// (IPv4 numbers sharded by /16, IPv6 strings); with RFC 7911 ADD-PATH a prefix may hold
// several paths, distinguished by path identifier. RFC 4724 graceful restart:
// markAllStale() is O(1) (an epoch bump), sweepStale() removes, in bounded
// batches, the routes the restarted peer did not re-advertise.
//
// Each route holds one reference on its AttrSet; the store frees a set when
// its last route goes.

import type { Family, PrefixKey } from '../lib/prefix.js';
import type { AttrSet, AttrStore } from './attr-store.js';
import { PrefixTable } from './prefix-table.js';
import { Route, type PeerInfo } from './route.js';

/** One path (the common case), or several with distinct path identifiers (RFC 7911). */
type Slot = Route | Route[];

export class AdjRibIn {
  private readonly table = new PrefixTable<Slot>();
  private v4Count = 0;
  private v6Count = 0;
  /** Epoch stamped on routes as they are (re)advertised. */
  private epoch = 0;
  /** Routes with an epoch below this are stale (RFC 4724 §4.2). */
  private staleBelow = 0;
  private sweeper: Iterator<Route> | undefined;

  constructor(
    readonly peer: PeerInfo,
    private readonly store: AttrStore,
  ) {}

  private count(prefix: PrefixKey, delta: number): void {
    if (typeof prefix === 'number') this.v4Count += delta;
    else this.v6Count += delta;
  }

  /**
   * RFC 4271 §3.1/§9: the peer advertised `prefixes` with `attrs` (an implicit
   * withdraw of any earlier path with the same path identifier). Returns the
   * routes that are new or changed; an identical re-advertisement only
   * refreshes the route's epoch (clearing a graceful-restart stale mark).
   */
  update(prefixes: readonly PrefixKey[], attrs: AttrSet, pathIds?: readonly number[]): Route[] {
    const changed: Route[] = [];
    let refs = 0;
    for (let i = 0; i < prefixes.length; i++) {
      const prefix = prefixes[i]!;
      const pathId = pathIds ? pathIds[i]! : 0;
      const map = this.table;
      const slot = map.get(prefix);
      if (slot === undefined) {
        const r = new Route(prefix, this.peer, attrs, pathId, this.epoch);
        map.set(prefix, r);
        this.count(prefix, 1);
        refs++;
        changed.push(r);
        continue;
      }
      const paths = slot instanceof Route ? undefined : slot;
      const idx = paths ? paths.findIndex((p) => p.pathId === pathId) : (slot as Route).pathId === pathId ? 0 : -1;
      const old = idx < 0 ? undefined : paths ? paths[idx]! : (slot as Route);
      if (old && old.attrs === attrs) {
        old.epoch = this.epoch;
        continue;
      }
      const r = new Route(prefix, this.peer, attrs, pathId, this.epoch);
      refs++;
      changed.push(r);
      if (old) this.store.release(old.attrs);
      else this.count(prefix, 1);
      if (!paths) map.set(prefix, old ? r : [slot as Route, r]);
      else if (old) paths[idx] = r;
      else paths.push(r);
    }
    if (refs > 0) this.store.retain(attrs, refs);
    return changed;
  }

  /** RFC 4271 §4.3 withdrawn routes / RFC 4760 MP_UNREACH. Returns the routes removed. */
  withdraw(prefixes: readonly PrefixKey[], pathIds?: readonly number[]): Route[] {
    const removed: Route[] = [];
    for (let i = 0; i < prefixes.length; i++) {
      const r = this.remove(prefixes[i]!, pathIds ? pathIds[i]! : 0);
      if (r) removed.push(r);
    }
    return removed;
  }

  private remove(prefix: PrefixKey, pathId: number): Route | undefined {
    const map = this.table;
    const slot = map.get(prefix);
    if (slot === undefined) return undefined;
    let r: Route | undefined;
    if (slot instanceof Route) {
      if (slot.pathId !== pathId) return undefined;
      r = slot;
      map.delete(prefix);
    } else {
      const idx = slot.findIndex((p) => p.pathId === pathId);
      if (idx < 0) return undefined;
      r = slot[idx]!;
      slot.splice(idx, 1);
      if (slot.length === 1) map.set(prefix, slot[0]!);
    }
    this.count(prefix, -1);
    this.store.release(r.attrs);
    return r;
  }

  get(prefix: PrefixKey, pathId = 0): Route | undefined {
    const slot = this.table.get(prefix);
    if (slot === undefined) return undefined;
    if (slot instanceof Route) return slot.pathId === pathId ? slot : undefined;
    return slot.find((p) => p.pathId === pathId);
  }

  /** All paths for a prefix (several only with ADD-PATH). */
  paths(prefix: PrefixKey): readonly Route[] {
    const slot = this.table.get(prefix);
    return slot === undefined ? [] : slot instanceof Route ? [slot] : slot;
  }

  *routes(): IterableIterator<Route> {
    for (const slot of this.table.values()) {
      if (slot instanceof Route) yield slot;
      else yield* slot.slice();
    }
  }

  /** Paths held, for one family or both. */
  size(family?: Family): number {
    if (family === 'ipv4-unicast') return this.v4Count;
    if (family === 'ipv6-unicast') return this.v6Count;
    return this.v4Count + this.v6Count;
  }

  /** RFC 4724 §4.2: the session went down with graceful restart; every route held becomes stale. */
  markAllStale(): void {
    this.epoch++;
    this.staleBelow = this.epoch;
    this.sweeper = undefined;
  }

  isStale(route: Route): boolean {
    return route.epoch < this.staleBelow;
  }

  /** Stale paths still held (walks the table: for tests and the API, not the hot path). */
  staleCount(): number {
    let n = 0;
    for (const r of this.routes()) if (this.isStale(r)) n++;
    return n;
  }

  /**
   * RFC 4724 §4.2: End-of-RIB received (or the restart/stale timer fired):
   * removes up to `max` routes still stale and returns them, so the caller can
   * withdraw them from the Loc-RIB in bounded slices. Call until it returns
   * fewer than `max`.
   */
  sweepStale(max = Infinity): Route[] {
    const out: Route[] = [];
    this.sweeper ??= this.staleWalk();
    while (out.length < max) {
      const next = this.sweeper.next();
      if (next.done) {
        this.sweeper = undefined;
        break;
      }
      const r = next.value;
      if (this.remove(r.prefix, r.pathId) === r) out.push(r);
    }
    return out;
  }

  private *staleWalk(): Generator<Route> {
    for (const r of this.routes()) if (this.isStale(r)) yield r;
  }

  /**
   * Peer down without graceful restart: removes up to `max` routes and returns
   * them for withdrawal from the Loc-RIB. Call until it returns fewer than `max`.
   */
  drain(max = Infinity): Route[] {
    const out: Route[] = [];
    for (const [prefix, slot] of this.table.entries()) {
      if (out.length >= max) break;
      this.table.delete(prefix);
      for (const r of slot instanceof Route ? [slot] : slot) {
        this.count(prefix, -1);
        this.store.release(r.attrs);
        out.push(r);
      }
    }
    return out;
  }

  /** Drops everything at once (small tables, or when the Loc-RIB is rebuilt anyway). */
  clear(): void {
    this.drain();
    this.sweeper = undefined;
  }
}
