// The Adj-RIB-Out of one update group (RFC 4271 §3.2, §9.1.3, §9.2; STYLE.md
// §10, §10b): what the group's stream has carried per prefix, plus the changes
// not yet encoded. Coalescing: only the latest pending state of a prefix is
// kept; an announcement equal to what the stream already carried is dropped; a
// withdraw goes out only for what it carried. Keyed by a Bucket: an outgoing
// attribute set plus its Exclusion, the member(s) that must not receive it (its source,
// split horizon; the router its ORIGINATOR_ID names, RFC 4456 §8). So every
// encoded UPDATE has one source, and a member skips the UPDATEs of its own
// routes whole, without re-encoding (update-group.ts).
//
// Withdrawals of one source are packed under its Exclusion: that member gets
// no withdraw of a route it was never sent. When one step withdraws routes of
// several sources they share their UPDATEs, sent to every member (a withdraw
// of a route the receiver does not hold removes nothing, RFC 4271 §9). When a prefix moves from
// source A to source M (a member), M must lose A's route although it skips
// the new announcement: such keys also go out as a withdraw addressed only to
// the members the new bucket excludes and the old one did not ("targeted").

import type { CodecContext, Family, PrefixKey } from '../bgp/wire/types.js';
import { prefixFamily } from '../lib/prefix.js';
import type { AttrSet, AttrStore } from './attr-store.js';
import { PrefixTable } from './prefix-table.js';
import {
  encodeAttributeBlock,
  encodeEndOfRib,
  longestPrefixWire,
  outKey,
  packAnnouncements,
  packWithdrawals,
  type AttributeBlock,
  type OutKey,
} from './update-packer.js';

/** A group's Adj-RIB-Out in numbers (per member through GroupMember.adjRibOut). */
export interface GroupOutStats {
  /** Prefixes (paths) the stream has carried. */
  readonly advertised: number;
  /** Prefixes with an unsent change. */
  readonly pending: number;
  /** Buckets with keys waiting to be sent. */
  readonly groups: number;
  /** Prefixes dropped because their attributes leave no room for NLRI in one UPDATE. */
  readonly oversized: number;
}

export const FAMILIES: readonly Family[] = ['ipv4-unicast', 'ipv6-unicast'];
/** Keys offered to the packer per step (five messages' worth of /26s; larger steps measured slower). */
const TAKE_STEP = 4096;

/** Drops the last packed message (a short one more keys would have filled); returns how many keys it held. */
function holdLast(bufs: Buffer[], counts: number[]): number {
  bufs.pop();
  return counts.pop()!;
}

export function familyIndex(family: Family): 0 | 1 {
  return family === 'ipv4-unicast' ? 0 : 1;
}

/** Who must not receive a route: its source peer, and (toward iBGP) the router its ORIGINATOR_ID names. */
export interface Exclusion {
  readonly address: string;
  readonly originatorId: number | undefined;
}

/** An outgoing attribute set and who it must not go to: one per (set, source) in a group. */
export interface Bucket {
  readonly set: AttrSet;
  readonly ex: Exclusion | undefined;
}

/** What a member is, as far as exclusions go. */
export interface MemberId {
  readonly address: string;
  readonly bgpId: number;
}

/** Split horizon (RFC 4271 §9.2 as exportCheck's 'source-peer') and RFC 4456 §8 ('originator-is-target'). */
export function excludes(ex: Exclusion | undefined, m: MemberId): boolean {
  return ex !== undefined && (ex.address === m.address || (ex.originatorId !== undefined && ex.originatorId === m.bgpId));
}

/**
 * Keys counted per exclusion, summed so that what `excludes(ex, m)` removes for
 * member m is found in O(1): those naming its address, plus those naming its
 * BGP Identifier as ORIGINATOR_ID, minus those naming both (counted twice).
 */
export class ExclusionIndex {
  private readonly byAddress = new Map<string, number>();
  private readonly byOriginator = new Map<number, number>();
  private readonly byBoth = new Map<string, number>();

