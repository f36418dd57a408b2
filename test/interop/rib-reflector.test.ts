// Interop (RIB issue, proof 1): bgp-ts as an RFC 4456 route reflector between
// an FRR client and a BIRD 2 client, all in AS 64512 (iBGP), over IPv4
// sessions carrying both families (RFC 4760). Bridge topology: bgp-ts in `rr`
// (10.0.0.1), FRR in `frr` (10.0.0.2), BIRD in `bird` (10.0.0.3). The
// clients' router IDs (192.0.2.x) and the cluster ID (192.0.2.100) differ from
// every address, so ORIGINATOR_ID (RFC 4456 §8: the originator's BGP
// Identifier) and CLUSTER_LIST (§8: our cluster ID prepended) are told apart
// from next hops and router IDs. What each client holds is read from the
// client itself (birdc / vtysh), plus bgp-ts's own view over its HTTP API.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BgpTsDaemon, eventIs } from './harness/bgp-ts.js';
import { pollUntil } from './harness/exec.js';
import { Topology } from './harness/netns.js';
import type { PeerRouter } from './harness/peer.js';
import { createPeer } from './harness/peers.js';
import { interopGate } from './harness/prerequisites.js';
import { pathsFor, waitForNoPath, waitForPath } from './harness/routes.js';

const AS = 64512;
const RR = { v4: '10.0.0.1', v6: '2001:db8::1' };
const FRR = { v4: '10.0.0.2', v6: '2001:db8::2', id: '192.0.2.2' };
const BIRD = { v4: '10.0.0.3', v6: '2001:db8::3', id: '192.0.2.3' };
const CLUSTER_ID = '192.0.2.100';
const FRR_V4 = '10.244.2.0/26';
const FRR_V6 = 'fd00:244:2::/64';
const BIRD_V4 = '10.244.3.0/26';
const BIRD_V6 = 'fd00:244:3::/64';

const skip = interopGate(['frr', 'bird']);

