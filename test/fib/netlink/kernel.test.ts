// The netlink transport against the real kernel, inside a network namespace
// each run creates and deletes. The socket is opened in the namespace by the
// addon (setns on the opening thread and back), so the test stays in-process;
// `ip -j` in the namespace is the independent witness of what was installed.
import { execFileSync } from 'node:child_process';
import { writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as C from '../../../src/fib/netlink/constants.js';
import type { RouteOp } from '../../../src/fib/netlink/messages.js';
import { NetlinkMonitor, NetlinkRouteSocket } from '../../../src/fib/netlink/transport.js';
import type { RtnlEvent } from '../../../src/fib/netlink/events.js';
import { v4KeyParse, v6KeyParse } from '../../../src/lib/prefix.js';
import { createNetns, kernelSkipReason, type TestNetns } from '../../helpers/netns.js';

const PROTO = 201;
const reason = kernelSkipReason();
const v4 = (t: string): number => v4KeyParse(t)!;

interface IpRoute { dst: string; gateway?: string; dev?: string; flags: string[]; type?: string; metric?: number; nexthops?: { gateway: string; dev: string }[] }

describe('kernel prerequisites', () => {
  it.runIf(process.env['CI'] === 'true')('are present under CI (root, addon built, iproute2)', () => {
    expect(reason).toBeUndefined();
  });
});

describe.skipIf(reason !== undefined)(`netlink against the kernel${reason ? ` (skipped: ${reason})` : ''}`, () => {
  let ns: TestNetns;
  let sock: NetlinkRouteSocket;
  let tunl0 = 0;

  beforeAll(async () => {
    ns = createNetns('nl');
    sock = new NetlinkRouteSocket({ netns: ns.path, timeoutMs: 5000 });
    const links = await sock.dumpLinks();
    tunl0 = links.find((l) => l.name === 'tunl0')!.index;
  });

  afterAll(() => {
    sock?.close();
    ns?.destroy();
  });

  const ours = (family = '-4'): IpRoute[] => ns.ipJson<IpRoute>(family, 'route', 'show', 'proto', String(PROTO));

  it('dumps links and addresses of the namespace, not of the host', async () => {
    const links = await sock.dumpLinks();
    expect(links.map((l) => l.name).sort()).toEqual(['lo', 'tunl0', 'tunl0p', 'veth0', 'veth1']);
    expect(links.find((l) => l.name === 'veth0')).toMatchObject({ up: true, kind: 'veth' });
    const addrs = await sock.dumpAddresses(C.AF_INET);
    expect(addrs.find((a) => a.address === '192.0.2.1')).toMatchObject({ prefixLength: 24, subnet: v4('192.0.2.0/24') });
    const v6 = await sock.dumpAddresses(C.AF_INET6);
    expect(v6.some((a) => a.address === 'fd00::1' && a.subnet === v6KeyParse('fd00::/64'))).toBe(true);
    // The opening thread went back to its own namespace: a host socket sees no tunl0p.
    const host = new NetlinkRouteSocket();
    try {
      expect((await host.dumpLinks()).some((l) => l.name === 'tunl0p')).toBe(false);
    } finally {
      host.close();
    }
  });

  it('installs direct, IPIP onlink, blackhole, ECMP and IPv6 routes with our protocol', async () => {
    const ops: RouteOp[] = [
      { op: 'replace', route: { dst: v4('10.244.1.0/26'), protocol: PROTO, gateway: '192.0.2.2' } },
      { op: 'replace', route: { dst: v4('10.244.2.0/26'), protocol: PROTO, gateway: '198.51.100.5', oif: tunl0, onlink: true } },
      { op: 'replace', route: { dst: v4('10.244.9.0/26'), protocol: PROTO, type: 'blackhole' } },
      { op: 'replace', route: { dst: v4('10.244.3.0/26'), protocol: PROTO, multipath: [{ gateway: '192.0.2.2' }, { gateway: '192.0.2.3' }] } },
      { op: 'replace', route: { dst: v6KeyParse('2001:db8:5::/64')!, protocol: PROTO, gateway: 'fd00::2' } },
    ];
    expect(await sock.applyRoutes(ops)).toEqual(ops.map(() => ({ ok: true })));
    const v4routes = ours();
    expect(v4routes.find((r) => r.dst === '10.244.1.0/26')).toMatchObject({ gateway: '192.0.2.2', dev: 'veth0' });
    expect(v4routes.find((r) => r.dst === '10.244.2.0/26')).toMatchObject({ gateway: '198.51.100.5', dev: 'tunl0', flags: ['onlink'] });
    expect(v4routes.find((r) => r.dst === '10.244.9.0/26')).toMatchObject({ type: 'blackhole' });
    expect(v4routes.find((r) => r.dst === '10.244.3.0/26')?.nexthops?.map((n) => n.gateway)).toEqual(['192.0.2.2', '192.0.2.3']);
    expect(ours('-6').find((r) => r.dst === '2001:db8:5::/64')).toMatchObject({ gateway: 'fd00::2', dev: 'veth0' });

    // The dump reads back what we wrote, in our types.
    const dumped = (await sock.dumpRoutes(C.AF_INET)).filter((r) => r.protocol === PROTO);
    expect(dumped.find((r) => r.dst === v4('10.244.2.0/26'))).toMatchObject({ gateway: '198.51.100.5', oif: tunl0, onlink: true, table: 254 });
    expect(dumped.find((r) => r.dst === v4('10.244.3.0/26'))?.multipath).toHaveLength(2);
    expect(dumped.find((r) => r.dst === v4('10.244.9.0/26'))?.type).toBe('blackhole');
  });

  it('attributes each error to its route; the rest of the batch succeeds', async () => {
    const ops: RouteOp[] = [
      { op: 'replace', route: { dst: v4('10.250.0.0/26'), protocol: PROTO, gateway: '192.0.2.2' } },
      { op: 'replace', route: { dst: v4('10.250.0.64/26'), protocol: PROTO, gateway: '198.51.100.9' } }, // no route to it
      { op: 'add', route: { dst: v4('10.244.1.0/26'), protocol: PROTO, gateway: '192.0.2.2' } }, // exists: EXCL
      { op: 'delete', route: { dst: v4('10.250.9.0/26'), protocol: PROTO } }, // never there
      { op: 'replace', route: { dst: v4('10.250.0.128/26'), protocol: PROTO, gateway: '192.0.2.3' } },
    ];
    const out = await sock.applyRoutes(ops);
    expect(out[0]).toEqual({ ok: true });
    expect(out[1]).toMatchObject({ ok: false, code: 'ENETUNREACH', errno: 101 });
    expect(out[2]).toMatchObject({ ok: false, code: 'EEXIST' });
    expect(out[3]).toMatchObject({ ok: false, code: 'ESRCH' });
    expect(out[4]).toEqual({ ok: true });
    const dsts = ours().map((r) => r.dst);
    expect(dsts).toContain('10.250.0.0/26');
    expect(dsts).toContain('10.250.0.128/26');
    expect(dsts).not.toContain('10.250.0.64/26');
  });

  it('deletes only routes carrying our protocol, and tables above 255 work', async () => {
    ns.run('ip', 'route', 'add', '10.251.0.0/26', 'via', '192.0.2.2', 'proto', '12');
    const out = await sock.applyRoutes([
      { op: 'delete', route: { dst: v4('10.251.0.0/26'), protocol: PROTO } },
      { op: 'replace', route: { dst: v4('10.252.0.0/26'), protocol: PROTO, gateway: '192.0.2.2', table: 1000, priority: 7 } },
    ]);
    expect(out[0]).toMatchObject({ ok: false, code: 'ESRCH' });
    expect(out[1]).toEqual({ ok: true });
    expect(ns.ipJson<IpRoute>('route', 'show', 'proto', '12').map((r) => r.dst)).toEqual(['10.251.0.0/26']);
    expect(ns.ipJson<IpRoute>('route', 'show', 'table', '1000')).toMatchObject([{ dst: '10.252.0.0/26', metric: 7 }]);
    expect((await sock.dumpRoutes(C.AF_INET)).find((r) => r.dst === v4('10.252.0.0/26'))?.table).toBe(1000);
  });

  it('the monitor sees changes made by others and reports an overrun without dying', async () => {
    const events: RtnlEvent[] = [];
    let overruns = 0;
    const mon = new NetlinkMonitor(
      { onEvent: (e) => events.push(e), onOverflow: () => overruns++ },
      { netns: ns.path, groups: [C.RTNLGRP_IPV4_ROUTE], rcvbuf: 4096 },
    );
    try {
      ns.run('ip', 'route', 'add', '10.253.0.0/26', 'via', '192.0.2.2', 'proto', String(PROTO));
      await waitFor(() => events.some((e) => e.kind === 'route' && e.change === 'new' && e.route.dst === v4('10.253.0.0/26')));
      // Flood notifications while the event loop is blocked (execFileSync): the
      // 4 KiB receive queue overruns and the kernel reports ENOBUFS.
      const file = join(tmpdir(), `bgpts-nl-${process.pid}.batch`);
      writeFileSync(file, Array.from({ length: 2000 }, (_, i) => `route add 10.${100 + (i >> 8)}.${i & 255}.0/26 via 192.0.2.2 proto ${PROTO}\n`).join(''));
      execFileSync('ip', ['netns', 'exec', ns.name, 'ip', '-batch', file]);
      rmSync(file);
      await waitFor(() => overruns > 0);
      // Still alive and delivering afterwards.
      ns.run('ip', 'route', 'del', '10.253.0.0/26', 'proto', String(PROTO));
      await waitFor(() => events.some((e) => e.kind === 'route' && e.change === 'del' && e.route.dst === v4('10.253.0.0/26')));
      expect(mon.stats.overruns).toBeGreaterThan(0);
    } finally {
      mon.close();
    }
  });

  it('only failures answered: each kernel refusal lands on its own route among thousands of successes', async () => {
    const sock = new NetlinkRouteSocket({ netns: ns.path, chunk: 500 });
    try {
      // Every 97th route goes via a gateway off every connected subnet (ENETUNREACH);
      // every 89th is a delete of a route that is not there (ESRCH).
      const ops: RouteOp[] = Array.from({ length: 5000 }, (_, i) => {
        const dst = v4(`10.${140 + (i >> 8)}.${i & 255}.0/26`);
        if (i % 89 === 0) return { op: 'delete' as const, route: { dst, protocol: PROTO } };
        return { op: 'replace' as const, route: { dst, protocol: PROTO, gateway: i % 97 === 0 ? '198.51.100.1' : '192.0.2.2' } };
      });
      const out = await sock.applyRoutes(ops);
      out.forEach((o, i) => {
        if (i % 89 === 0) expect(o).toMatchObject({ ok: false, code: 'ESRCH' });
        else if (i % 97 === 0) expect(o).toMatchObject({ ok: false, code: 'ENETUNREACH' });
        else expect(o).toEqual({ ok: true });
      });
      const second = (dst: string): number => Number(dst.split('.')[1]);
      const installed = ours().filter((r) => second(r.dst) >= 140 && second(r.dst) <= 159).length;
      expect(installed).toBe(out.filter((o) => o.ok).length);
      expect(sock.stats.sends).toBe(10);
      await sock.applyRoutes(ops.filter((o) => o.op === 'replace').map((o) => ({ op: 'delete' as const, route: { dst: o.route.dst, protocol: PROTO } })));
    } finally {
      sock.close();
    }
  });

  it('failure answers that overrun the receive queue are reported lost, never taken for success', async () => {
    const small = new NetlinkRouteSocket({ netns: ns.path, rcvbuf: 4096, window: 3000, chunk: 3000, timeoutMs: 5000 });
    try {
      const ops: RouteOp[] = Array.from({ length: 3000 }, (_, i) => ({ op: 'delete' as const, route: { dst: v4(`10.${160 + (i >> 8)}.${i & 255}.0/26`), protocol: PROTO } }));
      const out = await small.applyRoutes(ops);
      expect(out.filter((o) => o.ok)).toEqual([]);
      const lost = out.filter((o) => !o.ok && o.code === 'ENOBUFS').length;
      expect(lost).toBeGreaterThan(0);
      expect(out.filter((o) => !o.ok && o.code === 'ESRCH').length + lost).toBe(3000);
      expect(small.stats.overruns).toBeGreaterThan(0);
    } finally {
      small.close();
    }
  });

  it('a request socket whose acknowledgements overrun reports them lost, never crashes', async () => {
    const small = new NetlinkRouteSocket({ netns: ns.path, rcvbuf: 4096, window: 3000, chunk: 3000, timeoutMs: 5000, ackEach: true });
    try {
      const ops: RouteOp[] = Array.from({ length: 3000 }, (_, i) => ({
        op: 'replace' as const,
        route: { dst: v4(`10.${120 + (i >> 8)}.${i & 255}.0/26`), protocol: PROTO, gateway: '192.0.2.2' },
      }));
      const out = await small.applyRoutes(ops);
      const lost = out.filter((o) => !o.ok && o.code === 'ENOBUFS').length;
      expect(lost).toBeGreaterThan(0);
      expect(out.filter((o) => o.ok).length + lost).toBe(3000);
      expect(small.stats.overruns).toBeGreaterThan(0);
      // The kernel did apply them; only the answers were lost. The socket still works.
      const second = (dst: string): number => Number(dst.split('.')[1]);
      expect(ours().filter((r) => second(r.dst) >= 120 && second(r.dst) <= 131).length).toBe(3000);
      expect(await small.applyRoutes([{ op: 'delete', route: { dst: v4('10.120.0.0/26'), protocol: PROTO } }])).toEqual([{ ok: true }]);
    } finally {
      small.close();
    }
  });

  it('a monitor keeps up with the echoes of our own burst of writes: no overrun, every notification', async () => {
    // 50,000 routes written in-process, thousands per event-loop turn (8 ms
    // slices): one notification each. Read a few hundred per turn, they would
    // outgrow the default receive queue (8 MiB, doubled by the kernel) and
    // end in ENOBUFS, which costs the FIB a full dump and reconcile.
    const N = 50_000;
    const seen = new Set<number>();
    let deleted = 0;
    let overruns = 0;
    const mon = new NetlinkMonitor(
      {
        onEvent: (e) => {
          if (e.kind !== 'route' || e.route.protocol !== PROTO) return;
          if (e.change === 'new') seen.add(e.route.dst as number);
          else deleted++;
        },
        onOverflow: () => overruns++,
      },
      { netns: ns.path, groups: [C.RTNLGRP_IPV4_ROUTE] },
    );
    const dst = (i: number): number => v4(`11.${i >> 10}.${(i >> 2) & 255}.${(i & 3) * 64}/26`);
    try {
      const add = await sock.applyRoutes(Array.from({ length: N }, (_, i) => ({ op: 'replace' as const, route: { dst: dst(i), protocol: PROTO, gateway: '192.0.2.2' } })));
      expect(add.every((o) => o.ok)).toBe(true);
      await waitFor(() => seen.size === N || overruns > 0, 20_000);
      expect(overruns).toBe(0);
      expect(seen.size).toBe(N);
      const del = await sock.applyRoutes(Array.from({ length: N }, (_, i) => ({ op: 'delete' as const, route: { dst: dst(i), protocol: PROTO } })));
      expect(del.every((o) => o.ok)).toBe(true);
      await waitFor(() => deleted === N || overruns > 0, 20_000);
      expect(overruns).toBe(0);
      expect(mon.stats.overruns).toBe(0);
    } finally {
      mon.close();
    }
  });

  it('deletes everything it installed', async () => {
    const mine = (await sock.dumpRoutes()).filter((r) => r.protocol === PROTO);
    expect(mine.length).toBeGreaterThan(3000);
    const out = await sock.applyRoutes(mine.map((r) => ({ op: 'delete' as const, route: { dst: r.dst, protocol: PROTO, table: r.table } })));
    expect(out.every((o) => o.ok)).toBe(true);
    expect(ours()).toEqual([]);
    expect(ours('-6')).toEqual([]);
    expect(ns.ipJson('route', 'show', 'table', '1000')).toEqual([]);
  });
});

async function waitFor(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
