// Adj-RIB-Out, one per established session (RFC 4271 §3.2, §9.1.3, §9.2): what
// we last advertised to the peer per prefix, plus the changes not yet sent.
// Only the latest pending state of a prefix is kept (coalescing: announce A1,
// A2, then withdraw is a single withdraw when A was advertised, and nothing at
// all when it never was); an announcement equal to what the peer already has
// is dropped, and a withdraw goes out only for prefixes actually advertised.
// Pending announcements are grouped by their interned outgoing attribute set
// (BIRD's buckets), so thousands of prefixes sharing rewritten attributes pack
// into full UPDATEs under one encoded attribute block (update-packer.ts).
// Per-prefix state lives in PrefixTables (small-integer keys, no long
// rehash) and the groups are plain arrays with lazy removal: at a million
// prefixes every hash operation per prefix shows in the reflection time.
//
// The session shell pulls: takeBatch(n) yields at most n UPDATE buffers, so a
// slow peer's socket sets the pace and nothing here grows without bound except
// the per-prefix state itself. RFC 4724 §2 End-of-RIB follows the initial
// table once the facade says it has queued it.

import type { CodecContext, Family, PathAttributes, PrefixKey } from '../bgp/wire/types.js';
import { prefixFamily } from '../lib/prefix.js';
import type { AttrSet, AttrStore } from './attr-store.js';
import { PrefixTable } from './prefix-table.js';
import {
  encodeAttributeBlock,
  encodeEndOfRib,
  longestPrefixWire,
  outKey,
  outKeyFamily,
  packAnnouncements,
  packWithdrawals,
  type AttributeBlock,
  type OutKey,
} from './update-packer.js';

const FAMILIES: readonly Family[] = ['ipv4-unicast', 'ipv6-unicast'];
/** Keys offered to the packer per step (a few messages' worth of /26s). */
const TAKE_STEP = 4096;

function familyIndex(family: Family): 0 | 1 {
  return family === 'ipv4-unicast' ? 0 : 1;
}

/**
 * Keys waiting in one group (or one family's withdrawals), in arrival order,
 * as a plain array walked from `head` (IPv4 keys stay unboxed doubles in it).
 * Removal is lazy: a key whose pending state moved on stays in the array and
 * is skipped when its turn comes, because the owner checks each key against
 * its pending table. `live` counts the keys whose pending state is this
 * queue's, so the owner knows when the queue is done. A cancelled key that
 * is queued again sits in the array twice; `cancelled` makes walks dedupe.
 */
class KeyQueue {
  keys: OutKey[] = [];
  head = 0;
  live = 0;
  /** A key left by cancel may come back, so the array may hold a key twice: walks dedupe. */
  cancelled = false;

  add(key: OutKey): void {
    this.keys.push(key);
    this.live++;
  }

  /** Drops the walked part once it is most of the array (amortised O(1) per key). */
  compact(): void {
    if (this.head > 1024 && this.head * 2 > this.keys.length) {
      this.keys = this.keys.slice(this.head);
      this.head = 0;
    }
  }
}

/** Scratch arrays for one takeBatch step: the keys offered to the packer and where each sat in its queue. */
const scratchKeys: OutKey[] = [];
const scratchPos: number[] = [];

export interface AdjRibOutStats {
  /** Prefixes (paths) the peer currently holds from us. */
  readonly advertised: number;
  /** Prefixes with an unsent change. */
  readonly pending: number;
  /** Distinct outgoing attribute sets waiting to be sent. */
  readonly groups: number;
  /** Prefixes dropped because their attributes leave no room for NLRI in one UPDATE. */
  readonly oversized: number;
}