  constructor(counts: ReadonlyMap<Exclusion, number>) {
    for (const [ex, n] of counts) {
      this.byAddress.set(ex.address, (this.byAddress.get(ex.address) ?? 0) + n);
      if (ex.originatorId === undefined) continue;
      this.byOriginator.set(ex.originatorId, (this.byOriginator.get(ex.originatorId) ?? 0) + n);
      const both = `${ex.address}|${ex.originatorId}`;
      this.byBoth.set(both, (this.byBoth.get(both) ?? 0) + n);
    }
  }

  /** The sum of the counts of every exclusion that excludes `m`. */
  excluded(m: MemberId): number {
    return (this.byAddress.get(m.address) ?? 0) + (this.byOriginator.get(m.bgpId) ?? 0) - (this.byBoth.get(`${m.address}|${m.bgpId}`) ?? 0);
  }
}

/** One encoded message of a group's stream. */
export interface StreamItem {
  readonly msg: Buffer;
  /** Members this excludes skip the message (its routes' source). */
  readonly skip?: Exclusion;
  /** A targeted withdraw: only for members `ex` excludes and `unless` does not. */
  readonly only?: { readonly ex: Exclusion; readonly unless: Exclusion | undefined };
  /** The keys of the pack call the message came from (a member evicted before it re-sends them). */
  readonly keys?: readonly OutKey[];
  /** End-of-RIB of this family (RFC 4724 §2). */
  readonly eor?: Family;
  /** Stream octets before this item (for the lag bound). */
  start: number;
}

/** Whether member `m` receives stream item `it`. */
export function receives(it: StreamItem, m: MemberId): boolean {
  if (it.only) return excludes(it.only.ex, m) && !excludes(it.only.unless, m);
  return !excludes(it.skip, m);
}

/** Keys waiting in one bucket (or one family's withdrawals), with lazy removal. */
class KeyQueue {
  keys: OutKey[] = [];
  head = 0;
  live = 0;
  cancelled = false;

  add(key: OutKey): void {
    this.keys.push(key);
    this.live++;
  }

  compact(): void {
    if (this.head > 1024 && this.head * 2 > this.keys.length) {
      this.keys = this.keys.slice(this.head);
      this.head = 0;
    }
  }
}

export class GroupOut {
  /** What the stream has carried: key → bucket (one store reference each). */
  readonly advertised = new PrefixTable<Bucket>();
  /** Unsent state: key → bucket to announce (one reference each), or null to withdraw. */
  private readonly pending = new PrefixTable<Bucket | null>();
  private lastBucket: Bucket | undefined;
  private lastQueue: KeyQueue | undefined;
  private readonly queues: [Map<Bucket, KeyQueue>, Map<Bucket, KeyQueue>] = [new Map(), new Map()];
  private readonly withdrawals: [KeyQueue, KeyQueue] = [new KeyQueue(), new KeyQueue()];
  private readonly blocks: [WeakMap<AttrSet, AttributeBlock>, WeakMap<AttrSet, AttributeBlock>] = [new WeakMap(), new WeakMap()];
  /** End-of-RIB: 'armed' once the initial table is queued, 'sent' after. */
  readonly eor: ('waiting' | 'armed' | 'sent')[] = ['waiting', 'waiting'];
  /** Per family: advertised keys per exclusion, so a member's advertised count needs no walk. */
  private readonly excludedCounts: [Map<Exclusion, number>, Map<Exclusion, number>] = [new Map(), new Map()];
  /** excludedCounts summed for lookup by member; undefined after a change (rebuilt when asked). */
  private readonly excludedIndexes: [ExclusionIndex | undefined, ExclusionIndex | undefined] = [undefined, undefined];
  oversized = 0;

  constructor(
    private readonly store: AttrStore,
    readonly ctx: CodecContext,
    readonly families: readonly Family[],
  ) {}

