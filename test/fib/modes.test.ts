// Route forms per IP pool (Calico ipipMode semantics), blackholes for own
// blocks, skipped prefixes and IPv6 next hops.
import { HostContext } from '../../src/fib/host-context.js';
import { NextHopResolver } from '../../src/fib/next-hop-resolver.js';
import { describe, expect, it } from 'vitest';
import { prefixParse, type PrefixKey } from '../../src/lib/prefix.js';
import {
  compileFormContext,
  compilePrefixSet,
  matchPrefix,
  resolveForm,
  type FormContext,
  type LinkState,
} from '../../src/fib/modes.js';
import type { IpPoolConfig } from '../../src/config/schema.js';

const P = (text: string): PrefixKey => {
  const k = prefixParse(text);
  if (k === undefined) throw new Error(`bad prefix ${text}`);
  return k;
};

const pool = (cidr: string, mode: IpPoolConfig['mode'], program = true): IpPoolConfig => ({
  cidr,
  mode,
  program,
  disableExport: false,
});

function ctx(over: {
  pools?: IpPoolConfig[];
  links?: Record<string, LinkState>;
  localSubnets?: string[];
  serviceCidrs?: string[];
  defaultMode?: 'direct' | 'ipip';
} = {}): FormContext {
  return compileFormContext(
    {
      ipPools: over.pools ?? [],
      serviceCidrs: over.serviceCidrs ?? [],
      fib: { defaultMode: over.defaultMode ?? 'direct' },
    },
    {
      links: new Map(Object.entries(over.links ?? { tunl0: { ifindex: 7, up: true }, eth0: { ifindex: 2, up: true } })),
      localSubnets: over.localSubnets ?? ['192.168.1.0/24'],
    },
  );
}

