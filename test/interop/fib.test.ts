// Interop, FIB: bgp-ts with `fib.enabled: true` inside its own namespace,
// three BIRD 2 peers announcing pod blocks of other "nodes", and the
// namespace's kernel table (`ip -j route show proto 201`) as the witness.
// Covered: per-pool forms (ipip onlink via tunl0 - a veth named tunl0 stands
// in for the tunnel -, direct, crossSubnet both ways), blackhole for own
// blocks, ECMP from two peers, IPv6, an unreachable gateway reported and
// retried, drift repair, withdraw, peer down without and with graceful
// restart (RFC 4724), a daemon restart with GR during which the routes never
// leave the kernel (sampled every 10 ms), kill -9 + restart converging, and a
// clean shutdown without GR removing our routes; a route of another protocol
// in the same table is never touched. One topology for the whole file.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BgpTsDaemon, eventIs } from './harness/bgp-ts.js';
import { pollUntil, run, sleep } from './harness/exec.js';
import { Topology } from './harness/netns.js';
import type { PeerRouter } from './harness/peer.js';
import { createPeer } from './harness/peers.js';
import { interopGate } from './harness/prerequisites.js';

const reason = interopGate(['bird']);

interface IpRoute {
  dst: string;
  gateway?: string;
  dev?: string;
  type?: string;
  flags?: string[];
  protocol?: string;
  nexthops?: { gateway: string; dev: string; flags?: string[] }[];
}

/** One route as a short comparable text: "via GW dev DEV [onlink]", "blackhole", "ecmp GW1,GW2". */
function form(r: IpRoute): string {
  if (r.type === 'blackhole') return 'blackhole';
  if (r.nexthops) return `ecmp ${r.nexthops.map((h) => `${h.gateway}@${h.dev}`).sort().join(',')}`;
  return `via ${r.gateway} dev ${r.dev}${r.flags?.includes('onlink') ? ' onlink' : ''}`;
}

const ROUTER = { ipv4: '10.0.0.1', asn: 64512 };
// p1 (GR), p2 and p3 are iBGP peers; p3 puts a next hop on a subnet the dut is not on.
const P1 = ['10.244.1.0/26', '10.245.1.0/26', '10.246.1.0/26', '10.245.5.0/26', 'fd10:1::/64'];
const P2 = ['10.245.2.0/26', '10.245.5.0/26'];
const P3 = ['10.246.3.0/26', '10.245.9.0/26'];

const EXPECTED: Record<string, string> = {
  '10.244.1.0/26': 'via 10.0.0.2 dev tunl0 onlink', // ipip pool
  '10.245.1.0/26': 'via 10.0.0.2 dev eth0', // direct pool
  '10.246.1.0/26': 'via 10.0.0.2 dev eth0', // crossSubnet, next hop on our subnet
  '10.246.3.0/26': 'via 10.0.1.4 dev tunl0 onlink', // crossSubnet, next hop elsewhere
  '10.245.2.0/26': 'via 10.0.0.3 dev eth0',
  '10.245.5.0/26': 'ecmp 10.0.0.2@eth0,10.0.0.3@eth0', // two peers, one multipath route
  '10.244.100.0/26': 'blackhole', // own block
  'fd10:1::/64': 'via 2001:db8::2 dev eth0',
};

