// Loc-RIB (RFC 4271 §3.2, §9.1): per prefix, the candidate paths that passed
// import policy and the current best path and multipath set. Re-deciding is
// incremental: update/withdraw touch one prefix and report whether its best
// path or multipath set changed, so callers can batch the changes for export
// and the FIB. Built for a million prefixes: a prefix with one eligible
// candidate (the common case: each pod block comes from one node) stores the
// shared Path itself, so it costs one table entry; only contested prefixes
// get a PrefixEntry.
//
// Next-hop tracking (RFC 4271 §9.1.2) asks which prefixes a next hop's change
// touches: once indexNextHops() is called, an index from each candidate's
// next hop (of the prefix's family) to the prefixes using it is kept with
// every update and withdraw, so a resolution change re-decides exactly those
// prefixes instead of walking the table. Per next hop it is a plain array
// (IPv4 keys are doubles: a Set of them costs ~1 µs per insert at 1M) plus the
// count of prefixes really using it; a prefix that leaves is dropped from the
// count only, and the array is compacted when it holds twice too many or when
// it is read.

import { prefixFamily, type Family, type PrefixKey } from '../lib/prefix.js';
import type { AttrStore } from './attr-store.js';
import type { DecisionContext, DecisionReason } from './decision/context.js';
import { decideBest, explain, type CandidateExplanation, type Decision } from './decision/decide.js';
import { checkEligibility } from './decision/eligibility.js';
import { nextHopFault } from './decision/next-hop.js';
import { PrefixTable } from './prefix-table.js';
import { Path, sameCandidate, type PeerInfo } from './route.js';

/** What an update/withdraw did to the prefix: its best path changed, only the multipath set, or nothing. */
export type LocRibChange = 'none' | 'best' | 'multipath';

/** A prefix with several candidates, or whose only candidate is ineligible. */
class PrefixEntry {
  constructor(
    public candidates: Path[],
    public best: Path | undefined,
    public multipath: readonly Path[],
    public reason: DecisionReason,
  ) {}
}

type Slot = Path | PrefixEntry;

const NO_PATHS: readonly Path[] = Object.freeze([]);

/** Whether one of `paths` (but `skip`) forwards `prefix` to `nh`. */
function usesNextHop(prefix: PrefixKey, paths: readonly Path[], nh: string, skip: Path | undefined): boolean {
  for (let i = 0; i < paths.length; i++) {
    const c = paths[i]!;
    if (c !== skip && nextHopFor(prefix, c) === nh) return true;
  }
  return false;
}

