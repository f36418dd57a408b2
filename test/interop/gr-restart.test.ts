// Interop: bgp-ts as the *restarting* speaker (RFC 4724 §4.1), a zero-loss
// restart (upgrade) against BIRD 2 configured as Calico configures it
// (`graceful restart on`, restart time 120, `direct`, `gateway recursive`, a
// kernel protocol exporting BGP routes, an export filter for the IP pool, the
// string rule: bgp-ts 10.0.0.1 waits for BIRD 10.0.0.2, which dials). bgp-ts (`fib.enabled:
// true`) originates its block and installs BIRD's into its own namespace.
// SIGTERM: bgp-ts closes the session without a NOTIFICATION (§4), so BIRD
// keeps bgp-ts's block (sampled every 150 ms: never missing) and its kernel
// route; the next run adopts its kernel routes, opens with R = 1 and F = 1 for
// IPv4 (§3), BIRD leaves graceful restart at our End-of-RIB with the block
// fresh from bgp-ts, and in bgp-ts's namespace the route learned from BIRD
// never leaves the kernel (`ip route show proto 201`, sampled every ~10 ms).

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BgpTsDaemon, eventIs } from './harness/bgp-ts.js';
import { CalicoBird, meshName } from './harness/calico-bird.js';
import { pollUntil, run, runIn, sampler, sleep } from './harness/exec.js';
import { Topology } from './harness/netns.js';
import { interopGate } from './harness/prerequisites.js';

const AS = 64512;
const DUT = '10.0.0.1';
const BIRD = '10.0.0.2';
const POOL = '10.244.0.0/16';
const BLOCK = { dut: '10.244.1.0/26', bird: '10.244.2.0/26' };
const RESTART_TIME = 120;
const MESH = meshName(DUT);

const skip = interopGate(['bird']);

