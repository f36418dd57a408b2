// Whole UPDATE messages (RFC 4271 §4.3): golden vectors both ways, message-level
// RFC 7606 errors, End-of-RIB (RFC 4724 §2), and seeded random round trips.
import { describe, expect, it } from 'vitest';
import { fromHex } from '../../helpers/hex.js';
import { decodeUpdate, encodeUpdate, encodedUpdateLength } from '../../../src/bgp/wire/update.js';
import { endOfRib, endOfRibFamily } from '../../../src/bgp/wire/eor.js';
import type { AsPathSegment, CodecContext, PathAttributes, UpdateMessage } from '../../../src/bgp/wire/types.js';
import { NO_FAMILIES } from '../../../src/bgp/wire/types.js';
import { prefixParse, v4Key, v6KeyFromBytes, v6ToString, type PrefixKey } from '../../../src/lib/prefix.js';
import { ADD_PATH, NEW, OLD, body } from './attrs-helpers.js';

const p = (t: string) => prefixParse(t)!;

describe('UPDATE vectors', () => {
  const msg: UpdateMessage = {
    type: 'update',
    withdrawn: { family: 'ipv4-unicast', prefixes: [p('10.0.9.0/24')] },
    attributes: { origin: 0, asPath: [{ type: 2, asns: [64512] }], nextHop: '192.0.2.1', localPref: 100 },
    nlri: { family: 'ipv4-unicast', prefixes: [p('10.244.1.0/26'), p('10.244.1.64/26')] },
  };
  const wire = fromHex(`
    ffffffffffffffffffffffffffffffff   # marker
    0040 02                            # length 64, UPDATE
    0004 18 0a0009                     # withdrawn: 10.0.9.0/24
    001b                               # total path attribute length 27
    40 01 01 00                        # ORIGIN igp
    40 02 06 02 01 0000fc00            # AS_PATH 64512
    40 03 04 c0000201                  # NEXT_HOP 192.0.2.1
    40 05 04 00000064                  # LOCAL_PREF 100
    1a 0af40100  1a 0af40140           # NLRI 10.244.1.0/26, 10.244.1.64/26
  `);

  it('encodes', () => {
    expect(encodeUpdate(msg, NEW)).toEqual(wire);
    expect(encodedUpdateLength(msg, NEW)).toBe(wire.length);
  });

  it('decodes', () => {
    const r = decodeUpdate(wire.subarray(19), NEW);
    expect(r.ok && r.value).toEqual({ type: 'update', update: msg, discarded: [] });
  });

  it('carries path identifiers with ADD-PATH on IPv4 (RFC 7911)', () => {
    const m: UpdateMessage = {
      ...msg,
      withdrawn: { family: 'ipv4-unicast', prefixes: [p('10.0.9.0/24')], pathIds: [3] },
      nlri: { family: 'ipv4-unicast', prefixes: [p('10.244.1.0/26')], pathIds: [0xffffffff] },
    };
    const out = encodeUpdate(m, ADD_PATH);
    expect(out.subarray(19, 29)).toEqual(fromHex('0008 00000003 18 0a0009  # withdrawn with path id 3'));
    expect(out.subarray(out.length - 9)).toEqual(fromHex('ffffffff 1a 0af40100'));
    const r = decodeUpdate(out.subarray(19), ADD_PATH);
    expect(r.ok && r.value.update).toEqual(m);
  });

  it('IPv6 with a link-local next hop', () => {
    const m: UpdateMessage = {
      type: 'update',
      withdrawn: { family: 'ipv4-unicast', prefixes: [] },
      attributes: {
        origin: 0,
        asPath: [],
        mpReach: {
          family: 'ipv6-unicast',
          nextHop: '2001:db8::1',
          linkLocalNextHop: 'fe80::1',
          nlri: { family: 'ipv6-unicast', prefixes: [p('2001:db8:1::/48')] },
        },
      },
      nlri: { family: 'ipv4-unicast', prefixes: [] },
    };
    const out = encodeUpdate(m, NEW);
    expect(out).toEqual(
      fromHex(`ffffffffffffffffffffffffffffffff 004d 02
        0000 0036
        80 0e 2c 0002 01 20 20010db8000000000000000000000001 fe800000000000000000000000000001
                 00 30 20010db80001              # 2001:db8:1::/48
        40 01 01 00  40 02 00`),
    );
    const r = decodeUpdate(out.subarray(19), NEW);
    expect(r.ok && r.value).toEqual({ type: 'update', update: m, discarded: [] });
  });
});

