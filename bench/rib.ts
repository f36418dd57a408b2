// RIB benchmark: routes into Adj-RIB-In + Loc-RIB the way the daemon feeds
// them (one UPDATE = ~1000 /26 NLRI sharing one attribute set; work in bounded
// batches, yielding between them), then a peer going down. Reports time,
// routes/s, the longest synchronous batch (DESIGN.md: none over ~20 ms) and
// heap bytes per route (exact with --expose-gc, otherwise approximate).
//
// Scenarios: 1M IPv4 /26 from one peer (8 attribute sets); the same 100k
// prefixes from each of 10 iBGP peers (a contested table: 1M paths, every
// prefix decided among 10 candidates); 100k distinct prefixes from each of 10
// peers (the Calico shape: each node announces its own blocks).

import { pathToFileURL } from 'node:url';
import { AS_SEQUENCE, type PathAttributes } from '../src/bgp/wire/types.js';
import { v4Key } from '../src/lib/prefix.js';
import { AdjRibIn } from '../src/rib/adj-rib-in.js';
import { AttrStore } from '../src/rib/attr-store.js';
import { LocRib } from '../src/rib/loc-rib.js';
import { makePeer, type PeerInfo } from '../src/rib/route.js';

export interface RibBenchResult {
  readonly name: string;
  /** Paths inserted. */
  readonly n: number;
  readonly insertSeconds: number;
  readonly routesPerSecond: number;
  /** Longest synchronous batch while inserting, in ms (includes any GC pause that fell in it). */
  readonly maxBatchMs: number;
  /** 99th percentile batch, in ms. */
  readonly p99BatchMs: number;
  readonly batchRoutes: number;
  /** Heap growth per path held (Adj-RIB-In + Loc-RIB + attribute sets). */
  readonly heapBytesPerRoute: number;
  readonly heapExact: boolean;
  /** One peer going down: drain its Adj-RIB-In and re-decide. */
  readonly peerDownSeconds: number;
  readonly peerDownMaxBatchMs: number;
  readonly attrSets: number;
}

const LOCAL_AS = 64512;
const PER_UPDATE = 1000; // ~ /26 NLRI in one 4096-byte UPDATE
const BATCH = 10_000; // routes per synchronous slice

const gc = (globalThis as { gc?: () => void }).gc;
const yieldNow = () => new Promise<void>((resolve) => setImmediate(resolve));

function heapNow(): number {
  if (gc) {
    gc();
    gc();
  }
  return process.memoryUsage().heapUsed;
}

function attrVariants(peerIndex: number, count: number): PathAttributes[] {
  return Array.from({ length: count }, (_, i) => ({
    origin: 0,
    asPath: [{ type: AS_SEQUENCE, asns: [65000 + (i % 3)] }],
    nextHop: `10.0.${peerIndex}.${i + 1}`,
    med: (i * 7 + peerIndex * 3) % 5,
    localPref: 100,
    communities: [(LOCAL_AS << 16) | i],
  }));
}

/** /26 number `i` counted up from 16.0.0.0. */
function prefixOf(i: number): number {
  return v4Key((0x10000000 + i * 64) >>> 0, 26);
}

interface Feed {
  readonly peer: PeerInfo;
  readonly adj: AdjRibIn;
  readonly first: number;
  readonly count: number;
  readonly attrs: PathAttributes[];
}

