// Community text (RFC 1997 "aa:nn", RFC 8092 "aa:nn:mm"), well-known names and
// the RFC 1997 §4 export rule for NO_EXPORT / NO_ADVERTISE / NO_EXPORT_SUBCONFED.
import { describe, expect, it } from 'vitest';
import { fromHex } from '../helpers/hex.js';
import {
  BLACKHOLE,
  NO_ADVERTISE,
  NO_EXPORT,
  NO_EXPORT_SUBCONFED,
  honourWellKnownCommunities,
  parseCommunity,
  parseCommunityList,
  parseLargeCommunity,
  parseStandardCommunity,
  wellKnownBlock,
} from '../../src/rib/policy/communities.js';

describe('parsing', () => {
  it('"aa:nn" is aa << 16 | nn, as the COMMUNITIES octets read big-endian', () => {
    // RFC 1997 §3: 64512:100 on the wire is fc00 0064.
    expect(parseStandardCommunity('64512:100')).toBe(fromHex('fc00 0064').readUInt32BE(0));
    expect(parseStandardCommunity('65535:65535')).toBe(0xffffffff);
    expect(parseStandardCommunity('0:0')).toBe(0);
  });

  it('standard halves out of range or malformed are refused', () => {
    for (const bad of ['65536:1', '1:65536', '1', '1:2:3:4', ':1', '1:', '-1:1', '1.5:2', ' 1:2', '0x10:1', '1e3:1'])
      expect(parseStandardCommunity(bad), bad).toBeUndefined();
  });

  it('well-known names (RFC 1997 §4, RFC 7999 §5), case-insensitive', () => {
    expect(parseStandardCommunity('NO_EXPORT')).toBe(fromHex('ffff ff01').readUInt32BE(0));
    expect(parseStandardCommunity('no_advertise')).toBe(fromHex('ffff ff02').readUInt32BE(0));
    expect(parseStandardCommunity('NO_EXPORT_SUBCONFED')).toBe(fromHex('ffff ff03').readUInt32BE(0));
    expect(parseStandardCommunity('BLACKHOLE')).toBe(fromHex('ffff 029a').readUInt32BE(0));
    expect(parseStandardCommunity('65535:666')).toBe(BLACKHOLE);
    expect(parseStandardCommunity('NO_SUCH')).toBeUndefined();
  });

  it('"aa:nn:mm" takes three 32-bit parts (RFC 8092 §3)', () => {
    expect(parseLargeCommunity('4294967295:0:4294967295')).toEqual({ global: 4294967295, local1: 0, local2: 4294967295 });
    expect(parseLargeCommunity('4294967296:0:0')).toBeUndefined();
    expect(parseLargeCommunity('1:2')).toBeUndefined();
    expect(parseLargeCommunity('1:2:x')).toBeUndefined();
  });

  it('parseCommunity picks the kind by part count', () => {
    expect(parseCommunity('64512:100')).toEqual({ kind: 'standard', value: C(64512, 100) });
    expect(parseCommunity('64512:100:7')).toEqual({ kind: 'large', value: { global: 64512, local1: 100, local2: 7 } });
    expect(parseCommunity('64512:100000')).toBeUndefined();
  });

  it('lists split by kind, drop duplicates, keep first-seen order, name the bad entry', () => {
    const r = parseCommunityList(['2:2', '1:1', '2:2', '1:1:1', 'NO_EXPORT', '1:1:1']);
    expect(r).toEqual({ ok: true, lists: { standard: [C(2, 2), C(1, 1), NO_EXPORT], large: [{ global: 1, local1: 1, local2: 1 }] } });
    expect(parseCommunityList(['1:1', 'x'])).toEqual({ ok: false, index: 1, text: 'x' });
    expect(parseCommunityList(undefined)).toEqual({ ok: true, lists: { standard: [], large: [] } });
  });
});

function C(a: number, b: number): number {
  return (a * 65536 + b) >>> 0;
}

describe('RFC 1997 §4 well-known communities on export', () => {
  const toEbgp = { ibgp: false };
  const toIbgp = { ibgp: true };

  it('NO_ADVERTISE: to no peer', () => {
    expect(wellKnownBlock({ communities: [C(1, 1), NO_ADVERTISE] }, toIbgp)).toBe('no-advertise');
    expect(honourWellKnownCommunities({ communities: [NO_ADVERTISE] }, toEbgp)).toBe(false);
  });

  it('NO_EXPORT: iBGP yes, eBGP no', () => {
    expect(honourWellKnownCommunities({ communities: [NO_EXPORT] }, toIbgp)).toBe(true);
    expect(wellKnownBlock({ communities: [NO_EXPORT] }, toEbgp)).toBe('no-export');
  });

  it('NO_EXPORT_SUBCONFED: no external peer', () => {
    expect(honourWellKnownCommunities({ communities: [NO_EXPORT_SUBCONFED] }, toIbgp)).toBe(true);
    expect(wellKnownBlock({ communities: [NO_EXPORT_SUBCONFED] }, toEbgp)).toBe('no-export-subconfed');
  });

  it('NO_ADVERTISE outranks NO_EXPORT wherever it sits', () => {
    expect(wellKnownBlock({ communities: [NO_EXPORT, NO_ADVERTISE] }, toEbgp)).toBe('no-advertise');
  });

  it('other communities, BLACKHOLE included, and none at all do not block', () => {
    expect(honourWellKnownCommunities({ communities: [C(64512, 100), BLACKHOLE] }, toEbgp)).toBe(true);
    expect(honourWellKnownCommunities({}, toEbgp)).toBe(true);
    expect(honourWellKnownCommunities({ communities: [] }, toEbgp)).toBe(true);
  });
});
