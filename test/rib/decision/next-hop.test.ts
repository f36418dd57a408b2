// Next-hop validity (RFC 4271 §5.1.3, §6.3): one case per rule for IPv4 and
// IPv6 next hops, the reason explain() gives, and a path with a bad next hop
// kept in the Rib's tables (visible, ineligible) while a good path wins.
import { describe, expect, it } from 'vitest';
import { v6KeyParse } from '../../../src/lib/prefix.js';
import { classifyNextHop, nextHopFault } from '../../../src/rib/decision/next-hop.js';
import { decideBest, explain } from '../../../src/rib/decision/decide.js';
import { checkEligibility } from '../../../src/rib/decision/eligibility.js';
import { LocRib } from '../../../src/rib/loc-rib.js';
import { localPeer, makePeer, Path } from '../../../src/rib/route.js';
import { LOCAL_AS, P, ctx, ip, peer, route, store } from '../fixtures.js';

const V6 = v6KeyParse('2001:db8:1::/48')!;
const e = peer('192.0.2.10');
const good = () => route(peer('192.0.2.11'), { nextHop: '192.0.2.11' });

function v6route(p = e, nextHop: string, linkLocalNextHop?: string): Path {
  const mpReach = { family: 'ipv6-unicast' as const, nextHop, ...(linkLocalNextHop ? { linkLocalNextHop } : {}), nlri: { family: 'ipv6-unicast' as const, prefixes: [] } };
  return new Path(p, store.intern({ origin: 0, asPath: [{ type: 2, asns: [65001] }], mpReach }));
}