  /** Queues an announcement; the caller's reference to `b.set` passes here. */
  announce(prefix: PrefixKey, b: Bucket, pathId = 0): void {
    const key = outKey(prefix, pathId);
    const fi = familyIndex(prefixFamily(prefix));
    const before = this.pending.get(key);
    if (before === b) {
      this.store.release(b.set);
      return;
    }
    if (this.advertised.get(key) === b) {
      if (before !== undefined) this.cancelPending(key, fi, before);
      this.store.release(b.set);
      return;
    }
    if (before !== undefined) this.cancelPending(key, fi, before);
    this.pending.set(key, b);
    let queue = this.lastBucket === b ? this.lastQueue : undefined;
    if (!queue || queue.live === 0) {
      const queues = this.queues[fi];
      queue = queues.get(b);
      if (!queue) queues.set(b, (queue = new KeyQueue()));
      this.lastBucket = b;
      this.lastQueue = queue;
    }
    queue.add(key);
  }

  /** Queues a withdraw; a no-op unless the stream carried the key (RFC 4271 §9.1.3). */
  withdraw(prefix: PrefixKey, pathId = 0): void {
    const key = outKey(prefix, pathId);
    const fi = familyIndex(prefixFamily(prefix));
    const before = this.pending.get(key);
    if (before !== undefined) this.cancelPending(key, fi, before);
    if (!this.advertised.has(key)) return;
    this.pending.set(key, null);
    this.withdrawals[fi].add(key);
  }

  private cancelPending(key: OutKey, fi: 0 | 1, before: Bucket | null): void {
    this.pending.delete(key);
    if (before === null) {
      this.withdrawals[fi].live--;
      this.withdrawals[fi].cancelled = true;
      return;
    }
    this.queueDone(fi, before, -1);
    this.store.release(before.set);
  }

  private queueDone(fi: 0 | 1, b: Bucket, delta: number): void {
    const queues = this.queues[fi];
    const queue = queues.get(b)!;
    queue.live += delta;
    if (delta < 0) queue.cancelled = true;
    if (queue.live > 0) return;
    queues.delete(b);
    if (this.lastQueue === queue) {
      this.lastBucket = undefined;
      this.lastQueue = undefined;
    }
  }

  /** True when takeBatch would return something. */
  hasPending(): boolean {
    return this.pending.size() > 0 || this.families.some((f) => this.eor[familyIndex(f)] === 'armed');
  }

  pendingCount(): number {
    return this.pending.size();
  }

  stats(): GroupOutStats {
    return {
      advertised: this.advertised.size(),
      pending: this.pending.size(),
      groups: this.queues[0].size + this.queues[1].size,
      oversized: this.oversized,
    };
  }

  /** The unsent state of a key: a bucket to announce, null to withdraw, undefined when none. */
  pendingState(key: OutKey): Bucket | null | undefined {
    return this.pending.get(key);
  }

  /** Every family's initial table has been encoded, End-of-RIB included. */
  initialDone(): boolean {
    return this.families.every((f) => this.eor[familyIndex(f)] === 'sent');
  }

  /** The group's initial table is queued: End-of-RIB follows once it is encoded. */
  initialTableQueued(): void {
    for (const f of this.families) {
      const i = familyIndex(f);
      if (this.eor[i] === 'waiting') this.eor[i] = 'armed';
    }
  }

  /** Keys of `family` a member with identity `m` holds: the stream's, minus those excluding it. */
  advertisedFor(family: Family, m: MemberId): number {
    const fi = familyIndex(family);
    return this.advertised.size(family) - this.excludedIndex(fi).excluded(m);
  }

  /**
   * The counts per exclusion summed by what a member matches (its address, its
   * BGP Identifier, both), rebuilt after a change when next asked: the API
   * asks for every member at once, and a walk of every exclusion per member
   * was C² at C members that each source routes (16 ms a scrape at 1,000).
   */
  private excludedIndex(fi: 0 | 1): ExclusionIndex {
    let ix = this.excludedIndexes[fi];
    if (!ix) this.excludedIndexes[fi] = ix = new ExclusionIndex(this.excludedCounts[fi]);
    return ix;
  }

