// The RIB facade across session events: graceful restart receiving side
// (RFC 4724 §4.2: stale routes kept, refreshed, swept at End-of-RIB or when the
// shell's restart timer fires), peer down without GR, max-prefix (RFC 4486),
// route refresh in (RFC 2918, RFC 7313 BoRR/EoRR) and soft reconfiguration
// from the kept Adj-RIB-In when policy changes (no ROUTE-REFRESH to the peer).
import { describe, expect, it } from 'vitest';
import { compileGlobalPolicies } from '../../src/rib/index.js';
import { EOR_V4, announce, announced, attrsOf, key, path, rib, sent, session, settle, withdraw, withdrawnOf } from './rib-helpers.js';

const SRC = '10.0.0.11';
const DST = '10.0.0.21';
const attrs = { origin: 0 as const, asPath: [], nextHop: SRC, localPref: 100 };

/** A reflector with a GR-capable client SRC (IPv4 only) and a non-client DST that has received SRC's two routes. */
function withRoutes(gr = 120) {
  const r = rib({ isReflector: true });
  r.peerUp(session(SRC, { rrClient: true, gr, families: ['ipv4-unicast'] }));
  r.peerUp(session(DST, { families: ['ipv4-unicast'] }));
  r.update(SRC, announce(['10.244.1.0/26', '10.244.2.0/26'], attrs));
  settle(r);
  expect(announced(sent(r, DST))).toEqual(['10.244.1.0/26', '10.244.2.0/26']);
  sent(r, SRC);
  r.takeNotices();
  return r;
}

describe('Rib: graceful restart, receiving side (RFC 4724 §4.2)', () => {
  it('keeps the routes as stale across the restart; End-of-RIB sweeps what was not re-advertised', () => {
    const r = withRoutes();
    expect(r.peerDown(SRC, { graceful: true })).toEqual({ stale: 2, restartTime: 120 });
    settle(r);
    expect(sent(r, DST)).toEqual([]); // nothing withdrawn while the peer restarts
    expect(r.locRib.best(key('10.244.1.0/26'))?.peer.address).toBe(SRC);
    expect(r.peerStats(SRC)).toMatchObject({ up: false, stale: 2 });

    r.peerUp(session(SRC, { rrClient: true, gr: 120, families: ['ipv4-unicast'] }));
    r.update(SRC, announce(['10.244.1.0/26'], attrs)); // same attributes: refreshed, no change
    settle(r);
    expect(r.peerStats(SRC)?.stale).toBe(1);
    expect(sent(r, DST)).toEqual([]);
    r.update(SRC, EOR_V4);
    settle(r);
    expect(withdrawnOf(sent(r, DST))).toEqual(['10.244.2.0/26']);
    expect(r.takeNotices()).toEqual(
      expect.arrayContaining([
        { type: 'end-of-rib-received', address: SRC, family: 'ipv4-unicast' },
        { type: 'stale-swept', address: SRC, count: 1 },
      ]),
    );
    expect(r.peerStats(SRC)).toMatchObject({ stale: 0, byFamily: { 'ipv4-unicast': { received: 1 } } });
  });

  it('the restart timer firing withdraws every stale route of a peer that did not come back', () => {
    const r = withRoutes(30);
    r.peerDown(SRC, { graceful: true });
    settle(r);
    r.takeNotices();
    r.staleTimerFired(SRC);
    settle(r);
    expect(withdrawnOf(sent(r, DST))).toEqual(['10.244.1.0/26', '10.244.2.0/26']);
    expect(r.peerStats(SRC)).toBeUndefined();
    // Reported like a sweep at End-of-RIB, so operators see why the routes went.
    expect(r.takeNotices()).toContainEqual({ type: 'stale-swept', address: SRC, count: 2 });
  });

  it('the restart timer also sweeps when the peer came back but sent no End-of-RIB', () => {
    const r = withRoutes();
    r.peerDown(SRC, { graceful: true });
    r.peerUp(session(SRC, { rrClient: true, gr: 120, families: ['ipv4-unicast'] }));
    r.update(SRC, announce(['10.244.2.0/26'], { ...attrs, med: 7 }));
    r.staleTimerFired(SRC);
    settle(r);
    const got = sent(r, DST);
    expect(withdrawnOf(got)).toEqual(['10.244.1.0/26']);
    expect(attrsOf(got, '10.244.2.0/26')?.med).toBe(7);
  });

  it('a session lost without GR withdraws everything; so does one coming back without the capability', () => {
    const r = withRoutes();
    r.peerDown(SRC, { graceful: false });
    settle(r);
    expect(withdrawnOf(sent(r, DST))).toEqual(['10.244.1.0/26', '10.244.2.0/26']);

    const r2 = withRoutes();
    r2.peerDown(SRC, { graceful: true });
    r2.peerUp(session(SRC, { rrClient: true, families: ['ipv4-unicast'] }));
    settle(r2);
    expect(withdrawnOf(sent(r2, DST))).toEqual(['10.244.1.0/26', '10.244.2.0/26']);
  });

  it('a peer that restarts with another BGP Identifier is a new peer: its old routes go', () => {
    const r = withRoutes();
    r.peerDown(SRC, { graceful: true });
    r.peerUp(session(SRC, { rrClient: true, gr: 120, families: ['ipv4-unicast'], bgpId: '10.9.9.9' }));
    r.update(SRC, announce(['10.244.1.0/26'], attrs));
    settle(r);
    const got = sent(r, DST);
    expect(withdrawnOf(got)).toEqual(['10.244.2.0/26']);
    expect(attrsOf(got, '10.244.1.0/26')?.originatorId).toBe(0x0a090909);
  });
});

