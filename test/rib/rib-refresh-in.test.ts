// The RIB facade receiving an enhanced route refresh (RFC 7313 §4): a BoRR
// from a peer marks its routes of the family stale, re-advertised routes are
// fresh again, the EoRR (or the shell's refresh timer) purges the rest from
// the Loc-RIB so other peers receive withdraws; BoRR/EoRR without the
// capability, unknown subtypes (§5) and a BoRR from a graceful-restart peer
// before its End-of-RIB (§4) are ignored; the refresh and graceful restart
// (RFC 4724) marks never sweep each other's routes.
import { describe, expect, it } from 'vitest';
import { EOR_V4, announce, announce6, announced, key, rib, sent, session, settle, withdrawnOf } from './rib-helpers.js';

const SRC = '10.0.0.11';
const DST = '10.0.0.21';
const V4 = 'ipv4-unicast' as const;
const attrs = { origin: 0 as const, asPath: [], nextHop: SRC, localPref: 100 };
const ROUTES = ['10.244.1.0/26', '10.244.2.0/26', '10.244.3.0/26'];

/** A reflector with client SRC (enhanced route refresh unless told otherwise) whose three IPv4 routes and one IPv6 route DST has received. */
function withRoutes(src: { err?: boolean; gr?: number } = {}) {
  const r = rib({ isReflector: true });
  const src_ = session(SRC, { rrClient: true, enhancedRouteRefresh: src.err ?? true, ...(src.gr ? { gr: src.gr } : {}) });
  r.peerUp(src_);
  r.peerUp(session(DST, { localV6: '2001:db8::21' }));
  r.update(SRC, announce(ROUTES, attrs));
  r.update(SRC, announce6(['2001:db8:1::/64'], attrs, '2001:db8::11'));
  settle(r);
  expect(announced(sent(r, DST))).toEqual([...ROUTES, '2001:db8:1::/64']);
  sent(r, SRC);
  r.takeNotices();
  return { r };
}

const bestFrom = (r: ReturnType<typeof rib>, p: string) => r.locRib.best(key(p))?.peer.address;