describe('resolveForm: encapsulation per pool', () => {
  it('ipip pool: via the node IP dev tunl0 onlink', () => {
    const c = ctx({ pools: [pool('10.244.0.0/16', 'ipip')] });
    expect(resolveForm(P('10.244.3.0/26'), { address: '192.168.1.12' }, c)).toEqual({
      kind: 'ipip',
      gateway: '192.168.1.12',
      dev: 'tunl0',
      ifindex: 7,
      onlink: true,
    });
  });

  it('direct pool: via the node IP, no device (the kernel resolves it)', () => {
    const c = ctx({ pools: [pool('10.244.0.0/16', 'direct')] });
    expect(resolveForm(P('10.244.3.0/26'), { address: '10.9.9.9' }, c)).toEqual({ kind: 'direct', gateway: '10.9.9.9' });
  });

  it('crossSubnet: direct when the next hop is on a local subnet', () => {
    const c = ctx({ pools: [pool('10.244.0.0/16', 'crossSubnet')], localSubnets: ['192.168.1.0/24'] });
    expect(resolveForm(P('10.244.3.0/26'), { address: '192.168.1.200' }, c)).toEqual({
      kind: 'direct',
      gateway: '192.168.1.200',
    });
  });

  it('crossSubnet asks the host\'s connected subnets, the ones next-hop tracking resolves over (one answer)', () => {
    const host = new HostContext();
    const eth0 = { family: 'ipv4-unicast' as const, index: 2, address: '192.168.2.1', prefixLength: 24, subnet: P('192.168.2.0/24'), scope: 0 };
    host.handle({ kind: 'link', change: 'new', link: { index: 7, name: 'tunl0', up: true, lowerUp: true, flags: 1 } });
    host.handle({ kind: 'addr', change: 'new', address: eth0 });
    const form = () =>
      resolveForm(P('10.244.3.0/26'), { address: '192.168.2.5' }, compileFormContext({ ipPools: [pool('10.244.0.0/16', 'crossSubnet')], serviceCidrs: [], fib: { defaultMode: 'direct' } }, host.input()));
    const tracking = new NextHopResolver({ tables: [254], protocol: 201 }, host.subnets);
    expect(form()).toEqual({ kind: 'direct', gateway: '192.168.2.5' });
    expect(tracking.resolve('192.168.2.5', 'connected').reachable).toBe(true);
    // The address goes: both answers change together.
    host.handle({ kind: 'addr', change: 'del', address: eth0 });
    expect(form()).toMatchObject({ kind: 'ipip', gateway: '192.168.2.5' });
    expect(tracking.resolve('192.168.2.5', 'connected').reachable).toBe(false);
  });

  it('crossSubnet with fib.nodeSubnets (a datastore\'s Node prefix): those subnets decide, not the host\'s connected ones', () => {
    const host = new HostContext();
    host.handle({ kind: 'link', change: 'new', link: { index: 7, name: 'tunl0', up: true, lowerUp: true, flags: 1 } });
    host.handle({ kind: 'addr', change: 'new', address: { family: 'ipv4-unicast', index: 2, address: '192.168.2.1', prefixLength: 24, subnet: P('192.168.2.0/24'), scope: 0 } });
    const form = (address: string, nodeSubnets?: string[]) =>
      resolveForm(
        P('10.244.3.0/26'),
        { address },
        compileFormContext({ ipPools: [pool('10.244.0.0/16', 'crossSubnet')], serviceCidrs: [], fib: { defaultMode: 'direct', nodeSubnets } }, host.input()),
      );
    // The Node says 192.168.2.1/25: .5 is on its subnet, .200 is not, though the kernel's /24 holds both.
    expect(form('192.168.2.5', ['192.168.2.0/25'])).toEqual({ kind: 'direct', gateway: '192.168.2.5' });
    expect(form('192.168.2.200', ['192.168.2.0/25'])).toMatchObject({ kind: 'ipip', gateway: '192.168.2.200', onlink: true });
    expect(form('192.168.2.200')).toEqual({ kind: 'direct', gateway: '192.168.2.200' }); // without it: the kernel's subnets
  });

  it('crossSubnet: ipip when the next hop is on another subnet', () => {
    const c = ctx({ pools: [pool('10.244.0.0/16', 'crossSubnet')], localSubnets: ['192.168.1.0/24'] });
    expect(resolveForm(P('10.244.3.0/26'), { address: '192.168.2.5' }, c)).toMatchObject({
      kind: 'ipip',
      gateway: '192.168.2.5',
      onlink: true,
    });
  });

  it('the longest matching pool decides, whatever the config order', () => {
    const pools = [pool('10.0.0.0/8', 'ipip'), pool('10.244.0.0/16', 'direct'), pool('10.244.128.0/17', 'ipip')];
    for (const order of [pools, [...pools].reverse()]) {
      const c = ctx({ pools: order });
      expect(resolveForm(P('10.244.1.0/26'), { address: '192.168.9.1' }, c).kind).toBe('direct');
      expect(resolveForm(P('10.244.200.0/26'), { address: '192.168.9.1' }, c).kind).toBe('ipip');
      expect(resolveForm(P('10.10.0.0/26'), { address: '192.168.9.1' }, c).kind).toBe('ipip');
    }
  });

  it('a prefix shorter than the pool is not inside it: fib.defaultMode applies', () => {
    const c = ctx({ pools: [pool('10.244.0.0/16', 'ipip')], defaultMode: 'direct' });
    expect(resolveForm(P('10.0.0.0/8'), { address: '192.168.9.1' }, c).kind).toBe('direct');
    const c2 = ctx({ pools: [], defaultMode: 'ipip' });
    expect(resolveForm(P('172.16.0.0/24'), { address: '192.168.9.1' }, c2).kind).toBe('ipip');
  });

  it('program: false pools are skipped (Calico VXLAN / EnabledNoEncapOnly), own blocks too', () => {
    const c = ctx({ pools: [pool('10.244.0.0/16', 'ipip'), pool('10.245.0.0/16', 'direct', false)] });
    expect(resolveForm(P('10.245.1.0/26'), { address: '192.168.1.3' }, c)).toEqual({ kind: 'skip', reason: 'pool-not-programmed' });
    expect(resolveForm(P('10.245.1.0/26'), null, c)).toEqual({ kind: 'skip', reason: 'pool-not-programmed' });
    expect(resolveForm(P('10.244.1.0/26'), { address: '192.168.1.3' }, c).kind).toBe('ipip');
  });

  it('a more specific program: true pool inside a program: false one is programmed', () => {
    const c = ctx({ pools: [pool('10.0.0.0/8', 'direct', false), pool('10.1.0.0/16', 'direct')] });
    expect(resolveForm(P('10.1.2.0/24'), { address: '192.168.1.3' }, c).kind).toBe('direct');
    expect(resolveForm(P('10.2.2.0/24'), { address: '192.168.1.3' }, c).kind).toBe('skip');
  });

  it('routes inside service CIDRs learned from others are not programmed', () => {
    const c = ctx({ serviceCidrs: ['10.96.0.0/12', 'fd00:96::/108'] });
    expect(resolveForm(P('10.96.0.10/32'), { address: '192.168.1.3' }, c)).toEqual({ kind: 'skip', reason: 'service-cidr' });
    expect(resolveForm(P('10.100.0.0/24'), { address: '192.168.1.3' }, c)).toEqual({ kind: 'skip', reason: 'service-cidr' });
    expect(resolveForm(P('10.112.0.0/24'), { address: '192.168.1.3' }, c).kind).toBe('direct');
    expect(resolveForm(P('fd00:96::a/128'), { address: 'fd00::1' }, c).kind).toBe('skip');
    expect(resolveForm(P('fd00:96::f:0/112'), { address: 'fd00::1' }, c).kind).toBe('skip'); // inside the /108
    expect(resolveForm(P('fd00:96::10:0/112'), { address: 'fd00::1' }, c).kind).toBe('direct');
  });
});

