// The kernel FIB writer against the real kernel, in a throwaway network
// namespace (veth0 192.0.2.1/24 + fd00::1/64, a veth named tunl0 standing in
// for the IPIP device). `ip -j route` in the namespace is the independent
// witness: route forms per pool, ECMP, blackhole, IPv6, reconcile (adopt,
// delete stale, keepStale, other protocols untouched), drift repair, kernel
// refusals retried and reported, removal on shutdown.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { parseConfig } from '../../src/config/load.js';
import type { BgpConfig } from '../../src/config/schema.js';
import { DesiredTable, opsForUpdate } from '../../src/fib/desired.js';
import { createFibWriter, createTunnelDevice, type FibBackend } from '../../src/fib/factory.js';
import { compileFormContext } from '../../src/fib/modes.js';
import type { BestPathChange, DesiredRoute } from '../../src/fib/types.js';
import { prefixParse, type PrefixKey } from '../../src/lib/prefix.js';
import { createNetns, kernelSkipReason, type TestNetns } from '../helpers/netns.js';

const reason = kernelSkipReason();
const P = (t: string): PrefixKey => prefixParse(t)!;

interface IpRoute {
  dst: string;
  gateway?: string;
  dev?: string;
  flags: string[];
  type?: string;
  protocol?: string;
  nexthops?: { gateway: string; dev: string; flags: string[] }[];
}

function config(extra = ''): BgpConfig {
  const r = parseConfig(
    [
      'routerId: 192.0.2.1',
      'asn: 64512',
      'ipPools:',
      '  - { cidr: 10.244.0.0/16, mode: ipip }',
      '  - { cidr: 10.245.0.0/16, mode: direct }',
      '  - { cidr: 10.246.0.0/16, mode: crossSubnet }',
      'fib: { enabled: true, table: 254, protocol: 201, ecmp: 8 }',
      extra,
    ].join('\n'),
  );
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return r.config;
}

