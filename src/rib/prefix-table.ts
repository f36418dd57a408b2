// A map from prefix key to value, shaped for a million IPv4 prefixes
// (DESIGN.md, Memory and Event loop discipline). IPv4 keys (addr*64+len, up to
// 38 bits) would be boxed numbers in one big Map, and growing a Map past
// 2^19 entries rehashes it in one ~85 ms step. So IPv4 is sharded by the top
// 16 address bits: each shard is a Map keyed by the low 16 bits * 64 + len,
// which fits a small integer (no boxing), and a shard holds at most 64k /32s,
// so any rehash stays short. IPv6 keys are strings in one Map. The
// Adj-RIB-Out's ADD-PATH keys are strings too ("prefix#pathId"): an IPv6 one
// holds the prefix's '/', an IPv4 one does not and is kept in a Map of its
// own, so the per-family views (a late joiner's walk of one family, the
// per-family counts) see IPv4 paths sent with path IDs as IPv4. Small-integer
// keys also hash and compare about 3x faster than the boxed doubles a
// 38-bit key is as a plain Map key.

import type { Family, PrefixKey } from '../lib/prefix.js';

const SHARD = 4194304; // 2^22: one /16 worth of keys (2^16 addresses * 64)

export class PrefixTable<V> {
  private readonly v4 = new Map<number, Map<number, V>>();
  private readonly v6 = new Map<string, V>();
  /** String keys of IPv4 prefixes: the ADD-PATH keys "addr*64+len#pathId" (update-packer.ts outKey). */
  private readonly v4s = new Map<string, V>();
  private v4Count = 0;
  /**
   * The shard used last: consecutive keys (the prefixes of one UPDATE, a walk
   * in table order) nearly always share their /16, so most operations cost one
   * small-integer lookup instead of two.
   */
  private lastTop = -1;
  private lastShard: Map<number, V> | undefined;

  /** The Map a string key lives in: an IPv6 key (or IPv6 ADD-PATH key) has the prefix's '/'. */
  private strings(key: string): Map<string, V> {
    return key.includes('/') ? this.v6 : this.v4s;
  }

  private shard(top: number, create: boolean): Map<number, V> | undefined {
    if (top === this.lastTop) return this.lastShard;
    let shard = this.v4.get(top);
    if (!shard) {
      if (!create) return undefined;
      this.v4.set(top, (shard = new Map()));
    }
    this.lastTop = top;
    this.lastShard = shard;
    return shard;
  }

  get(key: PrefixKey): V | undefined {
    if (typeof key === 'string') return this.strings(key).get(key);
    const top = Math.floor(key / SHARD);
    return this.shard(top, false)?.get((key - top * SHARD) | 0);
  }

  has(key: PrefixKey): boolean {
    if (typeof key === 'string') return this.strings(key).has(key);
    const top = Math.floor(key / SHARD);
    return this.shard(top, false)?.has((key - top * SHARD) | 0) ?? false;
  }

  set(key: PrefixKey, value: V): void {
    if (typeof key === 'string') {
      this.strings(key).set(key, value);
      return;
    }
    const top = Math.floor(key / SHARD);
    const shard = this.shard(top, true)!;
    const before = shard.size;
    shard.set((key - top * SHARD) | 0, value);
    this.v4Count += shard.size - before;
  }

  delete(key: PrefixKey): boolean {
    if (typeof key === 'string') return this.strings(key).delete(key);
    const top = Math.floor(key / SHARD);
    const shard = this.shard(top, false);
    if (!shard || !shard.delete((key - top * SHARD) | 0)) return false;
    this.v4Count--;
    if (shard.size === 0) {
      this.v4.delete(top);
      this.lastTop = -1;
      this.lastShard = undefined;
    }
    return true;
  }

  /** Prefixes held, per family or both. */
  size(family?: Family): number {
    if (family === 'ipv4-unicast') return this.v4Count + this.v4s.size;
    if (family === 'ipv6-unicast') return this.v6.size;
    return this.v4Count + this.v4s.size + this.v6.size;
  }

  /** Values, IPv4 then IPv6; entries may be deleted while iterating. */
  *values(family?: Family): IterableIterator<V> {
    if (family !== 'ipv6-unicast') {
      for (const shard of this.v4.values()) yield* shard.values();
      yield* this.v4s.values();
    }
    if (family !== 'ipv4-unicast') yield* this.v6.values();
  }

  /** Keys, IPv4 then IPv6; entries may be deleted while iterating. */
  *keys(family?: Family): IterableIterator<PrefixKey> {
    if (family !== 'ipv6-unicast') {
      for (const [top, shard] of this.v4) for (const low of shard.keys()) yield top * SHARD + low;
      yield* this.v4s.keys();
    }
    if (family !== 'ipv4-unicast') yield* this.v6.keys();
  }

  /** [key, value] pairs, IPv4 then IPv6; entries may be deleted while iterating. */
  *entries(family?: Family): IterableIterator<[PrefixKey, V]> {
    if (family !== 'ipv6-unicast') {
      for (const [top, shard] of this.v4) for (const [low, v] of shard) yield [top * SHARD + low, v];
      yield* this.v4s.entries();
    }
    if (family !== 'ipv4-unicast') yield* this.v6.entries();
  }

  /** Forgets everything. */
  clear(): void {
    this.v4.clear();
    this.v6.clear();
    this.v4s.clear();
    this.v4Count = 0;
    this.lastTop = -1;
    this.lastShard = undefined;
  }
}
