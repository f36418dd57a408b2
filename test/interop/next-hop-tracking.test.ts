// Interop, next-hop tracking (issue 10): bgp-ts with the FIB on in its own
// namespace, two iBGP peers announcing the same pod block. FRR bgpd gives a
// next hop (10.9.0.2) that the dut reaches only through a static route in its
// namespace; BIRD gives one on the shared subnet (10.0.0.3). While the static
// route is there FRR's path wins (equal IGP cost 0, the lower router ID);
// remove it and within a second the path leaves the kernel and the decision
// (explain: next-hop-unreachable) and BIRD's takes over; add it back and it
// returns. The block is in an ipip pool so both forms are `onlink` routes the
// kernel takes (a veth named tunl0 stands in for the tunnel, as in fib.test.ts).

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BgpTsDaemon } from './harness/bgp-ts.js';
import { pollUntil, run } from './harness/exec.js';
import { Topology } from './harness/netns.js';
import type { PeerRouter } from './harness/peer.js';
import { createPeer } from './harness/peers.js';
import { interopGate } from './harness/prerequisites.js';

const reason = interopGate(['frr', 'bird']);
const AS = 64512;
const DUT = '10.0.0.1';
const FRR = '10.0.0.2';
const BIRD = '10.0.0.3';
const FAR = '10.9.0.2';
const BLOCK = '10.244.20.0/26';

interface Explain {
  candidates: { route: { peer: string }; status: string; ineligible?: string }[];
}

describe.skipIf(reason !== undefined)(`next hops the kernel can reach, FRR and BIRD${reason ? ` (skipped: ${reason})` : ''}`, () => {
  let topo: Topology;
  let dut: BgpTsDaemon;
  let ns: string;
  const peers: PeerRouter[] = [];

  const gateway = async (): Promise<string | undefined> => {
    const { stdout } = await run('ip', ['-n', ns, '-j', 'route', 'show', BLOCK, 'proto', '201']);
    return (JSON.parse(stdout || '[]') as { gateway?: string }[])[0]?.gateway;
  };
  const explain = () => dut.apiGet<Explain>(`/api/v1/routes/${encodeURIComponent(BLOCK)}/explain`);
  const staticRoute = (op: 'add' | 'del') => run('ip', ['-n', ns, 'route', op, '10.9.0.0/24', 'via', FRR, 'proto', 'static']);
  const gatewayWithin = async (want: string, ms: number): Promise<number> => {
    const t0 = performance.now();
    await pollUntil(async () => ((await gateway()) === want ? true : undefined), { timeoutMs: ms, intervalMs: 20, what: `${BLOCK} via ${want}; daemon:\n${dut.tail(15)}` });
    return performance.now() - t0;
  };

  beforeAll(async () => {
    topo = await Topology.create(['dut', 'frr', 'bird']);
    ns = topo.node('dut').ns;
    await run('ip', ['-n', ns, 'link', 'add', 'tunl0', 'type', 'veth', 'peer', 'name', 'tunl0p']);
    await run('ip', ['-n', ns, 'link', 'set', 'tunl0', 'up']);
    await run('ip', ['-n', ns, 'link', 'set', 'tunl0p', 'up']);
    await staticRoute('add');
    const neighbor = (local: string) => [{ address: DUT, asn: AS, localAddress: local, families: ['ipv4-unicast' as const] }];
    peers.push(
      createPeer('frr', topo, 'frr', { routerId: FRR, asn: AS, nextHop: { ipv4: FAR, ipv6: '2001:db8::2' }, neighbors: neighbor(FRR), routes: [BLOCK] }),
      createPeer('bird', topo, 'bird', { routerId: BIRD, asn: AS, nextHop: { ipv4: BIRD, ipv6: '2001:db8::3' }, neighbors: neighbor(BIRD), routes: [BLOCK] }),
    );
    for (const p of peers) await p.start();
    dut = new BgpTsDaemon(ns, topo.dir, {
      routerId: DUT,
      asn: AS,
      listen: { addresses: [DUT], port: 179 },
      neighbors: [
        { address: FRR, asn: AS, holdTime: 9, connectRetryTime: 1, families: ['ipv4-unicast'] },
        { address: BIRD, asn: AS, holdTime: 9, connectRetryTime: 1, families: ['ipv4-unicast'] },
      ],
      ipPools: [{ cidr: '10.244.0.0/16', mode: 'ipip' }],
      fib: { enabled: true, table: 254, protocol: 201, ecmp: 1 },
      api: { listen: '127.0.0.1:9179' },
    });
    await dut.start();
  }, 90_000);

  afterAll(async () => {
    await dut?.kill();
    for (const p of peers) await p.kill().catch(() => undefined);
    await topo?.destroy();
  });

  it('with the static route FRR\'s path is best and installed', async () => {
    await gatewayWithin(FAR, 30_000);
    const e = await explain();
    expect(e.candidates.find((c) => c.route.peer === FRR)?.status).toBe('best');
    expect(e.candidates.find((c) => c.route.peer === BIRD)?.status).toBe('lost');
  }, 40_000);

  it('the static route goes: within a second the path leaves kernel and decision, BIRD\'s takes over; it comes back with the route', async () => {
    await staticRoute('del');
    const away = await gatewayWithin(BIRD, 1_000);
    const e = await explain();
    expect(e.candidates.find((c) => c.route.peer === FRR)).toMatchObject({ status: 'ineligible', ineligible: 'next-hop-unreachable' });
    expect(e.candidates.find((c) => c.route.peer === BIRD)?.status).toBe('best');
    await staticRoute('add');
    const back = await gatewayWithin(FAR, 1_000);
    console.log(`[next-hop-tracking] switch-over ${Math.round(away)} ms, back ${Math.round(back)} ms`);
    // Both sessions stayed up throughout.
    const peersUp = await dut.apiGet<{ peers: { address: string; state: string }[] }>('/api/v1/peers');
    expect(peersUp.peers.map((p) => p.state)).toEqual(['Established', 'Established']);
  }, 20_000);
});