export class AdjRibOut {
  /** What the peer holds: key → the attribute set last sent (one store reference each). */
  private readonly advertised = new PrefixTable<AttrSet>();
  /** Unsent state: key → attribute set to announce (one reference each), or null to withdraw. */
  private readonly pending = new PrefixTable<AttrSet | null>();
  /** The group announceSet used last (consecutive prefixes nearly always share their set). */
  private lastSet: AttrSet | undefined;
  private lastGroup: KeyQueue | undefined;
  /** Per family: pending announcements grouped by attribute set. */
  private readonly groups: [Map<AttrSet, KeyQueue>, Map<AttrSet, KeyQueue>] = [new Map(), new Map()];
  /** Per family: pending withdrawals. */
  private readonly withdrawals: [KeyQueue, KeyQueue] = [new KeyQueue(), new KeyQueue()];
  /** Encoded attribute blocks, per family, for the session's codec context. */
  private readonly blocks: [WeakMap<AttrSet, AttributeBlock>, WeakMap<AttrSet, AttributeBlock>] = [new WeakMap(), new WeakMap()];
  /** End-of-RIB: 'armed' once the initial table is queued, 'sent' after. */
  private readonly eor: ('waiting' | 'armed' | 'sent')[] = ['waiting', 'waiting'];
  private oversized = 0;

  /**
   * @param store interns outgoing attribute sets (may be shared by all peers' Adj-RIB-Outs)
   * @param ctx the session's negotiated codec context (4-octet AS, ADD-PATH send, extended messages)
   * @param families the families negotiated on the session; End-of-RIB is sent for each
   */
  constructor(
    private readonly store: AttrStore,
    private readonly ctx: CodecContext,
    private readonly families: readonly Family[] = FAMILIES,
  ) {}

  /** Queues an announcement of `prefix` with outgoing attributes (interned here). */
  announce(prefix: PrefixKey, attrs: PathAttributes, pathId = 0): void {
    this.announceSet(prefix, this.store.intern(attrs), pathId);
  }

  /**
   * Queues an announcement with an attribute set already interned in this
   * Adj-RIB-Out's store; the caller's reference passes to the Adj-RIB-Out.
   */
  announceSet(prefix: PrefixKey, set: AttrSet, pathId = 0): void {
    const key = outKey(prefix, pathId);
    const fi = familyIndex(prefixFamily(prefix));
    const before = this.pending.get(key);
    if (before === set) {
      this.store.release(set); // already queued with these attributes (a resend included)
      return;
    }
    if (this.advertised.get(key) === set) {
      // The peer already has exactly this: cancel whatever was pending instead.
      if (before !== undefined) this.cancelPending(key, fi, before);
      this.store.release(set);
      return;
    }
    if (before !== undefined) this.cancelPending(key, fi, before);
    this.pending.set(key, set);
    let group = this.lastSet === set ? this.lastGroup : undefined;
    if (!group || group.live === 0) {
      const groups = this.groups[fi];
      group = groups.get(set);
      if (!group) groups.set(set, (group = new KeyQueue()));
      this.lastSet = set;
      this.lastGroup = group;
    }
    group.add(key);
  }

  /** Queues a withdraw of `prefix`; a no-op unless the peer holds it (RFC 4271 §9.1.3). */
  withdraw(prefix: PrefixKey, pathId = 0): void {
    const key = outKey(prefix, pathId);
    const fi = familyIndex(prefixFamily(prefix));
    const before = this.pending.get(key);
    if (before !== undefined) this.cancelPending(key, fi, before);
    if (!this.advertised.has(key)) return;
    this.pending.set(key, null);
    this.withdrawals[fi].add(key);
  }

  /** Drops the pending state `before` of `key`, releasing its reference (its queue entry is skipped later). */
  private cancelPending(key: OutKey, fi: 0 | 1, before: AttrSet | null): void {
    this.pending.delete(key);
    if (before === null) {
      this.withdrawals[fi].live--;
      this.withdrawals[fi].cancelled = true;
      return;
    }
    this.groupDone(fi, before, -1);
    this.store.release(before);
  }

