// Attribute interning: equal sets share one frozen object, refcounts free
// them, derived facts follow RFC 4271 §9.1.2.2 and RFC 4456 §9.
import { describe, expect, it } from 'vitest';
import { AS_CONFED_SEQUENCE, AS_SEQUENCE, AS_SET, type PathAttributes } from '../../src/bgp/wire/types.js';
import { AttrStore } from '../../src/rib/attr-store.js';

const base: PathAttributes = {
  origin: 0,
  asPath: [{ type: AS_SEQUENCE, asns: [65001, 65002] }],
  nextHop: '192.0.2.1',
  communities: [0xfde80064],
};

describe('AttrStore', () => {
  it('equal attributes (from different UPDATEs) intern to the same frozen object', () => {
    const s = new AttrStore();
    const a = s.intern(base);
    const b = s.intern({ ...base, asPath: [{ type: AS_SEQUENCE, asns: [65001, 65002] }], communities: [0xfde80064] });
    expect(b).toBe(a);
    expect(a.refs).toBe(2);
    expect(s.size()).toBe(1);
    expect(Object.isFrozen(a.attrs)).toBe(true);
    expect(Object.isFrozen(a.attrs.asPath![0]!.asns)).toBe(true);
    expect(() => (a.attrs.communities as number[]).push(1)).toThrow(TypeError);
  });

  it('copies: mutating the decoder output afterwards does not change the set', () => {
    const s = new AttrStore();
    const path = [65001];
    const a = s.intern({ origin: 0, asPath: [{ type: AS_SEQUENCE, asns: path }], nextHop: '192.0.2.1' });
    path.push(65099);
    expect(a.attrs.asPath![0]!.asns).toEqual([65001]);
  });

  it('any differing attribute gives a different set', () => {
    const s = new AttrStore();
    const a = s.intern(base);
    const variants: PathAttributes[] = [
      { ...base, origin: 1 },
      { ...base, asPath: [{ type: AS_SET, asns: [65001, 65002] }] },
      { ...base, nextHop: '192.0.2.2' },
      { ...base, med: 0 },
      { ...base, localPref: 100 },
      { ...base, atomicAggregate: true },
      { ...base, communities: [0xfde80065] },
      { ...base, originatorId: 1 },
      { ...base, clusterList: [1] },
      { ...base, extCommunities: [0x0002fde800000064n] },
      { ...base, largeCommunities: [{ global: 64512, local1: 1, local2: 2 }] },
      { ...base, unknown: [{ flags: 0xc0, code: 99, value: Buffer.from([1, 2]) }] },
    ];
    const sets = variants.map((v) => s.intern(v));
    expect(new Set([a, ...sets]).size).toBe(variants.length + 1);
  });

  it('keeps the MP next hop but not the MP NLRI: two UPDATEs with different IPv6 prefixes share a set', () => {
    const s = new AttrStore();
    const mk = (prefix: string): PathAttributes => ({
      origin: 0,
      asPath: [],
      mpReach: { family: 'ipv6-unicast', nextHop: '2001:db8::1', linkLocalNextHop: 'fe80::1', nlri: { family: 'ipv6-unicast', prefixes: [prefix] } },
    });
    const a = s.intern(mk('20010db8000100000000000000000000/64'));
    const b = s.intern(mk('20010db8000200000000000000000000/64'));
    expect(b).toBe(a);
    expect(a.attrs.mpReach!.nlri.prefixes).toEqual([]);
    expect(a.nextHopV6).toBe('2001:db8::1');
    expect(a.linkLocalNextHop).toBe('fe80::1');
    expect(a.nextHopV4).toBeUndefined();
    const other = s.intern({ ...mk('20010db8000100000000000000000000/64'), mpReach: { family: 'ipv6-unicast', nextHop: '2001:db8::2', nlri: { family: 'ipv6-unicast', prefixes: [] } } });
    expect(other).not.toBe(a);
  });

  it('release frees the set at refcount zero; a later intern makes a new one', () => {
    const s = new AttrStore();
    const a = s.intern(base);
    s.retain(a, 3);
    s.release(a, 2);
    expect(s.has(a)).toBe(true);
    s.release(a);
    expect(s.has(a)).toBe(true);
    s.release(a);
    expect(s.has(a)).toBe(false);
    expect(s.size()).toBe(0);
    const again = s.intern(base);
    expect(again).not.toBe(a);
    expect(again.refs).toBe(1);
  });

  it('drops LOCAL_PREF from external peers (RFC 4271 §5.1.5)', () => {
    const s = new AttrStore();
    const ext = s.intern({ ...base, localPref: 500 }, { external: true });
    expect(ext.attrs.localPref).toBeUndefined();
    expect(ext).toBe(s.intern(base));
    expect(s.intern({ ...base, localPref: 500 }).attrs.localPref).toBe(500);
  });

  it('derives AS_PATH length, neighbour AS, origin AS, next hop and CLUSTER_LIST length once', () => {
    const s = new AttrStore();
    const a = s.intern({
      origin: 0,
      asPath: [
        { type: AS_CONFED_SEQUENCE, asns: [65100, 65101] }, // counts 0 (RFC 5065 §5.3)
        { type: AS_SEQUENCE, asns: [65001, 65002] }, // counts 2; 65001 is the neighbour AS
        { type: AS_SET, asns: [7, 8, 9] }, // counts 1
      ],
      nextHop: '10.0.0.1',
      clusterList: [1, 2, 3],
    });
    expect(a.asPathLength).toBe(3);
    expect(a.neighbourAs).toBe(65001);
    expect(a.originAs).toBeUndefined(); // ends in an AS_SET
    expect(a.nextHopV4).toBe('10.0.0.1');
    expect(a.nextHopV4Num).toBe(0x0a000001);
    expect(a.clusterListLength).toBe(3);

    const local = s.intern({ origin: 0, asPath: [], nextHop: '10.0.0.1' });
    expect([local.asPathLength, local.neighbourAs, local.originAs, local.clusterListLength]).toEqual([0, undefined, undefined, 0]);
    const agg = s.intern({ origin: 0, asPath: [{ type: AS_SET, asns: [1, 2] }, { type: AS_SEQUENCE, asns: [3] }], nextHop: '10.0.0.1' });
    // RFC 4271 §9.1.2.2 c: an aggregate starting with AS_SET counts as from the local AS.
    expect(agg.neighbourAs).toBeUndefined();
    expect(agg.originAs).toBe(3);
    expect(agg.asPathLength).toBe(2);
  });
});
