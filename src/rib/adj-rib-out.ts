// Adj-RIB-Out, one per established session (RFC 4271 §3.2, §9.1.3, §9.2): what
// we last advertised to the peer per prefix, plus the changes not yet sent.
// Only the latest pending state of a prefix is kept (coalescing: announce A1,
// A2, then withdraw is a single withdraw when A was advertised, and nothing at
// all when it never was); an announcement equal to what the peer already has
// is dropped, and a withdraw goes out only for prefixes actually advertised.
// Pending announcements are grouped by their interned outgoing attribute set
// (BIRD's buckets), so thousands of prefixes sharing rewritten attributes pack
// into full UPDATEs under one encoded attribute block (update-packer.ts).
//
// The session shell pulls: takeBatch(n) yields at most n UPDATE buffers, so a
// slow peer's socket sets the pace and nothing here grows without bound except
// the per-prefix state itself. RFC 4724 §2 End-of-RIB follows the initial
// table once the facade says it has queued it.

import type { CodecContext, Family, PathAttributes, PrefixKey } from '../bgp/wire/types.js';
import { prefixFamily } from '../lib/prefix.js';
import type { AttrSet, AttrStore } from './attr-store.js';
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

function familyIndex(family: Family): 0 | 1 {
  return family === 'ipv4-unicast' ? 0 : 1;
}

/**
 * Keys waiting in one group (or one family's withdrawals), in arrival order.
 * Taking from the front goes through one live iterator kept across batches:
 * restarting a Set iteration after deleting its first entries would walk over
 * their holes every time, and pulling a big table a few messages at a time
 * would turn quadratic.
 */
class KeyQueue {
  private readonly keys = new Set<OutKey>();
  private iter: Iterator<OutKey> | undefined;
  /** A key handed to the packer that did not fit the batch: it goes first next time. */
  private peeked: OutKey | undefined;

  get size(): number {
    return this.keys.size + (this.peeked === undefined ? 0 : 1);
  }

  add(key: OutKey): void {
    this.keys.add(key);
  }

  delete(key: OutKey): void {
    if (this.peeked === key) this.peeked = undefined;
    else this.keys.delete(key);
  }

  /**
   * Offers the keys in order to `pack`, which returns how many it used; each
   * used key leaves the queue and is passed to `each`.
   */
  take(pack: (keys: Iterable<OutKey>) => number, each: (key: OutKey) => void): void {
    let yielded = 0;
    let last: OutKey | undefined;
    const next = (): IteratorResult<OutKey> => {
      // The packer asks for a key only after using the one before.
      if (last !== undefined) each(last);
      let key: OutKey;
      if (this.peeked !== undefined) {
        key = this.peeked;
        this.peeked = undefined;
      } else {
        this.iter ??= this.keys.values();
        const r = this.iter.next();
        if (r.done) {
          this.iter = undefined;
          last = undefined;
          return { done: true, value: undefined };
        }
        key = r.value;
        this.keys.delete(key);
      }
      yielded++;
      last = key;
      return { done: false, value: key };
    };
    const used = pack({ [Symbol.iterator]: () => ({ next }) });
    if (last === undefined) return;
    if (yielded > used) this.peeked = last; // pulled but not packed
    else each(last);
  }

  /** Every key, then empty. */
  drain(each: (key: OutKey) => void): void {
    if (this.peeked !== undefined) each(this.peeked);
    for (const key of this.keys) each(key);
    this.clear();
  }

