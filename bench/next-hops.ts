// Next-hop tracking benchmark (issue 10): 1M IPv4 /26 routes from 10 iBGP
// peers over 1,000 distinct next hops (1,000 prefixes each), each next hop
// resolved through its own kernel route (10.128.x.y/32 via a gateway on the
// connected subnet). Reports: the cost of the decision with the tracking
// lookups against without (insert of the 1M), one cache entry per next hop,
// the re-resolution of every cached next hop after a kernel change, the walk
// that re-decides the 1,000 prefixes of one next hop that became unreachable
// (and back), and the walk after a change that flips all 1,000 at once; the
// longest loop turn each took (the walk runs in loop-turn slices). The walk
// reads the Loc-RIB's next hop -> prefixes index, so it visits only the
// prefixes of the changed next hops (the figure is printed beside the total).

import { pathToFileURL } from 'node:url';
import { cpus, loadavg } from 'node:os';
import { NextHopTracking } from '../src/daemon/next-hop-tracking.js';
import { LoopTurns } from '../src/lib/loop-turns.js';
import { silentLogger } from '../src/lib/log.js';
import { prefixParse, v4Key, v4KeyParse, v4Parse } from '../src/lib/prefix.js';
import type { KernelRoute } from '../src/fib/netlink/messages.js';
import { Rib } from '../src/rib/rib.js';
import { makePeer, Path } from '../src/rib/route.js';

const N = 1_000_000;
const NEXT_HOPS = 1000;
const PEERS = 10;
const AS = 64512;

const route = (dst: string, gateway: string): KernelRoute => ({
  family: 'ipv4-unicast', dst: prefixParse(dst)!, table: 254, protocol: 4, type: 'unicast', scope: 0, onlink: false, gateway, priority: 10,
});
const nhAddr = (i: number) => `10.128.${i >> 8}.${i & 255}`;
const yieldNow = () => new Promise<void>((r) => setImmediate(r));

function build(tracking: boolean) {
  const rib = new Rib({ routerId: v4Parse('10.0.0.1')!, asn: AS, isReflector: false, clientToClient: true, alwaysCompareMed: false, ecmp: 1 });
  rib.setFibChanges(false);
  const turns = new LoopTurns();
  // Without tracking: no tracker at all (it would start the Loc-RIB's next hop index).
  const t = tracking ? new NextHopTracking({ rib, turns, logger: silentLogger(), tables: [254], protocol: 201, changed: () => undefined }) : undefined;
  const routes = [{ ...route('0.0.0.0/0', '10.0.0.254'), priority: 100 }, route('10.128.0.0/16', '10.0.0.253')];
  for (let i = 0; i < NEXT_HOPS; i++) routes.push(route(`${nhAddr(i)}/32`, '10.0.0.2'));
  t?.load(routes, [{ family: 'ipv4-unicast', index: 2, address: '10.0.0.1', prefixLength: 24, subnet: v4KeyParse('10.0.0.0/24')!, scope: 0 }]);
  if (t) rib.setNextHopLookups(t.lookups());
  const peers = Array.from({ length: PEERS }, (_, i) => makePeer({ address: `10.0.0.${10 + i}`, asn: AS, localAsn: AS, bgpId: v4Parse(`10.0.0.${10 + i}`)! }));
  const paths = Array.from({ length: NEXT_HOPS }, (_, i) => new Path(peers[i % PEERS]!, rib.store.intern({ origin: 0, asPath: [], nextHop: nhAddr(i), localPref: 100 })));
  const t0 = performance.now();
  for (let p = 0; p < N; p++) rib.locRib.update(v4Key((0x0a000000 + p * 64 + (1 << 24)) >>> 0, 26), paths[p % NEXT_HOPS]!);
  return { rib, t, turns, insertMs: performance.now() - t0 };
}

function heapMb(): number {
  (globalThis as { gc?: () => void }).gc?.();
  return process.memoryUsage().heapUsed / 1e6;
}