describe('Rib: max-prefix (RFC 4486)', () => {
  it('close: one notice, and the peer is ignored from then on', () => {
    const r = rib();
    r.peerUp(session('203.0.113.1', { asn: 65001, maxPrefix: { limit: 2, action: 'close' } }));
    r.update('203.0.113.1', announce(['10.0.1.0/24', '10.0.2.0/24'], { origin: 0, asPath: path(65001), nextHop: '203.0.113.1' }));
    expect(r.takeNotices()).toEqual([]);
    r.update('203.0.113.1', announce(['10.0.3.0/24'], { origin: 0, asPath: path(65001), nextHop: '203.0.113.1' }));
    expect(r.takeNotices()).toEqual([{ type: 'max-prefix', address: '203.0.113.1', family: 'ipv4-unicast', limit: 2, count: 3, action: 'close' }]);
    r.update('203.0.113.1', announce(['10.0.4.0/24'], { origin: 0, asPath: path(65001), nextHop: '203.0.113.1' }));
    expect(r.peerStats('203.0.113.1')?.byFamily['ipv4-unicast'].received).toBe(3);
    expect(r.takeNotices()).toEqual([]);
  });

  it('warn: logged once, routes still accepted', () => {
    const r = rib();
    r.peerUp(session('203.0.113.1', { asn: 65001, maxPrefix: { limit: 1, action: 'warn' } }));
    r.update('203.0.113.1', announce(['10.0.1.0/24', '10.0.2.0/24'], { origin: 0, asPath: path(65001), nextHop: '203.0.113.1' }));
    r.update('203.0.113.1', announce(['10.0.3.0/24'], { origin: 0, asPath: path(65001), nextHop: '203.0.113.1' }));
    expect(r.takeNotices().map((n) => n.type)).toEqual(['max-prefix']);
    settle(r);
    expect(r.locRib.best(key('10.0.3.0/24'))).toBeDefined();
  });
});

describe('Rib: route refresh (RFC 2918, RFC 7313)', () => {
  it('a ROUTE-REFRESH re-sends the Adj-RIB-Out; enhanced route refresh brackets it with BoRR and EoRR', () => {
    const r = withRoutes();
    r.routeRefreshRequest(DST, 'ipv4-unicast');
    const again = sent(r, DST);
    expect(announced(again)).toEqual(['10.244.1.0/26', '10.244.2.0/26']);
    expect(again.some((s) => s.kind === 'borr')).toBe(false);

    const e = rib();
    e.peerUp(session(SRC, { asn: 65001 }));
    e.peerUp(session(DST, { enhancedRouteRefresh: true, families: ['ipv4-unicast'] }));
    e.update(SRC, announce(['10.244.1.0/26'], { origin: 0, asPath: path(65001), nextHop: SRC }));
    settle(e);
    sent(e, DST);
    e.routeRefreshRequest(DST, 'ipv4-unicast');
    expect(sent(e, DST).map((s) => s.kind + (s.announced.length ? ' ' + s.announced.join() : ''))).toEqual(['borr', 'update 10.244.1.0/26', 'eorr']);
  });
});

