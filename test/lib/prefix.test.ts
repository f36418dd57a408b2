import { describe, expect, it } from 'vitest';
import {
  prefixFamily, prefixParse, prefixToString, v4Contains, v4Key, v4KeyAddress, v4KeyLength, v4KeyParse,
  v4KeyToString, v4Parse, v6KeyBytes, v6KeyFromBytes, v6KeyLength, v6KeyParse, v6KeyToString, v6Parse, v6ToString,
} from '../../src/lib/prefix.js';

describe('IPv4 prefix keys', () => {
  it('packs address and length into one number and back', () => {
    const key = v4Key(0x0af40140, 26); // 10.244.1.64/26
    expect(v4KeyAddress(key)).toBe(0x0af40140);
    expect(v4KeyLength(key)).toBe(26);
    expect(v4KeyToString(key)).toBe('10.244.1.64/26');
  });

  it('clears host bits', () => {
    expect(v4KeyToString(v4Key(0x0af401ff, 24))).toBe('10.244.1.0/24');
    expect(v4KeyToString(v4Key(0xffffffff, 0))).toBe('0.0.0.0/0');
    expect(v4KeyToString(v4Key(0xffffffff, 32))).toBe('255.255.255.255/32');
  });

  it('sorts by address, then length', () => {
    const keys = ['10.0.0.0/16', '9.255.0.0/16', '10.0.0.0/8', '10.0.1.0/24'].map((t) => v4KeyParse(t)!);
    expect([...keys].sort((a, b) => a - b).map(v4KeyToString)).toEqual([
      '9.255.0.0/16', '10.0.0.0/8', '10.0.0.0/16', '10.0.1.0/24',
    ]);
  });

  it('rejects malformed text and set host bits', () => {
    for (const bad of ['10.0.0.0', '10.0.0.0/33', '10.0.0/8', '256.0.0.0/8', '10.0.0.1/24', 'a.b.c.d/8', '10.0.0.0/-1'])
      expect(v4KeyParse(bad), bad).toBeUndefined();
    expect(v4KeyToString(v4KeyParse('10.0.0.1/24', true)!)).toBe('10.0.0.0/24');
    expect(v4Parse('01.2.3.4')).toBe(0x01020304);
    expect(v4Parse('1.2.3')).toBeUndefined();
  });

  it('tests containment', () => {
    const pool = v4KeyParse('10.244.0.0/16')!;
    expect(v4Contains(pool, v4KeyParse('10.244.7.0/26')!)).toBe(true);
    expect(v4Contains(pool, pool)).toBe(true);
    expect(v4Contains(pool, v4KeyParse('10.245.0.0/26')!)).toBe(false);
    expect(v4Contains(pool, v4KeyParse('10.0.0.0/8')!)).toBe(false);
  });
});

describe('IPv6 prefix keys', () => {
  it('parses and formats canonically (RFC 5952)', () => {
    expect(v6ToString(v6Parse('2001:0db8:0000:0000:0000:0000:0000:0001')!)).toBe('2001:db8::1');
    expect(v6ToString(v6Parse('2001:db8:0:0:1:0:0:1')!)).toBe('2001:db8::1:0:0:1');
    expect(v6ToString(v6Parse('::')!)).toBe('::');
    expect(v6ToString(v6Parse('fe80::1')!)).toBe('fe80::1');
    expect(v6ToString(v6Parse('2001:db8:1:2:3:4:5:6')!)).toBe('2001:db8:1:2:3:4:5:6');
    expect(v6ToString(v6Parse('::ffff:192.0.2.1')!)).toBe('::ffff:c000:201');
  });

  it('rejects malformed addresses', () => {
    for (const bad of ['1::2::3', '12345::', 'g::1', '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7', '', ':::'])
      expect(v6Parse(bad), bad).toBeUndefined();
  });

  it('builds keys from NLRI bytes, masking trailing bits', () => {
    const key = v6KeyFromBytes(Buffer.from([0x20, 0x01, 0x0d, 0xb8, 0xff]), 0, 36);
    expect(v6KeyToString(key)).toBe('2001:db8:f000::/36');
    expect(v6KeyLength(key)).toBe(36);
    expect(v6KeyBytes(key).length).toBe(16);
  });

  it('round-trips through text and rejects host bits', () => {
    expect(v6KeyToString(v6KeyParse('2001:db8:1::/48')!)).toBe('2001:db8:1::/48');
    expect(v6KeyParse('2001:db8:1::1/48')).toBeUndefined();
    expect(v6KeyParse('2001:db8::/129')).toBeUndefined();
  });
});

describe('either family', () => {
  it('dispatches on the text and the key type', () => {
    const a = prefixParse('10.1.0.0/16')!;
    const b = prefixParse('2001:db8::/32')!;
    expect(prefixFamily(a)).toBe('ipv4-unicast');
    expect(prefixFamily(b)).toBe('ipv6-unicast');
    expect(prefixToString(a)).toBe('10.1.0.0/16');
    expect(prefixToString(b)).toBe('2001:db8::/32');
  });
});
