// Interop (RIB issue, proof 5): graceful restart, bgp-ts as the receiving
// speaker (RFC 4724 §4.2). BIRD 2 (`bird`, 10.0.0.2, AS 64601) has graceful
// restart on toward bgp-ts (`dut`, 10.0.0.1, AS 64512); FRR (`frr`,
// 10.0.0.3, AS 64602) is a second eBGP peer that shows what bgp-ts
// advertises. When BIRD is killed (no NOTIFICATION, the kernel closes the
// TCP session) bgp-ts keeps BIRD's routes as stale and keeps advertising them
// to FRR; when BIRD comes back, the routes it re-announces replace the stale
// ones and, at its End-of-RIB, the one it no longer announces is swept.
// When BIRD does not come back, the restart time it advertised ends them all.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BgpTsDaemon, eventIs, type DaemonRoute, type LogEvent } from './harness/bgp-ts.js';
import { pollUntil, sleep } from './harness/exec.js';
import { Topology } from './harness/netns.js';
import type { PeerRouter } from './harness/peer.js';
import { createPeer } from './harness/peers.js';
import { interopGate } from './harness/prerequisites.js';
import { pathKept, pathsFor, waitForNoPath, waitForPath } from './harness/routes.js';

const DUT = { v4: '10.0.0.1', v6: '2001:db8::1' };
const BIRD = { v4: '10.0.0.2', v6: '2001:db8::2' };
const FRR = { v4: '10.0.0.3', v6: '2001:db8::3' };
const AS_DUT = 64512;
const AS_BIRD = 64601;
const AS_FRR = 64602;
/** Seconds; BIRD advertises it and bgp-ts holds stale routes that long at most. */
const BIRD_RESTART_TIME = 15;
const KEPT = '10.246.1.0/24';
const KEPT_V6 = 'fd00:246:1::/64';
const DROPPED = '10.246.2.0/24';

const skip = interopGate(['bird', 'frr']);

