// Interop (RIB issue, proof 2): bgp-ts as an RFC 4456 client of a GoBGP
// route reflector, with BIRD 2 as a second client, all in AS 64512. Bridge
// topology: GoBGP in `rr` (10.0.0.1), bgp-ts in `dut` (10.0.0.2), BIRD in
// `bird` (10.0.0.3). bgp-ts originates its pod blocks from `originate`
// (Calico: one /26 per node, plus an IPv6 block) with itself as next hop
// (RFC 4271 §5.1.3 for iBGP-originated routes); the reflector hands them to
// BIRD with bgp-ts's router ID as ORIGINATOR_ID, and hands BIRD's blocks to
// bgp-ts with BIRD's. bgp-ts's view is read over its HTTP API.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BgpTsDaemon, eventIs, type DaemonRoute } from './harness/bgp-ts.js';
import { pollUntil } from './harness/exec.js';
import { Topology } from './harness/netns.js';
import type { PeerRouter } from './harness/peer.js';
import { createPeer } from './harness/peers.js';
import { interopGate } from './harness/prerequisites.js';
import { waitForNoPath, waitForPath } from './harness/routes.js';

const AS = 64512;
const GOBGP = { v4: '10.0.0.1', v6: '2001:db8::1', id: '192.0.2.1' };
const DUT = { v4: '10.0.0.2', v6: '2001:db8::2', id: '192.0.2.12' };
const BIRD = { v4: '10.0.0.3', v6: '2001:db8::3', id: '192.0.2.3' };
const CLUSTER_ID = '192.0.2.200';
const DUT_V4 = '10.244.12.0/26';
const DUT_V4_2 = '10.244.12.64/26';
const DUT_V6 = 'fd00:244:12::/64';
const BIRD_V4 = '10.244.3.0/26';
const BIRD_V6 = 'fd00:244:3::/64';

const skip = interopGate(['gobgp', 'bird']);

