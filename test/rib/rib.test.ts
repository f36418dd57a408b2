// The RIB facade driven through its typed inputs with no sockets: routes in →
// best path → exported to the right peers with the right attributes (RFC 4271
// §5.1 and §9.2, RFC 4456 reflection), withdraw propagation, coalescing,
// End-of-RIB after the initial table (RFC 4724 §2), ECMP sets for the FIB,
// bounded work slices, treat-as-withdraw (RFC 7606 §2) and origination.
import { describe, expect, it } from 'vitest';
import { v4Parse } from '../../src/lib/prefix.js';
import {
  LOCAL_AS,
  announce,
  announce6,
  announced,
  attrsOf,
  key,
  path,
  rib,
  sent,
  session,
  settle,
  withdraw,
  withdrawnOf,
} from './rib-helpers.js';

const NH = '198.51.100.9';
const id = (t: string) => v4Parse(t)!;

describe('Rib: export to eBGP and iBGP peers', () => {
  it('an eBGP route goes to iBGP peers unchanged but for LOCAL_PREF, to eBGP peers prepended with next hop self, never back', () => {
    const r = rib();
    r.peerUp(session('203.0.113.1', { asn: 65001 }));
    r.peerUp(session('203.0.113.2', { asn: 65002 }));
    r.peerUp(session('10.0.0.2'));
    settle(r);
    // The initial (empty) table: End-of-RIB per negotiated family, nothing else.
    expect(sent(r, '10.0.0.2').map((s) => `${s.kind} ${s.family}`)).toEqual(['eor ipv4-unicast', 'eor ipv6-unicast']);
    sent(r, '203.0.113.1');
    sent(r, '203.0.113.2');

    r.update('203.0.113.1', announce(['10.244.1.0/26', '10.244.2.0/26'], { origin: 0, asPath: path(65001), nextHop: '203.0.113.1', med: 50, localPref: 300 }));
    settle(r);
    const ibgp = sent(r, '10.0.0.2');
    expect(announced(ibgp)).toEqual(['10.244.1.0/26', '10.244.2.0/26']);
    expect(ibgp).toHaveLength(1); // one attribute set, one UPDATE
    // RFC 4271 §5.1.5: LOCAL_PREF from eBGP ignored, default 100 inside the AS; §5.1.3: next hop kept; §5.1.4 MED kept in the AS.
    expect(attrsOf(ibgp, '10.244.1.0/26')).toMatchObject({ asPath: path(65001), nextHop: '203.0.113.1', localPref: 100, med: 50 });
    const ebgp = sent(r, '203.0.113.2');
    const a = attrsOf(ebgp, '10.244.1.0/26')!;
    expect(a).toMatchObject({ asPath: path(LOCAL_AS, 65001), nextHop: '192.0.2.1' });
    expect(a.localPref).toBeUndefined(); // never to an external peer
    expect(a.med).toBeUndefined(); // a neighbouring AS's MED goes no further
    expect(sent(r, '203.0.113.1')).toEqual([]); // split horizon
  });

  it('full mesh without a reflector: iBGP-learned routes reach eBGP peers only', () => {
    const r = rib();
    for (const p of ['10.0.0.2', '10.0.0.3']) r.peerUp(session(p));
    r.peerUp(session('203.0.113.2', { asn: 65002 }));
    settle(r);
    for (const p of ['10.0.0.2', '10.0.0.3', '203.0.113.2']) sent(r, p);
    r.update('10.0.0.2', announce(['10.244.7.0/26'], { origin: 0, asPath: [], nextHop: '10.0.0.2', localPref: 100 }));
    settle(r);
    expect(sent(r, '10.0.0.3')).toEqual([]); // RFC 4271 §9.2
    expect(attrsOf(sent(r, '203.0.113.2'), '10.244.7.0/26')).toMatchObject({ asPath: path(LOCAL_AS), nextHop: '192.0.2.1' });
  });

  it('next-hop modes: self toward iBGP, keep toward eBGP', () => {
    const r = rib();
    r.peerUp(session('203.0.113.1', { asn: 65001 }));
    r.peerUp(session('10.0.0.2', { nextHopMode: 'self' }));
    r.peerUp(session('203.0.113.2', { asn: 65002, nextHopMode: 'keep' }));
    r.update('203.0.113.1', announce(['10.244.1.0/26'], { origin: 0, asPath: path(65001), nextHop: NH }));
    settle(r);
    expect(attrsOf(sent(r, '10.0.0.2'), '10.244.1.0/26')?.nextHop).toBe('192.0.2.1');
    expect(attrsOf(sent(r, '203.0.113.2'), '10.244.1.0/26')?.nextHop).toBe(NH);
  });

  it('IPv6 routes need an IPv6 next hop of ours for self; without one they are not sent', () => {
    const r = rib();
    r.peerUp(session('203.0.113.1', { asn: 65001 }));
    r.peerUp(session('203.0.113.2', { asn: 65002, localV6: '2001:db8::1' }));
    r.peerUp(session('203.0.113.3', { asn: 65003 }));
    r.update('203.0.113.1', announce6(['2001:db8:244::/64'], { origin: 0, asPath: path(65001) }, '2001:db8::99'));
    settle(r);
    const got = sent(r, '203.0.113.2');
    expect(announced(got)).toEqual(['2001:db8:244::/64']);
    expect(attrsOf(got, '2001:db8:244::/64')?.mpReach?.nextHop).toBe('2001:db8::1');
    expect(announced(sent(r, '203.0.113.3'))).toEqual([]);
  });
});