describe('resolveForm: own blocks', () => {
  const c = ctx({ pools: [pool('10.244.0.0/16', 'ipip'), pool('fd00:244::/48', 'direct')] });

  it('an own block gets a blackhole', () => {
    expect(resolveForm(P('10.244.1.0/26'), null, c)).toEqual({ kind: 'blackhole' });
    expect(resolveForm(P('fd00:244:0:1::/64'), null, c)).toEqual({ kind: 'blackhole' });
  });

  it('but not a /32 or /128 block', () => {
    expect(resolveForm(P('10.244.1.7/32'), null, c)).toEqual({ kind: 'skip', reason: 'host-route' });
    expect(resolveForm(P('fd00:244::7/128'), null, c)).toEqual({ kind: 'skip', reason: 'host-route' });
    expect(resolveForm(P('10.244.1.6/31'), null, c)).toEqual({ kind: 'blackhole' });
  });
});

describe('resolveForm: tunnel and next-hop problems are unresolvable, not dropped', () => {
  it('ipip needed and tunl0 missing', () => {
    const c = ctx({ pools: [pool('10.244.0.0/16', 'ipip')], links: { eth0: { ifindex: 2, up: true } } });
    expect(resolveForm(P('10.244.3.0/26'), { address: '192.168.1.12' }, c)).toEqual({ kind: 'unresolvable', reason: 'tunnel-missing' });
  });

  it('ipip needed and tunl0 down', () => {
    const c = ctx({ pools: [pool('10.244.0.0/16', 'ipip')], links: { tunl0: { ifindex: 7, up: false } } });
    expect(resolveForm(P('10.244.3.0/26'), { address: '192.168.1.12' }, c)).toEqual({ kind: 'unresolvable', reason: 'tunnel-down' });
  });

  it('crossSubnet on a local subnet needs no tunnel', () => {
    const c = ctx({ pools: [pool('10.244.0.0/16', 'crossSubnet')], links: {}, localSubnets: ['192.168.1.0/24'] });
    expect(resolveForm(P('10.244.3.0/26'), { address: '192.168.1.12' }, c).kind).toBe('direct');
    expect(resolveForm(P('10.244.3.0/26'), { address: '192.168.7.12' }, c).kind).toBe('unresolvable');
  });

  it('garbage and cross-family next hops', () => {
    const c = ctx();
    expect(resolveForm(P('10.1.0.0/24'), { address: 'not-an-ip' }, c)).toEqual({ kind: 'unresolvable', reason: 'nexthop-invalid' });
    expect(resolveForm(P('10.1.0.0/24'), { address: 'fd00::1' }, c)).toEqual({ kind: 'unresolvable', reason: 'nexthop-family-mismatch' });
    expect(resolveForm(P('fd00:1::/64'), { address: '10.0.0.1' }, c)).toEqual({ kind: 'unresolvable', reason: 'nexthop-family-mismatch' });
  });
});

