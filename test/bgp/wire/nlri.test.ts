// NLRI lists (RFC 4271 §4.3, RFC 4760 §5) with and without RFC 7911 path
// identifiers: byte vectors both ways, malformed lengths, and the packing helpers.
import { describe, expect, it } from 'vitest';
import { fromHex } from '../../helpers/hex.js';
import {
  decodeNlri,
  encodeNlri,
  encodedNlriLength,
  maxPrefixesThatFit,
  prefixWireLength,
} from '../../../src/bgp/wire/nlri.js';
import { ERR_UPDATE, UPD_INVALID_NETWORK_FIELD } from '../../../src/bgp/wire/errors.js';
import { prefixParse, prefixToString, v4KeyParse } from '../../../src/lib/prefix.js';

const v4 = (t: string) => v4KeyParse(t)!;
const key = (t: string) => prefixParse(t)!;

describe('IPv4 NLRI', () => {
  const wire = fromHex(`
    18 0a0001        # 10.0.1.0/24
    1a 0af40140      # 10.244.1.64/26
    20 c0000201      # 192.0.2.1/32
    00               # 0.0.0.0/0
  `);
  const prefixes = [v4('10.0.1.0/24'), v4('10.244.1.64/26'), v4('192.0.2.1/32'), v4('0.0.0.0/0')];

  it('decodes to number keys', () => {
    const r = decodeNlri(wire, 0, wire.length, 'ipv4-unicast', false);
    expect(r.ok && r.value).toEqual({ family: 'ipv4-unicast', prefixes });
    if (r.ok) for (const p of r.value.prefixes) expect(typeof p).toBe('number');
  });

  it('encodes to the same octets', () => {
    expect(encodeNlri({ family: 'ipv4-unicast', prefixes }, false)).toEqual(wire);
    expect(encodedNlriLength({ family: 'ipv4-unicast', prefixes }, false)).toBe(wire.length);
  });

  it('clears host bits that the sender left set in the last octet', () => {
    const r = decodeNlri(fromHex('1a 0af4017f  # /26 with host bits 0x3f set'), 0, 5, 'ipv4-unicast', false);
    expect(r.ok && prefixToString(r.value.prefixes[0]!)).toBe('10.244.1.64/26');
  });

  it('decodes only within [start, end)', () => {
    const buf = fromHex('ff ff 18 0a0001 ff');
    const r = decodeNlri(buf, 2, 6, 'ipv4-unicast', false);
    expect(r.ok && r.value.prefixes).toEqual([v4('10.0.1.0/24')]);
  });

  it('rejects a length above 32 as Invalid Network Field (RFC 7606 §5.3)', () => {
    const r = decodeNlri(fromHex('21 0a000100 00'), 0, 6, 'ipv4-unicast', false);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error).toMatchObject({ action: 'session-reset', code: ERR_UPDATE, subcode: UPD_INVALID_NETWORK_FIELD });
      expect(r.error.reason).toMatch(/33/);
    }
  });

  it('rejects a prefix running past the field', () => {
    const r = decodeNlri(fromHex('18 0a00  # /24 needs 3 octets, 2 present'), 0, 3, 'ipv4-unicast', false);
    expect(r.ok).toBe(false);
  });
});

describe('ADD-PATH NLRI (RFC 7911 §3)', () => {
  const wire = fromHex(`
    00000001 18 0a0001      # path id 1, 10.0.1.0/24
    00000002 18 0a0001      # path id 2, same prefix
  `);
  const nlri = { family: 'ipv4-unicast' as const, prefixes: [v4('10.0.1.0/24'), v4('10.0.1.0/24')], pathIds: [1, 2] };

  it('decodes path identifiers alongside prefixes', () => {
    const r = decodeNlri(wire, 0, wire.length, 'ipv4-unicast', true);
    expect(r.ok && r.value).toEqual(nlri);
  });

  it('encodes them back', () => {
    expect(encodeNlri(nlri, true)).toEqual(wire);
    expect(prefixWireLength(v4('10.0.1.0/24'), true)).toBe(8);
  });

  it('writes path id 0 when the caller has none', () => {
    expect(encodeNlri({ family: 'ipv4-unicast', prefixes: [v4('10.0.1.0/24')] }, true)).toEqual(fromHex('00000000 18 0a0001'));
  });

  it('rejects a truncated path identifier', () => {
    expect(decodeNlri(fromHex('000000 18'), 0, 4, 'ipv4-unicast', true).ok).toBe(false);
  });
});

describe('IPv6 NLRI', () => {
  const wire = fromHex(`
    40 20010db8 00000001            # 2001:db8:0:1::/64
    7a 20010db8 00000000 00000000 00001240  # 2001:db8::1240/122
    80 fe800000 00000000 00000000 00000001  # fe80::1/128
  `);
  const prefixes = [key('2001:db8:0:1::/64'), key('2001:db8::1240/122'), key('fe80::1/128')];

  it('decodes to string keys and back', () => {
    const r = decodeNlri(wire, 0, wire.length, 'ipv6-unicast', false);
    expect(r.ok && r.value).toEqual({ family: 'ipv6-unicast', prefixes });
    expect(encodeNlri({ family: 'ipv6-unicast', prefixes }, false)).toEqual(wire);
  });

  it('rejects a length above 128', () => {
    const r = decodeNlri(fromHex('81 ' + '00'.repeat(17)), 0, 18, 'ipv6-unicast', false);
    expect(r.ok).toBe(false);
  });
});

describe('packing helpers', () => {
  it('fits ~800 /26 into one 4096-octet UPDATE with a typical attribute set', () => {
    const prefixes: number[] = [];
    for (let i = 0; i < 2000; i++) prefixes.push(v4('10.0.0.0/8') + i * 64 * 64); // consecutive /26s
    prefixes.forEach((p, i) => (prefixes[i] = Math.floor(p / 64) * 64 + 26));
    const budget = 4096 - 23 - 40; // header + lengths, ~40 octets of attributes
    const n = maxPrefixesThatFit(prefixes, 0, budget, false);
    expect(n).toBe(Math.floor(budget / 5)); // /26 = 1 length octet + 4 address octets
    expect(n).toBeGreaterThan(800);
    expect(maxPrefixesThatFit(prefixes, 1990, budget, false)).toBe(10);
    expect(maxPrefixesThatFit(prefixes, 0, budget, true)).toBe(Math.floor(budget / 9));
  });
});