async function until(t: NextHopTracking): Promise<void> {
  await yieldNow();
  while (t.stats().busy) await yieldNow();
}

export async function runNextHopsBench(): Promise<void> {
  console.log(`N=${N} routes, ${NEXT_HOPS} distinct next hops, ${PEERS} iBGP peers; ${cpus().length} cores (${cpus()[0]?.model ?? '?'}), load ${loadavg().map((x) => x.toFixed(2)).join(' ')}`);
  const h0 = heapMb();
  let off: ReturnType<typeof build> | undefined = build(false);
  const offMs = off.insertMs;
  const h1 = heapMb();
  off = undefined;
  const h2 = heapMb();
  const built = build(true);
  const { rib, turns, insertMs } = built;
  const t = built.t!;
  const h3 = heapMb();
  console.log(`insert + decide ${N}: ${offMs.toFixed(0)} ms without tracking, ${insertMs.toFixed(0)} ms with (${(((insertMs - offMs) * 1e6) / N).toFixed(0)} ns per route for the lookups and the next hop index); cache entries ${t.stats().nextHops}`);
  console.log(`heap held by the table: ${(h1 - h0).toFixed(0)} MB without tracking, ${(h3 - h2).toFixed(0)} MB with (the next hop -> prefixes index: ${(h3 - h2 - (h1 - h0)).toFixed(0)} MB, ${rib.locRib.indexedNextHops()} next hops)`);

  const measure = async (what: string, change: () => void): Promise<void> => {
    const before = t.stats();
    turns.takeMaxTurnMs();
    const t0 = performance.now();
    change();
    await until(t);
    const ms = performance.now() - t0;
    const s = t.stats();
    console.log(`${what}: ${ms.toFixed(0)} ms until decided, ${s.redecided - before.redecided} prefixes re-decided in ${s.walks - before.walks} walk(s), ${s.visited - before.visited} of ${rib.locRib.prefixCount()} prefixes visited (next hop index), longest turn ${turns.takeMaxTurnMs().toFixed(1)} ms`);
  };
  const t0 = performance.now();
  for (let i = 0; i < 100; i++) t.event({ kind: 'route', change: 'new', route: route('192.0.2.0/24', '10.0.0.2') });
  await until(t);
  console.log(`re-resolve ${t.stats().nextHops} cached next hops after a kernel change that moves none: ${(performance.now() - t0).toFixed(1)} ms (100 events, one pass)`);
  // One next hop loses its /32 but the /16 still covers it: metric unchanged (10), so it stays reachable.
  await measure('one /32 removed, the /16 still resolves it (no change)', () => t.event({ kind: 'route', change: 'del', route: route(`${nhAddr(7)}/32`, '10.0.0.2') }));
  // A blackhole for one next hop: its 1,000 prefixes lose their only path.
  const hole: KernelRoute = { ...route(`${nhAddr(7)}/32`, '10.0.0.2'), type: 'blackhole' };
  await measure('one next hop unreachable (blackhole /32)', () => t.event({ kind: 'route', change: 'new', route: hole }));
  console.log(`  best of an affected prefix: ${rib.locRib.best(v4Key((0x0a000000 + 7 * 64 + (1 << 24)) >>> 0, 26)) === undefined ? 'none (ineligible)' : 'still there'}`);
  await measure('the same next hop back', () => t.event({ kind: 'route', change: 'del', route: hole }));
  // Every next hop's metric changes: all 1,000 prefixes per next hop, i.e. every prefix.
  await measure('all 1,000 next hops fall back to the default route (metric 10 -> 100): every prefix', () => {
    for (let i = 0; i < NEXT_HOPS; i++) t.event({ kind: 'route', change: 'del', route: route(`${nhAddr(i)}/32`, '10.0.0.2') });
    t.event({ kind: 'route', change: 'del', route: route('10.128.0.0/16', '10.0.0.253') });
  });
  console.log(`heap ${heapMb().toFixed(0)} MB (one 1M table with tracking)`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await runNextHopsBench();
