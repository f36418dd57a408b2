// What the FIB service (src/fib/fib-service.ts) shows through the API:
// GET /api/v1/fib, our routes with their state (installed, pending, failed)
// paged by an offset cursor, and the fib_* metric sources. Kernel mode compares the desired table with what
// the writer knows the kernel holds; the bounded dry-run recorder keeps no
// kernel and writes nothing, so its resolvable desired routes are listed as
// `would-install` (never `installed`, and fib_routes_installed stays 0);
// disabled shows nothing. Errors are named by errno (Linux rtnetlink answers).

import type { ApiFib, FibQuery, FibStats } from '../api/deps.js';
import { prefixToString } from '../lib/prefix.js';
import type { DesiredTable } from '../fib/desired.js';
import { DryRunRecorder } from '../fib/dryrun.js';
import type { FibBackend } from '../fib/factory.js';
import { errnoName } from '../fib/netlink/transport.js';
import { sameRoute } from '../fib/reconcile.js';
import { fibOpKey, type KernelRoute } from '../fib/types.js';
import type { FibViewState } from '../fib/fib-service.js';

/** Dry run: nothing is in the kernel, whatever the recorder accepted. */
function installedCount(backend: FibBackend, fromSnapshot: number): number {
  return backend.writer instanceof DryRunRecorder ? 0 : fromSnapshot;
}

/** fib_* metric sources. */
export function fibStatsOf(b: FibBackend, _table: DesiredTable): FibStats {
  const k = b.kernel;
  const mode = { mode: b.mode, ...(b.reason ? { reason: b.reason } : {}) };
  if (k) {
    const o = k.operations;
    const s = k.snapshot().counters;
    return {
      ...mode,
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
    ...mode,
    installed: installedCount(b, snap.installed.length),
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
      if (assumeInstalled) rows.push({ ...base, state: 'would-install' });
      else if (have && sameRoute(want, have)) rows.push({ ...base, state: 'installed', nextHops: hops(have) });
      else rows.push({ ...base, state: 'pending', op: have ? 'replace' : 'add' });
    }
  }
  for (const [key, have] of installed) {
    if (seen.has(key)) continue;
    // Ours in the kernel, not wanted: kept while converging, else about to go.
    rows.push({ prefix: prefixToString(have.prefix), kind: have.type, nextHops: hops(have), state: st.converging ? 'installed' : 'pending', ...(st.converging ? {} : { op: 'delete' as const }) });
  }
  const counts = { installed: 0, pending: 0, failed: 0, wouldInstall: 0 };
  for (const r of rows) counts[r.state === 'would-install' ? 'wouldInstall' : r.state]++;
  const selected = query.state ? rows.filter((r) => r.state === query.state) : rows;
  const offset = query.cursor ? Number(query.cursor) || 0 : 0;
  const page = selected.slice(offset, offset + query.limit);
  const { wouldInstall, ...kernelCounts } = counts;
  return {
    mode: b.mode,
    ...(b.reason ? { reason: b.reason } : {}),
    table: st.config.fib.table,
    protocol: st.config.fib.protocol,
    reconciled: st.reconciled,
    ...(st.lastReconcile ? { lastReconcile: st.lastReconcile.toISOString() } : {}),
    counts: assumeInstalled ? { ...kernelCounts, wouldInstall } : kernelCounts,
    routes: page,
    ...(offset + query.limit < selected.length ? { nextCursor: String(offset + query.limit) } : {}),
  };
}
