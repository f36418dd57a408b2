// Interop, next-hop tracking (issue 10): bgp-ts with the FIB on in its own
// namespace, two iBGP peers announcing the same pod block: FRR with zebra
// (bgpd tracking next hops against its own kernel, not `-Z`) and BIRD. Each
// gives a next hop off the shared subnet (FRR 10.9.0.2, BIRD 10.8.0.3) that
// the dut reaches only through a static route in its namespace. With both
// routes there FRR's path wins (equal IGP cost 0, the lower router ID). Remove
// a static route and that path leaves the kernel and the decision (explain:
// next-hop-unreachable) and the other takes over; add it back and it returns.
// The issue asks for "within a second": the times are printed, not asserted
// (the polls wait up to several seconds, as this machine is shared). With neither next hop reachable the block leaves the
// kernel. The block is in an ipip pool so both forms are `onlink` routes the
// kernel takes (a veth named tunl0 stands in for the tunnel, as in fib.test.ts).

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BgpTsDaemon } from './harness/bgp-ts.js';
import { pollUntil, run } from './harness/exec.js';
import { FrrPeer } from './harness/frr.js';
import { Topology } from './harness/netns.js';
import type { PeerRouter } from './harness/peer.js';
import { createPeer } from './harness/peers.js';
import { interopGate } from './harness/prerequisites.js';

const reason = interopGate(['frr', 'bird']);
const AS = 64512;
const DUT = '10.0.0.1';
const FRR = '10.0.0.2';
const BIRD = '10.0.0.3';
const FRR_FAR = '10.9.0.2';
const BIRD_FAR = '10.8.0.3';
const BLOCK = '10.244.20.0/26';
/** How long a poll for a switch-over may wait (the switch itself takes milliseconds). */
const SWITCH_MS = 5_000;

interface Explain {
  candidates: { route: { peer: string }; status: string; ineligible?: string; text?: string }[];
}