describe.skipIf(skip !== undefined)('bgp-ts as route reflector between FRR and BIRD 2 clients', () => {
  let topo: Topology;
  let rr: BgpTsDaemon;
  let frr: PeerRouter;
  let bird: PeerRouter;

  beforeAll(async () => {
    topo = await Topology.create(['rr', 'frr', 'bird']);
    const client = (address: string) => ({ address, asn: AS, routeReflectorClient: true, holdTime: 9, connectRetryTime: 1 });
    rr = new BgpTsDaemon(topo.node('rr').ns, topo.dir, {
      routerId: RR.v4,
      asn: AS,
      clusterId: CLUSTER_ID,
      neighbors: [client(FRR.v4), client(BIRD.v4)],
      api: { listen: '127.0.0.1:9179' },
    });
    frr = createPeer('frr', topo, 'frr', {
      routerId: FRR.id,
      asn: AS,
      nextHop: { ipv4: FRR.v4, ipv6: FRR.v6 },
      neighbors: [{ address: RR.v4, asn: AS, localAddress: FRR.v4 }],
      routes: [FRR_V4, FRR_V6],
    });
    bird = createPeer('bird', topo, 'bird', {
      routerId: BIRD.id,
      asn: AS,
      nextHop: { ipv4: BIRD.v4, ipv6: BIRD.v6 },
      neighbors: [{ address: RR.v4, asn: AS, localAddress: BIRD.v4 }],
      routes: [BIRD_V4, BIRD_V6],
    });
    await rr.start();
    await frr.start();
    await bird.start();
  });

  afterAll(async () => {
    await frr?.stop();
    await bird?.stop();
    await rr?.stop();
    await topo?.destroy();
  });

  it('brings both client sessions to Established', async () => {
    await rr.waitForEvent(eventIs('session-established', { peer: FRR.v4 }), 30_000);
    await rr.waitForEvent(eventIs('session-established', { peer: BIRD.v4 }), 30_000);
    for (const p of [frr, bird]) {
      await pollUntil(async () => (await p.neighborState(RR.v4)) === 'Established', { timeoutMs: 20_000, what: `${p.kind} Established` });
    }
  });

  it('reflects FRR routes to BIRD with ORIGINATOR_ID, CLUSTER_LIST and the client next hop (IPv4 and IPv6)', async () => {
    const v4 = await waitForPath(bird, FRR_V4, { from: RR.v4 });
    expect(v4).toMatchObject({ nextHop: FRR.v4, originatorId: FRR.id, clusterList: [CLUSTER_ID], asPath: [] });
    const v6 = await waitForPath(bird, FRR_V6, { from: RR.v4 });
    expect(v6).toMatchObject({ nextHop: FRR.v6, originatorId: FRR.id, clusterList: [CLUSTER_ID], asPath: [] });
  });

  it('reflects BIRD routes to FRR the same way, and FRR takes them as best', async () => {
    const v4 = await waitForPath(frr, BIRD_V4, { from: RR.v4 });
    expect(v4).toMatchObject({ nextHop: BIRD.v4, originatorId: BIRD.id, clusterList: [CLUSTER_ID], asPath: [], best: true });
    const v6 = await waitForPath(frr, BIRD_V6, { from: RR.v4 });
    expect(v6).toMatchObject({ nextHop: BIRD.v6, originatorId: BIRD.id, clusterList: [CLUSTER_ID], asPath: [], best: true });
  });

  it('does not send a client its own routes back', async () => {
    // RFC 4456 §6: to client peers other than the originator. Checked at bgp-ts's
    // Adj-RIB-Out count: each client gets exactly the other client's two routes.
    const peers = await pollUntil(
      async () => {
        const r = await rr.apiGet<{ peers: { address: string; prefixes: { advertised: number } }[] }>('/api/v1/peers');
        return r.peers.every((p) => p.prefixes.advertised === 2) ? r.peers : undefined;
      },
      { timeoutMs: 10_000, what: 'bgp-ts advertising two routes to each client' },
    );
    expect(peers.map((p) => p.address).sort()).toEqual([FRR.v4, BIRD.v4]);
    expect(await pathsFor(frr, FRR_V4, RR.v4)).toEqual([]);
    expect(await pathsFor(bird, BIRD_V6, RR.v4)).toEqual([]);
  });

  it('shows the client routes with their originator in its own RIB (API)', async () => {
    const { routes } = await rr.apiGet<{ routes: { prefix: string; peer: string; best: boolean; nextHop: string; originatorId?: string }[] }>(
      `/api/v1/routes?prefix=${encodeURIComponent(BIRD_V4)}`,
    );
    expect(routes).toEqual([expect.objectContaining({ prefix: BIRD_V4, peer: BIRD.v4, best: true, nextHop: BIRD.v4 })]);
    // a route from a client carries no ORIGINATOR_ID yet: the reflector adds it on the way out
    expect(routes[0]!.originatorId).toBeUndefined();
  });

  it('propagates withdrawals in both directions and families', async () => {
    await frr.withdraw(FRR_V4);
    await bird.withdraw(BIRD_V6);
    await waitForNoPath(bird, FRR_V4, { from: RR.v4 });
    await waitForNoPath(frr, BIRD_V6, { from: RR.v4 });
    // the other routes stay
    expect(await pathsFor(bird, FRR_V6, RR.v4)).toHaveLength(1);
    expect(await pathsFor(frr, BIRD_V4, RR.v4)).toHaveLength(1);
  });

  it('reflects a later announcement', async () => {
    const late = '10.244.9.0/26';
    await frr.announce(late);
    const r = await waitForPath(bird, late, { from: RR.v4 });
    expect(r).toMatchObject({ nextHop: FRR.v4, originatorId: FRR.id, clusterList: [CLUSTER_ID] });
  });
});