describe('Rib: route reflection (RFC 4456)', () => {
  function reflector() {
    const r = rib({ isReflector: true, clusterId: id('192.0.2.100') });
    r.peerUp(session('10.0.0.11', { rrClient: true }));
    r.peerUp(session('10.0.0.12', { rrClient: true }));
    r.peerUp(session('10.0.0.21'));
    r.peerUp(session('10.0.0.22'));
    settle(r);
    for (const p of ['10.0.0.11', '10.0.0.12', '10.0.0.21', '10.0.0.22']) sent(r, p);
    return r;
  }

  it('a client route goes to the other clients and the non-clients with ORIGINATOR_ID and CLUSTER_LIST', () => {
    const r = reflector();
    r.update('10.0.0.11', announce(['10.244.11.0/26'], { origin: 0, asPath: [], nextHop: '10.0.0.11', localPref: 100 }));
    settle(r);
    for (const p of ['10.0.0.12', '10.0.0.21', '10.0.0.22'])
      expect(attrsOf(sent(r, p), '10.244.11.0/26'), p).toMatchObject({ originatorId: id('10.0.0.11'), clusterList: [id('192.0.2.100')], nextHop: '10.0.0.11' });
    expect(sent(r, '10.0.0.11')).toEqual([]);
  });

  it('a non-client route goes to clients only', () => {
    const r = reflector();
    r.update('10.0.0.21', announce(['10.244.21.0/26'], { origin: 0, asPath: [], nextHop: '10.0.0.21', localPref: 100 }));
    settle(r);
    expect(announced(sent(r, '10.0.0.11'))).toEqual(['10.244.21.0/26']);
    expect(announced(sent(r, '10.0.0.12'))).toEqual(['10.244.21.0/26']);
    expect(sent(r, '10.0.0.22')).toEqual([]);
  });

  it('client-to-client reflection can be turned off', () => {
    const r = rib({ isReflector: true, clientToClient: false });
    r.peerUp(session('10.0.0.11', { rrClient: true }));
    r.peerUp(session('10.0.0.12', { rrClient: true }));
    r.peerUp(session('10.0.0.21'));
    r.update('10.0.0.11', announce(['10.244.11.0/26'], { origin: 0, asPath: [], nextHop: '10.0.0.11', localPref: 100 }));
    settle(r);
    expect(announced(sent(r, '10.0.0.12'))).toEqual([]);
    // Cluster ID defaults to the router ID.
    expect(attrsOf(sent(r, '10.0.0.21'), '10.244.11.0/26')?.clusterList).toEqual([id('192.0.2.1')]);
  });

  it('a route carrying our cluster ID or our router ID as originator is a loop and never becomes best', () => {
    const r = reflector();
    r.update('10.0.0.21', announce(['10.244.30.0/26'], { origin: 0, asPath: [], nextHop: '10.0.0.21', clusterList: [id('192.0.2.100')] }));
    r.update('10.0.0.22', announce(['10.244.31.0/26'], { origin: 0, asPath: [], nextHop: '10.0.0.22', originatorId: id('192.0.2.1') }));
    settle(r);
    expect(r.locRib.best(key('10.244.30.0/26'))).toBeUndefined();
    expect(r.explain(key('10.244.31.0/26'))[0]).toMatchObject({ status: 'ineligible', ineligible: 'originator-id-is-self' });
    expect(sent(r, '10.0.0.11')).toEqual([]);
  });
});