describe.skipIf(reason !== undefined)(`next hops the kernel can reach, FRR with zebra and BIRD${reason ? ` (skipped: ${reason})` : ''}`, () => {
  let topo: Topology;
  let dut: BgpTsDaemon;
  let ns: string;
  let frr: FrrPeer;
  const peers: PeerRouter[] = [];

  const gateway = async (): Promise<string | undefined> => {
    const { stdout } = await run('ip', ['-n', ns, '-j', 'route', 'show', BLOCK, 'proto', '201']);
    return (JSON.parse(stdout || '[]') as { gateway?: string }[])[0]?.gateway;
  };
  const explain = () => dut.apiGet<Explain>(`/api/v1/routes/${encodeURIComponent(BLOCK)}/explain`);
  const candidate = async (peer: string) => (await explain()).candidates.find((c) => c.route.peer === peer);
  const staticRoute = (op: 'add' | 'del', subnet: string, via: string) => run('ip', ['-n', ns, 'route', op, subnet, 'via', via, 'proto', 'static']);
  const frrStatic = (op: 'add' | 'del') => staticRoute(op, '10.9.0.0/24', FRR);
  const birdStatic = (op: 'add' | 'del') => staticRoute(op, '10.8.0.0/24', BIRD);
  /** Polls until the block's kernel route goes via `want` (undefined: no route); the time it took. */
  const gatewayWithin = async (want: string | undefined, ms: number): Promise<number> => {
    const t0 = performance.now();
    await pollUntil(async () => ((await gateway()) === want ? true : undefined), { timeoutMs: ms, intervalMs: 20, what: `${BLOCK} via ${want ?? '(none)'}; daemon:\n${dut.tail(15)}` });
    return performance.now() - t0;
  };
  const statusWithin = (peer: string, status: string, ms: number) =>
    pollUntil(async () => ((await candidate(peer))?.status === status ? true : undefined), { timeoutMs: ms, intervalMs: 50, what: `${peer}'s path ${status}; daemon:\n${dut.tail(15)}` });

  beforeAll(async () => {
    topo = await Topology.create(['dut', 'frr', 'bird']);
    ns = topo.node('dut').ns;
    await run('ip', ['-n', ns, 'link', 'add', 'tunl0', 'type', 'veth', 'peer', 'name', 'tunl0p']);
    await run('ip', ['-n', ns, 'link', 'set', 'tunl0', 'up']);
    await run('ip', ['-n', ns, 'link', 'set', 'tunl0p', 'up']);
    await frrStatic('add');
    await birdStatic('add');
    const neighbor = (local: string) => [{ address: DUT, asn: AS, localAddress: local, families: ['ipv4-unicast' as const] }];
    const frrDir = join(topo.dir, 'frr-zebra');
    mkdirSync(frrDir, { recursive: true });
    frr = new FrrPeer({ routerId: FRR, asn: AS, nextHop: { ipv4: FRR_FAR, ipv6: '2001:db8::2' }, neighbors: neighbor(FRR), routes: [BLOCK] }, topo.node('frr').ns, frrDir, { zebra: true });
    peers.push(frr, createPeer('bird', topo, 'bird', { routerId: BIRD, asn: AS, nextHop: { ipv4: BIRD_FAR, ipv6: '2001:db8::3' }, neighbors: neighbor(BIRD), routes: [BLOCK] }));
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

  it('FRR runs with zebra: its RIB has the connected subnet zebra learned from the kernel', async () => {
    const routes = await pollUntil(
      async () => {
        const r = JSON.parse((await frr.zebraVtysh('show ip route json')) || '{}') as Record<string, { protocol?: string }[]>;
        return r['10.0.0.0/24']?.some((x) => x.protocol === 'connected') ? r : undefined;
      },
      { timeoutMs: 10_000, what: `zebra's connected 10.0.0.0/24\n${frr.tail(10)}` },
    );
    expect(routes['10.0.0.0/24']?.[0]?.protocol).toBe('connected');
  }, 40_000);

  it('with both static routes FRR\'s path is best and installed', async () => {
    await gatewayWithin(FRR_FAR, 30_000);
    expect((await candidate(FRR))?.status).toBe('best');
    expect((await candidate(BIRD))?.status).toBe('lost');
  }, 40_000);

  it('FRR\'s static route goes: its path leaves kernel and decision, BIRD\'s takes over; it comes back with the route', async () => {
    await frrStatic('del');
    const away = await gatewayWithin(BIRD_FAR, SWITCH_MS);
    expect(await candidate(FRR)).toMatchObject({ status: 'ineligible', ineligible: 'next-hop-unreachable' });
    expect((await candidate(BIRD))?.status).toBe('best');
    await frrStatic('add');
    const back = await gatewayWithin(FRR_FAR, SWITCH_MS);
    console.log(`[next-hop-tracking] FRR's next hop: switch-over ${Math.round(away)} ms, back ${Math.round(back)} ms`);
    expect((await candidate(FRR))?.status).toBe('best');
  }, 40_000);

  it('BIRD\'s static route goes: its path turns ineligible; with FRR\'s gone too the block leaves the kernel; BIRD\'s returns with its route', async () => {
    await birdStatic('del');
    await statusWithin(BIRD, 'ineligible', SWITCH_MS);
    expect(await candidate(BIRD)).toMatchObject({ ineligible: 'next-hop-unreachable' });
    expect(await gateway()).toBe(FRR_FAR);
    await frrStatic('del');
    const gone = await gatewayWithin(undefined, SWITCH_MS);
    expect((await explain()).candidates.map((c) => c.status)).toEqual(['ineligible', 'ineligible']);
    await birdStatic('add');
    const bird = await gatewayWithin(BIRD_FAR, SWITCH_MS);
    expect((await candidate(BIRD))?.status).toBe('best');
    await frrStatic('add');
    await gatewayWithin(FRR_FAR, SWITCH_MS);
    console.log(`[next-hop-tracking] no next hop reachable: out of the kernel ${Math.round(gone)} ms; BIRD's back ${Math.round(bird)} ms`);
    // Both sessions stayed up throughout: next-hop reachability never touches a session.
    const peersUp = await dut.apiGet<{ peers: { address: string; state: string }[] }>('/api/v1/peers');
    expect(peersUp.peers.map((p) => p.state)).toEqual(['Established', 'Established']);
    expect(await frr.neighborState(DUT)).toBe('Established');
  }, 40_000);
});
