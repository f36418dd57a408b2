// Interop: our sent-message counters against what FRR bgpd counted receiving
// (issue 10). FRR's `clear ... soft in` sends us a ROUTE-REFRESH request; with
// RFC 7313 enhanced route refresh negotiated we answer BoRR, our table, EoRR.
// The BoRR/EoRR leave through the same pre-encoded stream as the UPDATEs, and
// were counted as UPDATEs: our `messages.sent` must match FRR's
// `messageStats` (updatesRecv, routeRefreshRecv) message for message.

import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BgpTsDaemon } from './harness/bgp-ts.js';
import { pollUntil } from './harness/exec.js';
import { Topology } from './harness/netns.js';
import type { FrrPeer } from './harness/frr.js';
import { createPeer } from './harness/peers.js';
import { interopGate } from './harness/prerequisites.js';

const DUT = '10.0.0.1';
const FRR = '10.0.0.2';
const AS_DUT = 64512;
const AS_FRR = 64603;
const API = '127.0.0.1:9179';

interface Counts {
  update: number;
  keepalive: number;
  'route-refresh': number;
}

const skip = interopGate(['frr']);

describe.skipIf(skip !== undefined)('sent counters by wire type, against FRR bgpd', () => {
  let topo: Topology;
  let frr: FrrPeer;
  let dut: BgpTsDaemon;

  const ours = async () => (await dut.apiGet<{ messages: { sent: Counts } }>(`/api/v1/peers/${FRR}`)).messages.sent;
  const theirs = async () => {
    const s = (await frr.neighborJson(DUT))?.['messageStats'] as Record<string, number> | undefined;
    return { update: s?.['updatesRecv'] ?? -1, 'route-refresh': s?.['routeRefreshRecv'] ?? -1 };
  };

  beforeAll(async () => {
    topo = await Topology.create(['dut', 'frr']);
    mkdirSync(join(topo.dir, 'dut'));
    frr = createPeer('frr', topo, 'frr', {
      routerId: FRR,
      asn: AS_FRR,
      nextHop: { ipv4: FRR, ipv6: '2001:db8::2' },
      neighbors: [{ address: DUT, asn: AS_DUT, localAddress: FRR, families: ['ipv4-unicast'] }],
      routes: [],
    }) as FrrPeer;
    await frr.start();
    dut = new BgpTsDaemon(topo.node('dut').ns, join(topo.dir, 'dut'), {
      routerId: DUT,
      asn: AS_DUT,
      listen: { addresses: [DUT] },
      api: { listen: API },
      originate: [{ prefix: '10.244.7.0/26' }, { prefix: '10.244.7.64/26', communities: ['64512:7'] }, { prefix: '10.244.8.0/26' }],
      neighbors: [{ address: FRR, asn: AS_FRR, holdTime: 9, connectRetryTime: 1, families: ['ipv4-unicast'] }],
    });
    await dut.start();
  }, 60_000);

  afterAll(async () => {
    await dut?.stop();
    await frr?.stop();
    await topo?.destroy();
  });

  it('an enhanced route refresh moves ROUTE-REFRESH by 2 and UPDATE by the table, on both sides', async () => {
    await pollUntil(async () => ((await frr.receivedRoutes('ipv4-unicast')).length === 3 ? true : undefined), { timeoutMs: 30_000, what: 'three routes at FRR' });
    const n = await frr.neighborJson(DUT);
    expect(JSON.stringify(n?.['neighborCapabilities'] ?? {})).toMatch(/enhancedRouteRefresh/);
    const before = await ours();
    await frr.softIn(DUT);
    // BoRR + EoRR reach FRR as ROUTE-REFRESH messages, and both sides agree on every count.
    const settled = await pollUntil(
      async () => {
        const [a, b] = [await ours(), await theirs()];
        return a['route-refresh'] === before['route-refresh'] + 2 && a.update === b.update && a['route-refresh'] === b['route-refresh'] ? { a, b } : undefined;
      },
      { timeoutMs: 15_000, what: `counters to agree: ours ${JSON.stringify(await ours())}, FRR's ${JSON.stringify(await theirs())}` },
    );
    // (OPENs are not compared: ours count every connection of the session, a collision's loser included.)
    // Three prefixes in at least one UPDATE each way round; the refresh re-sent them.
    expect(settled.a.update).toBeGreaterThan(before.update);
    expect(settled.a.update - before.update).toBeLessThanOrEqual(3);
  }, 60_000);
});