describe('Rib: withdrawals, coalescing, End-of-RIB', () => {
  it('a withdraw reaches every peer that had the route', () => {
    const r = rib();
    r.peerUp(session('203.0.113.1', { asn: 65001 }));
    r.peerUp(session('10.0.0.2'));
    r.update('203.0.113.1', announce(['10.244.1.0/26', '10.244.2.0/26'], { origin: 0, asPath: path(65001), nextHop: '203.0.113.1' }));
    settle(r);
    sent(r, '10.0.0.2');
    r.update('203.0.113.1', withdraw(['10.244.2.0/26']));
    settle(r);
    const got = sent(r, '10.0.0.2');
    expect(withdrawnOf(got)).toEqual(['10.244.2.0/26']);
    expect(announced(got)).toEqual([]);
    expect(r.takeFibChanges().at(-1)).toEqual({ prefix: key('10.244.2.0/26'), paths: [], local: false });
  });

  it('announce then withdraw before the peer was sent anything coalesces to nothing; End-of-RIB still follows the initial table', () => {
    const r = rib();
    r.peerUp(session('203.0.113.1', { asn: 65001 }));
    r.update('203.0.113.1', announce(['10.244.1.0/26'], { origin: 0, asPath: path(65001), nextHop: NH }));
    r.peerUp(session('10.0.0.2', { families: ['ipv4-unicast'] }));
    r.update('203.0.113.1', announce(['10.244.1.0/26'], { origin: 0, asPath: path(65001), nextHop: '203.0.113.7' }));
    r.update('203.0.113.1', withdraw(['10.244.1.0/26']));
    settle(r);
    expect(sent(r, '10.0.0.2').map((s) => s.kind)).toEqual(['eor']);
  });

  it('the initial table goes out before End-of-RIB, in bounded slices', () => {
    const r = rib();
    r.peerUp(session('203.0.113.1', { asn: 65001 }));
    const prefixes = Array.from({ length: 3000 }, (_, i) => `10.${(i >> 8) & 255}.${i & 255}.0/24`);
    for (let i = 0; i < prefixes.length; i += 500) r.update('203.0.113.1', announce(prefixes.slice(i, i + 500), { origin: 0, asPath: path(65001), nextHop: NH }));
    settle(r);
    r.takeNotices();
    r.peerUp(session('10.0.0.2', { families: ['ipv4-unicast'] }));
    const before = r.process(100);
    expect(before).toBeLessThanOrEqual(101);
    expect(r.hasWork()).toBe(true);
    const slices = settle(r, 100);
    expect(slices).toBeGreaterThan(20);
    const got = sent(r, '10.0.0.2');
    expect(announced(got)).toHaveLength(3000);
    expect(got.at(-1)?.kind).toBe('eor');
    expect(got.filter((s) => s.kind === 'eor')).toHaveLength(1);
    expect(r.takeNotices()).toContainEqual({ type: 'initial-table-queued', address: '10.0.0.2', prefixes: 3000 });
  });

  it('treat-as-withdraw (RFC 7606 §2) withdraws every NLRI of the UPDATE', () => {
    const r = rib();
    r.peerUp(session('203.0.113.1', { asn: 65001 }));
    r.update('203.0.113.1', announce(['10.244.1.0/26'], { origin: 0, asPath: path(65001), nextHop: NH }));
    settle(r);
    const bad = announce(['10.244.1.0/26'], { origin: 0, asPath: path(65001), nextHop: NH, med: 5 });
    r.update('203.0.113.1', { ...bad, treatAsWithdraw: { code: 3, subcode: 1, reason: 'test', data: Buffer.alloc(0), action: 'treat-as-withdraw' } as never });
    settle(r);
    expect(r.locRib.best(key('10.244.1.0/26'))).toBeUndefined();
    expect(r.peerStats('203.0.113.1')?.byFamily['ipv4-unicast'].received).toBe(0);
  });
});