describe.skipIf(reason !== undefined)(`FIB against the kernel with BIRD peers${reason ? ` (skipped: ${reason})` : ''}`, () => {
  let topo: Topology;
  let dut: BgpTsDaemon;
  let ns: string;
  const peers: PeerRouter[] = [];

  const table = async (): Promise<Map<string, string>> => {
    const out = new Map<string, string>();
    for (const fam of ['-4', '-6']) {
      const { stdout } = await run('ip', ['-n', ns, '-j', fam, 'route', 'show', 'proto', '201']);
      for (const r of JSON.parse(stdout || '[]') as IpRoute[]) out.set(r.dst, form(r));
    }
    return out;
  };
  const waitFor = (what: string, ok: (t: Map<string, string>) => boolean, timeoutMs = 20_000): Promise<Map<string, string>> =>
    pollUntil(async () => {
      const t = await table();
      return ok(t) ? t : undefined;
    }, { timeoutMs, intervalMs: 100, what: `${what}; daemon output:\n${dut.tail(20)}` });
  const expectedTable = (t: Map<string, string>): boolean =>
    t.size === Object.keys(EXPECTED).length && Object.entries(EXPECTED).every(([k, v]) => t.get(k) === v);
  const foreign = async (): Promise<IpRoute[]> => JSON.parse((await run('ip', ['-n', ns, '-j', 'route', 'show', '10.99.0.0/24'])).stdout || '[]') as IpRoute[];

  beforeAll(async () => {
    topo = await Topology.create(['dut', 'p1', 'p2', 'p3']);
    ns = topo.node('dut').ns;
    // A veth named tunl0 stands in for the IPIP device (no ipip module here).
    await run('ip', ['-n', ns, 'link', 'add', 'tunl0', 'type', 'veth', 'peer', 'name', 'tunl0p']);
    await run('ip', ['-n', ns, 'link', 'set', 'tunl0', 'up']);
    await run('ip', ['-n', ns, 'link', 'set', 'tunl0p', 'up']);
    await run('ip', ['-n', ns, 'route', 'add', '10.99.0.0/24', 'via', '10.0.0.9', 'proto', 'static']);
    // p3's node sits on another subnet, reached through the underlay: next-hop tracking
    // (RFC 4271 §9.1.2) needs a route to 10.0.1.4, as a real cluster's routing gives.
    await run('ip', ['-n', ns, 'route', 'add', '10.0.1.0/24', 'via', '10.0.0.9', 'proto', 'static']);
    const spec = (node: string, n: number, routes: string[], nextHop4: string, gr: boolean) =>
      createPeer('bird', topo, node, {
        routerId: `10.0.0.${n}`,
        asn: ROUTER.asn,
        nextHop: { ipv4: nextHop4, ipv6: `2001:db8::${n}` },
        neighbors: [{ address: ROUTER.ipv4, asn: ROUTER.asn, localAddress: `10.0.0.${n}`, ...(gr ? { gracefulRestart: { restartTime: 8 } } : {}) }],
        routes,
      });
    peers.push(spec('p1', 2, P1, '10.0.0.2', true), spec('p2', 3, P2, '10.0.0.3', false), spec('p3', 4, P3, '10.0.1.4', false));
    for (const p of peers) await p.start();
    dut = new BgpTsDaemon(ns, topo.dir, {
      routerId: ROUTER.ipv4,
      asn: ROUTER.asn,
      listen: { addresses: [ROUTER.ipv4], port: 179 },
      neighbors: [
        { address: '10.0.0.2', asn: ROUTER.asn, holdTime: 9, gracefulRestart: { enabled: true, restartTime: 8 } },
        { address: '10.0.0.3', asn: ROUTER.asn, holdTime: 9 },
        { address: '10.0.0.4', asn: ROUTER.asn, holdTime: 9 },
      ],
      originate: [{ prefix: '10.244.100.0/26' }],
      ipPools: [
        { cidr: '10.244.0.0/16', mode: 'ipip' },
        { cidr: '10.245.0.0/16', mode: 'direct' },
        { cidr: '10.246.0.0/16', mode: 'crossSubnet' },
      ],
      fib: { enabled: true, table: 254, protocol: 201, ecmp: 8 },
      api: { listen: '127.0.0.1:9179' },
    });
    await dut.start();
  });

  afterAll(async () => {
    await dut?.kill();
    for (const p of peers) await p.kill().catch(() => undefined);
    await topo?.destroy();
  });

  it('installs exactly the expected routes, each in its pool form, and leaves other protocols alone', async () => {
    await waitFor('the expected kernel table', expectedTable, 30_000);
    expect(await foreign()).toMatchObject([{ gateway: '10.0.0.9', protocol: 'static' }]);
    expect(dut.find(eventIs('fib-dry-run'))).toBeUndefined();
  });

  it('reports an unreachable gateway, retries it, and keeps serving', async () => {
    // 10.245.9.0/26 via 10.0.1.4 in a direct pool: the kernel answers ENETUNREACH.
    const fib = await pollUntil(async () => {
      const f = await dut.apiGet<{ mode: string; routes: { prefix: string; error?: string; attempts?: number }[] }>('/api/v1/fib?state=failed');
      const r = f.routes.find((x) => x.prefix === '10.245.9.0/26');
      return r && (r.attempts ?? 0) >= 2 ? f : undefined;
    }, { timeoutMs: 10_000, what: 'the failed route in /api/v1/fib' });
    expect(fib.mode).toBe('kernel');
    expect(fib.routes.find((x) => x.prefix === '10.245.9.0/26')).toMatchObject({ error: 'ENETUNREACH' });
    expect(dut.find(eventIs('fib-write-failed', { prefix: '10.245.9.0/26', code: 'ENETUNREACH' }))).toBeDefined();
    const status = await dut.apiGet<{ peers: { established: number } }>('/api/v1/status');
    expect(status.peers.established).toBe(3);
    expect(expectedTable(await table())).toBe(true);
  });

  it('repairs drift: a route deleted by hand is back within 2 s', async () => {
    await run('ip', ['-n', ns, 'route', 'del', '10.244.1.0/26', 'proto', '201']);
    const t0 = Date.now();
    await waitFor('10.244.1.0/26 restored', (t) => t.get('10.244.1.0/26') === EXPECTED['10.244.1.0/26'], 2000);
    expect(Date.now() - t0).toBeLessThan(2000);
    expect(dut.find(eventIs('fib-drift-repair', { prefix: '10.244.1.0/26' }))).toBeDefined();
  });

  it('withdraw removes the route; an ECMP route shrinks to the remaining path', async () => {
    await peers[1]!.withdraw('10.245.5.0/26');
    await waitFor('ECMP shrunk', (t) => t.get('10.245.5.0/26') === 'via 10.0.0.2 dev eth0');
    await peers[0]!.withdraw('10.245.1.0/26');
    await waitFor('withdrawn route gone', (t) => !t.has('10.245.1.0/26'));
    await peers[1]!.announce('10.245.5.0/26');
    await peers[0]!.announce('10.245.1.0/26');
    await waitFor('table restored', expectedTable);
  });

  it('peer down without graceful restart: its routes leave the kernel', async () => {
    await peers[1]!.kill();
    await waitFor('p2 routes removed', (t) => !t.has('10.245.2.0/26') && t.get('10.245.5.0/26') === 'via 10.0.0.2 dev eth0', 15_000);
    await peers[1]!.start();
    await waitFor('table restored', expectedTable, 30_000);
  });

  it('peer down with graceful restart: routes kept until the restart timer, then removed', async () => {
    await peers[0]!.kill();
    const down = Date.now();
    await sleep(3000);
    const kept = await table();
    expect(kept.get('10.244.1.0/26')).toBe(EXPECTED['10.244.1.0/26']);
    await waitFor('p1 routes swept after the restart time', (t) => !t.has('10.244.1.0/26'), 20_000);
    expect(Date.now() - down).toBeGreaterThan(6000);
    await peers[0]!.start();
    await waitFor('table restored', expectedTable, 30_000);
  });

  it('daemon restart with graceful restart: the routes never leave the kernel', async () => {
    const watched = ['10.244.1.0/26', '10.246.1.0/26', '10.244.100.0/26'];
    let samples = 0;
    const missing: string[] = [];
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const t = await table();
        samples++;
        for (const p of watched) if (!t.has(p)) missing.push(`${p} at sample ${samples}`);
        await sleep(10);
      }
    })();
    const since = dut.mark();
    await dut.stop();
    expect(dut.find(eventIs('fib-stopped', { keptRoutes: true }), since)).toBeDefined();
    await dut.start();
    await dut.waitForEvent(eventIs('fib-stale-sweep'), 30_000, since);
    await waitFor('table after restart', expectedTable, 30_000);
    sampling = false;
    await sampler;
    expect(samples).toBeGreaterThan(20);
    expect(missing).toEqual([]);
    expect(dut.find(eventIs('fib-reconciled', { keepStale: true }), since)).toMatchObject({ adopted: expect.any(Number) });
    expect(await foreign()).toHaveLength(1);
  });

  it('kill -9 and restart converge: a stray route of ours is swept, a lost one re-added', async () => {
    await dut.kill();
    await run('ip', ['-n', ns, 'route', 'add', '10.245.77.0/26', 'via', '10.0.0.3', 'proto', '201']);
    await run('ip', ['-n', ns, 'route', 'del', '10.245.2.0/26', 'proto', '201']);
    await dut.start();
    await waitFor('converged table', expectedTable, 30_000);
    expect(await foreign()).toHaveLength(1);
  });

  it('clean shutdown without graceful restart removes every route of ours', async () => {
    dut.config = { ...dut.config, neighbors: (dut.config.neighbors ?? []).map((n) => ({ ...n, gracefulRestart: undefined })) };
    await dut.restart();
    await waitFor('table after restart', expectedTable, 30_000);
    await dut.stop();
    const t = await table();
    expect([...t.keys()]).toEqual([]);
    expect(await foreign()).toHaveLength(1);
  });
});
