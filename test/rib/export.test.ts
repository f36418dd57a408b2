// Export rules (src/rib/export.ts): who gets a route (RFC 4271 §9.2, RFC 4456
// §6, never back to its source), and the attribute rewrite per target kind ×
// source kind × next-hop mode (RFC 4271 §5.1, RFC 4456 §8, RFC 2545 §3).
import { describe, expect, it } from 'vitest';
import { AS_CONFED_SEQUENCE, AS_SEQUENCE, AS_SET, DEFAULT_CODEC_CONTEXT, type PathAttributes } from '../../src/bgp/wire/types.js';
import { decodeUpdate } from '../../src/bgp/wire/update.js';
import { v4KeyParse, v6KeyParse } from '../../src/lib/prefix.js';
import { AttrStore } from '../../src/rib/attr-store.js';
import {
  exportCheck,
  exportRoute,
  prependAs,
  rewriteAttributes,
  type ExportPath,
  type ExportSettings,
  type ExportTarget,
  type NextHopMode,
} from '../../src/rib/export.js';
import { localPeer, makePeer, type PeerInfo } from '../../src/rib/route.js';
import { packUpdates } from '../../src/rib/update-packer.js';

const LOCAL_AS = 64512;
const ROUTER_ID = 0xc0000201; // 192.0.2.1
const P = v4KeyParse('10.244.1.0/26')!;
const P6 = v6KeyParse('2001:db8:1::/48')!;
const store = new AttrStore();

function peer(address: string, asn: number, rrClient = false, localAsn = LOCAL_AS): PeerInfo {
  const octets = address.split('.').map(Number);
  const bgpId = address.includes(':') ? 0x0a000001 : (((octets[0]! << 24) | (octets[1]! << 16) | (octets[2]! << 8) | octets[3]!) >>> 0);
  return makePeer({ address, asn, localAsn, bgpId, rrClient });
}

const EBGP = peer('198.51.100.1', 65001);
const EBGP2 = peer('198.51.100.2', 65002);
const IBGP = peer('192.0.2.10', LOCAL_AS);
const IBGP2 = peer('192.0.2.11', LOCAL_AS);
const CLIENT = peer('192.0.2.20', LOCAL_AS, true);
const CLIENT2 = peer('192.0.2.21', LOCAL_AS, true);
const LOCAL = localPeer(ROUTER_ID, LOCAL_AS);

const RR: ExportSettings = { routerId: ROUTER_ID, clusterId: 0xc0000263, isReflector: true, clientToClient: true, defaultLocalPref: 100 };
const MESH: ExportSettings = { ...RR, isReflector: false, clusterId: undefined };

/** Attributes as each kind of source would have them in the Loc-RIB. */
const FROM: Record<string, PathAttributes> = {
  ebgp: { origin: 0, asPath: [{ type: AS_SEQUENCE, asns: [65001] }], nextHop: '198.51.100.1', med: 50, communities: [42] },
  ibgp: { origin: 0, asPath: [], nextHop: '192.0.2.10', med: 50, localPref: 200, communities: [42] },
  client: { origin: 0, asPath: [], nextHop: '192.0.2.20', localPref: 150, communities: [42] },
  local: { origin: 0, asPath: [], communities: [42] },
};
const SOURCES: Record<string, PeerInfo> = { ebgp: EBGP, ibgp: IBGP, client: CLIENT, local: LOCAL };

function path(source: string, over: Partial<PathAttributes> = {}): ExportPath {
  return { peer: SOURCES[source]!, attrs: store.intern({ ...FROM[source]!, ...over }) };
}

function target(p: PeerInfo, nextHopMode: NextHopMode = 'auto', extra: Partial<ExportTarget> = {}): ExportTarget {
  return { peer: p, nextHopMode, localAddressV4: '192.0.2.1', localAddressV6: '2001:db8::1', ...extra };
}

function exported(source: string, to: ExportTarget, settings = RR, over: Partial<PathAttributes> = {}): PathAttributes {
  const r = exportRoute(P, path(source, over), to, settings);
  if (!r.ok) throw new Error(`not exported: ${r.reason}`);
  return r.attrs;
}

