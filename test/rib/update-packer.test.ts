// The UPDATE packer (src/rib/update-packer.ts): exact bytes for small groups,
// message counts derived from the RFC 4271 §4.3 layout, ADD-PATH (RFC 7911),
// IPv6 MP_REACH/MP_UNREACH (RFC 4760), extended messages (RFC 8654), and round
// trips through the codec's decoder: every prefix in, exactly once out, same
// attributes, no message over the limit.
import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../helpers/hex.js';
import { decodeUpdate, type DecodedUpdate } from '../../src/bgp/wire/update.js';
import { endOfRibFamily } from '../../src/bgp/wire/eor.js';
import { encodedAttributesLength } from '../../src/bgp/wire/update.js';
import {
  AS_SEQUENCE,
  DEFAULT_CODEC_CONTEXT,
  type CodecContext,
  type PathAttributes,
  type PrefixKey,
} from '../../src/bgp/wire/types.js';
import { v4Key, v4KeyParse, v6KeyParse } from '../../src/lib/prefix.js';
import {
  encodeAttributeBlock,
  encodeEndOfRib,
  outKey,
  packAnnouncements,
  packUpdates,
  packWithdrawUpdates,
  packWithdrawals,
  type OutKey,
} from '../../src/rib/update-packer.js';

const CTX4: CodecContext = { ...DEFAULT_CODEC_CONTEXT, fourOctetAs: true };
const EXT: CodecContext = { ...CTX4, extendedMessage: true };
const ADDPATH: CodecContext = {
  ...CTX4,
  addPathSend: { 'ipv4-unicast': true, 'ipv6-unicast': true },
  addPathReceive: { 'ipv4-unicast': true, 'ipv6-unicast': true },
};

/** A typical reflected pod route toward an iBGP peer. */
const IBGP_ATTRS: PathAttributes = {
  origin: 0,
  asPath: [],
  nextHop: '192.0.2.2',
  localPref: 100,
  communities: [((64512 << 16) | 100) >>> 0], // 64512:100
  originatorId: 0xc0000202,
  clusterList: [0xc0000201],
};

const V6_ATTRS: PathAttributes = {
  origin: 0,
  asPath: [{ type: AS_SEQUENCE, asns: [64512] }],
  mpReach: {
    family: 'ipv6-unicast',
    nextHop: '2001:db8::1',
    linkLocalNextHop: 'fe80::1',
    nlri: { family: 'ipv6-unicast', prefixes: [] },
  },
};

/** `count` consecutive /26 blocks from 10.0.0.0. */
function blocks26(count: number, base = 10 << 24): number[] {
  const out: number[] = [];
  for (let i = 0; i < count; i++) out.push(v4Key((base + i * 64) >>> 0, 26));
  return out;
}

function v6Blocks(count: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < count; i++) out.push(v6KeyParse(`2001:db8:${(i >> 8).toString(16)}:${(i & 255).toString(16)}00::/56`)!);
  return out;
}

function decodeAll(messages: Buffer[], ctx: CodecContext): DecodedUpdate[] {
  const recv: CodecContext = { ...ctx, addPathReceive: ctx.addPathSend };
  return messages.map((m) => {
    expect(m.readUInt16BE(16)).toBe(m.length);
    expect(m[18]).toBe(2);
    const r = decodeUpdate(m.subarray(19), recv);
    if (!r.ok) throw new Error(r.error.reason);
    expect(r.value.discarded).toEqual([]);
    expect(r.value.treatAsWithdraw).toBeUndefined();
    return r.value;
  });
}

