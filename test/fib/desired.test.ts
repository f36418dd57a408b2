// The desired table: best-path changes in, kernel route forms out, with ECMP
// capping, blackholes for own blocks, skips and re-resolution on link changes.
import { describe, expect, it } from 'vitest';
import { prefixParse, type PrefixKey } from '../../src/lib/prefix.js';
import { compileFormContext, type LinkState } from '../../src/fib/modes.js';
import { DesiredTable, desiredRouteFor, opsForUpdate } from '../../src/fib/desired.js';
import type { IpPoolConfig } from '../../src/config/schema.js';

const P = (text: string): PrefixKey => prefixParse(text)!;
const pools: IpPoolConfig[] = [
  { cidr: '10.244.0.0/16', mode: 'ipip', program: true, disableExport: false },
  { cidr: '10.250.0.0/16', mode: 'direct', program: false, disableExport: false },
];
const links = (tunnel: boolean): Map<string, LinkState> =>
  new Map(Object.entries(tunnel ? { eth0: { ifindex: 2, up: true }, tunl0: { ifindex: 7, up: true } } : { eth0: { ifindex: 2, up: true } }));
const ctxWith = (tunnel = true) =>
  compileFormContext(
    { ipPools: pools, serviceCidrs: ['10.96.0.0/12'], fib: { defaultMode: 'direct' } },
    { links: links(tunnel), localSubnets: ['192.168.1.0/24'] },
  );
const opts = { table: 254, protocol: 201, ecmp: 3 };

describe('desiredRouteFor', () => {
  it('one next hop in an ipip pool: unicast via tunl0 onlink, table/protocol/metric from the options', () => {
    expect(desiredRouteFor({ prefix: P('10.244.1.0/26'), nextHops: [{ address: '192.168.2.9' }] }, ctxWith(), opts)).toEqual({
      kind: 'route',
      route: {
        prefix: P('10.244.1.0/26'),
        table: 254,
        protocol: 201,
        metric: 0,
        type: 'unicast',
        nextHops: [{ gateway: '192.168.2.9', ifindex: 7, onlink: true }],
      },
    });
  });

  it('an own block: a blackhole without next hops; /32 own block: skipped', () => {
    const own = desiredRouteFor({ prefix: P('10.244.1.0/26'), local: { blackhole: true } }, ctxWith(), opts);
    expect(own).toMatchObject({ kind: 'route', route: { type: 'blackhole', nextHops: [] } });
    expect(desiredRouteFor({ prefix: P('10.244.1.9/32'), local: { blackhole: true } }, ctxWith(), opts)).toEqual({ kind: 'skip', reason: 'host-route' });
    expect(desiredRouteFor({ prefix: P('10.244.1.0/26'), local: { blackhole: false } }, ctxWith(), opts)).toEqual({ kind: 'skip', reason: 'local-no-blackhole' });
  });

  it('ECMP: one multipath route, canonical order, capped at fib.ecmp, duplicates merged', () => {
    const nextHops = ['10.0.0.5', '10.0.0.1', '10.0.0.4', '10.0.0.1', '10.0.0.3'].map((address) => ({ address }));
    const out = desiredRouteFor({ prefix: P('172.16.0.0/24'), nextHops }, ctxWith(), opts);
    expect(out).toMatchObject({
      kind: 'route',
      route: {
        nextHops: [
          { gateway: '10.0.0.1', onlink: false },
          { gateway: '10.0.0.3', onlink: false },
          { gateway: '10.0.0.4', onlink: false },
        ],
      },
    });
    // The same set in another order gives the same route.
    const again = desiredRouteFor({ prefix: P('172.16.0.0/24'), nextHops: [...nextHops].reverse() }, ctxWith(), opts);
    expect(again).toEqual(out);
    const wide = desiredRouteFor({ prefix: P('172.16.0.0/24'), nextHops }, ctxWith(), { ...opts, ecmp: 8 });
    expect(wide.kind === 'route' && wide.route.nextHops.length).toBe(4);
    const single = desiredRouteFor({ prefix: P('172.16.0.0/24'), nextHops }, ctxWith(), { ...opts, ecmp: 1 });
    expect(single.kind === 'route' && single.route.nextHops).toEqual([{ gateway: '10.0.0.1', onlink: false }]);
  });

  it('IPv6 ECMP with link-local next hops keeps each interface; metric defaults to 1024', () => {
    const c = compileFormContext(
      { ipPools: [], serviceCidrs: [], fib: { defaultMode: 'direct' } },
      { links: new Map([['eth0', { ifindex: 2, up: true }], ['eth1', { ifindex: 3, up: true }]]), localSubnets: [] },
    );
    const out = desiredRouteFor(
      { prefix: P('fd00:244:1::/64'), nextHops: [{ address: 'fe80::1', interface: 'eth1' }, { address: 'fe80::1', interface: 'eth0' }] },
      c,
      opts,
    );
    expect(out).toMatchObject({
      kind: 'route',
      route: {
        metric: 1024,
        nextHops: [
          { gateway: 'fe80::1', ifindex: 2, onlink: false },
          { gateway: 'fe80::1', ifindex: 3, onlink: false },
        ],
      },
    });
  });

  it('some next hops unresolvable: the rest are used; none: the route is marked with the reason', () => {
    const c = ctxWith(false); // no tunl0
    const mixed = desiredRouteFor({ prefix: P('10.244.1.0/26'), nextHops: [{ address: '192.168.2.9' }, { address: 'zzz' }] }, c, opts);
    expect(mixed).toMatchObject({ kind: 'route', route: { nextHops: [], unresolvable: 'tunnel-missing' } });
    const cs = compileFormContext(
      { ipPools: [{ cidr: '10.244.0.0/16', mode: 'crossSubnet', program: true, disableExport: false }], serviceCidrs: [], fib: { defaultMode: 'direct' } },
      { links: links(false), localSubnets: ['192.168.1.0/24'] },
    );
    const partial = desiredRouteFor({ prefix: P('10.244.1.0/26'), nextHops: [{ address: '192.168.2.9' }, { address: '192.168.1.9' }] }, cs, opts);
    expect(partial).toMatchObject({ kind: 'route', route: { nextHops: [{ gateway: '192.168.1.9', onlink: false }] } });
    expect(partial.kind === 'route' && partial.route.unresolvable).toBeUndefined();
  });

  it('no next hops and not local: withdrawn', () => {
    expect(desiredRouteFor({ prefix: P('10.244.1.0/26'), nextHops: [] }, ctxWith(), opts)).toEqual({ kind: 'withdrawn' });
    expect(desiredRouteFor({ prefix: P('10.244.1.0/26') }, ctxWith(), opts)).toEqual({ kind: 'withdrawn' });
  });
});

