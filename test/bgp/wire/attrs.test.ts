// Every path attribute both ways as annotated hex (RFC 4271 §4.3, §5; RFC 1997,
// 4360, 4456, 4760, 2545, 6793, 8092), the RFC 7606 §7 verdict for each
// malformed value, and formatAttributes.
import { describe, expect, it } from 'vitest';
import { fromHex } from '../../helpers/hex.js';
import { decodeUpdate } from '../../../src/bgp/wire/update.js';
import { formatAttributes } from '../../../src/bgp/wire/attrs/registry.js';
import type { CodecContext, PathAttributes } from '../../../src/bgp/wire/types.js';
import { prefixParse } from '../../../src/lib/prefix.js';
import { ADD_PATH, NEW, OLD, body, encodeAttrs } from './attrs-helpers.js';

function decodeAttrs(hexText: string, ctx: CodecContext, nlri = ''): PathAttributes {
  const r = decodeUpdate(body(hexText, nlri), ctx);
  if (!r.ok) throw new Error(r.error.reason);
  // MP_REACH_NLRI alone lacks ORIGIN and AS_PATH: RFC 7606 §3 d makes that treat-as-withdraw.
  if (r.value.update.attributes.mpReach) expect(r.value.treatAsWithdraw).toMatchObject({ subcode: 3, data: Buffer.from([1]) });
  else expect(r.value.treatAsWithdraw).toBeUndefined();
  expect(r.value.discarded).toEqual([]);
  return r.value.update.attributes;
}

/** [name, context, attributes, wire octets]: each must decode to the other and encode back. */
const VECTORS: [string, CodecContext, PathAttributes, string][] = [
  ['ORIGIN igp', NEW, { origin: 0 }, '40 01 01 00'],
  ['ORIGIN incomplete', NEW, { origin: 2 }, '40 01 01 02'],
  [
    'AS_PATH, 4-octet',
    NEW,
    { asPath: [{ type: 2, asns: [64512, 4200000000] }, { type: 1, asns: [1, 2] }] },
    `40 02 14           # well-known, AS_PATH, 20 octets
     02 02 0000fc00 fa56ea00   # AS_SEQUENCE 64512 4200000000
     01 02 00000001 00000002`, // AS_SET {1 2}
  ],
  [
    'AS_PATH, 2-octet with confederation segments',
    OLD,
    { asPath: [{ type: 3, asns: [65001] }, { type: 4, asns: [65002, 65003] }, { type: 2, asns: [64512] }] },
    `40 02 0e
     03 01 fde9         # AS_CONFED_SEQUENCE (65001)
     04 02 fdea fdeb    # AS_CONFED_SET [65002 65003]
     02 01 fc00`, // AS_SEQUENCE 64512
  ],
  ['AS_PATH empty (iBGP origination)', NEW, { asPath: [] }, '40 02 00'],
  ['NEXT_HOP', NEW, { nextHop: '192.0.2.1' }, '40 03 04 c0000201'],
  ['MULTI_EXIT_DISC', NEW, { med: 100 }, '80 04 04 00000064'],
  ['LOCAL_PREF', NEW, { localPref: 4294967295 }, '40 05 04 ffffffff'],
  ['ATOMIC_AGGREGATE', NEW, { atomicAggregate: true }, '40 06 00'],
  ['AGGREGATOR, 2-octet', OLD, { aggregator: { asn: 64512, address: '1.2.3.4' } }, 'c0 07 06 fc00 01020304'],
  ['AGGREGATOR, 4-octet', NEW, { aggregator: { asn: 4200000000, address: '1.2.3.4' } }, 'c0 07 08 fa56ea00 01020304'],
  ['COMMUNITIES', NEW, { communities: [64512 * 65536 + 100, 0xffffff01] }, 'c0 08 08 fc000064 ffffff01 # 64512:100 NO_EXPORT'],
  ['ORIGINATOR_ID', NEW, { originatorId: 0xc0000201 }, '80 09 04 c0000201'],
  ['CLUSTER_LIST', NEW, { clusterList: [0xc0000201, 0xc0000202] }, '80 0a 08 c0000201 c0000202'],
  ['EXTENDED_COMMUNITIES', NEW, { extCommunities: [0x0002fc0000000064n] }, 'c0 10 08 0002fc0000000064 # rt 64512:100'],
  [
    'LARGE_COMMUNITY',
    NEW,
    { largeCommunities: [{ global: 4200000000, local1: 1, local2: 2 }] },
    'c0 20 0c fa56ea00 00000001 00000002',
  ],
  [
    'MP_REACH_NLRI IPv6, global next hop',
    NEW,
    {
      mpReach: {
        family: 'ipv6-unicast',
        nextHop: '2001:db8::1',
        nlri: { family: 'ipv6-unicast', prefixes: [prefixParse('2001:db8:0:1::/64')!] },
      },
    },
    `80 0e 1e                            # optional, MP_REACH_NLRI, 30 octets
     0002 01                             # AFI IPv6, SAFI unicast
     10 20010db8000000000000000000000001 # next hop 2001:db8::1
     00                                  # reserved
     40 20010db800000001`, // 2001:db8:0:1::/64
  ],
  [
    'MP_REACH_NLRI IPv6, global + link-local next hop (RFC 2545 §3)',
    NEW,
    {
      mpReach: {
        family: 'ipv6-unicast',
        nextHop: '2001:db8::1',
        linkLocalNextHop: 'fe80::1',
        nlri: { family: 'ipv6-unicast', prefixes: [prefixParse('2001:db8:0:1::/64')!] },
      },
    },
    `80 0e 2e 0002 01
     20 20010db8000000000000000000000001 fe800000000000000000000000000001
     00 40 20010db800000001`,
  ],
  [
    'MP_REACH_NLRI IPv6 with ADD-PATH',
    ADD_PATH,
    {
      mpReach: {
        family: 'ipv6-unicast',
        nextHop: '2001:db8::1',
        nlri: { family: 'ipv6-unicast', prefixes: [prefixParse('2001:db8:0:1::/64')!], pathIds: [7] },
      },
    },
    `80 0e 22 0002 01 10 20010db8000000000000000000000001 00
     00000007 40 20010db800000001`, // path id 7
  ],
  [
    'MP_UNREACH_NLRI IPv6',
    NEW,
    { mpUnreach: { nlri: { family: 'ipv6-unicast', prefixes: [prefixParse('2001:db8:0:1::/64')!] } } },
    '80 0f 0c 0002 01 40 20010db800000001',
  ],
  [
    'unknown optional transitive: kept, re-sent with Partial (decoded form already partial)',
    NEW,
    { unknown: [{ flags: 0xe0, code: 99, value: fromHex('abcd') }] },
    'e0 63 02 abcd',
  ],
];