describe.skipIf(skip !== undefined)('graceful restart of bgp-ts itself (RFC 4724 §4.1) against a Calico-style BIRD 2', () => {
  let topo: Topology;
  let dut: BgpTsDaemon;
  let bird: CalicoBird;
  let dutNs: string;
  let birdNs: string;

  const ourKernel = async (): Promise<string> => (await run('ip', ['-n', dutNs, 'route', 'show', 'proto', '201'])).stdout;
  const birdKernel = async (prefix: string): Promise<string> => (await runIn(birdNs, 'ip', ['-4', 'route', 'show', prefix])).stdout;

  beforeAll(async () => {
    topo = await Topology.create(['dut', 'bird']);
    dutNs = topo.node('dut').ns;
    birdNs = topo.node('bird').ns;
    mkdirSync(join(topo.dir, 'dut'));
    dut = new BgpTsDaemon(dutNs, join(topo.dir, 'dut'), {
      routerId: DUT,
      asn: AS,
      listen: { addresses: [DUT] },
      neighbors: [
        {
          address: BIRD,
          asn: AS,
          description: `Mesh_${BIRD.replace(/\./g, '_')}`,
          passive: true, // "10.0.0.2" > "10.0.0.1": BIRD dials, we wait (Calico's rule)
          families: ['ipv4-unicast'],
          addPath: 'both',
          gracefulRestart: { enabled: true, restartTime: RESTART_TIME },
        },
      ],
      originate: [{ prefix: BLOCK.dut }],
      ipPools: [{ cidr: POOL, mode: 'direct' }],
      fib: { enabled: true, table: 254, protocol: 201 },
      api: { listen: '127.0.0.1:9179' },
    });
    bird = new CalicoBird(birdNs, join(topo.dir, 'bird'), { routerId: BIRD, asn: AS, pool: POOL, block: BLOCK.bird, peers: [DUT], restartTime: RESTART_TIME, kernelGracefulRestart: true });
    await bird.start();
    await dut.start();
  }, 60_000);

  afterAll(async () => {
    await dut?.stop();
    await bird?.stop();
    await topo?.destroy();
  });

  it('comes up with graceful restart; each side holds the other block, in BIRD and in both kernels', async () => {
    await dut.waitForEvent(eventIs('session-established', { peer: BIRD }), 30_000);
    await pollUntil(async () => (await bird.state(DUT)) === 'Established', { timeoutMs: 20_000, what: 'BIRD Established' });
    const info = await bird.protocol(DUT);
    expect(info.slice(info.indexOf('Neighbor capabilities'))).toMatch(new RegExp(`Graceful restart\\s+Restart time: ${RESTART_TIME}`));
    await pollUntil(async () => (await bird.routeText(BLOCK.dut, DUT)) !== undefined, { timeoutMs: 20_000, what: `BIRD holding ${BLOCK.dut}\n${bird.tail()}` });
    await pollUntil(async () => (await birdKernel(BLOCK.dut)).includes(`via ${DUT}`), { timeoutMs: 10_000, what: 'our block in BIRD kernel' });
    await pollUntil(async () => (await ourKernel()).includes(`${BLOCK.bird} via ${BIRD}`), { timeoutMs: 20_000, what: `BIRD block in our kernel\n${dut.tail(20)}` });
    expect(await ourKernel()).toContain(`blackhole ${BLOCK.dut}`);
  });

  it('SIGTERM and start again: nothing leaves BIRD, its kernel or ours; the block comes back fresh from bgp-ts', async () => {
    const atBird = sampler(async () => (await bird.routeText(BLOCK.dut, DUT)) !== undefined, 150);
    const inBirdKernel = sampler(async () => (await birdKernel(BLOCK.dut)).includes(`via ${DUT}`), 150);
    const inOurKernel = sampler(async () => (await ourKernel()).includes(`${BLOCK.bird} via ${BIRD}`), 10);
    const since = dut.mark();
    await dut.stop();
    // The session closed for graceful restart: no Cease, BIRD in its graceful restart state.
    expect(dut.find(eventIs('session-down', { peer: BIRD }), since)).toMatchObject({ reason: 'graceful-restart' });
    expect(dut.find(eventIs('sessions-left-for-restart', { gracefulRestart: 1 }), since)).toBeDefined();
    expect(dut.find((e) => e.event === 'notification-sent', since)).toBeUndefined();
    await pollUntil(async () => /Neighbor graceful restart active/.test(await bird.protocol(DUT)), { timeoutMs: 10_000, what: `BIRD in graceful restart\n${bird.tail()}` });
    await sleep(2_000); // down for a while, like an upgrade
    expect(await bird.routeText(BLOCK.dut, DUT)).toBeDefined();

    const restartedAt = dut.mark();
    await dut.start();
    const restarting = await dut.waitForEvent(eventIs('restarting'), 5_000, restartedAt);
    expect(restarting['forwardingState']).toEqual(['ipv4-unicast']);
    await dut.waitForEvent(eventIs('session-established', { peer: BIRD }), 30_000, restartedAt);
    await pollUntil(async () => (await bird.state(DUT)) === 'Established', { timeoutMs: 20_000, what: 'BIRD Established again' });
    // What BIRD read in our new OPEN: the restart flag and IPv4 forwarding state preserved (RFC 4724 §3).
    const theirs = (await bird.protocol(DUT)).split('Neighbor capabilities')[1] ?? '';
    expect(theirs).toMatch(/Restart recovery/);
    expect(theirs).toMatch(/AF preserved:\s+ipv4/);
    // BIRD ends its stale wait at our End-of-RIB (not its timer): the block stays, fresh from bgp-ts.
    await pollUntil(async () => !/graceful restart active/.test(await bird.protocol(DUT)), { timeoutMs: 20_000, what: 'BIRD leaving graceful restart' });
    const route = await bird.routeText(BLOCK.dut, DUT);
    expect(route).toMatch(new RegExp(`\\[${MESH} [^\\]]*\\]\\s*\\*`));
    expect(route).toContain(`BGP.next_hop: ${DUT}`);
    expect(route).not.toMatch(/stale/i);
    // Our side converged at BIRD's End-of-RIB: the R bit cleared for later OPENs.
    await dut.waitForEvent(eventIs('restart-complete'), 20_000, restartedAt);
    await sleep(1_000);

    const [b, bk, ok] = [await atBird.stop(), await inBirdKernel.stop(), await inOurKernel.stop()];
    expect(b.samples).toBeGreaterThan(10);
    expect(b.misses).toBe(0);
    expect(bk.misses).toBe(0);
    expect(ok.samples).toBeGreaterThan(100);
    expect(ok.misses).toBe(0);
    expect(await ourKernel()).toContain(`blackhole ${BLOCK.dut}`);
    console.info(`[gr-restart] samples: BIRD table ${b.samples}, BIRD kernel ${bk.samples}, our kernel ${ok.samples}; misses 0`);
  }, 90_000);
});