describe.skipIf(skip !== undefined)('graceful restart: bgp-ts keeps a restarting BIRD routes until its End-of-RIB', () => {
  let topo: Topology;
  let dut: BgpTsDaemon;
  let bird: PeerRouter;
  let frr: PeerRouter;

  /** bgp-ts's paths for `prefix` from BIRD (FRR hands bgp-ts's own routes back too; those lose on the AS loop). */
  const birdPaths = async (prefix: string): Promise<DaemonRoute[]> => (await dut.routes(prefix)).filter((r) => r.peer === BIRD.v4);

  /** Polls FRR for `prefix` from bgp-ts until `stop()`; `gaps` counts the polls that found it missing. */
  function watchAtFrr(prefix: string): { stop: () => Promise<number> } {
    let running = true;
    let gaps = 0;
    const loop = (async () => {
      while (running) {
        if ((await pathsFor(frr, prefix, DUT.v4)).length === 0) gaps++;
        await sleep(200);
      }
    })();
    return {
      stop: async () => {
        running = false;
        await loop;
        return gaps;
      },
    };
  }

  beforeAll(async () => {
    topo = await Topology.create(['dut', 'bird', 'frr']);
    dut = new BgpTsDaemon(topo.node('dut').ns, topo.dir, {
      routerId: DUT.v4,
      asn: AS_DUT,
      listen: { addresses: [DUT.v4, DUT.v6] },
      neighbors: [
        { address: BIRD.v4, asn: AS_BIRD, holdTime: 9, connectRetryTime: 1, gracefulRestart: { enabled: true, restartTime: 60 } },
        { address: FRR.v4, asn: AS_FRR, holdTime: 9, connectRetryTime: 1 },
      ],
      api: { listen: '127.0.0.1:9179' },
    });
    bird = createPeer('bird', topo, 'bird', {
      routerId: BIRD.v4,
      asn: AS_BIRD,
      nextHop: { ipv4: BIRD.v4, ipv6: BIRD.v6 },
      neighbors: [{ address: DUT.v4, asn: AS_DUT, localAddress: BIRD.v4, gracefulRestart: { restartTime: BIRD_RESTART_TIME } }],
      routes: [KEPT, KEPT_V6, DROPPED],
    });
    frr = createPeer('frr', topo, 'frr', {
      routerId: FRR.v4,
      asn: AS_FRR,
      nextHop: { ipv4: FRR.v4, ipv6: FRR.v6 },
      neighbors: [{ address: DUT.v4, asn: AS_DUT, localAddress: FRR.v4 }],
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

  it('negotiates graceful restart with BIRD and passes its routes on to FRR', async () => {
    await dut.waitForEvent(eventIs('session-established', { peer: BIRD.v4 }), 30_000);
    await dut.waitForEvent(eventIs('session-established', { peer: FRR.v4 }), 30_000);
    const up = await dut.waitForEvent(eventIs('rib-peer-up', { peer: BIRD.v4 }), 10_000);
    expect(up['families']).toEqual(expect.arrayContaining(['ipv4-unicast', 'ipv6-unicast']));
    for (const p of [KEPT, DROPPED]) {
      expect(await waitForPath(frr, p, { from: DUT.v4 })).toMatchObject({ nextHop: DUT.v4, asPath: [AS_DUT, AS_BIRD] });
    }
    expect(await waitForPath(frr, KEPT_V6, { from: DUT.v4 })).toMatchObject({ nextHop: DUT.v6, asPath: [AS_DUT, AS_BIRD] });
  });

  it('BIRD killed: its routes stay, marked stale, and FRR keeps them', async () => {
    const watch = watchAtFrr(KEPT);
    const since = dut.mark();
    bird.forgetRoute(DROPPED); // BIRD's next start no longer announces it
    await bird.kill();
    const down = await dut.waitForEvent(eventIs('session-down', { peer: BIRD.v4 }), 15_000, since);
    expect(down['reason']).not.toMatch(/notification/i);
    const kept = await dut.waitForEvent(eventIs('stale-routes-kept', { peer: BIRD.v4 }), 5_000, since);
    expect(kept['routes']).toBe(3);
    expect(kept['restartTime']).toBe(BIRD_RESTART_TIME);
    const rs = await birdPaths(KEPT);
    expect(rs).toEqual([expect.objectContaining({ peer: BIRD.v4, stale: true, best: true })]);
    // no withdrawal toward FRR while BIRD is away
    expect(await pathKept(frr, DROPPED, DUT.v4, 3_000)).toBeUndefined();
    expect(await pathsFor(frr, KEPT_V6, DUT.v4)).toHaveLength(1);
    expect(await watch.stop()).toBe(0);
  });

  it('BIRD back: re-announced routes refresh, the one it no longer has goes at its End-of-RIB', async () => {
    const watch = watchAtFrr(KEPT);
    const since = dut.mark();
    const startedAt = Date.now();
    await bird.start();
    await dut.waitForEvent(eventIs('session-established', { peer: BIRD.v4 }), 30_000, since);
    const swept = await dut.waitForEvent(eventIs('stale-routes-swept', { peer: BIRD.v4 }), 20_000, since);
    expect(swept['routes']).toBe(1);
    // swept at End-of-RIB, not by the restart timer
    expect(Date.now() - startedAt).toBeLessThan(BIRD_RESTART_TIME * 1000);
    const eors = dut.filter((e: LogEvent) => e.event === 'end-of-rib-received' && e['peer'] === BIRD.v4, since);
    expect(eors.length).toBeGreaterThan(0);
    expect(dut.events.indexOf(eors[0]!)).toBeLessThan(dut.events.indexOf(swept));
    await waitForNoPath(frr, DROPPED, { from: DUT.v4 });
    // the kept routes are fresh again and were never withdrawn toward FRR
    const rs = await birdPaths(KEPT);
    expect(rs).toEqual([expect.objectContaining({ peer: BIRD.v4, best: true })]);
    expect(rs[0]!.stale ?? false).toBe(false);
    expect(await birdPaths(KEPT_V6)).toEqual([expect.objectContaining({ best: true })]);
    expect((await birdPaths(KEPT_V6))[0]!.stale ?? false).toBe(false);
    expect(await pathsFor(frr, KEPT, DUT.v4)).toHaveLength(1);
    expect(await watch.stop()).toBe(0);
  });

  it('BIRD gone for good: its restart time ends the stale routes', async () => {
    const since = dut.mark();
    await bird.kill();
    const kept = await dut.waitForEvent(eventIs('stale-routes-kept', { peer: BIRD.v4 }), 15_000, since);
    const keptAt = Date.now();
    expect(kept['routes']).toBe(2);
    // RFC 4724 §4.2: when the restart time runs out, the stale routes are deleted and withdrawn
    const gone = await dut.waitForEvent(
      (e) => e.event === 'best-path-changed' && e['prefix'] === KEPT && Array.isArray(e['paths']) && !(e['paths'] as string[]).includes(BIRD.v4),
      (BIRD_RESTART_TIME + 10) * 1000,
      since,
    );
    expect(gone).toBeDefined();
    const after = Date.now() - keptAt;
    expect(after).toBeGreaterThan((BIRD_RESTART_TIME - 2) * 1000);
    expect(after).toBeLessThan((BIRD_RESTART_TIME + 5) * 1000);
    await waitForNoPath(frr, KEPT, { from: DUT.v4 });
    await waitForNoPath(frr, KEPT_V6, { from: DUT.v4 });
    await pollUntil(async () => (await birdPaths(KEPT)).length === 0 && (await birdPaths(KEPT_V6)).length === 0, {
      timeoutMs: 5_000,
      what: 'bgp-ts dropping the expired routes',
    });
  });
});
