// Interop (RIB issue, proof 4): bgp-ts on a node peering eBGP with an FRR
// "top of rack" router, 4-octet ASNs on both sides (RFC 6793), the way Calico
// peers a node with its ToR: one session per address family, IPv4 routes on
// the IPv4 session and IPv6 routes on the IPv6 session. Two-node topology:
// bgp-ts in `node` (10.0.0.1, 2001:db8::1), FRR in `tor` (10.0.0.2,
// 2001:db8::2). The ToR must get bgp-ts's blocks with AS_PATH = [bgp-ts ASN]
// (RFC 4271 §5.1.2: prepend our AS toward an external peer) and next hop =
// bgp-ts's address on that session (§5.1.3); bgp-ts must learn the ToR's
// routes with the ToR's AS and address.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BgpTsDaemon, eventIs, type DaemonRoute } from './harness/bgp-ts.js';
import { pollUntil } from './harness/exec.js';
import { Topology } from './harness/netns.js';
import type { PeerRouter } from './harness/peer.js';
import { createPeer } from './harness/peers.js';
import { interopGate } from './harness/prerequisites.js';
import { pathsFor, waitForNoPath, waitForPath } from './harness/routes.js';

const NODE = { v4: '10.0.0.1', v6: '2001:db8::1' };
const TOR = { v4: '10.0.0.2', v6: '2001:db8::2' };
const AS_NODE = 4200000001;
const AS_TOR = 4200000100;
const NODE_V4 = ['10.244.7.0/26', '10.244.7.64/26'];
const NODE_V6 = 'fd00:244:7::/122';
const TOR_V4 = '192.168.100.0/24';
const TOR_V6 = 'fd00:100::/64';

const skip = interopGate(['frr']);

describe.skipIf(skip !== undefined)('eBGP from bgp-ts to an FRR ToR, 4-octet ASNs, one session per family', () => {
  let topo: Topology;
  let node: BgpTsDaemon;
  let tor: PeerRouter;

  const nodeRoutes = (prefix: string, ready: (rs: DaemonRoute[]) => boolean, what: string): Promise<DaemonRoute[]> =>
    pollUntil(
      async () => {
        const rs = await node.routes(prefix);
        return ready(rs) ? rs : undefined;
      },
      { timeoutMs: 20_000, what: `bgp-ts: ${what}` },
    );

  beforeAll(async () => {
    topo = await Topology.create(['node', 'tor']);
    const session = { asn: AS_TOR, holdTime: 9, connectRetryTime: 1 };
    node = new BgpTsDaemon(topo.node('node').ns, topo.dir, {
      routerId: NODE.v4,
      asn: AS_NODE,
      neighbors: [
        { address: TOR.v4, ...session, families: ['ipv4-unicast'] },
        { address: TOR.v6, ...session, families: ['ipv6-unicast'] },
      ],
      originate: [...NODE_V4.map((prefix) => ({ prefix })), { prefix: NODE_V6 }],
      api: { listen: '127.0.0.1:9179' },
    });
    tor = createPeer('frr', topo, 'tor', {
      routerId: TOR.v4,
      asn: AS_TOR,
      nextHop: { ipv4: TOR.v4, ipv6: TOR.v6 },
      neighbors: [
        { address: NODE.v4, asn: AS_NODE, localAddress: TOR.v4, families: ['ipv4-unicast'] },
        { address: NODE.v6, asn: AS_NODE, localAddress: TOR.v6, families: ['ipv6-unicast'] },
      ],
      routes: [TOR_V4, TOR_V6],
    });
    await tor.start();
    await node.start();
  });

  afterAll(async () => {
    await node?.stop();
    await tor?.stop();
    await topo?.destroy();
  });

  it('both sessions reach Established with the 4-octet peer AS', async () => {
    for (const peer of [TOR.v4, TOR.v6]) {
      const e = await node.waitForEvent(eventIs('session-established', { peer }), 30_000);
      expect(e['asn']).toBe(AS_TOR);
    }
    for (const a of [NODE.v4, NODE.v6]) {
      await pollUntil(async () => (await tor.neighborState(a)) === 'Established', { timeoutMs: 20_000, what: `ToR: ${a} Established` });
    }
  });

  it('the ToR learns the node blocks with AS_PATH [node AS] and the node address as next hop', async () => {
    for (const prefix of NODE_V4) {
      expect(await waitForPath(tor, prefix, { from: NODE.v4 })).toMatchObject({ nextHop: NODE.v4, asPath: [AS_NODE], best: true });
    }
    expect(await waitForPath(tor, NODE_V6, { from: NODE.v6 })).toMatchObject({ nextHop: NODE.v6, asPath: [AS_NODE], best: true });
    // one family per session: nothing crossed over
    expect(await pathsFor(tor, NODE_V6, NODE.v4)).toEqual([]);
    expect(await pathsFor(tor, NODE_V4[0]!, NODE.v6)).toEqual([]);
  });

  it('bgp-ts learns the ToR routes with the ToR AS and next hop, as best', async () => {
    const [v4] = await nodeRoutes(TOR_V4, (rs) => rs.length === 1, `${TOR_V4} learned`);
    expect(v4).toMatchObject({ peer: TOR.v4, best: true, nextHop: TOR.v4, asPath: String(AS_TOR) });
    const [v6] = await nodeRoutes(TOR_V6, (rs) => rs.length === 1, `${TOR_V6} learned`);
    expect(v6).toMatchObject({ peer: TOR.v6, best: true, nextHop: TOR.v6, asPath: String(AS_TOR) });
  });

  it('a block removed from `originate` (config reload) is withdrawn at the ToR; the others stay', async () => {
    node.config = { ...node.config, originate: [{ prefix: NODE_V4[0]! }, { prefix: NODE_V6 }] };
    await node.reload();
    await waitForNoPath(tor, NODE_V4[1]!);
    expect(await pathsFor(tor, NODE_V4[0]!, NODE.v4)).toHaveLength(1);
    expect(await pathsFor(tor, NODE_V6, NODE.v6)).toHaveLength(1);
  });

  it('a ToR withdrawal reaches bgp-ts', async () => {
    await tor.withdraw(TOR_V6);
    await nodeRoutes(TOR_V6, (rs) => rs.length === 0, `${TOR_V6} withdrawn`);
    expect(await node.routes(TOR_V4)).toHaveLength(1);
  });
});
