// Interop (Calico parity): bgp-ts in a node-to-node mesh with a node running
// BIRD 2 configured the way Calico's templates configure it (our own config
// text, modelled on bird.cfg / bird_ipam.cfg): one iBGP protocol per peer
// named Mesh_<ip>, `add paths on`, `graceful restart on` (120 s), connect
// delay 2, connect retry 5, error wait 5,30, `direct` with `gateway
// recursive` resolved through `protocol direct`, `import all`, and an export
// filter that announces only prefixes inside the IP pool (the node's own
// block, held by a static blackhole route). A node is passive toward a peer
// whose IP compares greater as a string (Calico's rule against collisions
// that abort graceful restart): bgp-ts B (10.0.0.3) connects to BIRD
// (10.0.0.2) and to A (10.0.0.1); BIRD connects to A, which waits for both.
// Proves: sessions up both ways round, ADD-PATH negotiated both directions
// (BIRD sends path IDs, bgp-ts learns through them), GR capability exchanged,
// blocks learned with the owner as next hop (kernel route in BIRD's
// namespace too), a pool with disableExport never reaches BIRD, BIRD killed
// and restarted with `bird -R` → bgp-ts keeps its block stale and refreshes
// it at BIRD's End-of-RIB, bgp-ts killed → BIRD keeps bgp-ts's block through
// the restart (its graceful restart state) and bgp-ts's return refreshes it.
// A SIGTERM stop with graceful restart (sessions closed without a
// NOTIFICATION, R and F bits on return) is proven against this same BIRD
// configuration in gr-restart.test.ts.

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BgpTsDaemon, eventIs, type DaemonRoute } from './harness/bgp-ts.js';
import { CalicoBird, passiveToward } from './harness/calico-bird.js';
import { pollUntil, runIn, sleep } from './harness/exec.js';
import { Topology } from './harness/netns.js';
import { interopGate } from './harness/prerequisites.js';

const AS = 64512;
const A = '10.0.0.1';
const BIRD = '10.0.0.2';
const B = '10.0.0.3';
const POOL = '10.244.0.0/16';
const NO_EXPORT_POOL = '10.250.0.0/16';
const BLOCK = { a: '10.244.1.0/26', bird: '10.244.2.0/26', b: '10.244.3.0/26' };
const HIDDEN = '10.250.1.0/26'; // A's block in the disableExport pool
const RESTART_TIME = 120; // Calico's default maxRestartTime

const skip = interopGate(['bird']);