describe('IPv4 announcements', () => {
  it('writes the exact message for two prefixes', () => {
    const attrs: PathAttributes = { origin: 0, asPath: [{ type: AS_SEQUENCE, asns: [64512] }], nextHop: '192.0.2.1' };
    const [msg, ...more] = packUpdates(attrs, 'ipv4-unicast', [v4KeyParse('10.244.1.0/26')!, v4KeyParse('10.0.0.0/8')!], CTX4);
    expect(more).toEqual([]);
    expect(toHex(msg!)).toBe(
      toHex(
        fromHex(`
        ffffffff ffffffff ffffffff ffffffff   # marker
        0032 02                               # length 50 = 23 + 20 + 7, UPDATE
        0000                                  # no withdrawn routes
        0014                                  # 20 octets of attributes
        40 01 01 00                           # ORIGIN IGP
        40 02 06 02 01 0000fc00               # AS_PATH: AS_SEQUENCE of 1, 64512 (4-octet)
        40 03 04 c0000201                     # NEXT_HOP 192.0.2.1
        1a 0af40100                           # 10.244.1.0/26
        08 0a                                 # 10.0.0.0/8
      `),
      ),
    );
  });

  it('fills 4096-octet messages with exactly as many /26 as the layout allows', () => {
    // RFC 4271 §4.3: 19 header + 2 withdrawn length + 2 attribute length + attributes,
    // then 5 octets per /26 (length octet + 4 significant octets).
    const attrLength = encodedAttributesLength(IBGP_ATTRS, CTX4);
    expect(attrLength).toBe(4 + 3 + 7 + 7 + 7 + 7 + 7); // ORIGIN, AS_PATH (empty), NEXT_HOP, LOCAL_PREF, COMMUNITIES, ORIGINATOR_ID, CLUSTER_LIST
    const perMessage = Math.floor((4096 - 19 - 2 - 2 - attrLength) / 5);
    expect(perMessage).toBe(806); // (4096 - 23 - 42) / 5, rounded down
    const prefixes = blocks26(2000);
    const messages = packUpdates(IBGP_ATTRS, 'ipv4-unicast', prefixes, CTX4);
    expect(messages.length).toBe(Math.ceil(2000 / perMessage));
    const decoded = decodeAll(messages, CTX4);
    expect(decoded.map((d) => d.update.nlri.prefixes.length)).toEqual([perMessage, perMessage, 2000 - 2 * perMessage]);
    expect(messages[0]!.length).toBeLessThanOrEqual(4096);
    expect(4096 - messages[0]!.length).toBeLessThan(5); // full: the next /26 would not fit
    expect(decoded.flatMap((d) => d.update.nlri.prefixes)).toEqual(prefixes);
    for (const d of decoded) expect(d.update.attributes).toEqual(IBGP_ATTRS);
  });

  it('uses 65535-octet messages with RFC 8654 extended messages', () => {
    const attrLength = encodedAttributesLength(IBGP_ATTRS, EXT);
    const perMessage = Math.floor((65535 - 23 - attrLength) / 5);
    const prefixes = blocks26(20000);
    const messages = packUpdates(IBGP_ATTRS, 'ipv4-unicast', prefixes, EXT);
    expect(messages.length).toBe(Math.ceil(20000 / perMessage));
    for (const m of messages) expect(m.length).toBeLessThanOrEqual(65535);
    expect(decodeAll(messages, EXT).flatMap((d) => d.update.nlri.prefixes)).toEqual(prefixes);
  });

  it('mixes prefix lengths and keeps every one', () => {
    const prefixes: number[] = [];
    for (let i = 0; i < 3000; i++) prefixes.push(v4Key((i * 2654435761) >>> 0, i % 33));
    const messages = packUpdates(IBGP_ATTRS, 'ipv4-unicast', prefixes, CTX4);
    for (const m of messages) expect(m.length).toBeLessThanOrEqual(4096);
    expect(decodeAll(messages, CTX4).flatMap((d) => d.update.nlri.prefixes)).toEqual(prefixes);
  });

  it('encodes AS4_PATH for a 2-octet peer once per group', () => {
    const ctx2 = DEFAULT_CODEC_CONTEXT;
    const attrs: PathAttributes = { origin: 0, asPath: [{ type: AS_SEQUENCE, asns: [4200000001, 65001] }], nextHop: '192.0.2.1' };
    const messages = packUpdates(attrs, 'ipv4-unicast', blocks26(1000), ctx2);
    const decoded = decodeAll(messages, ctx2);
    expect(decoded.length).toBe(2);
    for (const d of decoded) expect(d.update.attributes.asPath).toEqual(attrs.asPath);
  });

  it('stops at maxMessages and reports how many keys it took', () => {
    const block = encodeAttributeBlock(IBGP_ATTRS, 'ipv4-unicast', CTX4);
    const perMessage = Math.floor(block.nlriBudget / 5);
    const out: Buffer[] = [];
    const prefixes = blocks26(3 * perMessage + 7);
    expect(packAnnouncements(block, prefixes, 2, out)).toBe(2 * perMessage);
    expect(out.length).toBe(2);
    expect(packAnnouncements(block, prefixes.slice(2 * perMessage), 5, out)).toBe(perMessage + 7);
    expect(out.length).toBe(4);
    expect(decodeAll(out, CTX4).flatMap((d) => d.update.nlri.prefixes)).toEqual(prefixes);
  });

  it('writes path identifiers with ADD-PATH', () => {
    const keys: OutKey[] = [outKey(v4KeyParse('10.244.1.0/26')!, 1), outKey(v4KeyParse('10.244.1.0/26')!, 7), v4KeyParse('10.244.2.0/26')!];
    const [msg] = packUpdates({ origin: 0, asPath: [], nextHop: '192.0.2.1' }, 'ipv4-unicast', keys, ADDPATH);
    expect(toHex(msg!.subarray(19 + 4 + 14))).toBe(
      toHex(
        fromHex(`
        00000001 1a 0af40100   # path 1, 10.244.1.0/26
        00000007 1a 0af40100   # path 7, 10.244.1.0/26
        00000000 1a 0af40200   # path 0, 10.244.2.0/26
      `),
      ),
    );
    const [d] = decodeAll([msg!], ADDPATH);
    expect(d!.update.nlri.pathIds).toEqual([1, 7, 0]);
    // 9 octets per /26 with a path identifier.
    const many = packUpdates(IBGP_ATTRS, 'ipv4-unicast', blocks26(1000).map((p, i) => outKey(p, i + 1)), ADDPATH);
    const per = Math.floor((4096 - 23 - encodedAttributesLength(IBGP_ATTRS, ADDPATH)) / 9);
    expect(decodeAll(many, ADDPATH).map((m) => m.update.nlri.prefixes.length)).toEqual([per, per, 1000 - 2 * per]);
  });

  it('refuses a group whose attributes leave no room for one prefix', () => {
    const huge: PathAttributes = { ...IBGP_ATTRS, communities: new Array<number>(1020).fill(1) };
    const block = encodeAttributeBlock(huge, 'ipv4-unicast', CTX4);
    expect(block.nlriBudget).toBeLessThan(5);
    expect(() => packAnnouncements(block, blocks26(1), 1, [])).toThrow(RangeError);
  });
});