describe('Rib: enhanced route refresh from a peer (RFC 7313 §4)', () => {
  it('BoRR marks the family stale without withdrawing; re-advertised routes are fresh; EoRR purges the rest, exported as withdraws', () => {
    const { r } = withRoutes();
    expect(r.routeRefresh(SRC, V4, 1)).toBe('begin');
    settle(r);
    expect(sent(r, DST)).toEqual([]); // stale routes stay candidates: nothing withdrawn yet
    expect(r.peerStats(SRC)?.stale).toBe(3);
    const path = r.locRib.best(key(ROUTES[0]!))!;
    expect(r.isStale(path, key(ROUTES[0]!))).toBe(true);
    expect(r.isStale(r.locRib.best(key('2001:db8:1::/64'))!, key('2001:db8:1::/64'))).toBe(false); // other family untouched

    r.update(SRC, announce([ROUTES[0]!], attrs)); // unchanged: fresh again, no UPDATE out
    r.update(SRC, announce([ROUTES[1]!], { ...attrs, med: 5 })); // changed: fresh, and re-exported
    settle(r);
    const during = sent(r, DST);
    expect(announced(during)).toEqual([ROUTES[1]]);
    expect(withdrawnOf(during)).toEqual([]);
    expect(r.peerStats(SRC)?.stale).toBe(1);

    expect(r.routeRefresh(SRC, V4, 2)).toBe('end');
    settle(r);
    const after = sent(r, DST);
    expect(withdrawnOf(after)).toEqual([ROUTES[2]]);
    expect(announced(after)).toEqual([]);
    expect(bestFrom(r, ROUTES[2]!)).toBeUndefined();
    expect(bestFrom(r, ROUTES[0]!)).toBe(SRC);
    expect(bestFrom(r, '2001:db8:1::/64')).toBe(SRC);
    expect(r.takeNotices()).toContainEqual({ type: 'refresh-stale-swept', address: SRC, family: V4, count: 1, reason: 'eorr' });
    expect(r.peerStats(SRC)).toMatchObject({ stale: 0, byFamily: { 'ipv4-unicast': { received: 2 }, 'ipv6-unicast': { received: 1 } } });
  });

  it('a peer that re-sends everything changes nothing at EoRR', () => {
    const { r } = withRoutes();
    r.routeRefresh(SRC, V4, 1);
    r.update(SRC, announce(ROUTES, attrs));
    r.routeRefresh(SRC, V4, 2);
    settle(r);
    expect(sent(r, DST)).toEqual([]);
    expect(r.takeNotices().filter((n) => n.type === 'refresh-stale-swept')).toEqual([]);
  });

  it('no EoRR: the refresh timer purges what was not re-advertised; a late EoRR is then ignored', () => {
    const { r } = withRoutes();
    r.refreshTimerFired(SRC, V4); // no refresh in progress: nothing happens
    settle(r);
    expect(sent(r, DST)).toEqual([]);
    r.routeRefresh(SRC, V4, 1);
    r.update(SRC, announce([ROUTES[0]!], attrs));
    r.refreshTimerFired(SRC, V4);
    settle(r);
    expect(withdrawnOf(sent(r, DST))).toEqual([ROUTES[1], ROUTES[2]]);
    expect(r.takeNotices()).toContainEqual({ type: 'refresh-stale-swept', address: SRC, family: V4, count: 2, reason: 'timer' });
    expect(r.routeRefresh(SRC, V4, 2)).toBe('ignored');
  });

  it('BoRR and EoRR from a peer that did not negotiate enhanced route refresh are ignored', () => {
    const { r } = withRoutes({ err: false });
    expect(r.routeRefresh(SRC, V4, 1)).toBe('ignored');
    expect(r.peerStats(SRC)?.stale).toBe(0);
    expect(r.routeRefresh(SRC, V4, 2)).toBe('ignored');
    settle(r);
    expect(sent(r, DST)).toEqual([]);
    expect(r.locRib.prefixCount(V4)).toBe(3);
  });

  it('unknown subtypes (RFC 7313 §5), an EoRR without a BoRR, and a family not negotiated are ignored', () => {
    const { r } = withRoutes();
    for (const subtype of [3, 128, 255]) expect(r.routeRefresh(SRC, V4, subtype)).toBe('ignored');
    expect(r.routeRefresh(SRC, V4, 2)).toBe('ignored');
    const v4only = rib();
    v4only.peerUp(session(SRC, { enhancedRouteRefresh: true, families: ['ipv4-unicast'] }));
    expect(v4only.routeRefresh(SRC, 'ipv6-unicast', 1)).toBe('ignored');
    expect(r.routeRefresh('10.9.9.9', V4, 1)).toBe('ignored'); // no such peer
    settle(r);
    expect(sent(r, DST)).toEqual([]);
    expect(r.peerStats(SRC)?.stale).toBe(0);
  });

  it('a route refresh request (subtype 0) still re-sends our routes to the peer', () => {
    const { r } = withRoutes();
    expect(r.routeRefresh(DST, V4, 0)).toBe('resend');
    const again = sent(r, DST);
    expect(announced(again)).toEqual(expect.arrayContaining(ROUTES));
    expect(again.some((s) => s.kind === 'borr')).toBe(false); // DST did not negotiate enhanced route refresh
    expect(r.peerStats(SRC)?.stale).toBe(0); // nothing marked on the peer's side
  });
});