describe('who gets a route', () => {
  // [source, target, reflector verdict, full-mesh verdict]
  const table: [string, PeerInfo, string | undefined, string | undefined][] = [
    ['ebgp', EBGP2, undefined, undefined],
    ['ebgp', IBGP, undefined, undefined],
    ['ebgp', CLIENT, undefined, undefined],
    ['ibgp', EBGP2, undefined, undefined],
    ['ibgp', IBGP2, 'non-client-to-non-client', 'ibgp-to-ibgp'],
    ['ibgp', CLIENT, undefined, 'ibgp-to-ibgp'],
    ['client', EBGP2, undefined, undefined],
    ['client', IBGP, undefined, 'ibgp-to-ibgp'],
    ['client', CLIENT2, undefined, 'ibgp-to-ibgp'],
    ['local', EBGP2, undefined, undefined],
    ['local', IBGP, undefined, undefined],
    ['local', CLIENT, undefined, undefined],
  ];
  it.each(table)('%s → %s', (source, to, reflector, mesh) => {
    expect(exportCheck(path(source), target(to), RR)).toBe(reflector);
    expect(exportCheck(path(source), target(to), MESH)).toBe(mesh);
  });

  it('never sends a route back to the peer it came from', () => {
    for (const [source, p] of Object.entries(SOURCES)) {
      if (source === 'local') continue;
      expect(exportCheck(path(source), target(p), RR)).toBe('source-peer');
      // A new session object for the same neighbour is still the source.
      const again = makePeer({ address: p.address, asn: p.asn, localAsn: LOCAL_AS, bgpId: p.bgpId, rrClient: p.rrClient });
      expect(exportCheck(path(source), target(again), RR)).toBe('source-peer');
    }
  });

  it('RFC 4456 §5: client-to-client reflection can be turned off', () => {
    expect(exportCheck(path('client'), target(CLIENT2), { ...RR, clientToClient: false })).toBe('client-to-client-disabled');
    expect(exportCheck(path('client'), target(IBGP), { ...RR, clientToClient: false })).toBeUndefined();
  });

  it('RFC 4456 §8: does not reflect a route to the router named in ORIGINATOR_ID', () => {
    expect(exportCheck(path('client', { originatorId: CLIENT2.bgpId }), target(CLIENT2), RR)).toBe('originator-is-target');
  });

  it('sends eBGP peers routes with their own ASN in AS_PATH unless the sender check is on', () => {
    const looped = path('ebgp', { asPath: [{ type: AS_SEQUENCE, asns: [65001, 65002] }] });
    expect(exportCheck(looped, target(EBGP2), RR)).toBeUndefined();
    expect(exportCheck(looped, target(EBGP2, 'auto', { senderAsLoopCheck: true }), RR)).toBe('as-loop-at-target');
  });
});

describe('next hop: target kind × source kind × mode (IPv4)', () => {
  const SELF = '192.0.2.1';
  // Expected NEXT_HOP per [source][target kind][mode].
  const expectNh: Record<string, Record<'ebgp' | 'ibgp', Record<NextHopMode, string>>> = {
    ebgp: { ebgp: { auto: SELF, self: SELF, keep: '198.51.100.1' }, ibgp: { auto: '198.51.100.1', self: SELF, keep: '198.51.100.1' } },
    ibgp: { ebgp: { auto: SELF, self: SELF, keep: '192.0.2.10' }, ibgp: { auto: '192.0.2.10', self: SELF, keep: '192.0.2.10' } },
    client: { ebgp: { auto: SELF, self: SELF, keep: '192.0.2.20' }, ibgp: { auto: '192.0.2.20', self: SELF, keep: '192.0.2.20' } },
    local: { ebgp: { auto: SELF, self: SELF, keep: SELF }, ibgp: { auto: SELF, self: SELF, keep: SELF } },
  };
  const cases: [string, 'ebgp' | 'ibgp', NextHopMode][] = [];
  for (const s of Object.keys(expectNh)) for (const t of ['ebgp', 'ibgp'] as const) for (const m of ['auto', 'self', 'keep'] as const) cases.push([s, t, m]);
  it.each(cases)('from %s to %s, %s', (source, kind, mode) => {
    // A client as the iBGP target so every source may go there (RFC 4456 §6).
    const to = kind === 'ebgp' ? EBGP2 : source === 'client' ? IBGP : CLIENT;
    const a = exported(source, target(to, mode));
    expect(a.nextHop).toBe(expectNh[source]![kind][mode]);
    expect(a.mpReach).toBeUndefined();
  });

  it('cannot be the next hop without a local IPv4 address on the session', () => {
    const r = exportRoute(P, path('local'), { peer: EBGP2, nextHopMode: 'auto' }, RR);
    expect(r).toEqual({ ok: false, reason: 'no-next-hop' });
  });
});

