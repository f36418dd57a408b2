// Adj-RIB-In stale marks for RFC 7313 enhanced route refresh (BoRR marks one
// family stale, a re-advertisement makes a route fresh, EoRR sets the rest
// aside to purge in batches) and how they stay apart from the RFC 4724
// graceful-restart mark.
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
  const set = store.intern(attrs());
  const set6 = store.intern(attrs({ med: 6 }));
  rib.update([A, B, C], set);
  rib.update([V6], set6);
  store.release(set);
  store.release(set6);
  return { store, rib, set, set6 };
}

describe('AdjRibIn: enhanced route refresh marks (RFC 7313 §4)', () => {
  it('BoRR marks one family stale; an identical re-advertisement is fresh and reports no change', () => {
    const { rib, set } = setup();
    expect(rib.markFamilyStale('ipv4-unicast')).toBe(3);
    expect(rib.refreshStaleCount()).toBe(3);
    expect(rib.refreshStaleCount('ipv6-unicast')).toBe(0);
    expect(rib.staleCount()).toBe(0); // not a graceful-restart mark
    expect([rib.isStale(A), rib.isStale(B), rib.isStale(V6)]).toEqual([true, true, false]);
    expect(rib.size('ipv4-unicast')).toBe(3); // still held and still candidates
    expect(rib.get(A)?.attrs).toBe(set);

    expect(rib.update([A], set).prefixes).toEqual([]);
    expect(rib.isStale(A)).toBe(false);
    expect(rib.refreshStaleCount('ipv4-unicast')).toBe(2);
  });

  it('EoRR sets the rest aside; the sweep returns exactly those, in batches, and releases their sets', () => {
    const { rib, set } = setup();
    rib.markFamilyStale('ipv4-unicast');
    rib.update([B], set);
    expect(rib.endRefresh('ipv4-unicast')).toBe(2);
    const first = rib.sweepRefreshStale('ipv4-unicast', 1);
    const second = rib.sweepRefreshStale('ipv4-unicast', 1);
    const third = rib.sweepRefreshStale('ipv4-unicast', 1);
    expect([...first.prefixes, ...second.prefixes].sort()).toEqual([A, C].sort());
    expect(third.prefixes).toEqual([]);
    expect(rib.size('ipv4-unicast')).toBe(1);
    expect(rib.get(B)?.attrs).toBe(set);
    expect(set.refs).toBe(1);
    expect(rib.refreshStaleCount()).toBe(0);
  });

  it('a withdraw of a refresh-stale route removes it and its count', () => {
    const { rib } = setup();
    rib.markFamilyStale('ipv4-unicast');
    expect(rib.withdraw([C]).prefixes).toEqual([C]);
    expect(rib.refreshStaleCount()).toBe(2);
    expect(rib.size('ipv4-unicast')).toBe(2);
  });

  it('a BoRR while an earlier EoRR is still being purged marks only routes advertised since', () => {
    const { rib, set } = setup();
    rib.markFamilyStale('ipv4-unicast');
    rib.update([A], set);
    rib.endRefresh('ipv4-unicast'); // B and C to purge
    rib.markFamilyStale('ipv4-unicast'); // A only
    expect(rib.sweepRefreshStale('ipv4-unicast').prefixes.sort()).toEqual([B, C].sort());
    expect(rib.isStale(A)).toBe(true);
    rib.update([A], set);
    expect(rib.endRefresh('ipv4-unicast')).toBe(0);
    expect(rib.size('ipv4-unicast')).toBe(1);
  });

  it('a second BoRR before the EoRR merges: everything not re-sent since the first is purged', () => {
    const { rib, set } = setup();
    rib.markFamilyStale('ipv4-unicast');
    rib.update([A], set);
    expect(rib.markFamilyStale('ipv4-unicast')).toBe(3);
    rib.update([C], set);
    rib.endRefresh('ipv4-unicast');
    expect(rib.sweepRefreshStale('ipv4-unicast').prefixes.sort()).toEqual([A, B].sort());
  });

  it('ADD-PATH: paths are counted one by one, not prefixes', () => {
    const store = new AttrStore();
    const rib = new AdjRibIn(peer('192.0.2.10'), store);
    const set = store.intern(attrs());
    rib.update([A, A, B], set, [1, 2, 1]);
    expect(rib.markFamilyStale('ipv4-unicast')).toBe(3);
    rib.update([A], set, [2]);
    expect(rib.refreshStaleCount()).toBe(2);
    expect(rib.isStale(A, 1)).toBe(true);
    expect(rib.isStale(A, 2)).toBe(false);
    rib.endRefresh('ipv4-unicast');
    const gone = rib.sweepRefreshStale('ipv4-unicast');
    expect(gone.paths.map((p) => p.pathId).sort()).toEqual([1, 1]);
    expect(rib.paths(A).map((p) => p.pathId)).toEqual([2]);
  });
});

describe('AdjRibIn: refresh and graceful-restart marks stay apart', () => {
  it('routes held over from a restart keep their mark through a BoRR and EoRR', () => {
    const { rib, set } = setup();
    rib.markAllStale(); // RFC 4724: the session went down
    rib.update([A], set); // the restarted peer re-sends A only
    expect(rib.staleCount()).toBe(3); // B, C and V6
    rib.markFamilyStale('ipv4-unicast'); // marks A (the only current IPv4 route)
    expect(rib.refreshStaleCount()).toBe(1);
    rib.endRefresh('ipv4-unicast');
    expect(rib.sweepRefreshStale('ipv4-unicast').prefixes).toEqual([A]);
    expect(rib.staleCount()).toBe(3); // the EoRR did not sweep restart-stale routes
    expect(rib.sweepStale().prefixes.sort()).toEqual([B, C, V6].sort());
    expect(rib.size()).toBe(0);
  });

  it('End-of-RIB sweeping restart-stale routes leaves refresh-stale ones alone', () => {
    const { rib, set } = setup();
    rib.markAllStale();
    rib.update([A, B], set);
    rib.markFamilyStale('ipv4-unicast');
    expect(rib.sweepStale().prefixes.sort()).toEqual([C, V6].sort());
    expect(rib.refreshStaleCount()).toBe(2);
    expect(rib.size()).toBe(2);
  });

  it('a session loss during a refresh turns its stale routes (and those being purged) into restart-stale ones', () => {
    const { rib, set } = setup();
    rib.markFamilyStale('ipv4-unicast');
    rib.update([A], set);
    rib.endRefresh('ipv4-unicast'); // B, C set aside to purge
    rib.markAllStale();
    expect(rib.refreshStaleCount()).toBe(0);
    expect(rib.staleCount()).toBe(4);
    expect(rib.sweepRefreshStale('ipv4-unicast').prefixes).toEqual([]);
    rib.update([B], set);
    expect(rib.sweepStale().prefixes.sort()).toEqual([A, C, V6].sort());
    expect(rib.size()).toBe(1);
  });

  it('drain takes every route whatever its mark', () => {
    const { rib, store } = setup();
    rib.markFamilyStale('ipv4-unicast');
    rib.endRefresh('ipv4-unicast');
    rib.markFamilyStale('ipv6-unicast');
    expect(rib.drain().prefixes.length).toBe(4);
    expect(rib.size()).toBe(0);
    expect(rib.refreshStaleCount()).toBe(0);
    expect(store.size()).toBe(0);
  });
});