async function scenario(name: string, peers: number, perPeer: number, shared: boolean): Promise<RibBenchResult> {
  const base = heapNow();
  const store = new AttrStore();
  const loc = new LocRib({ routerId: 0xc0000201, alwaysCompareMed: false, maxPaths: 8, defaultLocalPref: 100 }, store);
  const feeds: Feed[] = [];
  for (let p = 0; p < peers; p++) {
    const peer = makePeer({ address: `192.0.2.${p + 10}`, asn: LOCAL_AS, localAsn: LOCAL_AS, bgpId: 0xc0000200 + p + 10, rrClient: true });
    feeds.push({ peer, adj: new AdjRibIn(peer, store), first: shared ? 0 : p * perPeer, count: perPeer, attrs: attrVariants(p, 8) });
  }

  // Interleave peers UPDATE by UPDATE, as sessions coming up together would.
  const batches: number[] = [];
  let inBatch = 0;
  let batchStart = performance.now();
  const t0 = performance.now();
  for (let off = 0; off < perPeer; off += PER_UPDATE) {
    for (const f of feeds) {
      const n = Math.min(PER_UPDATE, f.count - off);
      const prefixes = new Array<number>(n);
      for (let i = 0; i < n; i++) prefixes[i] = prefixOf(f.first + off + i);
      const set = store.intern(f.attrs[(off / PER_UPDATE) % f.attrs.length]!);
      const changed = f.adj.update(prefixes, set);
      store.release(set);
      for (let i = 0; i < changed.prefixes.length; i++) loc.update(changed.prefixes[i]!, changed.paths[i]!);
      inBatch += n;
      if (inBatch >= BATCH) {
        batches.push(performance.now() - batchStart);
        await yieldNow();
        inBatch = 0;
        batchStart = performance.now();
      }
    }
  }
  if (inBatch > 0) batches.push(performance.now() - batchStart);
  batches.sort((x, y) => x - y);
  const insertSeconds = (performance.now() - t0) / 1000;
  const total = peers * perPeer;
  const heapBytesPerRoute = (heapNow() - base) / total;
  const attrSets = store.size();

  // The first peer goes down (no graceful restart): drain and withdraw in slices.
  const gone = feeds[0]!;
  let downMax = 0;
  const t1 = performance.now();
  for (;;) {
    const s = performance.now();
    const removed = gone.adj.drain(BATCH);
    for (let i = 0; i < removed.prefixes.length; i++) loc.withdraw(removed.prefixes[i]!, gone.peer, removed.paths[i]!.pathId);
    downMax = Math.max(downMax, performance.now() - s);
    if (removed.prefixes.length < BATCH) break;
    await yieldNow();
  }
  const peerDownSeconds = (performance.now() - t1) / 1000;
  if (loc.pathCount() !== total - perPeer) throw new Error(`bench: ${loc.pathCount()} paths left, expected ${total - perPeer}`);

  return {
    name,
    n: total,
    insertSeconds,
    routesPerSecond: total / insertSeconds,
    maxBatchMs: batches[batches.length - 1]!,
    p99BatchMs: batches[Math.min(batches.length - 1, Math.floor(batches.length * 0.99))]!,
    batchRoutes: BATCH,
    heapBytesPerRoute,
    heapExact: gc !== undefined,
    peerDownSeconds,
    peerDownMaxBatchMs: downMax,
    attrSets,
  };
}

function print(r: RibBenchResult): void {
  console.log(
    `${r.name.padEnd(26)} N=${r.n}  insert ${r.insertSeconds.toFixed(2)} s  ${Math.round(r.routesPerSecond / 1000)}k routes/s  ` +
      `batch of ${r.batchRoutes}: p99 ${r.p99BatchMs.toFixed(1)} ms, max ${r.maxBatchMs.toFixed(1)} ms  heap ${Math.round(r.heapBytesPerRoute)} B/route${r.heapExact ? '' : ' (no --expose-gc: approximate)'}  ` +
      `attr sets ${r.attrSets}  peer down ${r.peerDownSeconds.toFixed(2)} s (max batch ${r.peerDownMaxBatchMs.toFixed(1)} ms)`,
  );
}

/** Runs the RIB scenarios, printing one line each; `scale` < 1 shrinks them for a quick run. */
export async function runRibBench(opts: { scale?: number } = {}): Promise<RibBenchResult[]> {
  const scale = opts.scale ?? 1;
  const results: RibBenchResult[] = [];
  const run = async (name: string, peers: number, perPeer: number, shared: boolean) => {
    const r = await scenario(name, peers, Math.max(PER_UPDATE, Math.round(perPeer * scale)), shared);
    print(r);
    results.push(r);
  };
  await run('rib 1 peer x 1M /26', 1, 1_000_000, false);
  await run('rib 10 peers x 100k shared', 10, 100_000, true);
  await run('rib 10 peers x 100k distinct', 10, 100_000, false);
  return results;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const scale = Number(process.env.RIB_BENCH_SCALE ?? '1');
  await runRibBench({ scale });
}
