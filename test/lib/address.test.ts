// The one address canonicaliser (src/lib/address.ts): what every per-peer key uses.
import { describe, expect, it } from 'vitest';
import { canonicalIp, normalizeAddress } from '../../src/lib/address.js';

describe('normalizeAddress', () => {
  it('unwraps IPv4-mapped IPv6 and canonicalises IPv6', () => {
    expect(normalizeAddress('::ffff:192.0.2.7')).toBe('192.0.2.7');
    expect(normalizeAddress('::FFFF:c000:0207')).toBe('192.0.2.7');
    expect(normalizeAddress('2001:0db8:0000:0000:0000:0000:0000:0001')).toBe('2001:db8::1');
    expect(normalizeAddress('fe80::1%eth0')).toBe('fe80::1');
    expect(normalizeAddress('10.0.0.1')).toBe('10.0.0.1');
  });
});

describe('canonicalIp', () => {
  it('is normalizeAddress for addresses and undefined for anything else', () => {
    expect(canonicalIp('2001:DB8:0::2')).toBe('2001:db8::2');
    expect(canonicalIp('::ffff:10.0.0.1')).toBe('10.0.0.1');
    expect(canonicalIp('10.0.0.1')).toBe('10.0.0.1');
    expect(canonicalIp('10.0.0.256')).toBeUndefined();
    expect(canonicalIp('node-b')).toBeUndefined();
    expect(canonicalIp('2001:db8::/32')).toBeUndefined();
    expect(normalizeAddress('node-b')).toBe('node-b');
  });
});
