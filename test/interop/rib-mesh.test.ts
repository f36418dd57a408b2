// Interop (RIB issue, proof 3): a Calico-style iBGP full mesh of three nodes
// in AS 64512 — bgp-ts (`dut`, 10.0.0.1), BIRD 2 (`bird`, 10.0.0.2) and FRR
// (`frr`, 10.0.0.3) — each originating its own /26 (and an IPv6 block).
// Every node must see every other node's block with the originating node's
// address as next hop, learned directly from that node; and, since no one is
// a route reflector, an iBGP-learned route is never passed on to another
// iBGP peer (RFC 4271 §9.2: "shall not advertise ... to other internal
// peers"), so BIRD never gets FRR's block from bgp-ts and vice versa.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BgpTsDaemon, eventIs, type DaemonRoute } from './harness/bgp-ts.js';
import { pollUntil } from './harness/exec.js';
import { Topology } from './harness/netns.js';
import type { PeerRouter } from './harness/peer.js';
import { createPeer } from './harness/peers.js';
import { interopGate } from './harness/prerequisites.js';
import { pathNeverSeen, pathsFor, waitForNoPath, waitForPath } from './harness/routes.js';

const AS = 64512;
const DUT = { v4: '10.0.0.1', v6: '2001:db8::1' };
const BIRD = { v4: '10.0.0.2', v6: '2001:db8::2' };
const FRR = { v4: '10.0.0.3', v6: '2001:db8::3' };
const BLOCK = { dut: '10.244.1.0/26', bird: '10.244.2.0/26', frr: '10.244.3.0/26' };
const BLOCK6 = { dut: 'fd00:244:1::/122', bird: 'fd00:244:2::/122', frr: 'fd00:244:3::/122' };

const skip = interopGate(['bird', 'frr']);

