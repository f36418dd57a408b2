// Interop: bgp-ts as the restarting speaker (RFC 4724 §4.1) against FRR
// bgpd as the helper (`bgp graceful-restart`, per-neighbor graceful-restart;
// eBGP). bgp-ts (`fib.enabled: true`) originates its block and installs FRR's
// into its namespace. SIGTERM: no NOTIFICATION, so FRR keeps bgp-ts's block,
// marked stale (sampled every 150 ms: never missing); the next run opens with
// R = 1 and F = 1 for IPv4 (FRR's graceful-restart view shows it), FRR ends
// its stale wait at our End-of-RIB with the block fresh, and the route learned
// from FRR never leaves bgp-ts's kernel (sampled every ~10 ms).

import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BgpTsDaemon, eventIs } from './harness/bgp-ts.js';
import { pollUntil, run, sampler, sleep } from './harness/exec.js';
import { Topology } from './harness/netns.js';
import type { PeerRouter } from './harness/peer.js';
import { createPeer } from './harness/peers.js';
import { interopGate } from './harness/prerequisites.js';
import { pathsFor, waitForPath } from './harness/routes.js';

const DUT = '10.0.0.1';
const FRR = '10.0.0.2';
const AS_DUT = 64512;
const AS_FRR = 64602;
const RESTART_TIME = 120;
const BLOCK = { dut: '10.244.1.0/26', frr: '10.244.2.0/26' };

const skip = interopGate(['frr']);

describe.skipIf(skip !== undefined)('graceful restart of bgp-ts itself (RFC 4724 §4.1) against FRR bgpd', () => {
  let topo: Topology;
  let dut: BgpTsDaemon;
  let frr: PeerRouter;
  let dutNs: string;

  const ourKernel = async (): Promise<string> => (await run('ip', ['-n', dutNs, 'route', 'show', 'proto', '201'])).stdout;
  const fromDut = () => pathsFor(frr, BLOCK.dut, DUT);

  beforeAll(async () => {
    topo = await Topology.create(['dut', 'frr']);
    dutNs = topo.node('dut').ns;
    mkdirSync(join(topo.dir, 'dut'));
    dut = new BgpTsDaemon(dutNs, join(topo.dir, 'dut'), {
      routerId: DUT,
      asn: AS_DUT,
      listen: { addresses: [DUT] },
      neighbors: [
        { address: FRR, asn: AS_FRR, holdTime: 9, connectRetryTime: 1, families: ['ipv4-unicast'], gracefulRestart: { enabled: true, restartTime: RESTART_TIME } },
      ],
      originate: [{ prefix: BLOCK.dut }],
      ipPools: [{ cidr: '10.244.0.0/16', mode: 'direct' }],
      fib: { enabled: true, table: 254, protocol: 201 },
      api: { listen: '127.0.0.1:9179' },
    });
    frr = createPeer('frr', topo, 'frr', {
      routerId: FRR,
      asn: AS_FRR,
      nextHop: { ipv4: FRR, ipv6: '2001:db8::2' },
      neighbors: [{ address: DUT, asn: AS_DUT, localAddress: FRR, families: ['ipv4-unicast'], gracefulRestart: { restartTime: 60 } }],
      routes: [BLOCK.frr],
    });
    await frr.start();
    await dut.start();
  }, 60_000);

  afterAll(async () => {
    await dut?.stop();
    await frr?.stop();
    await topo?.destroy();
  });

  it('comes up with graceful restart; each side holds the other block', async () => {
    await dut.waitForEvent(eventIs('session-established', { peer: FRR }), 30_000);
    expect(await waitForPath(frr, BLOCK.dut, { from: DUT })).toMatchObject({ nextHop: DUT, asPath: [AS_DUT] });
    await pollUntil(async () => (await ourKernel()).includes(`${BLOCK.frr} via ${FRR}`), { timeoutMs: 20_000, what: `FRR block in our kernel\n${dut.tail(20)}` });
  });

  it('SIGTERM and start again: FRR keeps the block stale, then fresh; our kernel route never leaves', async () => {
    const atFrr = sampler(async () => (await fromDut()).length === 1, 150);
    const inOurKernel = sampler(async () => (await ourKernel()).includes(`${BLOCK.frr} via ${FRR}`), 10);
    const since = dut.mark();
    await dut.stop();
    expect(dut.find(eventIs('session-down', { peer: FRR }), since)).toMatchObject({ reason: 'graceful-restart' });
    expect(dut.find((e) => e.event === 'notification-sent', since)).toBeUndefined();
    // FRR as the helper (RFC 4724 §4.2): the block stays, marked stale.
    const stale = await pollUntil(async () => (await fromDut()).find((r) => r.stale), { timeoutMs: 15_000, what: `FRR marking the block stale\n${frr.tail(20)}` });
    expect(stale).toMatchObject({ nextHop: DUT });
    expect(await frr.lastNotificationReceived(DUT)).toBeUndefined();
    await sleep(2_000);

    const restartedAt = dut.mark();
    await dut.start();
    expect((await dut.waitForEvent(eventIs('restarting'), 5_000, restartedAt))['forwardingState']).toEqual(['ipv4-unicast']);
    await dut.waitForEvent(eventIs('session-established', { peer: FRR }), 30_000, restartedAt);
    // FRR ends the stale wait at our End-of-RIB: the block is there, fresh.
    const fresh = await pollUntil(async () => {
      const rs = await fromDut();
      return rs.length === 1 && !rs[0]!.stale ? rs[0] : undefined;
    }, { timeoutMs: 20_000, what: 'the block fresh at FRR' });
    expect(fresh).toMatchObject({ nextHop: DUT, best: true });
    await dut.waitForEvent(eventIs('restart-complete'), 20_000, restartedAt);
    await sleep(1_000);

    const [f, k] = [await atFrr.stop(), await inOurKernel.stop()];
    expect(f.samples).toBeGreaterThan(10);
    expect(f.misses).toBe(0);
    expect(k.samples).toBeGreaterThan(100);
    expect(k.misses).toBe(0);
    console.info(`[gr-restart-frr] samples: FRR table ${f.samples}, our kernel ${k.samples}; misses 0`);
  }, 90_000);
});