describe('DesiredTable', () => {
  it('apply reports changes; an identical change is not a change', () => {
    const t = new DesiredTable(ctxWith(), opts);
    const p = P('10.244.1.0/26');
    const first = t.apply({ prefix: p, nextHops: [{ address: '192.168.2.9' }] });
    expect(first.changed).toBe(true);
    expect(opsForUpdate(first)).toEqual([{ kind: 'add', route: first.route, cause: 'rib' }]);
    const same = t.apply({ prefix: p, nextHops: [{ address: '192.168.2.9' }] });
    expect(same.changed).toBe(false);
    expect(opsForUpdate(same)).toEqual([]);
    const moved = t.apply({ prefix: p, nextHops: [{ address: '192.168.2.10' }] });
    expect(moved.changed).toBe(true);
    expect(opsForUpdate(moved)[0]).toMatchObject({ kind: 'replace' });
    const gone = t.apply({ prefix: p });
    expect(gone).toMatchObject({ route: undefined, changed: true });
    expect(opsForUpdate(gone)).toEqual([{ kind: 'delete', route: moved.route, cause: 'rib' }]);
    expect(t.size).toBe(0);
  });

  it('skipped prefixes are kept aside with their reason, and a skip removes a wanted route', () => {
    const t = new DesiredTable(ctxWith(), opts);
    t.apply({ prefix: P('10.96.0.10/32'), nextHops: [{ address: '192.168.1.5' }] });
    t.apply({ prefix: P('10.250.1.0/26'), nextHops: [{ address: '192.168.1.5' }] });
    expect(t.size).toBe(0);
    expect([...t.skipped()]).toEqual([
      [P('10.96.0.10/32'), 'service-cidr'],
      [P('10.250.1.0/26'), 'pool-not-programmed'],
    ]);
    const p = P('10.244.7.0/26');
    t.apply({ prefix: p, local: { blackhole: true } });
    expect(t.get(p)?.type).toBe('blackhole');
    const u = t.apply({ prefix: p, local: { blackhole: false } });
    expect(u).toMatchObject({ route: undefined, skipped: 'local-no-blackhole', changed: true });
    expect(t.get(p)).toBeUndefined();
  });

  it('setContext re-resolves: tunl0 appearing makes unresolvable routes installable', () => {
    const t = new DesiredTable(ctxWith(false), opts);
    const p = P('10.244.1.0/26');
    const q = P('172.16.0.0/24');
    t.apply({ prefix: p, nextHops: [{ address: '192.168.2.9' }] });
    t.apply({ prefix: q, nextHops: [{ address: '192.168.2.9' }] });
    expect(t.get(p)?.unresolvable).toBe('tunnel-missing');
    const updates = t.setContext(ctxWith(true));
    expect(updates.map((u) => u.prefix)).toEqual([p]); // q is direct, unchanged
    expect(t.get(p)?.unresolvable).toBeUndefined();
    expect(t.get(p)).toMatchObject({ nextHops: [{ gateway: '192.168.2.9', ifindex: 7, onlink: true }] });
    expect(opsForUpdate(updates[0]!)[0]).toMatchObject({ kind: 'replace' });
  });
});