  /** `delta` keys left the group of `set`; a group with none left is forgotten. */
  private groupDone(fi: 0 | 1, set: AttrSet, delta: number): void {
    const groups = this.groups[fi];
    const group = groups.get(set)!;
    group.live += delta;
    if (delta < 0) group.cancelled = true;
    if (group.live > 0) return;
    groups.delete(set);
    if (this.lastGroup === group) {
      this.lastSet = undefined;
      this.lastGroup = undefined;
    }
  }

  /** True when takeBatch would return at least one message. */
  hasPending(): boolean {
    if (this.pending.size() > 0) return true;
    return this.families.some((f) => this.eor[familyIndex(f)] === 'armed');
  }

  /** Prefixes with an unsent change. */
  pendingCount(): number {
    return this.pending.size();
  }

  /** Prefixes (paths) the peer holds from us. */
  advertisedCount(): number {
    return this.advertised.size();
  }

  /** The attribute set last sent for a prefix, if the peer holds it. */
  advertisedAttrs(prefix: PrefixKey, pathId = 0): AttrSet | undefined {
    return this.advertised.get(outKey(prefix, pathId));
  }

  /** Every key the peer holds from us (for soft-out: withdraw what policy no longer exports). */
  advertisedKeys(): IterableIterator<OutKey> {
    return this.advertised.keys();
  }

  stats(): AdjRibOutStats {
    return {
      advertised: this.advertised.size(),
      pending: this.pending.size(),
      groups: this.groups[0].size + this.groups[1].size,
      oversized: this.oversized,
    };
  }

  /**
   * The facade has queued the whole initial table of `family` (or all families):
   * End-of-RIB goes out once that family's pending changes have been taken.
   */
  initialTableQueued(family?: Family): void {
    for (const f of family ? [family] : this.families) {
      const i = familyIndex(f);
      if (this.eor[i] === 'waiting') this.eor[i] = 'armed';
    }
  }

  /** RFC 4724 §2: End-of-RIB for `family` has not been sent yet on this session. */
  needsEndOfRib(family: Family): boolean {
    return this.families.includes(family) && this.eor[familyIndex(family)] !== 'sent';
  }

  /**
   * Up to `maxMessages` UPDATE messages, whole and ready for the socket:
   * withdrawals first, then announcements group by group, then End-of-RIB
   * for families whose initial table has gone out. What is returned counts as
   * sent: the advertised state is updated at once.
   */
  takeBatch(maxMessages: number): Buffer[] {
    const out: Buffer[] = [];
    for (let fi = 0 as 0 | 1; fi <= 1 && out.length < maxMessages; fi++) {
      const queue = this.withdrawals[fi];
      if (queue.live === 0) continue;
      this.takeFrom(queue, null, (keys) => packWithdrawals(FAMILIES[fi]!, keys, this.ctx, maxMessages - out.length, out), (key) => {
        const had = this.advertised.get(key);
        if (had) {
          this.advertised.delete(key);
          this.store.release(had);
        }
      });
      if (queue.live === 0) this.withdrawals[fi] = new KeyQueue();
    }
    for (let fi = 0 as 0 | 1; fi <= 1 && out.length < maxMessages; fi++) {
      const family = FAMILIES[fi]!;
      const groups = this.groups[fi];
      for (const [set, queue] of groups) {
        if (out.length >= maxMessages) break;
        const block = this.block(set, fi);
        if (block.nlriBudget < longestPrefixWire(family, block.addPath)) {
          this.dropOversized(set, queue, fi);
          continue;
        }
        const before = queue.live;
        this.takeFrom(queue, set, (keys) => packAnnouncements(block, keys, maxMessages - out.length, out), (key) => {
          const had = this.advertised.get(key);
          if (had) this.store.release(had);
          this.advertised.set(key, set); // the pending reference moves here
        });
        if (queue.live < before) this.groupDone(fi, set, 0);
      }
    }
    for (const family of this.families) {
      const fi = familyIndex(family);
      if (out.length >= maxMessages) break;
      if (this.eor[fi] !== 'armed' || this.withdrawals[fi].live > 0 || this.groups[fi].size > 0) continue;
      out.push(encodeEndOfRib(family, this.ctx)); // RFC 4724 §2
      this.eor[fi] = 'sent';
    }
    return out;
  }