  private count(fi: 0 | 1, b: Bucket | undefined, delta: number): void {
    if (!b?.ex) return;
    this.excludedIndexes[fi] = undefined;
    const m = this.excludedCounts[fi];
    const n = (m.get(b.ex) ?? 0) + delta;
    if (n === 0) m.delete(b.ex);
    else m.set(b.ex, n);
  }

  /**
   * Up to `maxMessages` messages appended to `out` as stream items:
   * withdrawals (per exclusion of what they withdraw), announcements bucket by
   * bucket with their targeted withdraws, then End-of-RIB for families whose
   * initial table has gone. What is returned counts as carried.
   */
  takeBatch(maxMessages: number, out: StreamItem[]): void {
    const start = out.length;
    const room = (): number => maxMessages - (out.length - start);
    for (let fi = 0 as 0 | 1; fi <= 1 && room() > 0; fi++) {
      const queue = this.withdrawals[fi];
      if (queue.live === 0) continue;
      this.takeFrom(queue, null, room, (keys, max, more) => {
        const bufs: Buffer[] = [];
        const counts: number[] = [];
        let used = packWithdrawals(FAMILIES[fi]!, keys, this.ctx, max, bufs, counts);
        if (more && bufs.length > 1) used -= holdLast(bufs, counts);
        const kept = used === keys.length ? keys : keys.slice(0, used);
        // Skip the source when every route withdrawn had the same one: those members never had it.
        // Many sources' withdrawals at once share UPDATEs sent to every member rather than one per
        // source: a withdrawn route the receiver does not hold removes nothing (RFC 4271 §9), so
        // the sources' copies of their own withdraws are harmless; exactness would cost an UPDATE each.
        let ex = kept.length > 0 ? this.advertised.get(kept[0]!)?.ex : undefined;
        for (const k of kept) {
          const had = this.advertised.get(k)!;
          if (had.ex !== ex) ex = undefined;
          this.count(fi, had, -1);
          this.advertised.delete(k);
          this.store.release(had.set);
        }
        for (const msg of bufs) out.push({ msg, ...(ex ? { skip: ex } : {}), keys: kept, start: 0 });
        return used;
      });
      if (queue.live === 0) this.withdrawals[fi] = new KeyQueue();
    }
    for (let fi = 0 as 0 | 1; fi <= 1 && room() > 0; fi++) {
      const family = FAMILIES[fi]!;
      for (const [b, queue] of this.queues[fi]) {
        if (room() <= 0) break;
        const block = this.block(b.set, fi);
        if (block.nlriBudget < longestPrefixWire(family, block.addPath)) {
          this.dropOversized(b, queue, fi);
          continue;
        }
        const before = queue.live;
        this.takeFrom(queue, b, room, (keys, max, more) => {
          const bufs: Buffer[] = [];
          const counts: number[] = [];
          let used = packAnnouncements(block, keys, max, bufs, counts);
          if (more && bufs.length > 1) used -= holdLast(bufs, counts);
          const kept = used === keys.length ? keys : keys.slice(0, used);
          for (const msg of bufs) out.push({ msg, ...(b.ex ? { skip: b.ex } : {}), keys: kept, start: 0 });
          let targeted: Map<Exclusion | undefined, OutKey[]> | undefined;
          for (const k of kept) {
            const had = this.advertised.get(k);
            if (had) {
              // The members the new bucket excludes and the old did not held the old route: withdraw it for them alone.
              if (b.ex && had.ex !== b.ex) {
                targeted ??= new Map();
                let list = targeted.get(had.ex);
                if (!list) targeted.set(had.ex, (list = []));
                list.push(k);
              }
              this.count(fi, had, -1);
              this.store.release(had.set);
            }
            this.advertised.set(k, b);
          }
          this.count(fi, b, kept.length);
          if (targeted)
            for (const [unless, list] of targeted) {
              const wbufs: Buffer[] = [];
              packWithdrawals(family, list, this.ctx, Infinity, wbufs);
              for (const msg of wbufs) out.push({ msg, only: { ex: b.ex!, unless }, keys: list, start: 0 });
            }
          return used;
        });
        if (queue.live < before) this.queueDone(fi, b, 0);
      }
    }
    for (const family of this.families) {
      const fi = familyIndex(family);
      if (room() <= 0) break;
      if (this.eor[fi] !== 'armed' || this.withdrawals[fi].live > 0 || this.queues[fi].size > 0) continue;
      out.push({ msg: encodeEndOfRib(family, this.ctx), eor: family, start: 0 }); // RFC 4724 §2
      this.eor[fi] = 'sent';
    }
  }