describe.skipIf(skip !== undefined)('Calico-style iBGP full mesh: bgp-ts, BIRD 2, FRR', () => {
  let topo: Topology;
  let dut: BgpTsDaemon;
  let bird: PeerRouter;
  let frr: PeerRouter;

  const dutPaths = (prefix: string, n: number): Promise<DaemonRoute[]> =>
    pollUntil(
      async () => {
        const rs = await dut.routes(prefix);
        return rs.length === n ? rs : undefined;
      },
      { timeoutMs: 20_000, what: `bgp-ts holding ${n} path(s) for ${prefix}` },
    );

  beforeAll(async () => {
    topo = await Topology.create(['dut', 'bird', 'frr']);
    const meshNeighbor = (address: string) => ({ address, asn: AS, holdTime: 9, connectRetryTime: 1 });
    dut = new BgpTsDaemon(topo.node('dut').ns, topo.dir, {
      routerId: DUT.v4,
      asn: AS,
      listen: { addresses: [DUT.v4, DUT.v6] },
      neighbors: [meshNeighbor(BIRD.v4), meshNeighbor(FRR.v4)],
      originate: [{ prefix: BLOCK.dut }, { prefix: BLOCK6.dut }],
      api: { listen: '127.0.0.1:9179' },
    });
    bird = createPeer('bird', topo, 'bird', {
      routerId: BIRD.v4,
      asn: AS,
      nextHop: { ipv4: BIRD.v4, ipv6: BIRD.v6 },
      neighbors: [
        { address: DUT.v4, asn: AS, localAddress: BIRD.v4 },
        { address: FRR.v4, asn: AS, localAddress: BIRD.v4 },
      ],
      routes: [BLOCK.bird, BLOCK6.bird],
    });
    frr = createPeer('frr', topo, 'frr', {
      routerId: FRR.v4,
      asn: AS,
      nextHop: { ipv4: FRR.v4, ipv6: FRR.v6 },
      neighbors: [
        { address: DUT.v4, asn: AS, localAddress: FRR.v4 },
        { address: BIRD.v4, asn: AS, localAddress: FRR.v4 },
      ],
      routes: [BLOCK.frr, BLOCK6.frr],
    });
    await dut.start();
    await bird.start();
    await frr.start();
  });

  afterAll(async () => {
    await frr?.stop();
    await bird?.stop();
    await dut?.stop();
    await topo?.destroy();
  });

  it('every session of the mesh is Established', async () => {
    await dut.waitForEvent(eventIs('session-established', { peer: BIRD.v4 }), 30_000);
    await dut.waitForEvent(eventIs('session-established', { peer: FRR.v4 }), 30_000);
    const pairs: [PeerRouter, string][] = [[bird, DUT.v4], [bird, FRR.v4], [frr, DUT.v4], [frr, BIRD.v4]];
    for (const [p, a] of pairs) {
      await pollUntil(async () => (await p.neighborState(a)) === 'Established', { timeoutMs: 30_000, what: `${p.kind}: ${a} Established` });
    }
  });

  it('BIRD and FRR get the bgp-ts block directly from bgp-ts, next hop bgp-ts', async () => {
    for (const p of [bird, frr]) {
      expect(await waitForPath(p, BLOCK.dut, { from: DUT.v4 })).toMatchObject({ nextHop: DUT.v4, asPath: [], best: true });
      expect(await waitForPath(p, BLOCK6.dut, { from: DUT.v4 })).toMatchObject({ nextHop: DUT.v6, asPath: [] });
      expect(await pathsFor(p, BLOCK.dut)).toHaveLength(1);
    }
  });

  it('bgp-ts learns each peer block from that peer with the peer as next hop', async () => {
    for (const [prefix, from, nh] of [
      [BLOCK.bird, BIRD.v4, BIRD.v4],
      [BLOCK6.bird, BIRD.v4, BIRD.v6],
      [BLOCK.frr, FRR.v4, FRR.v4],
      [BLOCK6.frr, FRR.v4, FRR.v6],
    ] as const) {
      const [r] = await dutPaths(prefix, 1);
      expect(r).toMatchObject({ peer: from, nextHop: nh, best: true, asPath: '' });
    }
  });

  it('BIRD and FRR see each other directly (the mesh works without bgp-ts in the path)', async () => {
    expect(await waitForPath(bird, BLOCK.frr, { from: FRR.v4 })).toMatchObject({ nextHop: FRR.v4 });
    expect(await waitForPath(frr, BLOCK.bird, { from: BIRD.v4 })).toMatchObject({ nextHop: BIRD.v4 });
  });

  it('bgp-ts does not pass iBGP-learned blocks to its other iBGP peer', async () => {
    // both peers hold the third node's block by now; watch a few seconds for a copy from bgp-ts
    expect(await pathNeverSeen(bird, BLOCK.frr, DUT.v4, 3_000)).toBeUndefined();
    expect(await pathNeverSeen(frr, BLOCK.bird, DUT.v4, 1_000)).toBeUndefined();
    expect(await pathsFor(bird, BLOCK6.frr, DUT.v4)).toEqual([]);
    expect(await pathsFor(frr, BLOCK6.bird, DUT.v4)).toEqual([]);
    // bgp-ts's own account: it advertises only its own two blocks to each peer
    const { peers } = await dut.apiGet<{ peers: { address: string; prefixes: { advertised: number } }[] }>('/api/v1/peers');
    expect(peers.map((p) => [p.address, p.prefixes.advertised]).sort()).toEqual([
      [BIRD.v4, 2],
      [FRR.v4, 2],
    ]);
  });

  it('a withdrawn block disappears everywhere (no copy lingers via bgp-ts)', async () => {
    await frr.withdraw(BLOCK.frr);
    await waitForNoPath(bird, BLOCK.frr);
    await dutPaths(BLOCK.frr, 0);
    expect(await pathsFor(bird, BLOCK6.frr, FRR.v4)).toHaveLength(1);
  });
});