describe('attributes toward eBGP', () => {
  it('prepends our ASN, strips LOCAL_PREF, received MED, ORIGINATOR_ID and CLUSTER_LIST', () => {
    const a = exported('client', target(EBGP2), RR, { originatorId: 7, clusterList: [9], med: 10, asPath: [{ type: AS_SEQUENCE, asns: [65010] }] });
    expect(a).toEqual({
      origin: 0,
      asPath: [{ type: AS_SEQUENCE, asns: [LOCAL_AS, 65010] }],
      nextHop: '192.0.2.1',
      communities: [42],
    });
  });

  it('RFC 4271 §5.1.4: keeps a MED we set (originated here, or by export policy)', () => {
    expect(exported('local', target(EBGP2), RR, { med: 5 }).med).toBe(5);
    expect(exported('ebgp', target(EBGP2)).med).toBeUndefined();
    const r = rewriteAttributes(FROM['ebgp']!, EBGP, 'ipv4-unicast', target(EBGP2), RR, { medSetByPolicy: true });
    expect(r.ok && r.attrs.med).toBe(50);
  });

  it('originated routes: ORIGIN IGP, AS_PATH of just our ASN, communities from origination', () => {
    expect(exported('local', target(EBGP2))).toEqual({
      origin: 0,
      asPath: [{ type: AS_SEQUENCE, asns: [LOCAL_AS] }],
      nextHop: '192.0.2.1',
      communities: [42],
    });
  });

  it('prepends the ASN of the session (a per-neighbour local AS), 4-octet included', () => {
    const far = peer('198.51.100.9', 65009, false, 4200000000);
    const a = exported('ebgp', target(far));
    expect(a.asPath).toEqual([{ type: AS_SEQUENCE, asns: [4200000000, 65001] }]);
    // To a 2-octet peer the codec sends AS_TRANS in AS_PATH and the real path in AS4_PATH (RFC 6793 §4.2.2).
    const [msg] = packUpdates(a, 'ipv4-unicast', [P], DEFAULT_CODEC_CONTEXT);
    const d = decodeUpdate(msg!.subarray(19), DEFAULT_CODEC_CONTEXT);
    expect(d.ok && d.value.update.attributes.asPath).toEqual(a.asPath);
  });

  it('drops confederation segments leaving the AS (RFC 5065 §5.3)', () => {
    const a = exported('ibgp', target(EBGP2), RR, { asPath: [{ type: AS_CONFED_SEQUENCE, asns: [65100] }, { type: AS_SEQUENCE, asns: [65001] }] });
    expect(a.asPath).toEqual([{ type: AS_SEQUENCE, asns: [LOCAL_AS, 65001] }]);
  });
});

describe('AS_PATH prepend', () => {
  it('extends a leading AS_SEQUENCE', () => {
    expect(prependAs([{ type: AS_SEQUENCE, asns: [1, 2] }, { type: AS_SET, asns: [3, 4] }], 9)).toEqual([
      { type: AS_SEQUENCE, asns: [9, 1, 2] },
      { type: AS_SET, asns: [3, 4] },
    ]);
  });

  it('starts a new AS_SEQUENCE in front of an AS_SET or an empty path', () => {
    expect(prependAs([{ type: AS_SET, asns: [3, 4] }], 9)).toEqual([
      { type: AS_SEQUENCE, asns: [9] },
      { type: AS_SET, asns: [3, 4] },
    ]);
    expect(prependAs([], 9)).toEqual([{ type: AS_SEQUENCE, asns: [9] }]);
  });

  it('starts a new segment when the leading one already holds 255 ASNs, and it survives the wire', () => {
    const full = Array.from({ length: 255 }, (_, i) => 65000 + i);
    const path2 = prependAs([{ type: AS_SEQUENCE, asns: full }], 4200000001);
    expect(path2).toEqual([
      { type: AS_SEQUENCE, asns: [4200000001] },
      { type: AS_SEQUENCE, asns: full },
    ]);
    expect(prependAs([{ type: AS_SEQUENCE, asns: full.slice(1) }], 1)[0]!.asns.length).toBe(255);
    const ctx = { ...DEFAULT_CODEC_CONTEXT, fourOctetAs: true };
    const [msg] = packUpdates({ origin: 0, asPath: path2, nextHop: '192.0.2.1' }, 'ipv4-unicast', [P], ctx);
    const d = decodeUpdate(msg!.subarray(19), ctx);
    expect(d.ok && d.value.update.attributes.asPath).toEqual(path2);
  });
});

