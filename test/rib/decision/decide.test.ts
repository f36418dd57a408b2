// The decision process: one pair of paths per step where exactly that step
// decides (both argument orders), the MED non-transitivity example in every
// insertion order, and ECMP set composition.
import { describe, expect, it } from 'vitest';
import { localPeer, type Path } from '../../../src/rib/route.js';
import { decideBest, explain } from '../../../src/rib/decision/decide.js';
import type { DecisionStep } from '../../../src/rib/decision/context.js';
import { AS_SET } from '../../../src/bgp/wire/types.js';
import { LOCAL_AS, ROUTER_ID, ctx, ip, peer, permutations, route, seq, store } from '../fixtures.js';

const ebgpA = peer('192.0.2.10', { asn: 65001 });
const ebgpB = peer('192.0.2.11', { asn: 65001 });
const ibgpA = peer('192.0.2.20', { asn: LOCAL_AS });
const ibgpB = peer('192.0.2.21', { asn: LOCAL_AS });

interface Case {
  step: DecisionStep;
  winner: () => Path;
  loser: () => Path;
  igp?: Record<string, number>;
}

const cases: Case[] = [
  { step: 'local-pref', winner: () => route(ibgpB, { localPref: 200 }), loser: () => route(ibgpA, { localPref: 100 }) },
  // A missing LOCAL_PREF is the default (100): 150 beats it.
  { step: 'local-pref', winner: () => route(ibgpB, { localPref: 150 }), loser: () => route(ibgpA, {}) },
  {
    step: 'local-origin',
    winner: () => route(localPeer(ip('192.0.2.200'), LOCAL_AS), { asPath: [] }),
    loser: () => route(ebgpA, { asPath: [] }),
  },
  { step: 'as-path-length', winner: () => route(ebgpB, { asPath: seq(65001, 65002) }), loser: () => route(ebgpA, { asPath: seq(65001, 65002, 65003) }) },
  // An AS_SET counts as one: [65001 {1,2,3,4}] (2) beats [65001 65002 65003] (3).
  {
    step: 'as-path-length',
    winner: () => route(ebgpB, { asPath: [{ type: 2, asns: [65001] }, { type: AS_SET, asns: [1, 2, 3, 4] }] }),
    loser: () => route(ebgpA, { asPath: seq(65001, 65002, 65003) }),
  },
  { step: 'origin', winner: () => route(ebgpB, { origin: 0 }), loser: () => route(ebgpA, { origin: 2 }) },
  { step: 'origin', winner: () => route(ebgpB, { origin: 1 }), loser: () => route(ebgpA, { origin: 2 }) },
  { step: 'med', winner: () => route(ebgpB, { med: 10 }), loser: () => route(ebgpA, { med: 20 }) },
  // RFC 4271 §9.1.2.2 c: a missing MED is the lowest value.
  { step: 'med', winner: () => route(ebgpB, {}), loser: () => route(ebgpA, { med: 1 }) },
  {
    step: 'ebgp-over-ibgp',
    winner: () => route(peer('192.0.2.30', { asn: 65001, bgpId: '192.0.2.250' })),
    loser: () => route(ibgpA),
  },
  {
    step: 'igp-cost',
    winner: () => route(ibgpB, { nextHop: '10.0.0.2' }),
    loser: () => route(ibgpA, { nextHop: '10.0.0.1' }),
    igp: { '10.0.0.1': 20, '10.0.0.2': 10 },
  },
  { step: 'originator-id', winner: () => route(ibgpA), loser: () => route(ibgpB) },
  // RFC 4456 §9: ORIGINATOR_ID stands in for the BGP Identifier.
  {
    step: 'originator-id',
    winner: () => route(ibgpB, { originatorId: ip('10.9.9.1'), clusterList: [ip('10.0.0.1')] }),
    loser: () => route(ibgpA, { originatorId: ip('10.9.9.2'), clusterList: [ip('10.0.0.1')] }),
  },
  {
    step: 'cluster-list-length',
    winner: () => route(ibgpB, { originatorId: ip('10.9.9.1'), clusterList: [ip('10.0.0.1')] }),
    loser: () => route(ibgpA, { originatorId: ip('10.9.9.1'), clusterList: [ip('10.0.0.2'), ip('10.0.0.1')] }),
  },
  {
    step: 'peer-address',
    winner: () => route(peer('192.0.2.40', { asn: LOCAL_AS, bgpId: '192.0.2.99' })),
    loser: () => route(peer('192.0.2.41', { asn: LOCAL_AS, bgpId: '192.0.2.99' })),
  },
  { step: 'path-id', winner: () => route(ibgpA, {}, 1), loser: () => route(ibgpA, {}, 7) },
];