describe('Rib: enhanced route refresh and graceful restart (RFC 7313 with RFC 4724)', () => {
  it('a BoRR from a graceful-restart peer before its End-of-RIB for the family is ignored', () => {
    const { r } = withRoutes({ gr: 120 });
    expect(r.routeRefresh(SRC, V4, 1)).toBe('ignored'); // no End-of-RIB on this session yet
    expect(r.peerStats(SRC)?.stale).toBe(0);
    r.update(SRC, EOR_V4);
    expect(r.routeRefresh(SRC, V4, 1)).toBe('begin');
    expect(r.routeRefresh(SRC, 'ipv6-unicast', 1)).toBe('ignored'); // IPv6 End-of-RIB still owed
    expect(r.peerStats(SRC)?.stale).toBe(3);
  });

  it('routes still stale from a restart are left to End-of-RIB or the restart timer: an EoRR does not sweep them', () => {
    const { r } = withRoutes({ gr: 120 });
    r.peerDown(SRC, { graceful: true });
    r.peerUp(session(SRC, { rrClient: true, enhancedRouteRefresh: true, gr: 120 }));
    r.update(SRC, announce([ROUTES[0]!, ROUTES[1]!], attrs)); // restart-stale: ROUTES[2] and the IPv6 route
    r.update(SRC, EOR_V4); // IPv6 End-of-RIB still owed: nothing swept yet
    settle(r);
    expect(r.routeRefresh(SRC, V4, 1)).toBe('begin'); // marks ROUTES[0..1]
    r.update(SRC, announce([ROUTES[0]!], attrs));
    r.routeRefresh(SRC, V4, 2);
    settle(r);
    expect(withdrawnOf(sent(r, DST))).toEqual([ROUTES[1]]);
    expect(bestFrom(r, ROUTES[2]!)).toBe(SRC); // restart-stale, still held
    expect(r.peerStats(SRC)?.stale).toBe(2);
    r.staleTimerFired(SRC);
    settle(r);
    expect(withdrawnOf(sent(r, DST))).toEqual(['2001:db8:1::/64', ROUTES[2]].sort());
    expect(r.peerStats(SRC)?.stale).toBe(0);
  });

  it('the End-of-RIB sweep after a restart does not take routes a BoRR marked meanwhile', () => {
    const { r } = withRoutes({ gr: 120 });
    r.peerDown(SRC, { graceful: true });
    r.peerUp(session(SRC, { rrClient: true, enhancedRouteRefresh: true, gr: 120, families: ['ipv4-unicast'] }));
    r.update(SRC, announce([ROUTES[0]!, ROUTES[1]!], attrs));
    r.update(SRC, EOR_V4); // the sweep of ROUTES[2] and the IPv6 route is queued, not run
    expect(r.routeRefresh(SRC, V4, 1)).toBe('begin'); // ROUTES[0..1] are now refresh-stale
    settle(r);
    expect(withdrawnOf(sent(r, DST))).toEqual(['2001:db8:1::/64', ROUTES[2]].sort());
    expect(bestFrom(r, ROUTES[0]!)).toBe(SRC);
    expect(r.peerStats(SRC)?.stale).toBe(2);
    r.update(SRC, announce([ROUTES[1]!], attrs));
    r.routeRefresh(SRC, V4, 2);
    settle(r);
    expect(withdrawnOf(sent(r, DST))).toEqual([ROUTES[0]]);
  });

  it('a session lost during a refresh keeps its routes as restart-stale; the next session needs its own BoRR', () => {
    const { r } = withRoutes({ gr: 120 });
    r.update(SRC, EOR_V4);
    expect(r.routeRefresh(SRC, V4, 1)).toBe('begin');
    r.update(SRC, announce([ROUTES[0]!], attrs));
    expect(r.peerDown(SRC, { graceful: true })).toEqual({ stale: 4, restartTime: 120 });
    r.refreshTimerFired(SRC, V4); // the refresh ended with the session
    settle(r);
    expect(sent(r, DST)).toEqual([]);
    r.peerUp(session(SRC, { rrClient: true, enhancedRouteRefresh: true, gr: 120, families: ['ipv4-unicast'] }));
    expect(r.routeRefresh(SRC, V4, 2)).toBe('ignored'); // no BoRR on this session
    r.update(SRC, announce([ROUTES[2]!], attrs));
    r.update(SRC, EOR_V4);
    settle(r);
    expect(withdrawnOf(sent(r, DST))).toEqual(['2001:db8:1::/64', ROUTES[0], ROUTES[1]].sort());
  });

  it('soft reset in during a refresh re-imports stale routes too and keeps their mark', () => {
    const { r } = withRoutes();
    r.routeRefresh(SRC, V4, 1);
    expect(r.softReset(SRC, 'in')).toBe(true);
    settle(r);
    expect(sent(r, DST)).toEqual([]);
    expect(r.peerStats(SRC)?.stale).toBe(3);
    r.routeRefresh(SRC, V4, 2);
    settle(r);
    expect(withdrawnOf(sent(r, DST))).toEqual(ROUTES);
  });
});