describe('IPv6 announcements in MP_REACH_NLRI', () => {
  it('writes MP_REACH_NLRI first, global + link-local next hop, other attributes after', () => {
    const [msg] = packUpdates(V6_ATTRS, 'ipv6-unicast', [v6KeyParse('2001:db8:1::/48')!], CTX4);
    expect(toHex(msg!)).toBe(
      toHex(
        fromHex(`
        ffffffff ffffffff ffffffff ffffffff   # marker
        0054 02                               # length 84 = 23 + 61, UPDATE
        0000                                  # no withdrawn routes
        003d                                  # 61 octets of attributes
        90 0e 002c                            # MP_REACH_NLRI, extended length 44
          0002 01 20                          # AFI 2, SAFI 1, next hop length 32
          20010db8 00000000 00000000 00000001 # 2001:db8::1
          fe800000 00000000 00000000 00000001 # fe80::1
          00                                  # reserved
          30 20010db80001                     # 2001:db8:1::/48
        40 01 01 00                           # ORIGIN IGP
        40 02 06 02 01 0000fc00               # AS_PATH 64512
      `),
      ),
    );
  });

  it('packs many prefixes; each message decodes to its share with the same attributes', () => {
    const prefixes = v6Blocks(1500);
    const messages = packUpdates(V6_ATTRS, 'ipv6-unicast', prefixes, CTX4);
    // Budget: 4096 - 19 - 2 - 2 - 4 (MP header) - 37 (AFI..reserved) - 14 (ORIGIN, AS_PATH); /56 = 8 octets.
    const per = Math.floor((4096 - 23 - 4 - 37 - 14) / 8);
    expect(messages.length).toBe(Math.ceil(1500 / per));
    const decoded = decodeAll(messages, CTX4);
    expect(decoded[0]!.update.attributes.mpReach!.nlri.prefixes.length).toBe(per);
    expect(decoded.flatMap((d) => d.update.attributes.mpReach!.nlri.prefixes)).toEqual(prefixes);
    for (const d of decoded) {
      const { mpReach, ...rest } = d.update.attributes;
      expect(rest).toEqual({ origin: 0, asPath: V6_ATTRS.asPath });
      expect(mpReach!.nextHop).toBe('2001:db8::1');
      expect(mpReach!.linkLocalNextHop).toBe('fe80::1');
      expect(d.update.nlri.prefixes).toEqual([]);
    }
  });

  it('drops a NEXT_HOP in the group attributes and carries ADD-PATH ids in MP_REACH', () => {
    const keys = v6Blocks(3).map((p, i) => outKey(p, 10 + i));
    const [msg] = packUpdates({ ...V6_ATTRS, nextHop: '192.0.2.9' }, 'ipv6-unicast', keys, ADDPATH);
    const [d] = decodeAll([msg!], ADDPATH);
    expect(d!.update.attributes.nextHop).toBeUndefined();
    expect(d!.update.attributes.mpReach!.nlri.pathIds).toEqual([10, 11, 12]);
  });

  it('requires an IPv6 next hop', () => {
    expect(() => encodeAttributeBlock({ origin: 0, asPath: [], nextHop: '192.0.2.1' }, 'ipv6-unicast', CTX4)).toThrow();
  });
});