describe('resolveForm: IPv6', () => {
  const c = ctx({
    pools: [pool('fd00:244::/48', 'ipip')],
    links: { eth0: { ifindex: 2, up: true }, eth1: { ifindex: 3, up: false }, tunl0: { ifindex: 7, up: true } },
  });

  it('an ipip pool is direct for IPv6 (IPIP carries IPv4 only), gateway in RFC 5952 text', () => {
    expect(resolveForm(P('fd00:244:0:1::/64'), { address: 'FD00:0:0:0:0:0:0:0012' }, c)).toEqual({
      kind: 'direct',
      gateway: 'fd00::12',
    });
  });

  it('a link-local next hop carries its interface', () => {
    expect(resolveForm(P('fd00:244:0:1::/64'), { address: 'fe80::1', interface: 'eth0' }, c)).toEqual({
      kind: 'direct',
      gateway: 'fe80::1',
      ifindex: 2,
    });
    // fe80::/10 includes febf::.
    expect(resolveForm(P('fd00:244:0:1::/64'), { address: 'febf::1' }, c)).toEqual({
      kind: 'unresolvable',
      reason: 'link-local-without-interface',
    });
  });

  it('a link-local next hop without a usable interface is unresolvable', () => {
    expect(resolveForm(P('fd00:244:0:1::/64'), { address: 'fe80::1' }, c)).toEqual({ kind: 'unresolvable', reason: 'link-local-without-interface' });
    expect(resolveForm(P('fd00:244:0:1::/64'), { address: 'fe80::1', interface: 'eth9' }, c)).toEqual({ kind: 'unresolvable', reason: 'interface-missing' });
    expect(resolveForm(P('fd00:244:0:1::/64'), { address: 'fe80::1', interface: 'eth1' }, c)).toEqual({ kind: 'unresolvable', reason: 'interface-down' });
  });

  it('a global next hop ignores an interface given with it', () => {
    expect(resolveForm(P('fd00:244:0:1::/64'), { address: 'fec0::1', interface: 'eth0' }, c)).toEqual({ kind: 'direct', gateway: 'fec0::1' });
  });
});

describe('matchPrefix', () => {
  it('IPv6 pools on non-nibble boundaries', () => {
    const m = compilePrefixSet(['fd00:0:0:8000::/49', 'fd00::/48']);
    expect(matchPrefix(m, P('fd00:0:0:8000::/64'))).toBe(true);
    expect(matchPrefix(m, P('fd00:0:0:7fff::/64'))).toBe(true); // the /48
    expect(matchPrefix(m, P('fd00:0:1::/64'))).toBeUndefined();
  });

  it('host bits in a configured pool are tolerated', () => {
    const m = compilePrefixSet(['10.244.1.1/16']);
    expect(matchPrefix(m, P('10.244.200.0/24'))).toBe(true);
    expect(matchPrefix(m, P('10.245.0.0/24'))).toBeUndefined();
  });
});