  /**
   * Offers the queue's keys still pending as `state` to `pack` (which returns
   * how many it used, from the start) in steps of several thousand, while the
   * caller has room. `more` tells the packer that keys follow the step: it
   * holds back a short last message, whose keys open the next step, so a
   * large table goes out in full messages. Stops when the caller's room is used.
   */
  private takeFrom(
    queue: KeyQueue,
    state: Bucket | null,
    room: () => number,
    pack: (keys: OutKey[], max: number, more: boolean) => number,
  ): void {
    const keys = queue.keys;
    const pending = this.pending;
    while (queue.live > 0 && room() > 0) {
      const offered: OutKey[] = [];
      const pos: number[] = [];
      const seen = queue.cancelled ? new Set<OutKey>() : undefined;
      let i = queue.head;
      for (; i < keys.length && offered.length < TAKE_STEP; i++) {
        const key = keys[i]!;
        if (pending.get(key) !== state) continue; // moved on since it was queued
        if (seen) {
          if (seen.has(key)) continue;
          seen.add(key);
        }
        offered.push(key);
        pos.push(i);
      }
      if (offered.length === 0) {
        queue.head = i;
        break;
      }
      const used = pack(offered, room(), i < keys.length);
      for (let k = 0; k < used; k++) pending.delete(offered[k]!);
      queue.live -= used;
      queue.head = used < offered.length ? pos[used]! : i;
      if (used < offered.length && room() <= 0) break;
    }
    queue.compact();
  }

  /** The group's encoded attributes for `set` (the shared part of every UPDATE of a bucket). */
  block(set: AttrSet, fi: 0 | 1): AttributeBlock {
    const cache = this.blocks[fi];
    let block = cache.get(set);
    if (!block) cache.set(set, (block = encodeAttributeBlock(set.attrs, FAMILIES[fi]!, this.ctx)));
    return block;
  }

  /** RFC 4271 §9.2: attributes too large for any UPDATE: not advertised (withdrawn if carried). */
  private dropOversized(b: Bucket, queue: KeyQueue, fi: 0 | 1): void {
    this.queues[fi].delete(b);
    if (this.lastQueue === queue) {
      this.lastBucket = undefined;
      this.lastQueue = undefined;
    }
    for (let i = queue.head; i < queue.keys.length; i++) {
      const key = queue.keys[i]!;
      if (this.pending.get(key) !== b) continue;
      this.pending.delete(key);
      this.store.release(b.set);
      this.oversized++;
      if (this.advertised.has(key)) {
        this.pending.set(key, null);
        this.withdrawals[fi].add(key);
      }
    }
  }

  /** The group is gone: release every reference. */
  clear(): void {
    for (const b of this.advertised.values()) this.store.release(b.set);
    for (const b of this.pending.values()) if (b) this.store.release(b.set);
    this.advertised.clear();
    this.pending.clear();
    for (const fi of [0, 1] as const) {
      this.queues[fi].clear();
      this.withdrawals[fi] = new KeyQueue();
      this.excludedCounts[fi].clear();
      this.excludedIndexes[fi] = undefined;
    }
    this.lastBucket = undefined;
    this.lastQueue = undefined;
  }
}