  /**
   * Offers the queue's keys still pending as `state` to `pack` (which returns
   * how many it used, from the start), in steps of at most a few thousand;
   * each used key leaves the pending table and goes to `sent`. Stops when the
   * packer used fewer than offered (its message budget is spent).
   */
  private takeFrom(queue: KeyQueue, state: AttrSet | null, pack: (keys: OutKey[]) => number, sent: (key: OutKey) => void): void {
    const keys = queue.keys;
    const pending = this.pending;
    while (queue.live > 0) {
      scratchKeys.length = 0;
      scratchPos.length = 0;
      const seen = queue.cancelled ? new Set<OutKey>() : undefined;
      let i = queue.head;
      for (; i < keys.length && scratchKeys.length < TAKE_STEP; i++) {
        const key = keys[i]!;
        if (pending.get(key) !== state) continue; // moved on since it was queued
        if (seen) {
          if (seen.has(key)) continue; // queued again after a cancel: once is enough
          seen.add(key);
        }
        scratchKeys.push(key);
        scratchPos.push(i);
      }
      if (scratchKeys.length === 0) {
        queue.head = i;
        break;
      }
      const used = pack(scratchKeys);
      for (let k = 0; k < used; k++) {
        const key = scratchKeys[k]!;
        pending.delete(key);
        sent(key);
      }
      queue.live -= used;
      queue.head = used < scratchKeys.length ? scratchPos[used]! : i;
      if (used < scratchKeys.length) break;
    }
    scratchKeys.length = 0;
    scratchPos.length = 0;
    queue.compact();
  }

  private block(set: AttrSet, fi: 0 | 1): AttributeBlock {
    const cache = this.blocks[fi];
    let block = cache.get(set);
    if (!block) cache.set(set, (block = encodeAttributeBlock(set.attrs, FAMILIES[fi]!, this.ctx)));
    return block;
  }

  /**
   * Attributes too large for any UPDATE (RFC 4271 §9.2: a route that cannot be
   * sent is not advertised): the prefixes are withdrawn if the peer held them.
   */
  private dropOversized(set: AttrSet, queue: KeyQueue, fi: 0 | 1): void {
    this.groups[fi].delete(set);
    if (this.lastGroup === queue) {
      this.lastSet = undefined;
      this.lastGroup = undefined;
    }
    for (let i = queue.head; i < queue.keys.length; i++) {
      const key = queue.keys[i]!;
      if (this.pending.get(key) !== set) continue;
      this.pending.delete(key);
      this.store.release(set);
      this.oversized++;
      if (this.advertised.has(key)) {
        this.pending.set(key, null);
        this.withdrawals[fi].add(key);
      }
    }
  }

  /**
   * Route refresh from the peer (RFC 2918 §4) or soft reset out: queue every
   * advertised prefix again. Prefixes with a newer pending change keep it.
   */
  markAllForResend(): void {
    for (const [key, set] of this.advertised.entries()) {
      if (this.pending.has(key)) continue;
      const fi = familyIndex(outKeyFamily(key));
      this.store.retain(set);
      this.pending.set(key, set);
      const groups = this.groups[fi];
      let group = groups.get(set);
      if (!group) groups.set(set, (group = new KeyQueue()));
      group.add(key);
    }
    this.lastSet = undefined;
    this.lastGroup = undefined;
  }

  /** Session down: forget everything, releasing every reference; End-of-RIB is owed again. */
  clear(): void {
    for (const set of this.advertised.values()) this.store.release(set);
    for (const set of this.pending.values()) if (set) this.store.release(set);
    this.advertised.clear();
    this.pending.clear();
    for (const fi of [0, 1] as const) {
      this.groups[fi].clear();
      this.withdrawals[fi] = new KeyQueue();
      this.eor[fi] = 'waiting';
    }
    this.lastSet = undefined;
    this.lastGroup = undefined;
  }
}