const poll = async (what: string, fn: () => boolean, ms = 3000): Promise<void> => {
  const end = Date.now() + ms;
  while (!fn()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe.skipIf(reason !== undefined)(`kernel FIB writer${reason ? ` (skipped: ${reason})` : ''}`, () => {
  let ns: TestNetns;
  let backend: FibBackend;
  let table: DesiredTable;
  const logs: Record<string, unknown>[] = [];
  const logger = pino({ level: 'debug' }, { write: (s: string) => void logs.push(JSON.parse(s) as Record<string, unknown>) });
  const cfg = config();

  const ours = (family = '-4'): IpRoute[] => ns.ipJson<IpRoute>(family, 'route', 'show', 'proto', '201');
  const byDst = (family = '-4'): Map<string, IpRoute> => new Map(ours(family).map((r) => [r.dst, r]));
  const change = (c: BestPathChange): void => backend.writer.apply(opsForUpdate(table.apply(c)));

  beforeAll(async () => {
    ns = createNetns('fibk');
    // A route of another protocol in the same table: never ours to touch.
    ns.run('ip', 'route', 'add', '10.99.0.0/24', 'via', '192.0.2.7', 'proto', 'static');
    // Two routes of ours left by a "previous run": one still wanted (adopted), one stale.
    ns.run('ip', 'route', 'add', '10.245.7.0/26', 'via', '192.0.2.2', 'proto', '201');
    ns.run('ip', 'route', 'add', '10.245.8.0/26', 'via', '192.0.2.3', 'proto', '201');
    backend = await createFibWriter(cfg, { logger, netns: ns.path, privileged: true });
    await backend.start();
    table = new DesiredTable(compileFormContext(cfg, backend.host.input()), { table: 254, protocol: 201, ecmp: 8 });
  });

  afterAll(async () => {
    await backend?.close();
    ns?.destroy();
  });

  it('runs in kernel mode and sees the namespace links and subnets', () => {
    expect(backend.mode).toBe('kernel');
    expect(backend.host.tunnelState()).toBe('up');
    const input = backend.host.input();
    expect(input.links.get('veth0')?.up).toBe(true);
    expect(input.localSubnets).toContain(P('192.0.2.0/24'));
    expect(input.localSubnets).toContain(P('fd00::/64'));
    expect(input.localSubnets).not.toContain(P('127.0.0.0/8')); // host scope
  });

  it('reconcile with keepStale adopts the wanted route and keeps the stale one', async () => {
    table.apply({ prefix: P('10.245.7.0/26'), nextHops: [{ address: '192.0.2.2' }] });
    const r = await backend.writer.sync(table.routes(), { keepStale: true });
    expect(r).toMatchObject({ adopted: 1, kept: 1, added: 0, deleted: 0 });
    expect(backend.kernel!.snapshot().counters.adds + backend.kernel!.snapshot().counters.replaces).toBe(0);
    expect([...byDst().keys()].sort()).toEqual(['10.245.7.0/26', '10.245.8.0/26']);
  });

  it('installs each pool form, blackhole, ECMP and IPv6', async () => {
    change({ prefix: P('10.244.1.0/26'), nextHops: [{ address: '10.0.0.2' }] }); // ipip
    change({ prefix: P('10.245.1.0/26'), nextHops: [{ address: '192.0.2.2' }] }); // direct
    change({ prefix: P('10.246.1.0/26'), nextHops: [{ address: '192.0.2.3' }] }); // crossSubnet, same subnet: direct
    change({ prefix: P('10.246.2.0/26'), nextHops: [{ address: '10.0.0.3' }] }); // crossSubnet, other subnet: ipip
    change({ prefix: P('10.244.9.0/26'), local: { blackhole: true } }); // own block
    change({ prefix: P('10.245.2.0/26'), nextHops: [{ address: '192.0.2.3' }, { address: '192.0.2.2' }] }); // ECMP
    change({ prefix: P('fd10:1::/64'), nextHops: [{ address: 'fd00::2' }] });
    await backend.kernel!.idle();
    const v4 = byDst();
    expect(v4.get('10.244.1.0/26')).toMatchObject({ gateway: '10.0.0.2', dev: 'tunl0' });
    expect(v4.get('10.244.1.0/26')!.flags).toContain('onlink');
    expect(v4.get('10.245.1.0/26')).toMatchObject({ gateway: '192.0.2.2', dev: 'veth0' });
    expect(v4.get('10.245.1.0/26')!.flags).not.toContain('onlink');
    expect(v4.get('10.246.1.0/26')).toMatchObject({ gateway: '192.0.2.3', dev: 'veth0' });
    expect(v4.get('10.246.2.0/26')).toMatchObject({ gateway: '10.0.0.3', dev: 'tunl0' });
    expect(v4.get('10.244.9.0/26')).toMatchObject({ type: 'blackhole' });
    expect(v4.get('10.245.2.0/26')!.nexthops!.map((h) => h.gateway).sort()).toEqual(['192.0.2.2', '192.0.2.3']);
    expect(byDst('-6').get('fd10:1::/64')).toMatchObject({ gateway: 'fd00::2', dev: 'veth0' });
  });

  it('a full reconcile deletes the stale route and leaves other protocols alone', async () => {
    const r = await backend.writer.sync(table.routes(), { keepStale: false });
    expect(r.deleted).toBe(1);
    await backend.kernel!.idle();
    expect(byDst().has('10.245.8.0/26')).toBe(false);
    expect(byDst().has('10.245.7.0/26')).toBe(true);
    const foreign = ns.ipJson<IpRoute>('-4', 'route', 'show', '10.99.0.0/24');
    expect(foreign).toHaveLength(1);
    expect(foreign[0]).toMatchObject({ gateway: '192.0.2.7', protocol: 'static' });
  });

  it('withdraw removes the route', async () => {
    change({ prefix: P('10.245.1.0/26') });
    await backend.kernel!.idle();
    expect(byDst().has('10.245.1.0/26')).toBe(false);
  });

  it('repairs drift: a route deleted or changed outside bgp-ts comes back', async () => {
    const before = backend.kernel!.snapshot().counters.driftRepairs;
    ns.run('ip', 'route', 'del', '10.244.1.0/26', 'proto', '201');
    await poll('10.244.1.0/26 restored', () => byDst().get('10.244.1.0/26')?.dev === 'tunl0');
    ns.run('ip', 'route', 'replace', '10.246.1.0/26', 'via', '192.0.2.9', 'proto', '201');
    await poll('10.246.1.0/26 repaired', () => byDst().get('10.246.1.0/26')?.gateway === '192.0.2.3');
    expect(backend.kernel!.snapshot().counters.driftRepairs).toBe(before + 2);
  });

  it('reports and retries a refused route while the rest goes on', async () => {
    // No connected route to 198.51.100.1: the kernel answers ENETUNREACH.
    change({ prefix: P('10.245.3.0/26'), nextHops: [{ address: '198.51.100.1' }] });
    change({ prefix: P('10.245.4.0/26'), nextHops: [{ address: '192.0.2.2' }] });
    await poll('a failure with two attempts', () => (backend.kernel!.snapshot().failed.find((f) => f.prefix === P('10.245.3.0/26'))?.attempts ?? 0) >= 2);
    const failed = backend.kernel!.snapshot().failed.find((f) => f.prefix === P('10.245.3.0/26'))!;
    expect(failed.errno).toBe(101);
    expect(byDst().has('10.245.4.0/26')).toBe(true);
    const line = logs.find((l) => l['event'] === 'fib-write-failed' && l['prefix'] === '10.245.3.0/26');
    expect(line).toMatchObject({ code: 'ENETUNREACH', errno: 101, op: 'add' });
    // The gateway becomes reachable: the next retry succeeds and the failure clears.
    ns.run('ip', 'addr', 'add', '198.51.100.2/24', 'dev', 'veth0');
    await poll('retry succeeded', () => byDst().get('10.245.3.0/26')?.gateway === '198.51.100.1', 5000);
    await poll('failure cleared', () => !backend.kernel!.snapshot().failed.some((f) => f.prefix === P('10.245.3.0/26')));
  });

  it('re-resolves forms when tunl0 goes down and comes back', async () => {
    const changed: DesiredRoute[] = [];
    backend.host.onChange((input) => {
      for (const u of table.setContext(compileFormContext(cfg, input))) {
        if (u.route) changed.push(u.route);
        backend.writer.apply(opsForUpdate(u));
      }
    });
    ns.run('ip', 'link', 'set', 'tunl0', 'down');
    await poll('ipip routes unresolvable', () => backend.kernel!.snapshot().unresolvable.some((u) => u.prefix === P('10.244.1.0/26') && u.reason === 'tunnel-down'));
    await poll('ipip route gone', () => !byDst().has('10.244.1.0/26'));
    ns.run('ip', 'link', 'set', 'tunl0', 'up');
    await poll('ipip route back', () => byDst().get('10.244.1.0/26')?.dev === 'tunl0');
    expect(changed.some((r) => r.prefix === P('10.244.1.0/26') && r.unresolvable === 'tunnel-down')).toBe(true);
  });

  it('a burst of 40,000 routes and their withdrawal: the echoes never overrun the monitor, no resync', async () => {
    // One notification per route comes back on the monitor, thousands per
    // loop turn. Read only a few hundred per turn they overran the receive
    // queue, and every burst ended in a full dump and reconcile.
    const N = 40_000;
    const prefix = (i: number): PrefixKey => P(`10.245.${64 + (i >> 8)}.${i & 255}/32`);
    const overrun = (): number => logs.filter((l) => l['event'] === 'fib-monitor-overrun').length;
    const before = overrun();
    for (let i = 0; i < N; i++) change({ prefix: prefix(i), nextHops: [{ address: '192.0.2.2' }] });
    await backend.kernel!.idle();
    expect(ours().filter((r) => r.dst.startsWith('10.245.') && !r.dst.includes('/')).length).toBe(N);
    for (let i = 0; i < N; i++) change({ prefix: prefix(i) });
    await backend.kernel!.idle();
    // The last echoes are read after the last ack: give them a moment.
    await new Promise((r) => setTimeout(r, 500));
    expect(overrun()).toBe(before);
    expect(ours().filter((r) => r.dst.startsWith('10.245.') && !r.dst.includes('/')).length).toBe(0);
  });

  it('removeAll deletes every route of ours and nothing else', async () => {
    backend.kernel!.removeAll();
    await backend.kernel!.idle();
    expect(ours('-4')).toEqual([]);
    expect(ours('-6')).toEqual([]);
    expect(ns.ipJson<IpRoute>('-4', 'route', 'show', '10.99.0.0/24')).toHaveLength(1);
  });
});

describe.skipIf(reason !== undefined)(`IPIP tunnel creation (fib.manageTunnel)${reason ? ` (skipped: ${reason})` : ''}`, () => {
  it('sends RTM_NEWLINK kind ipip and returns the kernel answer: a device, or a named errno', async () => {
    const ns = createNetns('ipip');
    try {
      const r = await createTunnelDevice('bgpts-ipip0', 1440, ns.path);
      if (r.ok) {
        const link = ns.ipJson<{ ifname: string; mtu: number; linkinfo?: { info_kind: string } }>('-d', 'link', 'show', 'bgpts-ipip0');
        expect(link[0]).toMatchObject({ mtu: 1440, linkinfo: { info_kind: 'ipip' } });
      } else {
        // This kernel has no ipip module: the refusal is reported by name, not thrown.
        expect(r.code).toMatch(/^E[A-Z]+$/);
        expect(r.errno).toBeGreaterThan(0);
        expect(ns.run('ip', 'link', 'show')).not.toContain('bgpts-ipip0');
      }
    } finally {
      ns.destroy();
    }
  });
});