  clear(): void {
    this.keys.clear();
    this.iter = undefined;
    this.peeked = undefined;
  }
}

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
  private readonly advertised = new Map<OutKey, AttrSet>();
  /** Unsent state: key → attribute set to announce (one reference each), or null to withdraw. */
  private readonly pending = new Map<OutKey, AttrSet | null>();
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
    if (this.pending.get(key) === set) {
      this.store.release(set); // already queued with these attributes (a resend included)
      return;
    }
    if (this.advertised.get(key) === set) {
      // The peer already has exactly this: cancel whatever was pending instead.
      this.cancelPending(key, fi);
      this.store.release(set);
      return;
    }
    this.cancelPending(key, fi);
    this.pending.set(key, set);
    const groups = this.groups[fi];
    let group = groups.get(set);
    if (!group) groups.set(set, (group = new KeyQueue()));
    group.add(key);
  }

  /** Queues a withdraw of `prefix`; a no-op unless the peer holds it (RFC 4271 §9.1.3). */
  withdraw(prefix: PrefixKey, pathId = 0): void {
    const key = outKey(prefix, pathId);
    const fi = familyIndex(prefixFamily(prefix));
    this.cancelPending(key, fi);
    if (!this.advertised.has(key)) return;
    this.pending.set(key, null);
    this.withdrawals[fi].add(key);
  }

  /** Drops the pending state of `key`, releasing its reference. */
  private cancelPending(key: OutKey, fi: 0 | 1): void {
    const before = this.pending.get(key);
    if (before === undefined) return;
    this.pending.delete(key);
    if (before === null) {
      this.withdrawals[fi].delete(key);
      return;
    }
    const groups = this.groups[fi];
    const group = groups.get(before)!;
    group.delete(key);
    if (group.size === 0) groups.delete(before);
    this.store.release(before);
  }

  /** True when takeBatch would return at least one message. */
  hasPending(): boolean {
    if (this.pending.size > 0) return true;
    return this.families.some((f) => this.eor[familyIndex(f)] === 'armed');
  }

  /** Prefixes with an unsent change. */
  pendingCount(): number {
    return this.pending.size;
  }

  /** Prefixes (paths) the peer holds from us. */
  advertisedCount(): number {
    return this.advertised.size;
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
      advertised: this.advertised.size,
      pending: this.pending.size,
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
      if (queue.size === 0) continue;
      queue.take(
        (keys) => packWithdrawals(FAMILIES[fi]!, keys, this.ctx, maxMessages - out.length, out),
        (key) => {
          this.pending.delete(key);
          const had = this.advertised.get(key);
          if (had) {
            this.advertised.delete(key);
            this.store.release(had);
          }
        },
      );
    }
    for (let fi = 0 as 0 | 1; fi <= 1 && out.length < maxMessages; fi++) {
      const family = FAMILIES[fi]!;
      const groups = this.groups[fi];
      for (const [set, keys] of groups) {
        if (out.length >= maxMessages) break;
        const block = this.block(set, fi);
        if (block.nlriBudget < longestPrefixWire(family, block.addPath)) {
          this.dropOversized(set, keys, fi);
          continue;
        }
        keys.take(
          (iterable) => packAnnouncements(block, iterable, maxMessages - out.length, out),
          (key) => {
            this.pending.delete(key);
            const had = this.advertised.get(key);
            if (had) this.store.release(had);
            this.advertised.set(key, set); // the pending reference moves here
          },
        );
        if (keys.size === 0) groups.delete(set);
      }
    }
    for (const family of this.families) {
      const fi = familyIndex(family);
      if (out.length >= maxMessages) break;
      if (this.eor[fi] !== 'armed' || this.withdrawals[fi].size > 0 || this.groups[fi].size > 0) continue;
      out.push(encodeEndOfRib(family, this.ctx)); // RFC 4724 §2
      this.eor[fi] = 'sent';
    }
    return out;
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
  private dropOversized(set: AttrSet, keys: KeyQueue, fi: 0 | 1): void {
    this.groups[fi].delete(set);
    keys.drain((key) => {
      this.pending.delete(key);
      this.store.release(set);
      this.oversized++;
      if (this.advertised.has(key)) {
        this.pending.set(key, null);
        this.withdrawals[fi].add(key);
      }
    });
  }

  /**
   * Route refresh from the peer (RFC 2918 §4) or soft reset out: queue every
   * advertised prefix again. Prefixes with a newer pending change keep it.
   */
  markAllForResend(): void {
    for (const [key, set] of this.advertised) {
      if (this.pending.has(key)) continue;
      const fi = familyIndex(outKeyFamily(key));
      this.store.retain(set);
      this.pending.set(key, set);
      const groups = this.groups[fi];
      let group = groups.get(set);
      if (!group) groups.set(set, (group = new KeyQueue()));
      group.add(key);
    }
  }

  /** Session down: forget everything, releasing every reference; End-of-RIB is owed again. */
  clear(): void {
    for (const set of this.advertised.values()) this.store.release(set);
    for (const set of this.pending.values()) if (set) this.store.release(set);
    this.advertised.clear();
    this.pending.clear();
    for (const fi of [0, 1] as const) {
      this.groups[fi].clear();
      this.withdrawals[fi].clear();
      this.eor[fi] = 'waiting';
    }
  }
}