describe('decideBest: each step decides on its own', () => {
  for (const c of cases) {
    it(`${c.step}: ${c.winner().attrs.key} beats ${c.loser().attrs.key}`, () => {
      const igp = c.igp;
      const context = ctx(igp ? { igpCost: (r) => igp[r.attrs.nextHopV4!] } : {});
      const w = c.winner();
      const l = c.loser();
      for (const order of [[w, l], [l, w]]) {
        const d = decideBest(order, context);
        expect(d.best).toBe(w);
        expect(d.reason).toBe(c.step);
        expect(d.multipath).toEqual([w]);
      }
    });
  }

  it('a single eligible candidate is the only path; none is no-eligible-path', () => {
    const r = route(ebgpA);
    expect(decideBest([r], ctx())).toMatchObject({ best: r, reason: 'only-path', multipath: [r] });
    expect(decideBest([], ctx())).toMatchObject({ best: undefined, reason: 'no-eligible-path', multipath: [] });
  });

  it('the reason is the last step that removed a candidate', () => {
    const a = route(ibgpA, { localPref: 100 });
    const b = route(ibgpB, { localPref: 200, origin: 2 });
    const c = route(ibgpA, { localPref: 200, origin: 0 }, 3);
    for (const order of permutations([a, b, c])) {
      const d = decideBest(order, ctx());
      expect(d.best).toBe(c);
      expect(d.reason).toBe('origin');
    }
  });

  it('unknown IGP cost loses to a known one', () => {
    const known = route(ibgpB, { nextHop: '10.0.0.2' });
    const unknown = route(ibgpA, { nextHop: '10.0.0.1' });
    const context = ctx({ igpCost: (r) => (r.attrs.nextHopV4 === '10.0.0.2' ? 50 : undefined) });
    expect(decideBest([unknown, known], context).best).toBe(known);
  });
});

describe('MED is not a total order (STYLE.md §8)', () => {
  // Classic cycle: r1 and r3 share neighbour AS 100 (MED decides), r2 is from AS 200
  // (IGP cost decides against either). Pairwise: r1 > r2 (IGP 5 < 10),
  // r2 > r3 (IGP 10 < 15), r3 > r1 (MED 50 < 100).
  const igp: Record<string, number> = { '10.0.0.1': 5, '10.0.0.2': 10, '10.0.0.3': 15 };
  const context = ctx({ igpCost: (r) => igp[r.attrs.nextHopV4!] });
  const p1 = peer('192.0.2.51', { asn: LOCAL_AS });
  const p2 = peer('192.0.2.52', { asn: LOCAL_AS });
  const p3 = peer('192.0.2.53', { asn: LOCAL_AS });
  const r1 = route(p1, { asPath: seq(100), med: 100, nextHop: '10.0.0.1' });
  const r2 = route(p2, { asPath: seq(200), med: 50, nextHop: '10.0.0.2' });
  const r3 = route(p3, { asPath: seq(100), med: 50, nextHop: '10.0.0.3' });

  it('pairwise comparison is cyclic', () => {
    expect(decideBest([r1, r2], context).best).toBe(r1);
    expect(decideBest([r2, r3], context).best).toBe(r2);
    expect(decideBest([r3, r1], context).best).toBe(r3);
  });

  it('grouping by neighbour AS gives the same best in every insertion order', () => {
    // AS 100 group keeps r3 (MED 50); r2 then wins on IGP cost (10 < 15).
    for (const order of permutations([r1, r2, r3])) {
      const d = decideBest(order, context);
      expect(d.best).toBe(r2);
      expect(d.reason).toBe('igp-cost');
    }
  });

  it('always-compare-med makes MED global: r2 and r3 tie on MED 50, r2 wins on IGP', () => {
    const r4 = route(peer('192.0.2.54', { asn: LOCAL_AS }), { asPath: seq(300), med: 70, nextHop: '10.0.0.1' });
    for (const order of permutations([r1, r2, r3, r4])) {
      const d = decideBest(order, { ...context, alwaysCompareMed: true });
      expect(d.best).toBe(r2);
      expect(d.reason).toBe('igp-cost');
      // Without it, r4 (AS 300, alone in its group) survives MED and wins on IGP 5.
      expect(decideBest(order, context).best).toBe(r4);
    }
  });
});

