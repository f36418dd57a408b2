// Extended communities and unknown attributes in the API's route objects and
// the CLI's --detail / explain text (issue 10): the RFC 4360 / RFC 5668 /
// RFC 9012 text forms, opaque attributes as code, flags, length and hex, and
// a path with a bad next hop listed with its ineligibility reason.
import { describe, expect, it } from 'vitest';
import { formatExtCommunity } from '../../src/bgp/wire/attrs/ext-community-text.js';
import { apiRoute } from '../../src/daemon/api-adapter.js';
import { formatExplainAttributes, formatRouteDetail } from '../../src/cli/route-detail.js';
import { Rib, selectRoutes } from '../../src/rib/index.js';
import { makePeer, Path } from '../../src/rib/route.js';
import { v4KeyParse, v4Parse } from '../../src/lib/prefix.js';
import { AttrStore } from '../../src/rib/attr-store.js';

const ext = (hex: string) => BigInt('0x' + hex);

describe('formatExtCommunity', () => {
  it.each([
    ['0002fc0000000064', 'rt 64512:100'], // RFC 4360 §4 2-octet AS Route Target
    ['0003fc0000000064', 'ro 64512:100'], // Route Origin
    ['0102c6130001 0007'.replace(' ', ''), 'rt 198.19.0.1:7'], // §4 IPv4 address specific
    ['0103c61300010007', 'ro 198.19.0.1:7'],
    ['020200030d410064', 'rt 200001:100'], // RFC 5668 4-octet AS
    ['030b00000000002a', 'color 42'], // RFC 9012 §4.3
    ['030c000000000008', 'encap 8'], // RFC 9012 §4.1 (VXLAN)
    ['4002fc0000000064', '0x4002fc0000000064'], // non-transitive: hex
    ['800600004e6e6b28', '0x800600004e6e6b28'],
  ])('%s is "%s"', (hex, text) => {
    expect(formatExtCommunity(ext(hex))).toBe(text);
  });
});

describe('route attributes in the API and the CLI', () => {
  const store = new AttrStore();
  const peer = makePeer({ address: '192.0.2.2', asn: 65001, localAsn: 64512, bgpId: v4Parse('192.0.2.2')! });
  const set = store.intern({
    origin: 0,
    asPath: [{ type: 2, asns: [65001] }],
    nextHop: '192.0.2.2',
    extCommunities: [ext('0002fc0000000064'), ext('0103c61300010007')],
    unknown: [{ code: 99, flags: 0xc0, value: Buffer.from([0x0a, 0x0b, 0x0c]) }],
  });
  const P = v4KeyParse('10.244.1.0/26')!;

  it('apiRoute carries extended communities and unknown attributes in text forms', () => {
    const r = apiRoute(P, new Path(peer, set), { best: true });
    expect(r.extCommunities).toEqual(['rt 64512:100', 'ro 198.19.0.1:7']);
    expect(r.unknownAttributes).toEqual([{ code: 99, flags: 0xc0, length: 3, hex: '0a0b0c', text: 'code 99 flags 0xc0 length 3 0a0b0c' }]);
    const text = formatRouteDetail([r]);
    expect(text).toContain('* 10.244.1.0/26 via 192.0.2.2\n');
    expect(text).toContain('  extended communities rt 64512:100, ro 198.19.0.1:7\n');
    expect(text).toContain('  unknown attribute code 99 flags 0xc0 length 3 0a0b0c\n');
  });

  it('a path with a bad next hop is listed with its reason, and explain shows its attributes', () => {
    const rib = new Rib({ routerId: v4Parse('192.0.2.1')!, asn: 64512, isReflector: false, clientToClient: true, alwaysCompareMed: false, ecmp: 1 });
    const bad = store.intern({ origin: 0, asPath: [{ type: 2, asns: [65001] }], nextHop: '224.0.0.1', extCommunities: [ext('0002fc0000000064')] });
    rib.locRib.update(P, new Path(peer, bad));
    const rows = [...selectRoutes(rib, {})];
    expect(rows).toEqual([]); // no best: the default listing walks best routes
    const one = [...selectRoutes(rib, { prefix: '10.244.1.0/26' })];
    expect(one).toEqual([expect.objectContaining({ best: false, ineligible: 'next-hop-multicast' })]);
    const r = apiRoute(P, one[0]!.path, one[0]!);
    expect(r.ineligible).toBe('next-hop-multicast');
    const text = formatExplainAttributes({ prefix: '10.244.1.0/26', family: 'ipv4-unicast', reason: 'no-eligible-path', summary: 'no eligible path', candidates: [{ route: r, status: 'ineligible', ineligible: 'next-hop-multicast', text: '' }] });
    expect(text).toContain('ineligible via 192.0.2.2:\n  next hop 224.0.0.1');
    expect(text).toContain('  extended communities rt 64512:100\n  not eligible: next-hop-multicast\n');
  });
});
