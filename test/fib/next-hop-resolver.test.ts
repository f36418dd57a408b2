// Next-hop resolution against kept kernel routes (RFC 4271 §9.1.2): one case
// per rule — connected subnets, recursive longest match, our own protocol's
// routes and other tables ignored, blackholes resolving nothing, the metric
// for §9.1.2.2 e, deletes, own addresses, IPv6 and IPv4-mapped addresses.
import { describe, expect, it } from 'vitest';
import { NextHopResolver } from '../../src/fib/next-hop-resolver.js';
import type { KernelRoute } from '../../src/fib/netlink/messages.js';
import type { KernelAddress } from '../../src/fib/netlink/interfaces.js';
import { prefixParse, v4KeyParse } from '../../src/lib/prefix.js';

const OURS = 201;
const route = (dst: string, over: Partial<KernelRoute> = {}): KernelRoute => ({
  family: dst.includes(':') ? 'ipv6-unicast' : 'ipv4-unicast',
  dst: prefixParse(dst)!,
  table: 254,
  protocol: 4, // static
  type: 'unicast',
  scope: 0,
  onlink: false,
  ...over,
});
const addr = (address: string, len: number, subnet: string): KernelAddress => ({
  family: address.includes(':') ? 'ipv6-unicast' : 'ipv4-unicast',
  index: 2,
  address,
  prefixLength: len,
  subnet: address.includes(':') ? prefixParse(subnet)! : v4KeyParse(subnet)!,
  scope: 0,
});

function resolver() {
  const r = new NextHopResolver({ tables: [254], protocol: OURS });
  r.address('new', addr('10.0.0.1', 24, '10.0.0.0/24'));
  r.address('new', addr('2001:db8::1', 64, '2001:db8::/64'));
  return r;
}

describe('NextHopResolver', () => {
  it('a next hop on a connected subnet resolves in both modes, metric 0', () => {
    const r = resolver();
    expect(r.resolve('10.0.0.2', 'connected')).toEqual({ reachable: true, metric: 0, via: 'connected 10.0.0.0/24' });
    expect(r.resolve('10.0.0.2', 'recursive')).toMatchObject({ reachable: true, metric: 0 });
    expect(r.resolve('2001:db8::2', 'connected').reachable).toBe(true);
    expect(r.resolve('::ffff:10.0.0.9', 'connected').reachable).toBe(true);
  });

  it('a next hop behind a static route resolves only recursively, with the route metric', () => {
    const r = resolver();
    r.route('new', route('10.9.0.0/24', { gateway: '10.0.0.2', priority: 20 }));
    expect(r.resolve('10.9.0.5', 'connected').reachable).toBe(false);
    expect(r.resolve('10.9.0.5', 'recursive')).toEqual({ reachable: true, metric: 20, via: 'route 10.9.0.0/24 via 10.0.0.2' });
    // The longest match decides; the lowest metric among equal prefixes.
    r.route('new', route('10.9.0.0/16', { gateway: '10.0.0.3', priority: 5 }));
    r.route('new', route('10.9.0.0/24', { gateway: '10.0.0.4', priority: 10 }));
    expect(r.resolve('10.9.0.5', 'recursive').metric).toBe(10);
    expect(r.resolve('10.9.1.5', 'recursive').metric).toBe(5);
  });

  it('removing the route makes the next hop unreachable', () => {
    const r = resolver();
    const s = route('10.9.0.0/24', { gateway: '10.0.0.2' });
    expect(r.route('new', s)).toBe(true);
    expect(r.route('del', s)).toBe(true);
    expect(r.route('del', s)).toBe(false);
    expect(r.resolve('10.9.0.5', 'recursive')).toEqual({ reachable: false });
  });

  it('our own routes (protocol) and other tables never resolve a next hop', () => {
    const r = resolver();
    expect(r.route('new', route('10.9.0.0/24', { protocol: OURS, gateway: '10.0.0.2' }))).toBe(false);
    expect(r.route('new', route('10.8.0.0/24', { table: 100, gateway: '10.0.0.2' }))).toBe(false);
    expect(r.resolve('10.9.0.5', 'recursive').reachable).toBe(false);
    expect(r.resolve('10.8.0.5', 'recursive').reachable).toBe(false);
  });

  it('a blackhole covering the next hop resolves nothing; a default route does (as BIRD)', () => {
    const r = resolver();
    r.route('new', route('0.0.0.0/0', { gateway: '10.0.0.254', priority: 100 }));
    expect(r.resolve('198.51.100.7', 'recursive')).toMatchObject({ reachable: true, metric: 100 });
    r.route('new', route('198.51.100.0/24', { type: 'blackhole' }));
    expect(r.resolve('198.51.100.7', 'recursive').reachable).toBe(false);
  });

  it('IPv6 routes', () => {
    const r = resolver();
    r.route('new', route('2001:db8:9::/48', { gateway: '2001:db8::2', priority: 1024 }));
    expect(r.resolve('2001:db8:9::1', 'recursive')).toMatchObject({ reachable: true, metric: 1024 });
    expect(r.resolve('2001:db8:a::1', 'recursive').reachable).toBe(false);
  });

  it('own addresses, and an address that goes away', () => {
    const r = resolver();
    expect(r.isOwn('10.0.0.1')).toBe(true);
    expect(r.isOwn('::ffff:10.0.0.1')).toBe(true);
    expect(r.isOwn('2001:db8::1')).toBe(true);
    expect(r.isOwn('10.0.0.2')).toBe(false);
    r.address('del', addr('10.0.0.1', 24, '10.0.0.0/24'));
    expect(r.isOwn('10.0.0.1')).toBe(false);
    expect(r.resolve('10.0.0.2', 'connected').reachable).toBe(false);
  });

  it('text that is no address resolves nothing', () => {
    expect(resolver().resolve('not-an-address', 'recursive').reachable).toBe(false);
  });

  it('addresses are kept by identity: a repeated RTM_NEWADDR counts once, one RTM_DELADDR removes it', () => {
    const r = new NextHopResolver({ tables: [254], protocol: OURS });
    const a = addr('10.1.0.1', 24, '10.1.0.0/24');
    expect(r.address('new', a)).toBe(true);
    expect(r.address('new', a)).toBe(false); // the dump after subscribing, or a lifetime update
    expect(r.address('del', a)).toBe(true);
    expect(r.isOwn('10.1.0.1')).toBe(false);
    expect(r.resolve('10.1.0.9', 'connected').reachable).toBe(false);
    expect(r.address('del', a)).toBe(false);
  });

  it('a host-scope address is ours but makes no connected subnet', () => {
    const r = new NextHopResolver({ tables: [254], protocol: OURS });
    r.address('new', { ...addr('127.0.0.1', 8, '127.0.0.0/8'), scope: 254 });
    expect(r.isOwn('127.0.0.1')).toBe(true);
    expect(r.connectedSubnet('127.0.0.2')).toBeUndefined();
  });

  it('own IPv6 addresses match whatever way they are written', () => {
    const r = resolver();
    expect(r.isOwn('2001:db8:0:0:0:0:0:1')).toBe(true);
    expect(r.isOwn('2001:DB8::1')).toBe(true);
  });
});
