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
// RFC 7313 §4 enhanced route refresh: markFamilyStale() does the same for one
// family at a BoRR; at the EoRR endRefresh() sets what the peer did not
// re-advertise aside (a new BoRR then marks only fresh routes) and
// sweepRefreshStale() drops it in batches. Each family has its own tables, so
// the marks are O(1). The marks are kept apart (a route is current,
// refresh-stale, being purged or restart-stale, never two of them): an EoRR
// never sweeps routes held over from a restart, an End-of-RIB never sweeps
// routes under refresh. A session loss ends any refresh in progress: its
// stale routes become restart-stale.
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

type Fam = 0 | 1;

function famOf(prefix: PrefixKey): Fam {
  return typeof prefix === 'number' ? 0 : 1;
}

function famIndex(family: Family): Fam {
  return family === 'ipv4-unicast' ? 0 : 1;
}

/** Moves every path of `src` into `dst` (a path lives in one table only, so nothing is replaced). */
function mergeInto(dst: PrefixTable<Slot>, src: PrefixTable<Slot>): void {
  for (const [prefix, slot] of src.entries()) for (const p of slot instanceof Path ? [slot] : slot) put(dst, prefix, p);
  src.clear();
}

function append(to: RouteList, from: RouteList): void {
  for (let i = 0; i < from.prefixes.length; i++) {
    to.prefixes.push(from.prefixes[i]!);
    to.paths.push(from.paths[i]!);
  }
}

function tables(): [PrefixTable<Slot>, PrefixTable<Slot>] {
  return [new PrefixTable<Slot>(), new PrefixTable<Slot>()];
}

/** Stale marks: a route refresh in progress (RFC 7313 BoRR), one ended and being purged (EoRR), a graceful restart (RFC 4724). */
const REFRESH = 0;
const PURGE = 1;
const RESTART = 2;
type Mark = typeof REFRESH | typeof PURGE | typeof RESTART;
const MARKS: readonly Mark[] = [REFRESH, PURGE, RESTART];

export class AdjRibIn {
  /** Routes as last advertised, per family (IPv4, IPv6). */
  private current = tables();
  /** Stale routes not yet re-advertised, per mark and family. */
  private readonly marked = [tables(), tables(), tables()];
  private readonly counts: [number, number] = [0, 0];
  private readonly markCounts: [number, number][] = [
    [0, 0],
    [0, 0],
    [0, 0],
  ];

  constructor(
    readonly peer: PeerInfo,
    private readonly store: AttrStore,
  ) {}

  /** Takes the path (`prefix`, `pathId`) out of whichever stale table holds it. */
  private takeStale(prefix: PrefixKey, pathId: number, f: Fam): Path | undefined {
    for (const m of MARKS) {
      if (this.markCounts[m]![f] === 0) continue;
      const p = take(this.marked[m]![f], prefix, pathId);
      if (p) {
        this.markCounts[m]![f]--;
        return p;
      }
    }
    return undefined;
  }

  /** Moves every path of `src` into mark `m` of family `f` (O(1) when nothing is held there). */
  private moveInto(m: Mark, f: Fam, src: PrefixTable<Slot>): void {
    if (src.size() === 0) return;
    if (this.marked[m]![f].size() === 0) this.marked[m]![f] = src;
    else mergeInto(this.marked[m]![f], src);
  }