describe.skipIf(skip !== undefined)('bgp-ts as a route-reflector client of GoBGP, next to a BIRD 2 client', () => {
  let topo: Topology;
  let dut: BgpTsDaemon;
  let gobgp: PeerRouter;
  let bird: PeerRouter;

  /** bgp-ts's paths for `prefix` once `ready` holds for them. */
  const dutRoutes = (prefix: string, ready: (rs: DaemonRoute[]) => boolean, what: string): Promise<DaemonRoute[]> =>
    pollUntil(
      async () => {
        const rs = await dut.routes(prefix);
        return ready(rs) ? rs : undefined;
      },
      { timeoutMs: 20_000, what: `bgp-ts: ${what}` },
    );

  beforeAll(async () => {
    topo = await Topology.create(['rr', 'dut', 'bird']);
    gobgp = createPeer('gobgp', topo, 'rr', {
      routerId: GOBGP.id,
      asn: AS,
      clusterId: CLUSTER_ID,
      nextHop: { ipv4: GOBGP.v4, ipv6: GOBGP.v6 },
      neighbors: [
        { address: DUT.v4, asn: AS, localAddress: GOBGP.v4, routeReflectorClient: true },
        { address: BIRD.v4, asn: AS, localAddress: GOBGP.v4, routeReflectorClient: true },
      ],
    });
    dut = new BgpTsDaemon(topo.node('dut').ns, topo.dir, {
      routerId: DUT.id,
      asn: AS,
      // specific listen addresses: the IPv6 one is the next hop for IPv6 routes on the IPv4 session
      listen: { addresses: [DUT.v4, DUT.v6] },
      neighbors: [{ address: GOBGP.v4, asn: AS, holdTime: 9, connectRetryTime: 1 }],
      originate: [{ prefix: DUT_V4 }, { prefix: DUT_V4_2 }, { prefix: DUT_V6 }],
      api: { listen: '127.0.0.1:9179' },
    });
    bird = createPeer('bird', topo, 'bird', {
      routerId: BIRD.id,
      asn: AS,
      nextHop: { ipv4: BIRD.v4, ipv6: BIRD.v6 },
      neighbors: [{ address: GOBGP.v4, asn: AS, localAddress: BIRD.v4 }],
      routes: [BIRD_V4, BIRD_V6],
    });
    await gobgp.start();
    await dut.start();
    await bird.start();
  });

  afterAll(async () => {
    await bird?.stop();
    await dut?.stop();
    await gobgp?.stop();
    await topo?.destroy();
  });

  it('reaches Established with the reflector', async () => {
    await dut.waitForEvent(eventIs('session-established', { peer: GOBGP.v4 }), 30_000);
    await pollUntil(async () => (await gobgp.neighborState(DUT.v4)) === 'Established', { timeoutMs: 20_000, what: 'GoBGP: bgp-ts Established' });
    await pollUntil(async () => (await gobgp.neighborState(BIRD.v4)) === 'Established', { timeoutMs: 20_000, what: 'GoBGP: BIRD Established' });
  });

  it('originates its blocks to the reflector with its own address as next hop and an empty AS_PATH', async () => {
    for (const [prefix, nh] of [[DUT_V4, DUT.v4], [DUT_V4_2, DUT.v4], [DUT_V6, DUT.v6]] as const) {
      const r = await waitForPath(gobgp, prefix, { from: DUT.v4 });
      expect(r).toMatchObject({ nextHop: nh, asPath: [], best: true });
      // a route originated by a client carries no ORIGINATOR_ID until the reflector adds one
      expect(r.originatorId).toBeUndefined();
    }
  });

  it('the other client gets bgp-ts blocks via the reflector with ORIGINATOR_ID = bgp-ts router ID', async () => {
    const v4 = await waitForPath(bird, DUT_V4, { from: GOBGP.v4 });
    expect(v4).toMatchObject({ nextHop: DUT.v4, originatorId: DUT.id, clusterList: [CLUSTER_ID], asPath: [], best: true });
    const v6 = await waitForPath(bird, DUT_V6, { from: GOBGP.v4 });
    expect(v6).toMatchObject({ nextHop: DUT.v6, originatorId: DUT.id, clusterList: [CLUSTER_ID] });
  });

  it('learns the other client routes via the reflector with ORIGINATOR_ID and CLUSTER_LIST, best, next hop unchanged', async () => {
    const [v4] = await dutRoutes(BIRD_V4, (rs) => rs.length === 1, `${BIRD_V4} learned`);
    expect(v4).toMatchObject({ peer: GOBGP.v4, best: true, nextHop: BIRD.v4, asPath: '', originatorId: BIRD.id, clusterList: [CLUSTER_ID] });
    const [v6] = await dutRoutes(BIRD_V6, (rs) => rs.length === 1, `${BIRD_V6} learned`);
    expect(v6).toMatchObject({ peer: GOBGP.v4, best: true, nextHop: BIRD.v6, originatorId: BIRD.id, clusterList: [CLUSTER_ID] });
    // the UPDATE as it arrived, from the log
    const u = dut.find((e) => e.event === 'update-received' && Array.isArray(e['announced']) && (e['announced'] as string[]).includes(BIRD_V4));
    expect(u?.['peer']).toBe(GOBGP.v4);
  });

  it('its own blocks stay local-best; the reflector does not hand them back (ORIGINATOR_ID would be ours)', async () => {
    const rs = await dut.routes(DUT_V4);
    expect(rs).toEqual([expect.objectContaining({ peer: 'local', best: true })]);
  });

  it('a block dropped from `originate` (SIGHUP reload, how Calico hands back a block) is withdrawn at BIRD', async () => {
    dut.config = { ...dut.config, originate: [{ prefix: DUT_V4 }, { prefix: DUT_V6 }] };
    await dut.reload();
    await waitForNoPath(bird, DUT_V4_2, { from: GOBGP.v4 });
    await waitForNoPath(gobgp, DUT_V4_2);
    expect((await waitForPath(bird, DUT_V4, { from: GOBGP.v4 })).originatorId).toBe(DUT.id);
  });

  it('a withdrawal by the other client reaches bgp-ts through the reflector', async () => {
    await bird.withdraw(BIRD_V4);
    await dutRoutes(BIRD_V4, (rs) => rs.length === 0, `${BIRD_V4} withdrawn`);
    expect(await dut.routes(BIRD_V6)).toHaveLength(1);
  });
});
