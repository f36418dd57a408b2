// FIB reconcile benchmark: the pure core at restart scale. 100k pod blocks
// (/26, IPIP via 1000 nodes) become a desired table; the "kernel" already
// holds them with 1% different (0.5% another gateway -> replace, 0.25% missing
// -> add, 0.25% stale extras -> delete) plus foreign routes of other
// protocols. Times: building the desired table, one diff over the whole dump,
// the same diff fed in dump-sized chunks (the longest synchronous slice, which
// DESIGN.md keeps under ~20 ms), and the write queue taking the 1% through.

import { pathToFileURL } from 'node:url';
import { v4Key, v4ToString } from '../src/lib/prefix.js';
import { DesiredTable, opsForUpdate } from '../src/fib/desired.js';
import { compileFormContext } from '../src/fib/modes.js';
import { FibQueue } from '../src/fib/queue.js';
import { diff, Reconciler, toOps } from '../src/fib/reconcile.js';
import type { KernelRoute as NlKernelRoute } from '../src/fib/netlink/messages.js';
import { fromNetlinkRoute, type FibOp, type KernelRoute } from '../src/fib/types.js';

export interface FibReconcileBenchResult {
  readonly n: number;
  readonly differing: number;
  readonly desiredBuildMs: number;
  /** fromNetlinkRoute over the whole dump. */
  readonly mapMs: number;
  /** Median of several whole-table diffs. */
  readonly diffMs: number;
  readonly routesPerSecond: number;
  /** Chunked diff: the longest single observe()/finish() call. */
  readonly chunk: number;
  readonly maxSliceMs: number;
  readonly ops: number;
  /** Push the ops, take them in batches of 256, ack all. */
  readonly queueMs: number;
}

const TUNL0 = 7;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

export async function runFibReconcileBench(opts: { n?: number; chunk?: number } = {}): Promise<FibReconcileBenchResult> {
  const n = opts.n ?? 100_000;
  const chunk = opts.chunk ?? 1000;
  const ctx = compileFormContext(
    { ipPools: [{ cidr: '32.0.0.0/4', mode: 'ipip', program: true, disableExport: false }], serviceCidrs: ['10.96.0.0/12'], fib: { defaultMode: 'direct' } },
    { links: new Map([['tunl0', { ifindex: TUNL0, up: true }]]), localSubnets: ['192.168.0.0/24'] },
  );
  // /26 number i counted up from 32.0.0.0 (room for 3N blocks inside the /4 pool).
  const prefixOf = (i: number) => v4Key((0x20000000 + i * 64) >>> 0, 26);
  const nodeOf = (i: number) => v4ToString((0xac100000 + (i % 1000) + 1) >>> 0); // 172.16.x.y

  let t = performance.now();
  const table = new DesiredTable(ctx, { table: 254, protocol: 201, ecmp: 8 });
  for (let i = 0; i < n; i++) table.apply({ prefix: prefixOf(i), nextHops: [{ address: nodeOf(i) }] });
  const desiredBuildMs = performance.now() - t;
  const desired = table.routes();

  // The kernel's side as the netlink decoder reports it, then mapped like kernel-sync does.
  const dump: NlKernelRoute[] = [];
  const nl = (prefix: number, gateway: string, protocol = 201): NlKernelRoute => ({
    family: 'ipv4-unicast',
    dst: prefix,
    table: 254,
    protocol,
    type: 'unicast',
    scope: 0,
    gateway,
    oif: TUNL0,
    onlink: true,
  });
  let differing = 0;
  for (let i = 0; i < n; i++) {
    const want = desired.get(prefixOf(i))!;
    if (i % 400 === 1) {
      differing++; // missing in the kernel
      continue;
    }
    if (i % 200 === 0) {
      differing++; // another gateway
      dump.push(nl(want.prefix as number, nodeOf(i + 1)));
    } else dump.push(nl(want.prefix as number, want.nextHops[0]!.gateway!));
    if (i % 400 === 3) {
      differing++; // stale: a block no node announces any more
      dump.push(nl(prefixOf(n + i), nodeOf(i)));
    }
    if (i % 100 === 5) dump.push(nl(prefixOf(2 * n + i), nodeOf(i), 80)); // Felix's, untouched
  }
  t = performance.now();
  const observed: KernelRoute[] = dump.map(fromNetlinkRoute);
  const mapMs = performance.now() - t;

  const runs: number[] = [];
  let result = diff(desired, observed, { keepStale: false, protocol: 201, table: 254 });
  for (let k = 0; k < 9; k++) {
    t = performance.now();
    result = diff(desired, observed, { keepStale: false, protocol: 201, table: 254 });
    runs.push(performance.now() - t);
  }
  const diffMs = median(runs);

  let maxSliceMs = 0;
  const rec = new Reconciler(desired, { keepStale: false, protocol: 201, table: 254 });
  for (let i = 0; i < observed.length; i += chunk) {
    t = performance.now();
    rec.observe(observed.slice(i, i + chunk));
    maxSliceMs = Math.max(maxSliceMs, performance.now() - t);
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  let chunked: ReturnType<Reconciler['finish']> | undefined;
  do {
    t = performance.now();
    chunked = rec.finishSome(chunk * 10);
    maxSliceMs = Math.max(maxSliceMs, performance.now() - t);
    await new Promise<void>((resolve) => setImmediate(resolve));
  } while (!chunked);
  if (chunked.add.length !== result.add.length || chunked.replace.length !== result.replace.length) {
    throw new Error('chunked reconcile disagrees with the whole-table diff');
  }

  const ops: FibOp[] = toOps(result);
  t = performance.now();
  const q = new FibQueue();
  for (const op of ops) q.push(op);
  // A flap storm on top: every changed prefix re-announced ten times.
  for (let k = 0; k < 10; k++) for (const r of result.replace) for (const op of opsForUpdate({ prefix: r.route.prefix, route: r.route, previous: r.route, changed: true })) q.push(op);
  for (let batch = q.takeBatch(256, 0); batch.length > 0; batch = q.takeBatch(256, 0)) for (const b of batch) q.ack(b.seq, 'ok', 0);
  const queueMs = performance.now() - t;

  const out: FibReconcileBenchResult = {
    n,
    differing,
    desiredBuildMs,
    mapMs,
    diffMs,
    routesPerSecond: Math.round(n / (diffMs / 1000)),
    chunk,
    maxSliceMs,
    ops: ops.length,
    queueMs,
  };
  console.log(
    `fib reconcile N=${n} differing=${differing} (add ${result.add.length}, replace ${result.replace.length}, delete ${result.delete.length}, adopt ${result.adopt.length}): ` +
      `desired build ${desiredBuildMs.toFixed(1)} ms, dump mapping ${mapMs.toFixed(1)} ms, diff ${diffMs.toFixed(1)} ms (${(out.routesPerSecond / 1e6).toFixed(2)} M routes/s), ` +
      `chunked by ${chunk}: longest slice ${maxSliceMs.toFixed(2)} ms, queue ${ops.length} ops + flaps ${queueMs.toFixed(1)} ms`,
  );
  return out;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await runFibReconcileBench({ n: Number(process.env.FIB_BENCH_N ?? '100000') });
}