describe('Rib: decision and FIB output', () => {
  it('ECMP: equal eBGP paths from one neighbour AS form the multipath set, capped by fib.ecmp', () => {
    const r = rib({ ecmp: 2 });
    for (const p of ['203.0.113.1', '203.0.113.2', '203.0.113.3']) r.peerUp(session(p, { asn: 65001 }));
    for (const p of ['203.0.113.1', '203.0.113.2', '203.0.113.3']) r.update(p, announce(['10.244.9.0/26'], { origin: 0, asPath: path(65001), nextHop: p }));
    settle(r);
    const last = r.takeFibChanges().filter((c) => c.prefix === key('10.244.9.0/26')).at(-1)!;
    expect(last.paths.map((p) => p.peer.address)).toEqual(['203.0.113.1', '203.0.113.2']);
    expect(r.explain(key('10.244.9.0/26')).map((e) => e.status)).toEqual(['best', 'multipath', 'lost']);
  });

  it('an eBGP path with our own AS is a loop unless allowas-in permits it', () => {
    const r = rib();
    r.peerUp(session('203.0.113.1', { asn: 65001 }));
    r.update('203.0.113.1', announce(['10.244.5.0/26'], { origin: 0, asPath: path(65001, LOCAL_AS), nextHop: NH }));
    settle(r);
    expect(r.locRib.best(key('10.244.5.0/26'))).toBeUndefined();
    expect(r.peerStats('203.0.113.1')?.byFamily['ipv4-unicast']).toMatchObject({ received: 1 });
  });
});

describe('Rib: local origination', () => {
  it('announce and withdraw a prefix; the config owns its own entries', () => {
    const r = rib();
    r.peerUp(session('203.0.113.2', { asn: 65002 }));
    r.peerUp(session('10.0.0.2'));
    settle(r);
    sent(r, '203.0.113.2');
    sent(r, '10.0.0.2');
    expect(r.announce('10.244.1.0/26', ['64512:100', '1:2:3'])).toEqual({ ok: true });
    settle(r);
    expect(attrsOf(sent(r, '203.0.113.2'), '10.244.1.0/26')).toMatchObject({
      origin: 0,
      asPath: path(LOCAL_AS),
      nextHop: '192.0.2.1',
      communities: [64512 * 65536 + 100],
      largeCommunities: [{ global: 1, local1: 2, local2: 3 }],
    });
    expect(attrsOf(sent(r, '10.0.0.2'), '10.244.1.0/26')).toMatchObject({ asPath: [], localPref: 100, nextHop: '192.0.2.1' });
    expect(r.takeFibChanges().at(-1)).toMatchObject({ prefix: key('10.244.1.0/26'), local: true, blackhole: true });
    expect(r.withdraw('10.244.1.0/26')).toEqual({ ok: true });
    settle(r);
    expect(withdrawnOf(sent(r, '203.0.113.2'))).toEqual(['10.244.1.0/26']);
    expect(r.withdraw('10.244.1.0/26')).toMatchObject({ ok: false, error: 'not-found' });
    expect(r.announce('10.244.2.0/26', ['not-a-community'])).toMatchObject({ ok: false, error: 'invalid' });

    r.setConfigOrigins([{ prefix: '10.244.3.0/26' }]);
    expect(r.withdraw('10.244.3.0/26')).toMatchObject({ ok: false, error: 'conflict' });
    settle(r);
    expect(announced(sent(r, '203.0.113.2'))).toEqual(['10.244.3.0/26']);
    r.setConfigOrigins([]);
    settle(r);
    expect(withdrawnOf(sent(r, '203.0.113.2'))).toEqual(['10.244.3.0/26']);
    expect(r.originated()).toEqual([]);
    // A /32 is originated but not blackholed (Calico: blocks only).
    r.announce('10.244.9.9/32');
    settle(r);
    expect(r.takeFibChanges().at(-1)).toEqual({ prefix: key('10.244.9.9/32'), paths: [r.locRib.best(key('10.244.9.9/32'))], local: true });
  });

  it('a locally originated route beats a learned one for the same prefix', () => {
    const r = rib();
    r.peerUp(session('203.0.113.1', { asn: 65001 }));
    r.update('203.0.113.1', announce(['10.244.1.0/26'], { origin: 0, asPath: path(65001), nextHop: NH }));
    r.announce('10.244.1.0/26', []);
    settle(r);
    expect(r.locRib.best(key('10.244.1.0/26'))?.peer.local).toBe(true);
    const got = sent(r, '203.0.113.1');
    expect(withdrawnOf(got)).toEqual([]);
    // Our own version goes to the peer that sent us its own (it is a different route).
    expect(attrsOf(got, '10.244.1.0/26')?.asPath).toEqual(path(LOCAL_AS));
  });
});