  /**
   * RFC 4271 §3.1/§9: the peer advertised `prefixes` with `attrs` (an implicit
   * withdraw of any earlier path with the same path identifier). Returns the
   * prefixes whose path is new or changed, with their Path (one shared object
   * per path identifier). An identical re-advertisement changes nothing, but
   * clears a stale mark (graceful restart or route refresh).
   */
  update(prefixes: readonly PrefixKey[], attrs: AttrSet, pathIds?: readonly number[]): RouteList {
    const out = emptyList();
    let shared: Path | undefined;
    let refs = 0;
    for (let i = 0; i < prefixes.length; i++) {
      const prefix = prefixes[i]!;
      const pathId = pathIds ? pathIds[i]! : 0;
      const f = famOf(prefix);
      const current = this.current[f];
      let old = find(current.get(prefix), pathId);
      let fromStale = false;
      if (old === undefined && (old = this.takeStale(prefix, pathId, f))) fromStale = true;
      if (old && old.attrs === attrs) {
        if (fromStale) put(current, prefix, old);
        continue;
      }
      const path = shared && shared.pathId === pathId ? shared : (shared = new Path(this.peer, attrs, pathId));
      put(current, prefix, path);
      if (old) this.store.release(old.attrs);
      else this.counts[f]++;
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
      const f = famOf(prefix);
      const path = take(this.current[f], prefix, pathId) ?? this.takeStale(prefix, pathId, f);
      if (!path) continue;
      this.counts[f]--;
      this.store.release(path.attrs);
      out.prefixes.push(prefix);
      out.paths.push(path);
    }
    return out;
  }

  get(prefix: PrefixKey, pathId = 0): Path | undefined {
    const f = famOf(prefix);
    let p = find(this.current[f].get(prefix), pathId);
    for (const m of MARKS) p ??= find(this.marked[m]![f].get(prefix), pathId);
    return p;
  }

  /** All paths for a prefix (several only with ADD-PATH), stale ones included. */
  paths(prefix: PrefixKey): readonly Path[] {
    const f = famOf(prefix);
    const out: Path[] = [];
    for (const slot of [this.current[f].get(prefix), ...MARKS.map((m) => this.marked[m]![f].get(prefix))])
      if (slot instanceof Path) out.push(slot);
      else if (slot) out.push(...slot);
    return out;
  }

  /** Stale after a graceful restart (RFC 4724) or during a route refresh (RFC 7313). */
  isStale(prefix: PrefixKey, pathId = 0): boolean {
    const f = famOf(prefix);
    return MARKS.some((m) => find(this.marked[m]![f].get(prefix), pathId) !== undefined);
  }

  /** Every route held, stale ones included: [prefix, path]. */
  *routes(family?: Family): IterableIterator<[PrefixKey, Path]> {
    for (const f of family === undefined ? ([0, 1] as const) : [famIndex(family)])
      for (const table of [this.current[f], ...MARKS.map((m) => this.marked[m]![f])])
        for (const [prefix, slot] of table.entries()) {
          if (slot instanceof Path) yield [prefix, slot];
          else for (const p of slot.slice()) yield [prefix, p];
        }
  }

  /** Paths held, for one family or both. */
  size(family?: Family): number {
    return family === undefined ? this.counts[0] + this.counts[1] : this.counts[famIndex(family)];
  }

  /** Paths marked stale by a graceful restart (RFC 4724) and not yet re-advertised or swept. */
  staleCount(): number {
    return this.markCounts[RESTART]![0] + this.markCounts[RESTART]![1];
  }

  /** Paths marked stale by a route refresh (RFC 7313 BoRR), in progress or being purged, and not yet re-advertised or swept. */
  refreshStaleCount(family?: Family): number {
    const n = (f: Fam) => this.markCounts[REFRESH]![f] + this.markCounts[PURGE]![f];
    return family === undefined ? n(0) + n(1) : n(famIndex(family));
  }

  /**
   * RFC 4724 §4.2: the session went down with graceful restart; every route
   * held becomes stale, including those of a refresh in progress or being
   * purged (the session that sent them is gone; the restarted peer's
   * End-of-RIB or the restart timer decides). O(1) unless stale routes are
   * still held (a restart during the restart, or a refresh), which merges them.
   */
  markAllStale(): void {
    for (const f of [0, 1] as const) {
      this.moveInto(RESTART, f, this.current[f]);
      for (const m of [REFRESH, PURGE] as const) {
        this.moveInto(RESTART, f, this.marked[m]![f]);
        this.marked[m]![f] = new PrefixTable<Slot>();
        this.markCounts[m]![f] = 0;
      }
      this.current[f] = new PrefixTable<Slot>();
      this.markCounts[RESTART]![f] = this.counts[f];
    }
  }

