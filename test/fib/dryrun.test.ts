// The dry-run writer: records what it would write, reconciles against its
// simulated kernel, retries refusals with backoff, repairs drift.
import { describe, expect, it } from 'vitest';
import { prefixParse, type PrefixKey } from '../../src/lib/prefix.js';
import { DryRunWriter } from '../../src/fib/dryrun.js';
import type { DesiredRoute, FibWriter, KernelRoute } from '../../src/fib/types.js';

const P = (text: string): PrefixKey => prefixParse(text)!;
const route = (prefix: string, gw: string): DesiredRoute => ({
  prefix: P(prefix),
  table: 254,
  protocol: 201,
  metric: 0,
  type: 'unicast',
  nextHops: [{ gateway: gw, ifindex: 7, onlink: true }],
});
const desiredOf = (...routes: DesiredRoute[]) => new Map(routes.map((r) => [r.prefix, r]));
const ENETUNREACH = 101;

describe('DryRunWriter', () => {
  it('records every write it would send and tracks the simulated table', () => {
    const w = new DryRunWriter({ table: 254, protocol: 201 });
    const a = route('10.244.1.0/26', '192.168.2.9');
    w.apply([{ kind: 'add', route: a, cause: 'rib' }]);
    w.apply([{ kind: 'delete', route: a, cause: 'rib' }, { kind: 'add', route: route('10.244.2.0/26', '192.168.2.9'), cause: 'rib' }]);
    expect(w.records().map((r) => [r.op.kind, r.op.route.prefix, r.result])).toEqual([
      ['add', P('10.244.1.0/26'), 'ok'],
      ['delete', P('10.244.1.0/26'), 'ok'],
      ['add', P('10.244.2.0/26'), 'ok'],
    ]);
    const snap = w.snapshot();
    expect(snap.installed.map((r) => r.prefix)).toEqual([P('10.244.2.0/26')]);
    expect(snap.counters).toMatchObject({ adds: 2, deletes: 1, errors: 0 });
    expect(snap.pending).toBe(0);
  });

  it('sync at start: adopts ours, deletes stale, adds missing, leaves other protocols alone', async () => {
    const adopted = route('10.244.1.0/26', '192.168.2.9');
    const stale = route('10.244.9.0/26', '192.168.2.9');
    const bird: KernelRoute = { ...route('10.244.8.0/26', '192.168.2.8'), protocol: 12 };
    const w: FibWriter & DryRunWriter = new DryRunWriter({ table: 254, protocol: 201, initial: [adopted, stale, bird] });
    const missing = route('10.244.3.0/26', '192.168.2.3');
    const res = await w.sync(desiredOf(adopted, missing), { keepStale: false });
    expect(res).toEqual({ added: 1, replaced: 0, deleted: 1, adopted: 1, kept: 0, unresolvable: 0, conflicts: 0 });
    expect(w.records().map((r) => [r.op.kind, r.op.route.prefix])).toEqual([
      ['delete', P('10.244.9.0/26')],
      ['add', P('10.244.3.0/26')],
    ]);
    expect(w.kernelRoutes().map((r) => r.prefix).sort()).toEqual([P('10.244.1.0/26'), P('10.244.3.0/26'), P('10.244.8.0/26')].sort());
    // A second sync finds nothing to do.
    const again = await w.sync(desiredOf(adopted, missing), { keepStale: false });
    expect(again).toMatchObject({ added: 0, deleted: 0, adopted: 2 });
    expect(w.records()).toHaveLength(2);
  });

  it('keepStale sync keeps stale routes; the later sweep removes them', async () => {
    const stale = route('10.244.9.0/26', '192.168.2.9');
    const w = new DryRunWriter({ table: 254, protocol: 201, initial: [stale] });
    expect(await w.sync(new Map(), { keepStale: true })).toMatchObject({ kept: 1, deleted: 0 });
    expect(w.snapshot().installed).toHaveLength(1);
    expect(await w.sync(new Map(), { keepStale: false })).toMatchObject({ kept: 0, deleted: 1 });
    expect(w.snapshot().installed).toHaveLength(0);
  });

  it('a refusal is counted, shown as failed, retried after backoff, and does not stop other writes', () => {
    let now = 0;
    let refuse = true;
    const bad = route('10.244.1.0/26', '192.168.2.9');
    const w = new DryRunWriter({
      table: 254,
      protocol: 201,
      now: () => now,
      refuse: (op) => (refuse && op.route.prefix === bad.prefix ? ENETUNREACH : undefined),
    });
    w.apply([{ kind: 'add', route: bad, cause: 'rib' }, { kind: 'add', route: route('10.244.2.0/26', '192.168.2.9'), cause: 'rib' }]);
    let snap = w.snapshot();
    expect(snap.installed.map((r) => r.prefix)).toEqual([P('10.244.2.0/26')]);
    expect(snap.failed).toEqual([{ prefix: bad.prefix, metric: 0, kind: 'add', errno: ENETUNREACH, since: 0, attempts: 1, retryAt: 500 }]);
    expect(snap.counters.errors).toBe(1);
    expect(snap.pending).toBe(1);
    now = 499;
    w.flush();
    expect(w.snapshot().counters.errors).toBe(1); // not yet due
    now = 500;
    w.flush();
    snap = w.snapshot();
    expect(snap.failed[0]).toMatchObject({ attempts: 2, retryAt: 1500 });
    refuse = false;
    now = 1500;
    w.flush();
    snap = w.snapshot();
    expect(snap.failed).toEqual([]);
    expect(snap.pending).toBe(0);
    expect(snap.installed).toHaveLength(2);
  });

  it('unresolvable routes are reported and their old form removed', () => {
    const w = new DryRunWriter({ table: 254, protocol: 201 });
    const r = route('10.244.1.0/26', '192.168.2.9');
    w.apply([{ kind: 'add', route: r, cause: 'rib' }]);
    w.apply([{ kind: 'replace', route: { ...r, nextHops: [], unresolvable: 'tunnel-missing' }, cause: 'rib' }]);
    const snap = w.snapshot();
    expect(snap.unresolvable).toEqual([{ prefix: r.prefix, reason: 'tunnel-missing' }]);
    expect(snap.installed).toEqual([]);
    w.apply([{ kind: 'replace', route: r, cause: 'rib' }]);
    expect(w.snapshot().unresolvable).toEqual([]);
    expect(w.snapshot().installed).toHaveLength(1);
  });

  it('drift: a route of ours deleted by someone else is re-added and counted', async () => {
    const r = route('10.244.1.0/26', '192.168.2.9');
    const w = new DryRunWriter({ table: 254, protocol: 201 });
    await w.sync(desiredOf(r), { keepStale: false });
    expect(w.kernelEvent({ kind: 'del', route: r })).toBe(true);
    expect(w.snapshot().counters.driftRepairs).toBe(1);
    expect(w.snapshot().installed).toEqual([r]);
    expect(w.records().at(-1)!.op).toEqual({ kind: 'add', route: r, cause: 'drift' });
    // The echo of the repair itself calls for nothing.
    expect(w.kernelEvent({ kind: 'new', route: r })).toBe(false);
    expect(w.snapshot().counters.driftRepairs).toBe(1);
  });

  it('after close nothing more is written', async () => {
    const w = new DryRunWriter({ table: 254, protocol: 201 });
    await w.close();
    w.apply([{ kind: 'add', route: route('10.244.1.0/26', '192.168.2.9'), cause: 'rib' }]);
    expect(w.records()).toEqual([]);
  });
});