describe('message-level errors → session reset, Malformed Attribute List / Invalid Network Field', () => {
  const cases: [string, Buffer, number][] = [
    ['body shorter than 4', fromHex('0000 00'), 1],
    ['Withdrawn Routes Length overruns', fromHex('0005 18 0a0001 0000'), 1],
    ['Total Path Attribute Length overruns', fromHex('0000 0009 40 01 01 00'), 1],
    ['NLRI prefix length 33', body('40 01 01 00 40 02 00 40 03 04 c0000201', '21 0a000100 00'), 10],
    ['NLRI prefix runs past the message', body('40 01 01 00 40 02 00 40 03 04 c0000201', '18 0a00'), 10],
    ['withdrawn prefix length 40', body('', '', '28 0a000100 00'), 10],
    ['MP_REACH_NLRI length overruns the list', body('80 0e 30 0002 01 10 20010db8'), 1],
  ];
  for (const [name, b, subcode] of cases) {
    it(name, () => {
      const r = decodeUpdate(b, NEW);
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.error).toMatchObject({ action: 'session-reset', code: 3, subcode });
    });
  }

  it('an attribute overrunning the list is treat-as-withdraw and the NLRI is still found (RFC 7606 §4)', () => {
    const r = decodeUpdate(body('40 01 01 00  40 02 09 02 01 0000fc00', '18 0a0001'), NEW);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.value.treatAsWithdraw).toMatchObject({ action: 'treat-as-withdraw', subcode: 1 });
    expect(r.value.update.nlri.prefixes).toEqual([p('10.0.1.0/24')]);
  });

  it('two stray octets after the last attribute are treat-as-withdraw', () => {
    const r = decodeUpdate(body('40 01 01 00  40 02 00  40 03 04 c0000201  40 01', '18 0a0001'), NEW);
    expect(r.ok && r.value.treatAsWithdraw?.subcode).toBe(1);
  });

  it('never throws on random bytes', () => {
    const rnd = prng(7);
    for (let i = 0; i < 5000; i++) {
      const b = Buffer.alloc(Math.floor(rnd() * 60));
      for (let j = 0; j < b.length; j++) b[j] = Math.floor(rnd() * 256);
      if (b.length >= 4 && rnd() < 0.7) {
        b.writeUInt16BE(Math.floor(rnd() * 4), 0); // plausible lengths reach the attribute parser
        const wl = b.readUInt16BE(0);
        if (4 + wl <= b.length) b.writeUInt16BE(Math.floor(rnd() * (b.length - 4 - wl + 1)), 2 + wl);
      }
      expect(() => decodeUpdate(b, i % 2 ? OLD : ADD_PATH)).not.toThrow();
    }
  });
});

describe('End-of-RIB (RFC 4724 §2)', () => {
  it('IPv4 is an empty UPDATE of 23 octets', () => {
    const out = encodeUpdate(endOfRib('ipv4-unicast'), NEW);
    expect(out).toEqual(fromHex('ffffffffffffffffffffffffffffffff 0017 02  0000 0000'));
    const r = decodeUpdate(out.subarray(19), NEW);
    expect(r.ok && endOfRibFamily(r.value.update)).toBe('ipv4-unicast');
  });

  it('IPv6 is an UPDATE with only an empty MP_UNREACH_NLRI', () => {
    const out = encodeUpdate(endOfRib('ipv6-unicast'), NEW);
    expect(out).toEqual(fromHex('ffffffffffffffffffffffffffffffff 001d 02  0000 0006  80 0f 03 0002 01'));
    const r = decodeUpdate(out.subarray(19), NEW);
    expect(r.ok && endOfRibFamily(r.value.update)).toBe('ipv6-unicast');
  });

  it('ordinary UPDATEs are not End-of-RIB', () => {
    const withdraw = decodeUpdate(body('', '', '18 0a0001'), NEW);
    expect(withdraw.ok && endOfRibFamily(withdraw.value.update)).toBeUndefined();
    const unreach = decodeUpdate(body('80 0f 0c 0002 01 40 20010db800000001'), NEW);
    expect(unreach.ok && endOfRibFamily(unreach.value.update)).toBeUndefined();
    const withOrigin = decodeUpdate(body('80 0f 03 0002 01  40 01 01 00'), NEW);
    expect(withOrigin.ok && endOfRibFamily(withOrigin.value.update)).toBeUndefined();
  });
});

// ---------------------------------------------------------------- property-style round trips

