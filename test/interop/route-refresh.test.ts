// Interop: enhanced route refresh received from FRR bgpd (RFC 7313 §4). FRR
// never sends a BoRR on its own (a `clear ... soft out` re-announces without
// one); it brackets its answer to a ROUTE-REFRESH request with BoRR and EoRR.
// bgp-ts has no operator command that sends a request, so the daemon under
// test runs from dist/ in a small runner (written to the topology directory):
// it waits for FRR's block, plants a route "from FRR" that FRR does not have
// (a withdraw bgp-ts missed), sends FRR a ROUTE-REFRESH request over the live
// session and reports its RIB. FRR's BoRR marks both routes stale, its table
// refreshes the block, its EoRR purges the planted route; the block is never
// withdrawn. Graceful restart is on both sides: FRR 8.4 holds a request that
// arrives "before EoR" until it has our End-of-RIB, and without GR it never
// recorded one (the request stayed pending, no BoRR ever came).

import { join } from 'node:path';
import { mkdirSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { REPO_ROOT, type LogEvent } from './harness/bgp-ts.js';
import { pollUntil } from './harness/exec.js';
import { Topology } from './harness/netns.js';
import type { PeerRouter } from './harness/peer.js';
import { createPeer } from './harness/peers.js';
import { spawnIn, type ManagedProcess } from './harness/processes.js';
import { interopGate } from './harness/prerequisites.js';

const DUT = '10.0.0.1';
const FRR = '10.0.0.2';
const AS_DUT = 64512;
const AS_FRR = 64602;
const BLOCK = '10.244.2.0/26';
const PLANTED = '10.244.99.0/26';

/** The runner: the real daemon from dist/, driven from inside its namespace. */
const RUNNER = `
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
const [dist, configPath] = process.argv.slice(2);
const load = (m) => import(pathToFileURL(dist + '/' + m).href);
const { startDaemon } = await load('daemon/daemon.js');
const { parseConfig } = await load('config/load.js');
const { createLogger } = await load('lib/log.js');
const { prefixParse } = await load('lib/prefix.js');
const say = (o) => process.stdout.write(JSON.stringify(o) + '\\n');
const parsed = parseConfig(readFileSync(configPath, 'utf8'));
if (!parsed.ok) { say({ event: 'runner-error', errors: parsed.errors }); process.exit(1); }
const d = await startDaemon(parsed.config, { logger: createLogger({ level: 'debug' }) });
process.on('SIGTERM', () => void d.stop().then(() => process.exit(0)));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const best = (p) => d.rib.locRib.best(prefixParse(p))?.peer.address;
async function until(f, ms) { for (const end = Date.now() + ms; Date.now() < end; await sleep(50)) if (f()) return true; return false; }
if (!(await until(() => best('${BLOCK}') === '${FRR}', 30000))) { say({ event: 'runner-error', what: 'no block from FRR' }); process.exit(1); }
const nlri = { family: 'ipv4-unicast', prefixes: [prefixParse('${PLANTED}')] };
d.rib.update('${FRR}', { type: 'update', discarded: [], update: { type: 'update', withdrawn: { family: 'ipv4-unicast', prefixes: [] },
  attributes: { origin: 0, asPath: [{ type: 2, asns: [${AS_FRR}] }], nextHop: '${FRR}' }, nlri } });
d.runner.schedule();
say({ event: 'runner-planted', planted: best('${PLANTED}') ?? null });
const sent = d.peer('${FRR}').sendRouteRefresh({ type: 'route-refresh', afi: 1, safi: 1, subtype: 0 });
say({ event: 'runner-refresh-sent', sent, enhanced: d.peer('${FRR}').session?.enhancedRouteRefresh ?? null });
await until(() => best('${PLANTED}') === undefined, 15000);
await sleep(500);
say({ event: 'runner-state', planted: best('${PLANTED}') ?? null, block: best('${BLOCK}') ?? null, stale: d.rib.peerStats('${FRR}')?.stale ?? null, messages: d.peer('${FRR}').messages });
`;

const skip = interopGate(['frr']);

describe.skipIf(skip !== undefined)('enhanced route refresh received from FRR bgpd (RFC 7313 §4)', () => {
  let topo: Topology;
  let frr: PeerRouter;
  let dut: ManagedProcess;
  const events: LogEvent[] = [];
  const find = (event: string) => events.find((e) => e.event === event);

  beforeAll(async () => {
    topo = await Topology.create(['dut', 'frr']);
    const dir = join(topo.dir, 'dut');
    mkdirSync(dir);
    frr = createPeer('frr', topo, 'frr', {
      routerId: FRR,
      asn: AS_FRR,
      nextHop: { ipv4: FRR, ipv6: '2001:db8::2' },
      neighbors: [{ address: DUT, asn: AS_DUT, localAddress: FRR, families: ['ipv4-unicast'], gracefulRestart: { restartTime: 120 } }],
      routes: [BLOCK],
    });
    await frr.start();
    const config = {
      routerId: DUT,
      asn: AS_DUT,
      log: { level: 'debug' },
      listen: { addresses: [DUT] },
      fib: { enabled: false },
      api: { listen: 'none' },
      neighbors: [{ address: FRR, asn: AS_FRR, holdTime: 9, connectRetryTime: 1, families: ['ipv4-unicast'], gracefulRestart: { enabled: true, restartTime: 120 } }],
    };
    writeFileSync(join(dir, 'bgp-ts.yaml'), stringify(config));
    writeFileSync(join(dir, 'runner.mjs'), RUNNER);
    dut = spawnIn(topo.node('dut').ns, 'bgp-ts', process.execPath, [join(dir, 'runner.mjs'), join(REPO_ROOT, 'dist'), join(dir, 'bgp-ts.yaml')]);
    dut.onLine((line) => {
      if (line.stream !== 'stdout') return;
      try {
        events.push(JSON.parse(line.text) as LogEvent);
      } catch {
        // not JSON
      }
    });
  }, 60_000);

  afterAll(async () => {
    await dut?.stop();
    await frr?.stop();
    await topo?.destroy();
  });

  it("FRR answers our request with BoRR, its table and EoRR: its block stays, the route it no longer has is purged", async () => {
    const state = await pollUntil(async () => find('runner-state') ?? find('runner-error'), { timeoutMs: 60_000, what: `runner result\n${dut.tail(30)}` });
    expect(state.event, dut.tail(30)).toBe('runner-state');
    expect(find('runner-planted')).toMatchObject({ planted: FRR });
    expect(find('runner-refresh-sent')).toMatchObject({ sent: true, enhanced: true });
    const at = (event: string) => events.findIndex((e) => e.event === event && e.peer === FRR);
    // FRR's BoRR and EoRR reached the RIB, in that order.
    expect(at('route-refresh-begin')).toBeGreaterThan(0);
    expect(at('route-refresh-end')).toBeGreaterThan(at('route-refresh-begin'));
    expect(events.filter((e) => e.event === 'refresh-stale-swept')).toEqual([expect.objectContaining({ peer: FRR, family: 'ipv4-unicast', routes: 1, reason: 'eorr' })]);
    expect(state).toMatchObject({ planted: null, block: FRR, stale: 0, messages: { received: { 'route-refresh': 2 } } });
    // FRR's table came between the markers: the block refreshed (fresh again), not withdrawn.
    const blockAt = events.findIndex((e, i) => i > at('route-refresh-begin') && e.event === 'update-received' && JSON.stringify(e.announced ?? []).includes(BLOCK));
    expect(blockAt).toBeGreaterThan(at('route-refresh-begin'));
    expect(blockAt).toBeLessThan(at('route-refresh-end'));
    // The block was re-advertised between the markers, never withdrawn.
    const updates = events.filter((e) => e.event === 'update-received' && e.peer === FRR);
    expect(updates.some((e) => JSON.stringify(e.withdrawn ?? []).includes(BLOCK))).toBe(false);
    expect(events.some((e) => e.event === 'notification-received' || e.event === 'notification-sent')).toBe(false);
    console.info(`[route-refresh] FRR: BoRR at event ${at('route-refresh-begin')}, EoRR at ${at('route-refresh-end')}; planted route purged, block kept`);
  });
});
