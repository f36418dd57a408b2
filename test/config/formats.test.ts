// The config string formats accept what the shared prefix parsers accept.
import { Value } from '@sinclair/typebox/value';
import { describe, expect, it } from 'vitest';
import { canonicalIp, isIp, isIpv4, isPrefix, maskedPrefix } from '../../src/config/formats.js';
import { NeighborSchema, OriginateSchema } from '../../src/config/schema.js';

describe('config formats', () => {
  it('ipv4', () => {
    expect(['192.0.2.1', '0.0.0.0', '255.255.255.255'].map(isIpv4)).toEqual([true, true, true]);
    expect(['192.0.2', '192.0.2.256', '192.0.2.1/32', '::1', ' 192.0.2.1'].map(isIpv4)).toEqual([false, false, false, false, false]);
  });

  it('ip: IPv4 or IPv6, including an embedded IPv4 tail', () => {
    expect(['2001:db8::1', '::', '::ffff:192.0.2.1', '192.0.2.1'].map(isIp)).toEqual([true, true, true, true]);
    expect(['2001:db8:::1', '2001:db8::g', '1:2:3:4:5:6:7:8:9', ''].map(isIp)).toEqual([false, false, false, false]);
  });

  it('prefix: host bits must be clear', () => {
    expect(['10.244.1.0/26', '0.0.0.0/0', '2001:db8::/32', 'fd00::/128'].map(isPrefix)).toEqual([true, true, true, true]);
    expect(['10.244.1.1/26', '10.0.0.0/33', '10.0.0.0', '2001:db8::1/32'].map(isPrefix)).toEqual([false, false, false, false]);
    expect(maskedPrefix('10.244.1.77/26')).toBe('10.244.1.64/26');
    expect(maskedPrefix('nonsense/8')).toBeUndefined();
  });

  it('canonicalIp follows RFC 5952', () => {
    expect(canonicalIp('2001:DB8:0:0:0::1')).toBe('2001:db8::1');
    expect(canonicalIp('192.0.2.1')).toBe('192.0.2.1');
    expect(canonicalIp('nope')).toBeUndefined();
  });

  it('importing the schema registers the formats with TypeBox', () => {
    expect(Value.Check(OriginateSchema, { prefix: '10.244.1.0/26' })).toBe(true);
    expect(Value.Check(OriginateSchema, { prefix: '10.244.1.1/26' })).toBe(false);
    const n = { address: '2001:db8::2', asn: 1, port: 179, passive: false, connectRetryTime: 5, shutdown: false,
      routeReflectorClient: false, nextHopMode: 'auto', holdTime: 90, families: ['ipv6-unicast'] };
    expect(Value.Check(NeighborSchema, n)).toBe(true);
    expect(Value.Check(NeighborSchema, { ...n, address: '2001:db8::zz' })).toBe(false);
  });
});