/** mulberry32: small seeded PRNG so failures reproduce. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function randomUpdate(rnd: () => number, ctx: CodecContext): UpdateMessage {
  const int = (n: number) => Math.floor(rnd() * n);
  const u32 = () => int(2 ** 32);
  const list = <T>(max: number, f: () => T): T[] => Array.from({ length: int(max) }, f);
  const v4 = () => v4Key(u32(), int(33));
  const v6 = () => {
    const b = Buffer.alloc(16);
    for (let i = 0; i < 16; i++) b[i] = int(256);
    return v6KeyFromBytes(b, 0, int(129));
  };
  const v6Addr = () => {
    const b = Buffer.alloc(16);
    for (let i = 0; i < 16; i++) b[i] = int(256);
    return v6ToString(b);
  };
  const ipv4 = () => `${int(256)}.${int(256)}.${int(256)}.${int(256)}`;
  const nlri = (family: 'ipv4-unicast' | 'ipv6-unicast', max: number) => {
    const prefixes: PrefixKey[] = list<PrefixKey>(max, family === 'ipv4-unicast' ? v4 : v6);
    return ctx.addPathSend[family] ? { family, prefixes, pathIds: prefixes.map(u32) } : { family, prefixes };
  };
  const asn = () => (rnd() < 0.5 ? int(65536) : u32());
  const segments = (): AsPathSegment[] => {
    const out: AsPathSegment[] = [];
    if (rnd() < 0.2) out.push({ type: rnd() < 0.5 ? 3 : 4, asns: [1 + int(65535)] }); // confed first
    for (const n of list(4, () => 1 + int(6))) out.push({ type: rnd() < 0.8 ? 2 : 1, asns: Array.from({ length: n }, asn) });
    return out;
  };
  const a: Record<string, unknown> = { origin: int(3), asPath: segments() };
  if (rnd() < 0.5) a.nextHop = ipv4();
  if (rnd() < 0.3) a.med = u32();
  if (rnd() < 0.3) a.localPref = u32();
  if (rnd() < 0.2) a.atomicAggregate = true;
  if (rnd() < 0.3) a.aggregator = { asn: asn(), address: ipv4() };
  if (rnd() < 0.5) a.communities = list(5, u32).concat([u32()]);
  if (rnd() < 0.3) a.originatorId = u32();
  if (rnd() < 0.3) a.clusterList = [u32(), ...list(3, u32)];
  if (rnd() < 0.3) a.extCommunities = [BigInt(u32()) * 2n ** 32n + BigInt(u32())];
  if (rnd() < 0.3) a.largeCommunities = [{ global: u32(), local1: u32(), local2: u32() }];
  if (rnd() < 0.4) {
    const ll = rnd() < 0.5;
    a.mpReach = { family: 'ipv6-unicast', nextHop: v6Addr(), ...(ll ? { linkLocalNextHop: v6Addr() } : {}), nlri: nlri('ipv6-unicast', 6) };
  }
  if (rnd() < 0.3) a.mpUnreach = { nlri: nlri('ipv6-unicast', 6) };
  if (rnd() < 0.2) a.unknown = [{ flags: 0xe0, code: 100 + int(50), value: Buffer.from(list(300, () => int(256))) }];
  const nl = nlri('ipv4-unicast', a.nextHop ? 40 : 0); // IPv4 NLRI need NEXT_HOP
  return { type: 'update', withdrawn: nlri('ipv4-unicast', 10), attributes: a as PathAttributes, nlri: nl };
}

describe('random round trips (seeded)', () => {
  const contexts: [string, CodecContext][] = [
    ['4-octet', NEW],
    ['2-octet (AS4_PATH/AS4_AGGREGATOR)', OLD],
    ['ADD-PATH', ADD_PATH],
    ['ADD-PATH IPv6 only', { ...OLD, addPathReceive: { ...NO_FAMILIES, 'ipv6-unicast': true }, addPathSend: { ...NO_FAMILIES, 'ipv6-unicast': true } }],
  ];
  for (const [name, ctx] of contexts) {
    it(name, () => {
      const rnd = prng(0xb6b + name.length);
      for (let i = 0; i < 400; i++) {
        const msg = randomUpdate(rnd, ctx);
        const out = encodeUpdate(msg, ctx);
        expect(out.readUInt16BE(16)).toBe(out.length);
        expect(encodedUpdateLength(msg, ctx)).toBe(out.length);
        const r = decodeUpdate(out.subarray(19), ctx);
        if (!r.ok) throw new Error(`case ${i}: ${r.error.reason}`);
        expect(r.value.discarded).toEqual([]);
        expect(r.value.treatAsWithdraw).toBeUndefined();
        expect(r.value.update).toEqual(msg);
        expect(encodeUpdate(r.value.update, ctx)).toEqual(out);
      }
    });
  }
});
