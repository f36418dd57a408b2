// Adj-RIB-In: updates, implicit and explicit withdrawals, ADD-PATH, refcounts,
// RFC 4724 stale marking and batched sweep, peer-down drain.
import { describe, expect, it } from 'vitest';
import { v4KeyParse, v6KeyParse } from '../../src/lib/prefix.js';
import { AttrStore } from '../../src/rib/attr-store.js';
import { AdjRibIn } from '../../src/rib/adj-rib-in.js';
import { attrs, peer } from './fixtures.js';

const k = (t: string) => v4KeyParse(t)!;
const A = k('10.244.1.0/26');
const B = k('10.244.1.64/26');
const C = k('10.244.1.128/26');
const V6 = v6KeyParse('2001:db8:1::/64')!;

function setup() {
  const store = new AttrStore();
  const rib = new AdjRibIn(peer('192.0.2.10'), store);
  return { store, rib };
}

describe('AdjRibIn', () => {
  it('holds one route per prefix, all sharing one Path, each with a reference on the set', () => {
    const { store, rib } = setup();
    const set = store.intern(attrs());
    const added = rib.update([A, B, C], set);
    store.release(set); // the caller's own reference
    expect(added.prefixes).toEqual([A, B, C]);
    expect(new Set(added.paths).size).toBe(1);
    expect(added.paths[0]!.attrs).toBe(set);
    expect(added.paths[0]!.peer).toBe(rib.peer);
    expect(set.refs).toBe(3);
    expect(rib.get(B)).toBe(added.paths[0]);
    expect(rib.size()).toBe(3);
    expect(rib.size('ipv4-unicast')).toBe(3);
    expect(rib.size('ipv6-unicast')).toBe(0);
  });

  it('an identical re-advertisement changes nothing; new attributes replace and release the old set', () => {
    const { store, rib } = setup();
    const s1 = store.intern(attrs());
    rib.update([A, B], s1);
    store.release(s1);
    const first = rib.get(A)!;
    const same = store.intern(attrs());
    expect(rib.update([A], same).prefixes).toEqual([]);
    store.release(same);
    expect(rib.get(A)).toBe(first);
    const s2 = store.intern(attrs({ med: 5 }));
    const changed = rib.update([A, B], s2);
    store.release(s2);
    expect(changed.prefixes).toEqual([A, B]);
    expect(store.has(s1)).toBe(false);
    expect(s2.refs).toBe(2);
    expect(rib.size()).toBe(2);
  });

  it('withdraw removes and releases; unknown prefixes are ignored', () => {
    const { store, rib } = setup();
    const s = store.intern(attrs());
    rib.update([A, B, V6], s);
    store.release(s);
    expect(rib.size('ipv6-unicast')).toBe(1);
    const gone = rib.withdraw([A, C, V6]);
    expect(gone.prefixes).toEqual([A, V6]);
    expect(s.refs).toBe(1);
    expect(rib.get(A)).toBeUndefined();
    expect(rib.size()).toBe(1);
    rib.withdraw([B]);
    expect(store.size()).toBe(0);
  });

  it('keeps several paths per prefix with ADD-PATH, keyed by path identifier', () => {
    const { store, rib } = setup();
    const s1 = store.intern(attrs({ nextHop: '10.0.0.1' }));
    const s2 = store.intern(attrs({ nextHop: '10.0.0.2' }));
    rib.update([A, A], s1, [1, 2]);
    rib.update([A], s2, [2]);
    expect(rib.paths(A).map((r) => [r.pathId, r.attrs.nextHopV4])).toEqual([
      [1, '10.0.0.1'],
      [2, '10.0.0.2'],
    ]);
    expect(rib.size()).toBe(2);
    expect(rib.withdraw([A], [1]).paths.map((r) => r.pathId)).toEqual([1]);
    expect(rib.paths(A).map((r) => r.pathId)).toEqual([2]);
    expect(rib.withdraw([A], [1]).prefixes).toEqual([]);
    expect(rib.get(A, 2)!.attrs).toBe(s2);
  });

  it('graceful restart: marks all stale, re-advertised routes are fresh, the sweep removes the rest in batches', () => {
    const { store, rib } = setup();
    const s = store.intern(attrs());
    const prefixes = Array.from({ length: 10 }, (_, i) => k(`10.244.${i}.0/26`));
    rib.update(prefixes, s);
    rib.markAllStale();
    expect(rib.staleCount()).toBe(10);
    expect(rib.size()).toBe(10);
    expect(rib.isStale(prefixes[0]!)).toBe(true);
    // The restarted peer re-advertises 3 unchanged and 1 changed route.
    expect(rib.update(prefixes.slice(0, 3), s).prefixes).toEqual([]);
    expect(rib.isStale(prefixes[0]!)).toBe(false);
    const s2 = store.intern(attrs({ med: 1 }));
    expect(rib.update([prefixes[3]!], s2).prefixes).toEqual([prefixes[3]]);
    store.release(s2);
    store.release(s);
    expect(rib.staleCount()).toBe(6);
    expect(rib.size()).toBe(10);
    const swept = [...rib.sweepStale(4).prefixes, ...rib.sweepStale(4).prefixes];
    expect(rib.sweepStale(4).prefixes).toEqual([]);
    expect(swept.sort()).toEqual(prefixes.slice(4).sort());
    expect(rib.size()).toBe(4);
    expect(rib.staleCount()).toBe(0);
    expect(s.refs).toBe(3);
    expect(s2.refs).toBe(1);
    // A second restart marks the survivors stale again.
    rib.markAllStale();
    expect(rib.staleCount()).toBe(4);
  });

  it('a restart during a restart keeps both generations stale', () => {
    const { store, rib } = setup();
    const s = store.intern(attrs());
    rib.update([A, B], s);
    rib.markAllStale();
    rib.update([A], s);
    rib.update([C], s);
    rib.markAllStale();
    expect(rib.staleCount()).toBe(3);
    rib.update([B], s);
    expect(rib.sweepStale().prefixes.sort()).toEqual([A, C].sort());
    expect([...rib.routes()].map(([p]) => p)).toEqual([B]);
  });

  it('withdrawing a stale route removes it', () => {
    const { store, rib } = setup();
    const s = store.intern(attrs());
    rib.update([A, B], s);
    rib.markAllStale();
    expect(rib.withdraw([A]).prefixes).toEqual([A]);
    expect(rib.staleCount()).toBe(1);
    expect(rib.size()).toBe(1);
  });

  it('drain empties the table in bounded slices and frees every set', () => {
    const { store, rib } = setup();
    const s1 = store.intern(attrs());
    const s2 = store.intern(attrs({ med: 9 }));
    rib.update([A, B], s1);
    rib.markAllStale();
    rib.update([C, V6], s2);
    store.release(s1);
    store.release(s2);
    const slices = [rib.drain(3), rib.drain(3)];
    expect(slices.map((x) => x.prefixes.length)).toEqual([3, 1]);
    expect(slices.flatMap((x) => x.prefixes).sort()).toEqual([A, B, C, V6].sort());
    expect(rib.size()).toBe(0);
    expect(rib.staleCount()).toBe(0);
    expect(store.size()).toBe(0);
  });
});
