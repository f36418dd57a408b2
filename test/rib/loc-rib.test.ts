// Loc-RIB: per-prefix candidates, incremental best/multipath change reports,
// refcounts, re-decision after the context changes.
import { describe, expect, it } from 'vitest';
import { AttrStore } from '../../src/rib/attr-store.js';
import { LocRib } from '../../src/rib/loc-rib.js';
import { Path } from '../../src/rib/route.js';
import { LOCAL_AS, P, attrs, ctx, peer, permutations, seq } from './fixtures.js';

const a = peer('192.0.2.1', { asn: 65001 });
const b = peer('192.0.2.2', { asn: 65002 });
const c = peer('192.0.2.3', { asn: LOCAL_AS });

function setup(maxPaths = 1) {
  const store = new AttrStore();
  const rib = new LocRib(ctx({ maxPaths }), store);
  const mk = (p = a, over = {}, pathId = 0) => {
    const set = store.intern(attrs({ asPath: seq(p.asn === LOCAL_AS ? 65009 : p.asn), ...over }));
    const r = new Path(p, set, pathId);
    store.release(set); // the Loc-RIB takes its own reference
    return r;
  };
  return { store, rib, mk };
}

describe('LocRib', () => {
  it('reports best changes and no-ops per update and withdraw', () => {
    const { rib, mk } = setup();
    const ra = mk(a, { med: 0 });
    expect(rib.update(P, ra)).toBe('best');
    expect(rib.best(P)).toBe(ra);
    expect(rib.reason(P)).toBe('only-path');
    // A worse path (longer AS_PATH) does not change the best.
    const rb = mk(b, { asPath: seq(65002, 1) });
    expect(rib.update(P, rb)).toBe('none');
    expect(rib.best(P)).toBe(ra);
    expect(rib.reason(P)).toBe('as-path-length');
    // Replacing a's path with a worse one moves the best to b.
    const ra2 = mk(a, { asPath: seq(65001, 1, 2) });
    expect(rib.update(P, ra2)).toBe('best');
    expect(rib.best(P)).toBe(rb);
    expect(rib.candidates(P)).toHaveLength(2);
    expect(rib.pathCount()).toBe(2);
    expect(rib.withdraw(P, a)).toBe('none');
    expect(rib.withdraw(P, a)).toBe('none');
    expect(rib.withdraw(P, b)).toBe('best');
    expect(rib.best(P)).toBeUndefined();
    expect(rib.prefixCount()).toBe(0);
    expect(rib.pathCount()).toBe(0);
  });

  it('the best is the same whatever order candidates arrive and leave in', () => {
    const routes = (mk: ReturnType<typeof setup>['mk']) => [mk(a, { med: 5 }), mk(b, { origin: 1 }), mk(c, { localPref: 90 })];
    const bests = new Set<string>();
    for (const order of permutations([0, 1, 2])) {
      const { rib, mk } = setup();
      const rs = routes(mk);
      for (const i of order) rib.update(P, rs[i]!);
      bests.add(rib.best(P)!.peer.address);
      rib.withdraw(P, rs[order[0]!]!.peer);
      rib.withdraw(P, rs[order[1]!]!.peer);
      expect(rib.best(P)).toBe(rs[order[2]!]);
    }
    expect([...bests]).toEqual(['192.0.2.1']);
  });

  it('reports a multipath-only change when an equal path joins or leaves', () => {
    const { rib, mk } = setup(4);
    const ra = mk(a);
    const rb = mk(b);
    rib.update(P, ra);
    expect(rib.update(P, rb)).toBe('multipath');
    expect(rib.multipath(P)).toEqual([ra, rb]);
    expect(rib.withdraw(P, b)).toBe('multipath');
    expect(rib.multipath(P)).toEqual([ra]);
  });

  it('keeps an ineligible lone candidate without a best', () => {
    const { rib, mk } = setup();
    const looped = mk(a, { asPath: seq(65001, LOCAL_AS) });
    expect(rib.update(P, looped)).toBe('none');
    expect(rib.best(P)).toBeUndefined();
    expect(rib.candidates(P)).toEqual([looped]);
    expect(rib.explain(P)[0]).toMatchObject({ status: 'ineligible', ineligible: 'as-loop' });
    expect(rib.decision(P).reason).toBe('no-eligible-path');
  });

  it('redecide applies a changed context (next hop became unreachable)', () => {
    const { rib, mk } = setup();
    const ra = mk(a, { nextHop: '10.0.0.1' });
    const rb = mk(b, { nextHop: '10.0.0.2', med: 50, asPath: seq(65002, 7) });
    rib.update(P, ra);
    rib.update(P, rb);
    expect(rib.best(P)).toBe(ra);
    expect(rib.redecide(P)).toBe('none');
    rib.ctx = { ...rib.ctx, nextHopReachable: (r) => r.attrs.nextHopV4 !== '10.0.0.1' };
    expect(rib.redecide(P)).toBe('best');
    expect(rib.best(P)).toBe(rb);
  });

  it('keeps the next hop -> prefixes index through every kind of update and withdraw', () => {
    const { rib, mk } = setup();
    const Q = P + 64 * 64; // another /26
    rib.update(P, mk(a, { nextHop: '10.0.0.1' })); // held before the index: indexNextHops reads it
    rib.indexNextHops();
    const via = (nh: string) => [...(rib.prefixesVia(nh) ?? [])].sort((x, y) => Number(x) - Number(y));
    expect(via('10.0.0.1')).toEqual([P]);
    rib.update(P, mk(b, { nextHop: '10.0.0.1' })); // second candidate, same next hop
    rib.update(Q, mk(b, { nextHop: '10.0.0.2' }));
    expect(via('10.0.0.1')).toEqual([P]);
    expect(via('10.0.0.2')).toEqual([Q]);
    rib.update(P, mk(a, { nextHop: '10.0.0.2' })); // a's candidate replaced: b still uses 10.0.0.1
    expect(via('10.0.0.1')).toEqual([P]);
    expect(via('10.0.0.2')).toEqual([P, Q]);
    rib.withdraw(P, b); // the last user of 10.0.0.1 at P
    expect(rib.prefixesVia('10.0.0.1')).toBeUndefined();
    rib.update(Q, mk(b, { nextHop: '10.0.0.3' })); // a lone candidate replaced
    expect(via('10.0.0.2')).toEqual([P]);
    expect(via('10.0.0.3')).toEqual([Q]);
    rib.withdraw(Q, b);
    rib.withdraw(P, a);
    expect(rib.indexedNextHops()).toBe(0);
  });

  it('the next hop index lists each prefix once through withdraw and re-announce churn', () => {
    const { rib, mk } = setup();
    rib.indexNextHops();
    const r = mk(a, { nextHop: '10.0.0.1' });
    const Q = P + 64 * 64;
    rib.update(Q, mk(b, { nextHop: '10.0.0.1' }));
    for (let i = 0; i < 500; i++) {
      rib.update(P, r);
      rib.withdraw(P, a);
    }
    rib.update(P, r);
    rib.update(P, r); // the same path again: no new entry
    expect([...rib.prefixesVia('10.0.0.1')!].sort((x, y) => Number(x) - Number(y))).toEqual([P, Q]);
  });

  it('holds one reference per candidate and frees sets as candidates go', () => {
    const { store, rib, mk } = setup();
    const ra = mk(a);
    const rb = mk(b);
    rib.update(P, ra);
    rib.update(P, rb);
    expect(ra.attrs.refs).toBe(1);
    const ra2 = mk(a, { med: 3 });
    rib.update(P, ra2);
    expect(store.has(ra.attrs)).toBe(false);
    rib.withdraw(P, a);
    rib.withdraw(P, b);
    expect(store.size()).toBe(0);
  });

  it('lists best routes per family', () => {
    const { rib, mk } = setup();
    rib.update(P, mk(a));
    // An IPv6 prefix needs an IPv6 next hop (next-hop.ts: 'next-hop-missing' otherwise).
    const v6 = mk(a, { mpReach: { family: 'ipv6-unicast', nextHop: '2001:db8::1', nlri: { family: 'ipv6-unicast', prefixes: [] } } });
    const V6 = '20010db8000000000000000000000000/32';
    rib.update(V6, v6);
    expect([...rib.bestRoutes('ipv6-unicast')]).toEqual([[V6, v6]]);
    expect([...rib.bestRoutes()]).toHaveLength(2);
    expect(rib.prefixCount('ipv4-unicast')).toBe(1);
  });
});
