// Adj-RIB-In (RFC 4271 §3.2, §9): the routes one peer advertised to us, kept
// before import policy so the policy can be re-run without asking the peer
// again (soft reconfiguration inbound). Keyed by prefix key in a PrefixTable
// (IPv4 numbers sharded by /16, IPv6 strings); the value is the shared Path
// of the UPDATE that advertised the prefix, or, with RFC 7911 ADD-PATH,
// several Paths distinguished by path identifier.
//
// RFC 4724 graceful restart: markAllStale() moves the whole table aside in
// O(1); a re-advertisement moves a prefix back; sweepStale() drops, in
// bounded batches, what the restarted peer did not re-advertise.
//
// Each prefix holds one reference on its Path's AttrSet; the store frees a set
// when its last prefix goes.

import type { Family, PrefixKey } from '../lib/prefix.js';
import type { AttrSet, AttrStore } from './attr-store.js';
import { PrefixTable } from './prefix-table.js';
import { Path, type PeerInfo, type RouteList } from './route.js';

/** One path (the common case), or several with distinct path identifiers (RFC 7911). */
type Slot = Path | Path[];

function find(slot: Slot | undefined, pathId: number): Path | undefined {
  if (slot === undefined) return undefined;
  if (slot instanceof Path) return slot.pathId === pathId ? slot : undefined;
  return slot.find((p) => p.pathId === pathId);
}

/** Puts `path` into `table` under `prefix`, replacing the one with its path identifier; returns the replaced one. */
function put(table: PrefixTable<Slot>, prefix: PrefixKey, path: Path): Path | undefined {
  const slot = table.get(prefix);
  if (slot === undefined) {
    table.set(prefix, path);
    return undefined;
  }
  if (slot instanceof Path) {
    if (slot.pathId === path.pathId) {
      table.set(prefix, path);
      return slot;
    }
    table.set(prefix, [slot, path]);
    return undefined;
  }
  const i = slot.findIndex((p) => p.pathId === path.pathId);
  if (i < 0) {
    slot.push(path);
    return undefined;
  }
  const old = slot[i]!;
  slot[i] = path;
  return old;
}

/** Removes the path with `pathId` from `table` under `prefix`; returns it. */
function take(table: PrefixTable<Slot>, prefix: PrefixKey, pathId: number): Path | undefined {
  const slot = table.get(prefix);
  if (slot === undefined) return undefined;
  if (slot instanceof Path) {
    if (slot.pathId !== pathId) return undefined;
    table.delete(prefix);
    return slot;
  }
  const i = slot.findIndex((p) => p.pathId === pathId);
  if (i < 0) return undefined;
  const old = slot[i]!;
  slot.splice(i, 1);
  if (slot.length === 1) table.set(prefix, slot[0]!);
  return old;
}

function emptyList(): RouteList {
  return { prefixes: [], paths: [] };
}

export class AdjRibIn {
  private current = new PrefixTable<Slot>();
  /** Routes held over from before a graceful restart, not yet re-advertised (RFC 4724 §4.2). */
  private stale = new PrefixTable<Slot>();
  private v4Count = 0;
  private v6Count = 0;
  private staleCount_ = 0;

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
   * prefixes whose path is new or changed, with their Path (one shared object
   * per path identifier). An identical re-advertisement changes nothing, but
   * clears a graceful-restart stale mark.
   */
  update(prefixes: readonly PrefixKey[], attrs: AttrSet, pathIds?: readonly number[]): RouteList {
    const out = emptyList();
    let shared: Path | undefined;
    let refs = 0;
    for (let i = 0; i < prefixes.length; i++) {
      const prefix = prefixes[i]!;
      const pathId = pathIds ? pathIds[i]! : 0;
      let old = find(this.current.get(prefix), pathId);
      let fromStale = false;
      if (old === undefined && this.staleCount_ > 0 && (old = take(this.stale, prefix, pathId))) {
        this.staleCount_--;
        fromStale = true;
      }
      if (old && old.attrs === attrs) {
        if (fromStale) put(this.current, prefix, old);
        continue;
      }
      const path = shared && shared.pathId === pathId ? shared : (shared = new Path(this.peer, attrs, pathId));
      put(this.current, prefix, path);
      if (old) this.store.release(old.attrs);
      else this.count(prefix, 1);
      refs++;
      out.prefixes.push(prefix);
      out.paths.push(path);
    }
    if (refs > 0) this.store.retain(attrs, refs);
    return out;
  }