describe('multipath (ECMP)', () => {
  const e1 = peer('192.0.2.61', { asn: 65001 });
  const e2 = peer('192.0.2.62', { asn: 65002 });
  const e3 = peer('192.0.2.63', { asn: 65003 });
  const i1 = peer('192.0.2.64', { asn: LOCAL_AS });
  const a = route(e1, { asPath: seq(65001), nextHop: '10.1.0.1' });
  const b = route(e2, { asPath: seq(65002), nextHop: '10.1.0.2' });
  const c = route(e3, { asPath: seq(65003), nextHop: '10.1.0.3' });
  const i = route(i1, { asPath: seq(65009), nextHop: '10.1.0.4' });
  const longer = route(peer('192.0.2.65', { asn: 65004 }), { asPath: seq(65004, 1), nextHop: '10.1.0.5' });

  it('collects the paths equal through IGP cost, best first, same in every order', () => {
    for (const order of permutations([a, b, c, i, longer])) {
      const d = decideBest(order, ctx({ maxPaths: 8 }));
      expect(d.best).toBe(a);
      expect(d.multipath).toEqual([a, b, c]);
    }
  });

  it('is capped at maxPaths, keeping the best-ranked', () => {
    const d = decideBest([c, b, a], ctx({ maxPaths: 2 }));
    expect(d.multipath).toEqual([a, b]);
    expect(decideBest([c, b, a], ctx({ maxPaths: 1 })).multipath).toEqual([a]);
  });

  it('never mixes iBGP into an eBGP best, and leaves out higher IGP cost', () => {
    const igp = (r: Path) => (r === c ? 30 : 10);
    const d = decideBest([i, c, b, a], ctx({ maxPaths: 8, igpCost: igp }));
    expect(d.multipath).toEqual([a, b]);
    const ibgpOnly = [route(peer('192.0.2.70', { asn: LOCAL_AS })), route(peer('192.0.2.71', { asn: LOCAL_AS }))];
    expect(decideBest(ibgpOnly, ctx({ maxPaths: 8 })).multipath).toEqual(ibgpOnly);
  });
});