describe('classifyNextHop', () => {
  it.each([
    ['0.0.0.0', 'unspecified'],
    ['0.1.2.3', 'unspecified'],
    ['127.0.0.1', 'loopback'],
    ['127.255.0.9', 'loopback'],
    ['224.0.0.1', 'multicast'],
    ['239.1.1.1', 'multicast'],
    ['255.255.255.255', 'multicast'],
    ['169.254.3.4', 'link-local'],
    ['192.0.2.1', 'unicast'],
    ['::', 'unspecified'],
    ['::1', 'loopback'],
    ['ff02::1', 'multicast'],
    ['fe80::1', 'link-local'],
    ['febf::1', 'link-local'],
    ['fec0::1', 'unicast'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:192.0.2.1', 'unicast'],
    ['2001:db8::1', 'unicast'],
  ])('%s is %s', (text, cls) => {
    expect(classifyNextHop(text)).toBe(cls);
  });

  it('no next hop is missing', () => {
    expect(classifyNextHop(undefined)).toBe('missing');
  });
});

describe('next-hop validity (RFC 4271 §6.3)', () => {
  it.each([
    ['0.0.0.0', 'next-hop-unspecified'],
    ['127.0.0.1', 'next-hop-loopback'],
    ['224.0.0.1', 'next-hop-multicast'],
    ['169.254.0.7', 'next-hop-link-local'],
  ] as const)('an IPv4 next hop %s is %s; the good path wins', (nh, reason) => {
    const bad = route(e, { nextHop: nh });
    const ok = good();
    expect(checkEligibility(bad, ctx(), 'ipv4-unicast')).toBe(reason);
    const d = decideBest([bad, ok], ctx(), 'ipv4-unicast');
    expect(d.best).toBe(ok);
    expect(d.ineligible).toEqual([{ path: bad, reason }]);
  });

  it.each([
    ['::', 'next-hop-unspecified'],
    ['::1', 'next-hop-loopback'],
    ['ff02::2', 'next-hop-multicast'],
    ['fe80::2', 'next-hop-link-local'],
  ] as const)('an IPv6 next hop %s is %s', (nh, reason) => {
    expect(checkEligibility(v6route(e, nh), ctx(), 'ipv6-unicast')).toBe(reason);
  });

  it('a link-local next hop is usable when the session runs over an interface', () => {
    const onLink = makePeer({ address: 'fe80::2', asn: 65001, localAsn: LOCAL_AS, bgpId: ip('192.0.2.50'), interface: 'eth0' });
    expect(checkEligibility(v6route(onLink, 'fe80::2'), ctx(), 'ipv6-unicast')).toBeUndefined();
    const v4OnLink = makePeer({ address: '169.254.0.2', asn: 65001, localAsn: LOCAL_AS, bgpId: ip('192.0.2.51'), interface: 'eth0' });
    expect(checkEligibility(route(v4OnLink, { nextHop: '169.254.0.2' }), ctx(), 'ipv4-unicast')).toBeUndefined();
  });

  it('a global next hop with an RFC 2545 link-local beside it needs no interface', () => {
    expect(checkEligibility(v6route(e, '2001:db8::2', 'fe80::2'), ctx(), 'ipv6-unicast')).toBeUndefined();
  });

  it('our own address as next hop (RFC 4271 §5.1.3 a), IPv4 and IPv6', () => {
    const own = new Set(['192.0.2.1', '2001:db8::1']);
    const c = ctx({ ownAddress: (a) => own.has(a) });
    expect(checkEligibility(route(e, { nextHop: '192.0.2.1' }), c, 'ipv4-unicast')).toBe('next-hop-own-address');
    expect(checkEligibility(v6route(e, '2001:db8::1'), c, 'ipv6-unicast')).toBe('next-hop-own-address');
    expect(checkEligibility(route(e, { nextHop: '192.0.2.2' }), c, 'ipv4-unicast')).toBeUndefined();
  });

  it('the family of the prefix picks the next hop: IPv6 NLRI with NEXT_HOP but a loopback MP next hop', () => {
    const mpReach = { family: 'ipv6-unicast' as const, nextHop: '::1', nlri: { family: 'ipv6-unicast' as const, prefixes: [] } };
    const both = new Path(e, store.intern({ origin: 0, asPath: [{ type: 2, asns: [65001] }], nextHop: '192.0.2.10', mpReach }));
    expect(checkEligibility(both, ctx(), 'ipv4-unicast')).toBeUndefined();
    expect(checkEligibility(both, ctx(), 'ipv6-unicast')).toBe('next-hop-loopback');
  });

  it('no next hop of the family is missing; originated routes are never checked', () => {
    expect(checkEligibility(route(e, { nextHop: undefined }), ctx(), 'ipv4-unicast')).toBe('next-hop-missing');
    const local = new Path(localPeer(ip('192.0.2.1'), LOCAL_AS), store.intern({ origin: 0, asPath: [] }));
    expect(nextHopFault(local, 'ipv4-unicast', ctx())).toBeUndefined();
    expect(checkEligibility(local, ctx({ nextHopReachable: () => false }), 'ipv4-unicast')).toBeUndefined();
  });

  it('a loopback next hop is kept from a peer on this host (its session is over loopback)', () => {
    const here = peer('127.0.0.52');
    expect(checkEligibility(route(here, { nextHop: '127.0.0.52' }), ctx(), 'ipv4-unicast')).toBeUndefined();
    const here6 = makePeer({ address: '::1', asn: 65001, localAsn: LOCAL_AS, bgpId: ip('192.0.2.53') });
    expect(checkEligibility(v6route(here6, '::1'), ctx(), 'ipv6-unicast')).toBeUndefined();
    // ...but never from a remote one, and never a multicast one.
    expect(checkEligibility(route(here, { nextHop: '224.0.0.1' }), ctx(), 'ipv4-unicast')).toBe('next-hop-multicast');
  });

  it('validity runs before reachability: a loopback next hop is not reported as unreachable', () => {
    expect(checkEligibility(route(e, { nextHop: '127.0.0.1' }), ctx({ nextHopReachable: () => false }), 'ipv4-unicast')).toBe('next-hop-loopback');
  });

  it('explain names the reason in words', () => {
    const bad = v6route(e, '::1');
    const out = explain([bad], ctx(), 'ipv6-unicast');
    expect(out).toEqual([expect.objectContaining({ path: bad, status: 'ineligible', ineligible: 'next-hop-loopback' })]);
    expect(out[0]!.text).toMatch(/loopback.*RFC 4271 §6\.3/);
  });

  it('the Loc-RIB keeps the path as a candidate without a best, and takes the good one when it comes', () => {
    const rib = new LocRib(ctx());
    const bad = v6route(e, '::1');
    expect(rib.update(V6, bad)).toBe('none');
    expect(rib.best(V6)).toBeUndefined();
    expect(rib.candidates(V6)).toEqual([bad]);
    expect(rib.decision(V6).ineligible[0]?.reason).toBe('next-hop-loopback');
    const ok = v6route(peer('192.0.2.12'), '2001:db8::12');
    expect(rib.update(V6, ok)).toBe('best');
    expect(rib.best(V6)).toBe(ok);
    // The IPv4 prefix's decision uses NEXT_HOP, not the MP next hop.
    expect(rib.update(P, route(e, { nextHop: '224.0.0.1' }))).toBe('none');
    expect(rib.explain(P)[0]?.ineligible).toBe('next-hop-multicast');
  });
});