describe.skipIf(skip !== undefined)('Calico parity: bgp-ts meshed with a Calico-configured BIRD 2', () => {
  let topo: Topology;
  let a: BgpTsDaemon;
  let b: BgpTsDaemon;
  let bird: CalicoBird;

  /** A bgp-ts node's config, Calico-style: mesh neighbors passive by the string rule, ADD-PATH both, GR 120 s. */
  const node = (self: string, block: string, extra: Record<string, unknown> = {}) => ({
    routerId: self,
    asn: AS,
    listen: { addresses: [self] },
    neighbors: [A, BIRD, B]
      .filter((ip) => ip !== self)
      .map((ip) => ({
        address: ip,
        asn: AS,
        description: `Mesh_${ip.replace(/\./g, '_')}`,
        passive: passiveToward(self, ip),
        connectRetryTime: 2,
        families: ['ipv4-unicast'],
        addPath: 'both',
        gracefulRestart: { enabled: true, restartTime: RESTART_TIME },
      })),
    originate: [{ prefix: block }],
    ipPools: [{ cidr: POOL, mode: 'ipip' }],
    api: { listen: '127.0.0.1:9179' },
    ...extra,
  });

  const birdPathsAt = async (d: BgpTsDaemon, prefix: string): Promise<DaemonRoute[]> => (await d.routes(prefix)).filter((r) => r.peer === BIRD);

  beforeAll(async () => {
    topo = await Topology.create(['a', 'bird', 'b']);
    a = new BgpTsDaemon(topo.node('a').ns, join(topo.dir, 'a'), {
      ...node(A, BLOCK.a, {
        originate: [{ prefix: BLOCK.a }, { prefix: HIDDEN }],
        ipPools: [
          { cidr: POOL, mode: 'ipip' },
          { cidr: NO_EXPORT_POOL, mode: 'ipip', disableExport: true },
        ],
      }),
    });
    b = new BgpTsDaemon(topo.node('b').ns, join(topo.dir, 'b'), node(B, BLOCK.b));
    mkdirSync(join(topo.dir, 'a'));
    mkdirSync(join(topo.dir, 'b'));
    bird = new CalicoBird(topo.node('bird').ns, join(topo.dir, 'bird'), { routerId: BIRD, asn: AS, pool: POOL, block: BLOCK.bird, peers: [A, B], restartTime: RESTART_TIME });
    await a.start();
    await b.start();
    await bird.start();
  }, 60_000);

  afterAll(async () => {
    await bird?.stop();
    await a?.stop();
    await b?.stop();
    await topo?.destroy();
  });

  it('comes up both ways round by the string rule, with ADD-PATH and graceful restart negotiated', async () => {
    for (const [d, peer] of [
      [a, BIRD],
      [b, BIRD],
      [a, B],
    ] as const)
      await d.waitForEvent(eventIs('session-established', { peer }), 30_000);
    for (const peer of [A, B]) await pollUntil(async () => (await bird.state(peer)) === 'Established', { timeoutMs: 20_000, what: `BIRD Mesh_${peer} Established` });
    // BIRD passive toward B ("10.0.0.3" > "10.0.0.2"), dials A; bgp-ts A passive toward both.
    expect(bird.config()).toMatch(/Mesh_10_0_0_3[^}]*passive on/);
    expect(bird.config()).not.toMatch(/Mesh_10_0_0_1[^}]*passive on/);
    for (const peer of [A, B]) {
      const info = await bird.protocol(peer);
      // What bgp-ts advertised, as BIRD read it: RFC 4724 with our restart time, RFC 7911 both ways
      const theirs = info.slice(info.indexOf('Neighbor capabilities'));
      expect(theirs).toMatch(new RegExp(`Graceful restart\\s+Restart time: ${RESTART_TIME}`));
      expect(theirs).toMatch(/ADD-PATH\s+RX: ipv4\s+TX: ipv4/);
    }
    const peerView = JSON.stringify(await a.apiGet(`/api/v1/peers/${BIRD}`));
    expect(peerView).toContain('"state":"Established"');
    expect(peerView).toMatch(/"addPath":\{"ipv4-unicast":"both"\}/);
  });

  it('each node learns the others blocks with the owner as next hop; BIRD sends only its pool block', async () => {
    for (const d of [a, b]) {
      const rs = await pollUntil(async () => ((await birdPathsAt(d, BLOCK.bird)).length > 0 ? birdPathsAt(d, BLOCK.bird) : undefined), {
        timeoutMs: 20_000,
        what: 'bgp-ts holding BIRD block',
      });
      expect(rs).toEqual([expect.objectContaining({ nextHop: BIRD, best: true })]);
    }
    // BIRD's connected LAN route is outside the pool: its export filter keeps it home
    expect((await a.routes('10.0.0.0/24')).filter((r) => r.peer === BIRD)).toEqual([]);
    for (const [prefix, owner] of [
      [BLOCK.a, A],
      [BLOCK.b, B],
    ] as const) {
      const rs = await pollUntil(async () => ((await bird.routes(prefix)).length > 0 ? bird.routes(prefix) : undefined), {
        timeoutMs: 20_000,
        what: `BIRD holding ${prefix}`,
      });
      expect(rs).toEqual([expect.objectContaining({ protocol: `Mesh_${owner.replace(/\./g, '_')}`, nextHop: owner, best: true })]);
      const { stdout } = await runIn(topo.node('bird').ns, 'ip', ['-4', 'route', 'show', prefix]);
      expect(stdout).toContain(`via ${owner}`);
    }
    // the iBGP mesh passes nothing on: A holds B's block from B only
    expect((await a.routes(BLOCK.b)).map((r) => r.peer)).toEqual([B]);
  });

  it('a block in a pool with disableExport reaches no peer, though the node holds it', async () => {
    expect((await a.routes(HIDDEN)).map((r) => r.peer)).toEqual(['local']);
    await sleep(1_000);
    expect(await bird.routes(HIDDEN)).toEqual([]);
    expect(await b.routes(HIDDEN)).toEqual([]);
  });

  it('BIRD killed and restarted with -R: bgp-ts keeps its block stale, refreshed at BIRD End-of-RIB', async () => {
    const sinceA = a.mark();
    await bird.kill();
    const kept = await a.waitForEvent(eventIs('stale-routes-kept', { peer: BIRD }), 20_000, sinceA);
    expect(kept['restartTime']).toBe(RESTART_TIME);
    expect(await birdPathsAt(a, BLOCK.bird)).toEqual([expect.objectContaining({ stale: true, best: true, nextHop: BIRD })]);
    await sleep(2_000);
    expect(await birdPathsAt(a, BLOCK.bird)).toEqual([expect.objectContaining({ stale: true })]);
    await bird.start(true);
    await a.waitForEvent(eventIs('session-established', { peer: BIRD }), 30_000, sinceA);
    await a.waitForEvent(eventIs('end-of-rib-received', { peer: BIRD }), 30_000, sinceA);
    const fresh = await pollUntil(
      async () => {
        const rs = await birdPathsAt(a, BLOCK.bird);
        return rs.length === 1 && !rs[0]!.stale ? rs : undefined;
      },
      { timeoutMs: 10_000, what: 'BIRD block fresh again at bgp-ts' },
    );
    expect(fresh[0]).toMatchObject({ best: true, nextHop: BIRD });
    // never withdrawn in between
    expect(a.find((e) => e.event === 'best-path-changed' && e['prefix'] === BLOCK.bird && Array.isArray(e['paths']) && (e['paths'] as unknown[]).length === 0, sinceA)).toBeUndefined();
  });

  it('bgp-ts killed: BIRD keeps its block during the restart time; bgp-ts back refreshes it', async () => {
    await pollUntil(async () => (await bird.state(A)) === 'Established', { timeoutMs: 30_000, what: 'BIRD Mesh_10_0_0_1 Established' });
    await pollUntil(async () => (await bird.routes(BLOCK.a)).length === 1, { timeoutMs: 20_000, what: 'BIRD holding A block' });
    await a.kill();
    await pollUntil(async () => (await bird.state(A)) !== 'Established', { timeoutMs: 15_000, what: 'BIRD seeing A go' });
    const during = await bird.protocol(A);
    expect(during).toMatch(/Neighbor graceful restart active/);
    for (let i = 0; i < 4; i++) {
      expect(await bird.routes(BLOCK.a)).toEqual([expect.objectContaining({ nextHop: A })]);
      await sleep(500);
    }
    const sinceA = a.mark();
    await a.start();
    await a.waitForEvent(eventIs('session-established', { peer: BIRD }), 30_000, sinceA);
    await pollUntil(async () => (await bird.state(A)) === 'Established', { timeoutMs: 20_000, what: 'BIRD Mesh_10_0_0_1 back' });
    // BIRD ends its stale wait at our End-of-RIB: the block stays, from A, fresh
    await pollUntil(async () => !/graceful restart active/.test(await bird.protocol(A)), { timeoutMs: 20_000, what: 'BIRD leaving graceful restart' });
    const back = await pollUntil(async () => ((await bird.routes(BLOCK.a)).length === 1 ? bird.routes(BLOCK.a) : undefined), {
      timeoutMs: 10_000,
      what: 'BIRD holding A block after its return',
    });
    expect(back).toEqual([expect.objectContaining({ protocol: 'Mesh_10_0_0_1', nextHop: A, best: true })]);
  });
});