  /**
   * RFC 7313 §4: a BoRR for `family`; every current route of the family
   * becomes refresh-stale until re-advertised. O(1) unless routes of an earlier
   * BoRR of the family are still marked (a second BoRR before the EoRR),
   * which merges them. Restart-stale routes and routes being purged after an
   * earlier EoRR keep their own mark. Returns the paths now refresh-stale.
   */
  markFamilyStale(family: Family): number {
    const f = famIndex(family);
    const moved = this.counts[f] - this.markCounts[REFRESH]![f] - this.markCounts[PURGE]![f] - this.markCounts[RESTART]![f]; // paths in `current`
    this.moveInto(REFRESH, f, this.current[f]);
    this.current[f] = new PrefixTable<Slot>();
    this.markCounts[REFRESH]![f] += moved;
    return this.markCounts[REFRESH]![f];
  }

  /**
   * RFC 7313 §4: EoRR received (or the refresh timer ran out): what is still
   * refresh-stale for `family` is to be purged. It is set aside, so a new BoRR
   * arriving while the purge runs marks only routes re-advertised since.
   * Returns the paths to purge (with sweepRefreshStale).
   */
  endRefresh(family: Family): number {
    const f = famIndex(family);
    this.moveInto(PURGE, f, this.marked[REFRESH]![f]);
    this.marked[REFRESH]![f] = new PrefixTable<Slot>();
    this.markCounts[PURGE]![f] += this.markCounts[REFRESH]![f];
    this.markCounts[REFRESH]![f] = 0;
    return this.markCounts[PURGE]![f];
  }

  /**
   * RFC 7313 §4: removes up to `max` routes of `family` set aside by
   * endRefresh and returns them for withdrawal from the Loc-RIB. Call until it
   * returns fewer than `max`.
   */
  sweepRefreshStale(family: Family, max = Infinity): RouteList {
    return this.sweepMark(PURGE, famIndex(family), max);
  }

  /**
   * RFC 4724 §4.2: End-of-RIB received (or the stale timer fired): removes up
   * to `max` routes still stale and returns them, so the caller can withdraw
   * them from the Loc-RIB in bounded slices. Call until it returns fewer than `max`.
   */
  sweepStale(max = Infinity): RouteList {
    const out = this.sweepMark(RESTART, 0, max);
    if (out.prefixes.length < max) append(out, this.sweepMark(RESTART, 1, max - out.prefixes.length));
    return out;
  }

  private sweepMark(m: Mark, f: Fam, max: number): RouteList {
    const out = this.takeFrom(this.marked[m]![f], max);
    this.markCounts[m]![f] -= out.prefixes.length;
    return out;
  }

  /**
   * Peer down without graceful restart: removes up to `max` routes (stale ones
   * first) and returns them for withdrawal from the Loc-RIB. Call until it
   * returns fewer than `max`.
   */
  drain(max = Infinity): RouteList {
    const out = emptyList();
    for (const m of [RESTART, REFRESH, PURGE] as const)
      for (const f of [0, 1] as const) if (out.prefixes.length < max) append(out, this.sweepMark(m, f, max - out.prefixes.length));
    for (const f of [0, 1] as const) if (out.prefixes.length < max) append(out, this.takeFrom(this.current[f], max - out.prefixes.length));
    return out;
  }

  /** Takes up to about `max` paths (whole prefixes) out of `table`; `counts` follows, the caller keeps its mark's count. */
  private takeFrom(table: PrefixTable<Slot>, max: number): RouteList {
    const out = emptyList();
    for (const [prefix, slot] of table.entries()) {
      if (out.prefixes.length >= max) break;
      table.delete(prefix);
      for (const p of slot instanceof Path ? [slot] : slot) {
        this.counts[famOf(prefix)]--;
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
