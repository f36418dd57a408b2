// What the FIB service (src/fib/fib-service.ts) shows through the API:
// GET /api/v1/fib, our routes with their state (installed, pending, failed)
// paged by an offset cursor, and the fib_* metric sources. Kernel mode compares the desired table with what
// the writer knows the kernel holds; the bounded dry-run recorder keeps no
// kernel, so its resolvable desired routes count as installed; disabled shows
// nothing. Errors are named by errno (Linux rtnetlink answers).

import type { ApiFib, FibQuery, FibStats } from '../api/deps.js';
import { prefixToString } from '../lib/prefix.js';
import type { DesiredTable } from '../fib/desired.js';
import { DryRunRecorder } from '../fib/dryrun.js';
import type { FibBackend } from '../fib/factory.js';
import { errnoName } from '../fib/netlink/transport.js';
import { sameRoute } from '../fib/reconcile.js';
import { fibOpKey, type KernelRoute } from '../fib/types.js';
import type { FibViewState } from '../fib/fib-service.js';

/** Dry run: every resolvable desired route counts as installed (the recorder accepts every write). */
function installedCount(backend: FibBackend, table: DesiredTable, fromSnapshot: number): number {
  const w = backend.writer;
  return w instanceof DryRunRecorder ? table.size - w.unresolvableCount() : fromSnapshot;
}

/** fib_* metric sources. */
export function fibStatsOf(b: FibBackend, table: DesiredTable): FibStats {
  const k = b.kernel;
  if (k) {
    const o = k.operations;
    const s = k.snapshot().counters;
    return {
      installed: k.installedCount(),
      operations: (['add', 'replace', 'delete'] as const).flatMap((op) => [
        { op, result: 'ok' as const, count: o[op].ok },
        { op, result: 'error' as const, count: o[op].error },
      ]),
      failures: s.errors,
      driftRepairs: s.driftRepairs,
      queueDepth: k.queueDepth(),
      drainReconcileDurations: () => k.drainReconcileDurations(),
    };
  }
  const snap = b.writer.snapshot();
  const c = snap.counters;
  return {
    installed: installedCount(b, table, snap.installed.length),
    operations: [
      { op: 'add', result: 'ok', count: c.adds },
      { op: 'replace', result: 'ok', count: c.replaces },
      { op: 'delete', result: 'ok', count: c.deletes },
    ],
    failures: c.errors,
    driftRepairs: c.driftRepairs,
    queueDepth: snap.pending,
    drainReconcileDurations: () => [],
  };
}

/** GET /api/v1/fib: our routes with their state (installed, pending, failed), paged by an offset cursor. */
export function fibView(st: FibViewState, query: FibQuery & { limit: number }): ApiFib {
  const b = st.backend;
  const snap = b.writer.snapshot();
  const assumeInstalled = b.writer instanceof DryRunRecorder;
  const ifName = (i: number | undefined) => (i === undefined ? undefined : b.host.ifName(i));
  const hops = (r: KernelRoute) => r.nextHops.map((h) => ({ ...(h.gateway ? { gateway: h.gateway } : {}), ...(ifName(h.ifindex) ? { dev: ifName(h.ifindex)! } : {}), ...(h.onlink ? { onlink: true } : {}) }));
  const installed = new Map(snap.installed.map((r) => [fibOpKey(r), r]));
  const failed = new Map(snap.failed.map((f) => [`${String(f.prefix)}@${f.metric}`, f]));
  const unresolvable = new Map(snap.unresolvable.map((u) => [u.prefix, u.reason]));
  type Row = ApiFib['routes'][number];
  const rows: Row[] = [];
  const seen = new Set<unknown>();
  for (const [prefix, want] of st.table.routes()) {
    const key = fibOpKey(want);
    seen.add(key);
    const f = failed.get(`${String(prefix)}@${want.metric}`);
    const base = { prefix: prefixToString(prefix), kind: want.type, nextHops: hops(want) };
    if (f) rows.push({ ...base, state: 'failed', op: f.kind, error: errnoName(f.errno), attempts: f.attempts });
    else if (want.unresolvable) rows.push({ ...base, state: 'failed', error: unresolvable.get(prefix) ?? want.unresolvable });
    else {
      const have = installed.get(key);
      if (assumeInstalled) rows.push({ ...base, state: 'installed' });
      else if (have && sameRoute(want, have)) rows.push({ ...base, state: 'installed', nextHops: hops(have) });
      else rows.push({ ...base, state: 'pending', op: have ? 'replace' : 'add' });
    }
  }
  for (const [key, have] of installed) {
    if (seen.has(key)) continue;
    // Ours in the kernel, not wanted: kept while converging, else about to go.
    rows.push({ prefix: prefixToString(have.prefix), kind: have.type, nextHops: hops(have), state: st.converging ? 'installed' : 'pending', ...(st.converging ? {} : { op: 'delete' as const }) });
  }
  const counts = { installed: 0, pending: 0, failed: 0 };
  for (const r of rows) counts[r.state]++;
  const selected = query.state ? rows.filter((r) => r.state === query.state) : rows;
  const offset = query.cursor ? Number(query.cursor) || 0 : 0;
  const page = selected.slice(offset, offset + query.limit);
  return {
    mode: b.mode,
    table: st.config.fib.table,
    protocol: st.config.fib.protocol,
    reconciled: st.reconciled,
    ...(st.lastReconcile ? { lastReconcile: st.lastReconcile.toISOString() } : {}),
    counts,
    routes: page,
    ...(offset + query.limit < selected.length ? { nextCursor: String(offset + query.limit) } : {}),
  };
}