describe('attribute vectors', () => {
  for (const [name, ctx, attrs, wire] of VECTORS) {
    it(`${name}: decodes`, () => expect(decodeAttrs(wire, ctx)).toEqual(attrs));
    it(`${name}: encodes`, () => expect(encodeAttrs(attrs, ctx)).toEqual(fromHex(wire)));
  }

  it('sets Partial on an unknown optional transitive attribute that arrived without it', () => {
    const attrs = decodeAttrs('c0 63 02 abcd', NEW);
    expect(attrs.unknown).toEqual([{ flags: 0xc0, code: 99, value: fromHex('abcd') }]);
    expect(encodeAttrs(attrs, NEW)).toEqual(fromHex('e0 63 02 abcd'));
  });

  it('drops unknown optional non-transitive attributes quietly', () => {
    expect(decodeAttrs('80 63 02 abcd  40 01 01 00', NEW)).toEqual({ origin: 0 });
  });

  it('uses the Extended Length flag above 255 octets', () => {
    const communities = Array.from({ length: 70 }, (_, i) => 64512 * 65536 + i);
    const wire = encodeAttrs({ communities }, NEW);
    expect(wire.subarray(0, 4)).toEqual(fromHex('d0 08 0118  # optional transitive + extended length, 280 octets'));
    expect(decodeAttrs(wire.toString('hex'), NEW).communities).toEqual(communities);
  });

  it('splits an AS_SEQUENCE longer than 255 into segments', () => {
    const asns = Array.from({ length: 300 }, (_, i) => 64512 + (i % 100));
    const wire = encodeAttrs({ asPath: [{ type: 2, asns }] }, NEW);
    expect(wire.subarray(0, 6)).toEqual(fromHex('50 02 04b4 02 ff  # 1204 octets; first segment 255 ASNs'));
    const back = decodeAttrs(wire.toString('hex'), NEW).asPath!;
    expect(back.map((s) => s.asns.length)).toEqual([255, 45]);
    expect(back.flatMap((s) => s.asns)).toEqual(asns);
  });

  it('accepts an IPv6 next hop for IPv4 NLRI (RFC 8950)', () => {
    const attrs = decodeAttrs(
      `80 0e 19 0001 01 10 20010db8000000000000000000000001 00
       18 0a0001`, // 10.0.1.0/24
      NEW,
    );
    expect(attrs.mpReach).toEqual({
      family: 'ipv4-unicast',
      nextHop: '2001:db8::1',
      nlri: { family: 'ipv4-unicast', prefixes: [prefixParse('10.0.1.0/24')] },
    });
  });

  it('writes MP_* first, then ascending type codes (RFC 7606 §5.1)', () => {
    const wire = encodeAttrs(
      {
        largeCommunities: [{ global: 1, local1: 2, local2: 3 }],
        origin: 0,
        mpUnreach: { nlri: { family: 'ipv6-unicast', prefixes: [] } },
        nextHop: '192.0.2.1',
        unknown: [{ flags: 0xc0, code: 40, value: Buffer.alloc(0) }, { flags: 0xc0, code: 20, value: Buffer.alloc(0) }],
      },
      NEW,
    );
    const codes: number[] = [];
    for (let p = 0; p < wire.length; ) {
      codes.push(wire[p + 1]!);
      p += (wire[p]! & 0x10 ? 4 + wire.readUInt16BE(p + 2) : 3 + wire[p + 2]!);
    }
    expect(codes).toEqual([15, 1, 3, 32, 20, 40]);
  });
});

describe('formatAttributes', () => {
  it('prints paths and communities the way operators read them', () => {
    const text = formatAttributes({
      origin: 0,
      asPath: [{ type: 2, asns: [64512, 64513] }, { type: 1, asns: [1, 2] }],
      nextHop: '192.0.2.1',
      localPref: 100,
      communities: [64512 * 65536 + 100],
      extCommunities: [0x0002fc0000000064n],
      largeCommunities: [{ global: 64512, local1: 1, local2: 2 }],
      clusterList: [0xc0000201],
    });
    expect(text).toBe(
      'origin igp, as-path 64512 64513 {1 2}, next-hop 192.0.2.1, local-pref 100, communities 64512:100, ' +
        'cluster-list 192.0.2.1, extended-communities rt 64512:100, large-community 64512:1:2',
    );
  });
});