describe('attributes toward iBGP', () => {
  it('eBGP-learned: AS_PATH unchanged, default LOCAL_PREF, MED kept, no reflection attributes', () => {
    expect(exported('ebgp', target(IBGP))).toEqual({
      origin: 0,
      asPath: [{ type: AS_SEQUENCE, asns: [65001] }],
      nextHop: '198.51.100.1',
      med: 50,
      localPref: 100,
      communities: [42],
    });
  });

  it('originated: empty AS_PATH, default LOCAL_PREF, next hop self', () => {
    expect(exported('local', target(IBGP), { ...RR, defaultLocalPref: 300 })).toEqual({
      origin: 0,
      asPath: [],
      nextHop: '192.0.2.1',
      localPref: 300,
      communities: [42],
    });
  });

  it('reflected from a non-client to a client: LOCAL_PREF kept, ORIGINATOR_ID = source, CLUSTER_LIST = ours', () => {
    const a = exported('ibgp', target(CLIENT));
    expect(a).toEqual({
      origin: 0,
      asPath: [],
      nextHop: '192.0.2.10',
      med: 50,
      localPref: 200,
      communities: [42],
      originatorId: IBGP.bgpId,
      clusterList: [RR.clusterId],
    });
  });

  it('reflected again: ORIGINATOR_ID kept, our cluster ID prepended', () => {
    const a = exported('client', target(IBGP), RR, { originatorId: 0x0a0a0a0a, clusterList: [0x01020304] });
    expect(a.originatorId).toBe(0x0a0a0a0a);
    expect(a.clusterList).toEqual([RR.clusterId, 0x01020304]);
  });

  it('cluster ID defaults to the router ID', () => {
    expect(exported('client', target(IBGP), { ...RR, clusterId: undefined }).clusterList).toEqual([ROUTER_ID]);
  });

  it('strips ORIGINATOR_ID / CLUSTER_LIST on routes not reflected', () => {
    const a = exported('ebgp', target(IBGP), RR, { originatorId: 5, clusterList: [6] });
    expect(a.originatorId).toBeUndefined();
    expect(a.clusterList).toBeUndefined();
  });
});

describe('IPv6 next hops in MP_REACH_NLRI (RFC 2545 §3)', () => {
  const v6From: PathAttributes = {
    origin: 0,
    asPath: [],
    localPref: 100,
    mpReach: { family: 'ipv6-unicast', nextHop: '2001:db8::10', linkLocalNextHop: 'fe80::10', nlri: { family: 'ipv6-unicast', prefixes: [] } },
  };
  const src: ExportPath = { peer: IBGP, attrs: store.intern(v6From) };

  it('self: our global address, plus our link-local one when the peer is on the link', () => {
    const r = exportRoute(P6, src, target(CLIENT, 'self', { linkLocalAddressV6: 'fe80::1' }), RR);
    expect(r.ok && r.attrs.mpReach).toEqual({ family: 'ipv6-unicast', nextHop: '2001:db8::1', linkLocalNextHop: 'fe80::1', nlri: { family: 'ipv6-unicast', prefixes: [] } });
    expect(r.ok && r.attrs.nextHop).toBeUndefined();
    const offLink = exportRoute(P6, src, target(CLIENT, 'self'), RR);
    expect(offLink.ok && offLink.attrs.mpReach?.linkLocalNextHop).toBeUndefined();
  });

  it('keep: the global next hop only; the source router\'s link-local address means nothing elsewhere', () => {
    const r = exportRoute(P6, src, target(CLIENT, 'auto', { linkLocalAddressV6: 'fe80::1' }), RR);
    expect(r.ok && r.attrs.mpReach).toEqual({ family: 'ipv6-unicast', nextHop: '2001:db8::10', nlri: { family: 'ipv6-unicast', prefixes: [] } });
  });

  it('toward eBGP in auto mode: self; without a local IPv6 address: not exported', () => {
    const r = exportRoute(P6, src, target(EBGP2), RR);
    expect(r.ok && r.attrs.mpReach?.nextHop).toBe('2001:db8::1');
    expect(exportRoute(P6, src, { peer: EBGP2, nextHopMode: 'auto', localAddressV4: '192.0.2.1' }, RR)).toEqual({ ok: false, reason: 'no-next-hop' });
  });

  it('an IPv4 route exported as IPv6 family is refused rather than given a bogus next hop', () => {
    const v4only: ExportPath = { peer: IBGP, attrs: store.intern(FROM['ibgp']!) };
    const r = rewriteAttributes(v4only.attrs.attrs, IBGP, 'ipv6-unicast', { peer: CLIENT, nextHopMode: 'keep' }, RR);
    expect(r).toEqual({ ok: false, reason: 'no-next-hop' });
  });

  it('packs and decodes with the next hops chosen', () => {
    const r = exportRoute(P6, src, target(EBGP2, 'self', { linkLocalAddressV6: 'fe80::1' }), RR);
    if (!r.ok) throw new Error(r.reason);
    const ctx = { ...DEFAULT_CODEC_CONTEXT, fourOctetAs: true };
    const [msg] = packUpdates(r.attrs, 'ipv6-unicast', [P6], ctx);
    const d = decodeUpdate(msg!.subarray(19), ctx);
    expect(d.ok && d.value.update.attributes.mpReach?.linkLocalNextHop).toBe('fe80::1');
    expect(d.ok && d.value.update.attributes.asPath).toEqual([{ type: AS_SEQUENCE, asns: [LOCAL_AS] }]);
    expect(d.ok && d.value.update.attributes.localPref).toBeUndefined();
  });
});