  /** RFC 4271 §4.3 withdrawn routes / RFC 4760 MP_UNREACH. Returns the routes removed. */
  withdraw(prefixes: readonly PrefixKey[], pathIds?: readonly number[]): RouteList {
    const out = emptyList();
    for (let i = 0; i < prefixes.length; i++) {
      const prefix = prefixes[i]!;
      const pathId = pathIds ? pathIds[i]! : 0;
      let path = take(this.current, prefix, pathId);
      if (!path && this.staleCount_ > 0 && (path = take(this.stale, prefix, pathId))) this.staleCount_--;
      if (!path) continue;
      this.count(prefix, -1);
      this.store.release(path.attrs);
      out.prefixes.push(prefix);
      out.paths.push(path);
    }
    return out;
  }

  get(prefix: PrefixKey, pathId = 0): Path | undefined {
    return find(this.current.get(prefix), pathId) ?? find(this.stale.get(prefix), pathId);
  }

  /** All paths for a prefix (several only with ADD-PATH), stale ones included. */
  paths(prefix: PrefixKey): readonly Path[] {
    const out: Path[] = [];
    for (const slot of [this.current.get(prefix), this.stale.get(prefix)])
      if (slot instanceof Path) out.push(slot);
      else if (slot) out.push(...slot);
    return out;
  }

  isStale(prefix: PrefixKey, pathId = 0): boolean {
    return find(this.stale.get(prefix), pathId) !== undefined;
  }

  /** Every route held, stale ones included: [prefix, path]. */
  *routes(family?: Family): IterableIterator<[PrefixKey, Path]> {
    for (const table of [this.current, this.stale])
      for (const [prefix, slot] of table.entries(family)) {
        if (slot instanceof Path) yield [prefix, slot];
        else for (const p of slot.slice()) yield [prefix, p];
      }
  }

  /** Paths held, for one family or both. */
  size(family?: Family): number {
    if (family === 'ipv4-unicast') return this.v4Count;
    if (family === 'ipv6-unicast') return this.v6Count;
    return this.v4Count + this.v6Count;
  }

  /** Paths marked stale and not yet re-advertised or swept. */
  staleCount(): number {
    return this.staleCount_;
  }

  /**
   * RFC 4724 §4.2: the session went down with graceful restart; every route
   * held becomes stale. O(1) unless routes from an earlier restart are still
   * stale (a restart during the restart), which merges the two tables.
   */
  markAllStale(): void {
    if (this.staleCount_ === 0) {
      this.stale = this.current;
      this.current = new PrefixTable<Slot>();
    } else {
      for (const [prefix, slot] of this.current.entries())
        for (const p of slot instanceof Path ? [slot] : slot) put(this.stale, prefix, p);
      this.current = new PrefixTable<Slot>();
    }
    this.staleCount_ = this.v4Count + this.v6Count;
  }

  /**
   * RFC 4724 §4.2: End-of-RIB received (or the stale timer fired): removes up
   * to `max` routes still stale and returns them, so the caller can withdraw
   * them from the Loc-RIB in bounded slices. Call until it returns fewer than `max`.
   */
  sweepStale(max = Infinity): RouteList {
    const out = this.takeFrom(this.stale, max);
    this.staleCount_ -= out.prefixes.length;
    return out;
  }

  /**
   * Peer down without graceful restart: removes up to `max` routes (stale ones
   * first) and returns them for withdrawal from the Loc-RIB. Call until it
   * returns fewer than `max`.
   */
  drain(max = Infinity): RouteList {
    const out = this.sweepStale(max);
    if (out.prefixes.length < max) {
      const more = this.takeFrom(this.current, max - out.prefixes.length);
      out.prefixes.push(...more.prefixes);
      out.paths.push(...more.paths);
    }
    return out;
  }

  private takeFrom(table: PrefixTable<Slot>, max: number): RouteList {
    const out = emptyList();
    for (const [prefix, slot] of table.entries()) {
      if (out.prefixes.length >= max) break;
      table.delete(prefix);
      for (const p of slot instanceof Path ? [slot] : slot) {
        this.count(prefix, -1);
        this.store.release(p.attrs);
        out.prefixes.push(prefix);
        out.paths.push(p);
      }
    }
    return out;
  }

  /** Drops everything at once (small tables, or when the Loc-RIB is rebuilt anyway). */
  clear(): void {
    this.drain();
  }
}
