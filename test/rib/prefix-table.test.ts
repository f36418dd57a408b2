// PrefixTable: IPv4 keys sharded by /16 round-trip exactly, IPv6 strings too.
import { describe, expect, it } from 'vitest';
import { v4KeyParse, v6KeyParse, type PrefixKey } from '../../src/lib/prefix.js';
import { PrefixTable } from '../../src/rib/prefix-table.js';

const keys: PrefixKey[] = [
  v4KeyParse('0.0.0.0/0')!,
  v4KeyParse('10.0.0.0/8')!,
  v4KeyParse('10.244.1.0/26')!,
  v4KeyParse('10.244.1.0/24')!, // same address, other length
  v4KeyParse('10.244.255.192/26')!, // same /16 shard
  v4KeyParse('255.255.255.255/32')!,
  v6KeyParse('2001:db8::/32')!,
  v6KeyParse('::/0')!,
];

describe('PrefixTable', () => {
  it('stores, finds, counts and iterates every key exactly', () => {
    const t = new PrefixTable<string>();
    keys.forEach((k, i) => t.set(k, `v${i}`));
    keys.forEach((k, i) => expect(t.get(k)).toBe(`v${i}`));
    expect(t.size()).toBe(8);
    expect(t.size('ipv4-unicast')).toBe(6);
    expect(t.size('ipv6-unicast')).toBe(2);
    expect(new Set([...t.entries()].map(([k]) => k))).toEqual(new Set(keys));
    expect([...t.values('ipv6-unicast')]).toEqual(['v6', 'v7']);
    t.set(keys[2]!, 'again');
    expect(t.size()).toBe(8);
    expect(t.get(v4KeyParse('10.244.1.64/26')!)).toBeUndefined();
  });

  it('deletes, also while iterating, and forgets empty shards', () => {
    const t = new PrefixTable<number>();
    keys.forEach((k, i) => t.set(k, i));
    for (const [k, v] of t.entries()) if (v % 2 === 0) t.delete(k);
    expect([...t.values()].sort()).toEqual([1, 3, 5, 7]);
    expect(t.delete(keys[0]!)).toBe(false);
    for (const k of keys) t.delete(k);
    expect(t.size()).toBe(0);
    expect([...t.entries()]).toEqual([]);
  });
});