function sameSet(a: readonly Path[], b: readonly Path[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** The prefixes using one next hop: `list` may hold stale entries and repeats until compacted; `live` is exact. */
interface NextHopPrefixes {
  list: PrefixKey[];
  live: number;
}

/** The next hop a candidate forwards `prefix` to (its family's: RFC 4271 §5.1.3, RFC 2545 §3). */
function nextHopFor(prefix: PrefixKey, path: Path): string | undefined {
  return typeof prefix === 'number' ? path.attrs.nextHopV4 : path.attrs.nextHopV6;
}

export class LocRib {
  private readonly table = new PrefixTable<Slot>();
  private paths = 0;
  /** Next hop (text) -> the prefixes with a candidate using it; kept only after indexNextHops(). */
  private byNextHop: Map<string, NextHopPrefixes> | undefined;

  /**
   * `store`, when given, gets one reference per candidate held, so attribute
   * sets created by import policy live exactly as long as the routes using them.
   */
  constructor(
    public ctx: DecisionContext,
    private readonly store?: AttrStore,
  ) {}

  /** Adds a candidate for `prefix`, or replaces the one with the same peer and path identifier. */
  update(prefix: PrefixKey, path: Path): LocRibChange {
    const map = this.table;
    const slot = map.get(prefix);
    this.store?.retain(path.attrs);
    const seen = this.ctx.nextHopFaultSeen;
    if (seen) {
      // RFC 4271 §6.3: a semantically incorrect NEXT_HOP is logged; the path stays, ineligible.
      const family = prefixFamily(prefix);
      const fault = nextHopFault(path, family, this.ctx);
      if (fault) seen(path, family, fault, prefix);
    }
    if (slot === undefined) {
      this.paths++;
      if (this.byNextHop) this.indexMove(prefix, undefined, path, NO_PATHS);
      if (checkEligibility(path, this.ctx, prefixFamily(prefix)) === undefined) {
        map.set(prefix, path);
        return 'best';
      }
      map.set(prefix, new PrefixEntry([path], undefined, [], 'no-eligible-path'));
      return 'none';
    }
    if (slot instanceof Path) {
      if (sameCandidate(slot, path)) {
        this.store?.release(slot.attrs);
        if (this.byNextHop) this.indexMove(prefix, slot, path, NO_PATHS);
        return this.settle(map, prefix, slot, [path]);
      }
      this.paths++;
      if (this.byNextHop) this.indexMove(prefix, undefined, path, [slot]);
      return this.settle(map, prefix, slot, [slot, path]);
    }
    const idx = slot.candidates.findIndex((c) => sameCandidate(c, path));
    if (idx >= 0) {
      const old = slot.candidates[idx]!;
      this.store?.release(old.attrs);
      if (this.byNextHop) this.indexMove(prefix, old, path, slot.candidates, old);
      slot.candidates[idx] = path;
    } else {
      this.paths++;
      if (this.byNextHop) this.indexMove(prefix, undefined, path, slot.candidates);
      slot.candidates.push(path);
    }
    return this.settle(map, prefix, slot, slot.candidates);
  }

  /** Removes the candidate from `peer` with `pathId`, if held. */
  withdraw(prefix: PrefixKey, peer: PeerInfo, pathId = 0): LocRibChange {
    const map = this.table;
    const slot = map.get(prefix);
    if (slot === undefined) return 'none';
    if (slot instanceof Path) {
      if (slot.peer !== peer || slot.pathId !== pathId) return 'none';
      this.paths--;
      this.store?.release(slot.attrs);
      map.delete(prefix);
      if (this.byNextHop) this.indexMove(prefix, slot, undefined, NO_PATHS);
      return 'best';
    }
    const idx = slot.candidates.findIndex((c) => c.peer === peer && c.pathId === pathId);
    if (idx < 0) return 'none';
    this.paths--;
    const old = slot.candidates[idx]!;
    this.store?.release(old.attrs);
    slot.candidates.splice(idx, 1);
    if (this.byNextHop) this.indexMove(prefix, old, undefined, slot.candidates);
    return this.settle(map, prefix, slot, slot.candidates);
  }

  /**
   * Starts keeping the next hop -> prefixes index (next-hop tracking calls it
   * once); built from what is held now, then kept by update and withdraw.
   */
  indexNextHops(): void {
    if (this.byNextHop) return;
    this.byNextHop = new Map();
    for (const [prefix, slot] of this.table.entries()) {
      if (slot instanceof Path) this.indexMove(prefix, undefined, slot, NO_PATHS);
      else slot.candidates.forEach((c, i) => this.indexMove(prefix, undefined, c, slot.candidates.slice(0, i)));
    }
  }

  /** The prefixes with a candidate whose next hop (of the prefix's family) is `nextHop`, each once; needs indexNextHops(). */
  prefixesVia(nextHop: string): readonly PrefixKey[] | undefined {
    const e = this.byNextHop?.get(nextHop);
    if (e && e.list.length !== e.live) this.compact(nextHop, e);
    return e?.list;
  }

  /** Distinct next hops in the index (0 when not kept). */
  indexedNextHops(): number {
    return this.byNextHop?.size ?? 0;
  }

  /**
   * A candidate of `prefix` went from `from` to `to` (either absent: added or
   * removed); `others` are the prefix's other candidates (`skip`, if given, is
   * among them and does not count). A next hop enters or leaves the prefix's
   * index entries only when no other candidate uses it.
   */
  private indexMove(prefix: PrefixKey, from: Path | undefined, to: Path | undefined, others: readonly Path[], skip?: Path): void {
    const a = from && nextHopFor(prefix, from);
    const b = to && nextHopFor(prefix, to);
    if (a === b) return;
    const index = this.byNextHop!;
    if (b !== undefined && !usesNextHop(prefix, others, b, skip)) {
      let e = index.get(b);
      if (!e) index.set(b, (e = { list: [], live: 0 }));
      e.list.push(prefix);
      e.live++;
    }
    if (a !== undefined && !usesNextHop(prefix, others, a, skip)) {
      const e = index.get(a);
      if (!e) return;
      if (--e.live <= 0) index.delete(a);
      else if (e.list.length > 2 * e.live + 64) this.compact(a, e);
    }
  }

  /** Keeps the entries whose prefix still has a candidate using `nh`, each once. */
  private compact(nh: string, e: NextHopPrefixes): void {
    const seen = new Set<PrefixKey>();
    const list: PrefixKey[] = [];
    for (const p of e.list) {
      if (seen.has(p)) continue;
      if (!this.candidates(p).some((c) => nextHopFor(p, c) === nh)) continue;
      seen.add(p);
      list.push(p);
    }
    e.list = list;
    e.live = list.length;
  }

  /** Re-runs the decision for a prefix after the context changed (next-hop reachability, IGP cost, policy). */
  redecide(prefix: PrefixKey): LocRibChange {
    const map = this.table;
    const slot = map.get(prefix);
    if (slot === undefined) return 'none';
    return this.settle(map, prefix, slot, slot instanceof Path ? [slot] : slot.candidates);
  }

  /**
   * Decides among `candidates`, stores the result compactly and says what
   * changed against `old` (the slot before; an entry's candidates may already
   * have been edited in place, its best and multipath not).
   */
  private settle(map: PrefixTable<Slot>, prefix: PrefixKey, old: Slot, candidates: Path[]): LocRibChange {
    const oldBest = old instanceof Path ? old : old.best;
    const oldMultipath = old instanceof Path ? undefined : old.multipath;
    let best: Path | undefined;
    let multipath: readonly Path[];
    if (candidates.length === 0) {
      map.delete(prefix);
      best = undefined;
      multipath = [];
    } else if (candidates.length === 1 && checkEligibility(candidates[0]!, this.ctx, prefixFamily(prefix)) === undefined) {
      best = candidates[0]!;
      multipath = [best];
      map.set(prefix, best);
    } else {
      const d = decideBest(candidates, this.ctx, prefixFamily(prefix));
      best = d.best;
      multipath = d.multipath;
      if (old instanceof PrefixEntry) {
        old.candidates = candidates;
        old.best = best;
        old.multipath = multipath;
        old.reason = d.reason;
      } else map.set(prefix, new PrefixEntry(candidates, best, multipath, d.reason));
    }
    if (best !== oldBest) return 'best';
    // A lone Path slot's multipath is [itself].
    const same = oldMultipath ? sameSet(multipath, oldMultipath) : multipath.length === 1;
    return same ? 'none' : 'multipath';
  }

  best(prefix: PrefixKey): Path | undefined {
    const slot = this.table.get(prefix);
    return slot instanceof Path ? slot : slot?.best;
  }

  /** The multipath (ECMP) set, best first; empty when there is no best. */
  multipath(prefix: PrefixKey): readonly Path[] {
    const slot = this.table.get(prefix);
    if (slot === undefined) return [];
    return slot instanceof Path ? [slot] : slot.multipath;
  }

  candidates(prefix: PrefixKey): readonly Path[] {
    const slot = this.table.get(prefix);
    if (slot === undefined) return [];
    return slot instanceof Path ? [slot] : slot.candidates;
  }

  /** The stored decision for a prefix (recomputed: cheap, and carries the ineligible list). */
  decision(prefix: PrefixKey): Decision {
    return decideBest(this.candidates(prefix), this.ctx, prefixFamily(prefix));
  }

  /** Step recorded when the prefix was last decided. */
  reason(prefix: PrefixKey): DecisionReason | undefined {
    const slot = this.table.get(prefix);
    if (slot === undefined) return undefined;
    return slot instanceof Path ? 'only-path' : slot.reason;
  }

  explain(prefix: PrefixKey): CandidateExplanation[] {
    return explain(this.candidates(prefix), this.ctx, prefixFamily(prefix));
  }

  /** Prefixes with a best path and that path, per family or both. */
  *bestRoutes(family?: Family): IterableIterator<[PrefixKey, Path]> {
    for (const [prefix, slot] of this.table.entries(family)) {
      if (slot instanceof Path) yield [prefix, slot];
      else if (slot.best) yield [prefix, slot.best];
    }
  }

  /** Every prefix held, with or without a best path (next-hop tracking walks them). */
  prefixes(family?: Family): IterableIterator<PrefixKey> {
    return this.table.keys(family);
  }

  /** Prefixes held (with or without a best path). */
  prefixCount(family?: Family): number {
    return this.table.size(family);
  }

  /** Candidate paths held. */
  pathCount(): number {
    return this.paths;
  }
}