describe('withdrawals', () => {
  it('IPv4 in Withdrawn Routes, exact bytes', () => {
    const [msg] = packWithdrawUpdates('ipv4-unicast', [v4KeyParse('10.244.1.0/26')!, v4KeyParse('192.0.2.1/32')!], CTX4);
    expect(toHex(msg!)).toBe(
      toHex(
        fromHex(`
        ffffffff ffffffff ffffffff ffffffff   # marker
        0021 02                               # length 33 = 21 + 10 + 2, UPDATE
        000a                                  # 10 octets of withdrawn routes
        1a 0af40100                           # 10.244.1.0/26
        20 c0000201                           # 192.0.2.1/32
        0000                                  # no attributes
      `),
      ),
    );
  });

  it('IPv6 in MP_UNREACH_NLRI, exact bytes', () => {
    const [msg] = packWithdrawUpdates('ipv6-unicast', [v6KeyParse('2001:db8:1::/48')!], CTX4);
    expect(toHex(msg!)).toBe(
      toHex(
        fromHex(`
        ffffffff ffffffff ffffffff ffffffff   # marker
        0025 02                               # length 37, UPDATE
        0000                                  # no withdrawn routes
        000e                                  # 14 octets of attributes
        90 0f 000a                            # MP_UNREACH_NLRI, extended length 10
          0002 01                             # AFI 2, SAFI 1
          30 20010db80001                     # 2001:db8:1::/48
      `),
      ),
    );
  });

  it('fills 4096-octet messages: (4096 - 23) / 5 /26 withdrawals each, for IPv4', () => {
    const per = Math.floor((4096 - 19 - 2 - 2) / 5);
    const prefixes = blocks26(2 * per + 1);
    const messages = packWithdrawUpdates('ipv4-unicast', prefixes, CTX4);
    const decoded = decodeAll(messages, CTX4);
    expect(decoded.map((d) => d.update.withdrawn.prefixes.length)).toEqual([per, per, 1]);
    expect(decoded.flatMap((d) => d.update.withdrawn.prefixes)).toEqual(prefixes);
  });

  it('IPv6 with ADD-PATH, split over messages, limited by maxMessages', () => {
    const prefixes = v6Blocks(2000);
    const keys = prefixes.map((p, i) => outKey(p, i));
    const out: Buffer[] = [];
    const per = Math.floor((4096 - 30) / 12);
    expect(packWithdrawals('ipv6-unicast', keys, ADDPATH, 1, out)).toBe(per);
    packWithdrawals('ipv6-unicast', keys.slice(per), ADDPATH, Infinity, out);
    const decoded = decodeAll(out, ADDPATH);
    const all: PrefixKey[] = decoded.flatMap((d) => d.update.attributes.mpUnreach!.nlri.prefixes);
    expect(all).toEqual(prefixes);
    expect(decoded.flatMap((d) => d.update.attributes.mpUnreach!.nlri.pathIds)).toEqual(keys.map((_, i) => i));
  });
});

describe('End-of-RIB', () => {
  it('encodes the RFC 4724 markers', () => {
    expect(encodeEndOfRib('ipv4-unicast', CTX4)).toEqual(fromHex('ffffffff ffffffff ffffffff ffffffff 0017 02 0000 0000'));
    const [v6] = decodeAll([encodeEndOfRib('ipv6-unicast', CTX4)], CTX4);
    expect(endOfRibFamily(v6!.update)).toBe('ipv6-unicast');
  });
});