describe('eligibility', () => {
  const e = peer('192.0.2.80', { asn: 65001 });
  const good = route(peer('192.0.2.81', { asn: 65001 }));

  it('names why each ineligible path was excluded', () => {
    const loop = route(e, { asPath: seq(65001, LOCAL_AS, 65005) });
    const self = route(peer('192.0.2.82', { asn: LOCAL_AS }), { originatorId: ROUTER_ID });
    const cluster = route(peer('192.0.2.83', { asn: LOCAL_AS }), { originatorId: ip('10.0.0.9'), clusterList: [ip('10.0.0.5'), ip('192.0.2.100')] });
    const unreachable = route(peer('192.0.2.84'), { nextHop: '203.0.113.1' });
    const rejected = route(peer('192.0.2.85'), { communities: [0xfde80001] });
    const context = ctx({
      clusterId: ip('192.0.2.100'),
      nextHopReachable: (r) => r.attrs.nextHopV4 !== '203.0.113.1',
      policyRejected: (r) => r.attrs.attrs.communities?.includes(0xfde80001) ?? false,
    });
    const d = decideBest([loop, self, cluster, unreachable, rejected, good], context);
    expect(d.best).toBe(good);
    expect(d.reason).toBe('only-path');
    expect(d.ineligible.map((x) => [x.path, x.reason])).toEqual([
      [loop, 'as-loop'],
      [self, 'originator-id-is-self'],
      [cluster, 'cluster-loop'],
      [unreachable, 'next-hop-unreachable'],
      [rejected, 'policy-rejected'],
    ]);
  });

  it('checks CLUSTER_LIST only when we reflect, and honours allowOwnAs', () => {
    const cluster = route(peer('192.0.2.86', { asn: LOCAL_AS }), { clusterList: [ip('192.0.2.100')] });
    expect(decideBest([cluster], ctx()).best).toBe(cluster);
    expect(decideBest([cluster], ctx({ clusterId: ip('192.0.2.100') })).best).toBeUndefined();
    const once = route(peer('192.0.2.87', { asn: 65001, allowOwnAs: 1 }), { asPath: seq(65001, LOCAL_AS) });
    const twice = route(peer('192.0.2.88', { asn: 65001, allowOwnAs: 1 }), { asPath: seq(65001, LOCAL_AS, LOCAL_AS) });
    expect(decideBest([once], ctx()).best).toBe(once);
    expect(decideBest([twice], ctx()).ineligible[0]?.reason).toBe('as-loop');
  });

  it('all ineligible leaves no best', () => {
    const d = decideBest([route(e, { asPath: seq(LOCAL_AS) })], ctx());
    expect(d).toMatchObject({ best: undefined, reason: 'no-eligible-path', multipath: [] });
  });
});

describe('explain', () => {
  it('says where each candidate dropped out and against what', () => {
    const best = route(peer('192.0.2.90', { asn: LOCAL_AS }), { localPref: 200 });
    const lowPref = route(peer('192.0.2.91', { asn: LOCAL_AS }), { localPref: 100 });
    const longPath = route(peer('192.0.2.92', { asn: LOCAL_AS }), { localPref: 200, asPath: seq(65001, 65002) });
    const looped = route(peer('192.0.2.93', { asn: 65001 }), { asPath: seq(65001, LOCAL_AS) });
    const out = explain([lowPref, looped, longPath, best], ctx());
    const by = new Map(out.map((x) => [x.path, x]));
    expect(by.get(best)).toMatchObject({ status: 'best', step: 'as-path-length' });
    expect(by.get(lowPref)).toMatchObject({ status: 'lost', step: 'local-pref' });
    expect(by.get(lowPref)!.text).toBe('lost at local-pref: LOCAL_PREF 100 against LOCAL_PREF 200 of a path via 192.0.2.90');
    expect(by.get(longPath)!.text).toBe('lost at as-path-length: AS_PATH length 2 against AS_PATH length 1 of a path via 192.0.2.90');
    expect(by.get(looped)).toMatchObject({ status: 'ineligible', ineligible: 'as-loop' });
    expect(out).toHaveLength(4);
  });

  it('marks multipath members as such, not as losers', () => {
    const a = route(peer('192.0.2.94', { asn: 65001 }), { nextHop: '10.2.0.1' });
    const b = route(peer('192.0.2.95', { asn: 65001 }), { nextHop: '10.2.0.2' });
    const out = explain([b, a], ctx({ maxPaths: 4 }));
    expect(out.map((x) => [x.path, x.status])).toEqual([
      [a, 'best'],
      [b, 'multipath'],
    ]);
  });
});

it('fixtures share one store: equal attributes give the same set', () => {
  expect(route(ebgpA).attrs).toBe(route(ebgpB).attrs);
  expect(store.size()).toBeGreaterThan(1);
});