describe('Rib: soft reconfiguration', () => {
  it('a new import policy applies to the kept Adj-RIB-In without asking the peer; and back', () => {
    const r = withRoutes();
    const reject = { import: [{ match: { prefix: '10.244.2.0/26' }, action: 'reject' as const }] };
    r.setPolicies(compileGlobalPolicies({ ebgpRequiresPolicy: false }), (a) => (a === SRC ? reject : undefined));
    settle(r);
    expect(withdrawnOf(sent(r, DST))).toEqual(['10.244.2.0/26']);
    expect(r.peerStats(SRC)?.byFamily['ipv4-unicast']).toMatchObject({ received: 2, accepted: 1 });
    r.setPolicies(compileGlobalPolicies({ ebgpRequiresPolicy: false }), (a) => (a === SRC ? { import: [] } : undefined));
    settle(r);
    expect(announced(sent(r, DST))).toEqual(['10.244.2.0/26']);
    expect(r.peerStats(SRC)?.byFamily['ipv4-unicast']).toMatchObject({ received: 2, accepted: 2, advertised: 0 });
    expect(r.peerStats(DST)?.byFamily['ipv4-unicast'].advertised).toBe(2);
  });

  it('new global import rules apply when the caller says the global import side changed, and only then', () => {
    const r = withRoutes();
    const rejecting = compileGlobalPolicies({ ebgpRequiresPolicy: false, import: [{ match: { prefix: '10.244.2.0/26' }, action: 'reject' }] });
    r.setPolicies(rejecting, () => undefined); // nothing named as changed: the RIB compares no rules, nobody is reconfigured
    settle(r);
    expect(sent(r, DST)).toEqual([]);
    r.setPolicies(rejecting, () => undefined, { import: true, export: false });
    settle(r);
    expect(withdrawnOf(sent(r, DST))).toEqual(['10.244.2.0/26']);
    expect(r.peerStats(SRC)?.byFamily['ipv4-unicast']).toMatchObject({ received: 2, accepted: 1 });
  });

  it('an export policy setting LOCAL_PREF toward one peer; soft reset out re-sends only changes', () => {
    const r = withRoutes();
    const exp = { export: [{ match: { prefix: '10.244.1.0/26' }, action: 'accept' as const, set: { localPref: 250 } }] };
    r.setPolicies(compileGlobalPolicies({ ebgpRequiresPolicy: false }), (a) => (a === DST ? exp : undefined));
    settle(r);
    const got = sent(r, DST);
    expect(announced(got)).toEqual(['10.244.1.0/26']);
    expect(attrsOf(got, '10.244.1.0/26')?.localPref).toBe(250);
    expect(r.softReset(DST, 'out')).toBe(true);
    settle(r);
    expect(sent(r, DST)).toEqual([]);
    expect(r.softReset('192.0.2.99', 'in')).toBe(false);
  });

  it('a withdrawn route that policy rejected leaves the accepted count right', () => {
    const r = withRoutes();
    r.setPolicies(compileGlobalPolicies({ ebgpRequiresPolicy: false }), (a) => (a === SRC ? { import: [{ match: { prefix: '10.244.2.0/26' }, action: 'reject' }] } : undefined));
    settle(r);
    r.update(SRC, withdraw(['10.244.2.0/26']));
    settle(r);
    expect(r.peerStats(SRC)?.byFamily['ipv4-unicast']).toMatchObject({ received: 1, accepted: 1 });
  });
});

describe('families the session did not negotiate', () => {
  it('ignores MP_REACH NLRI of an unnegotiated family (RFC 4760 §6), and still learns the negotiated one', () => {
    const r = rib({ isReflector: true });
    r.peerUp(session(SRC, { rrClient: true, families: ['ipv4-unicast'] }));
    r.peerUp(session(DST, { rrClient: true }));
    const v6: Parameters<typeof r.update>[1] = {
      type: 'update',
      update: {
        type: 'update',
        withdrawn: { family: 'ipv4-unicast', prefixes: [] },
        attributes: {
          ...attrs,
          mpReach: { family: 'ipv6-unicast', nextHop: '2001:db8::2', nlri: { family: 'ipv6-unicast', prefixes: [key('2001:db8:1::/64')] } },
        },
        nlri: { family: 'ipv4-unicast', prefixes: [key('10.244.1.0/26')] },
      },
      discarded: [],
    };
    r.update(SRC, v6);
    settle(r);
    expect(r.locRib.best(key('2001:db8:1::/64'))).toBeUndefined();
    expect(r.locRib.best(key('10.244.1.0/26'))?.peer.address).toBe(SRC);
    expect(r.peerStats(SRC)?.byFamily['ipv6-unicast']?.received ?? 0).toBe(0);
  });
});
