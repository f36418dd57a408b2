// diff(desired, observed): adopt, replace, delete, add; keepStale; other
// protocols and tables untouched; ECMP order-insensitive; drift verdicts.
import { describe, expect, it } from 'vitest';
import { prefixParse, type PrefixKey } from '../../src/lib/prefix.js';
import { diff, driftVerdict, Reconciler, sameRoute, toOps } from '../../src/fib/reconcile.js';
import type { DesiredRoute, KernelRoute } from '../../src/fib/types.js';

const P = (text: string): PrefixKey => prefixParse(text)!;
const OURS = 201;
const opts = { keepStale: false, protocol: OURS, table: 254 };

const ipip = (prefix: string, gw: string, extra: Partial<KernelRoute> = {}): KernelRoute => ({
  prefix: P(prefix),
  table: 254,
  protocol: OURS,
  metric: 0,
  type: 'unicast',
  nextHops: [{ gateway: gw, ifindex: 7, onlink: true }],
  ...extra,
});
const direct = (prefix: string, gws: string[], extra: Partial<KernelRoute> = {}): DesiredRoute => ({
  prefix: P(prefix),
  table: 254,
  protocol: OURS,
  metric: typeof P(prefix) === 'number' ? 0 : 1024,
  type: 'unicast',
  nextHops: gws.map((gateway) => ({ gateway, onlink: false })),
  ...(extra as object),
});
const desiredOf = (...routes: DesiredRoute[]) => new Map(routes.map((r) => [r.prefix, r]));

describe('diff', () => {
  it('adopts an identical route without touching it', () => {
    const r = ipip('10.244.1.0/26', '192.168.2.9') as DesiredRoute;
    const out = diff(desiredOf(r), [ipip('10.244.1.0/26', '192.168.2.9')], opts);
    expect(out.adopt).toHaveLength(1);
    expect(toOps(out)).toEqual([]);
  });

  it('a direct desired route matches whatever interface the kernel resolved', () => {
    const want = direct('10.1.0.0/24', ['192.168.1.5']);
    const have: KernelRoute = { ...want, nextHops: [{ gateway: '192.168.1.5', ifindex: 2, onlink: false }] };
    expect(diff(desiredOf(want), [have], opts).adopt).toEqual([have]);
  });

  it('replaces a route of ours whose form changed (gateway, onlink, type)', () => {
    const want = ipip('10.244.1.0/26', '192.168.2.9') as DesiredRoute;
    const changes: KernelRoute[] = [
      ipip('10.244.1.0/26', '192.168.2.10'),
      { ...want, nextHops: [{ gateway: '192.168.2.9', ifindex: 7, onlink: false }] },
      { ...want, nextHops: [{ gateway: '192.168.2.9', ifindex: 8, onlink: true }] },
      { ...want, type: 'blackhole', nextHops: [] },
    ];
    for (const have of changes) {
      const out = diff(desiredOf(want), [have], opts);
      expect(out.replace).toEqual([{ route: want, observed: have }]);
      expect(toOps(out)).toEqual([{ kind: 'replace', route: want, cause: 'reconcile' }]);
    }
  });

  it('a route of ours at another metric is stale: deleted, and ours is added', () => {
    const want = direct('10.1.0.0/24', ['192.168.1.5']);
    const have: KernelRoute = { ...want, metric: 20 };
    const out = diff(desiredOf(want), [have], opts);
    expect(out.delete).toEqual([have]);
    expect(out.add).toEqual([want]);
    expect(toOps(out).map((o) => o.kind)).toEqual(['delete', 'add']);
  });

  it('deletes stale routes of ours and adds missing ones', () => {
    const want = direct('10.1.0.0/24', ['192.168.1.5']);
    const stale = ipip('10.244.9.0/26', '192.168.2.9');
    const out = diff(desiredOf(want), [stale], opts);
    expect(out.delete).toEqual([stale]);
    expect(out.add).toEqual([want]);
  });

  it('keepStale keeps routes no longer wanted (still converging after a restart)', () => {
    const stale = ipip('10.244.9.0/26', '192.168.2.9');
    const changed = ipip('10.244.1.0/26', '192.168.2.10');
    const want = ipip('10.244.1.0/26', '192.168.2.9') as DesiredRoute;
    const out = diff(desiredOf(want), [stale, changed], { ...opts, keepStale: true });
    expect(out.delete).toEqual([]);
    expect(out.kept).toEqual([stale]);
    expect(out.replace).toHaveLength(1); // a wanted route is still corrected
    // The sweep later: same inputs without keepStale.
    expect(diff(desiredOf(want), [stale, changed], opts).delete).toEqual([stale]);
  });

  it('never touches routes of other protocols or other tables', () => {
    const foreign: KernelRoute[] = [
      ipip('10.244.9.0/26', '192.168.2.9', { protocol: 12 }), // BIRD
      ipip('10.244.8.0/26', '192.168.2.9', { protocol: 80 }), // Felix
      { prefix: P('192.168.1.0/24'), table: 254, protocol: 2, metric: 0, type: 'unicast', nextHops: [{ ifindex: 2, onlink: false }] },
      ipip('10.244.7.0/26', '192.168.2.9', { table: 100 }), // ours by protocol, other table
    ];
    const out = diff(new Map(), foreign, opts);
    expect(toOps(out)).toEqual([]);
    expect(out.kept).toEqual([]);
  });

  it('a foreign route holding our key is a conflict, not overwritten; at another metric it is not', () => {
    const want = direct('192.168.1.0/24', ['10.0.0.1']);
    const kernelRoute: KernelRoute = { prefix: want.prefix, table: 254, protocol: 2, metric: 0, type: 'unicast', nextHops: [{ ifindex: 2, onlink: false }] };
    const out = diff(desiredOf(want), [kernelRoute], opts);
    expect(out.conflicts).toEqual([{ route: want, observed: kernelRoute }]);
    expect(out.add).toEqual([]);
    expect(diff(desiredOf(want), [{ ...kernelRoute, metric: 100 }], opts).add).toEqual([want]);
  });

  it('ECMP next hops compare regardless of order; a different set is a replace', () => {
    const want = direct('10.1.0.0/24', ['10.0.0.1', '10.0.0.2', '10.0.0.3']);
    const shuffled: KernelRoute = { ...want, nextHops: [...want.nextHops].reverse().map((h) => ({ ...h, ifindex: 2 })) };
    expect(diff(desiredOf(want), [shuffled], opts).adopt).toHaveLength(1);
    const fewer: KernelRoute = { ...want, nextHops: want.nextHops.slice(0, 2) };
    expect(diff(desiredOf(want), [fewer], opts).replace).toHaveLength(1);
    const duplicated: KernelRoute = { ...want, nextHops: [want.nextHops[0]!, want.nextHops[0]!, want.nextHops[1]!] };
    expect(sameRoute(want, duplicated)).toBe(false);
  });

  it('unresolvable routes are reported, not added; an installed old form of them is stale', () => {
    const want: DesiredRoute = { ...(ipip('10.244.1.0/26', '192.168.2.9') as DesiredRoute), nextHops: [], unresolvable: 'tunnel-missing' };
    const old = ipip('10.244.1.0/26', '192.168.2.9');
    const out = diff(desiredOf(want), [old], opts);
    expect(out.unresolvable).toEqual([want]);
    expect(out.add).toEqual([]);
    expect(out.delete).toEqual([old]);
  });

  it('feeding the dump in chunks gives the same result as one call', () => {
    const desired = desiredOf(...Array.from({ length: 50 }, (_, i) => direct(`10.${i}.0.0/24`, ['192.168.1.5'])));
    const observed: KernelRoute[] = [];
    for (let i = 10; i < 70; i++) observed.push({ ...direct(`10.${i}.0.0/24`, [i % 7 === 0 ? '192.168.1.6' : '192.168.1.5']) });
    const whole = diff(desired, observed, opts);
    const rec = new Reconciler(desired, opts);
    for (let i = 0; i < observed.length; i += 7) rec.observe(observed.slice(i, i + 7));
    let chunked: ReturnType<Reconciler['finish']> | undefined;
    let slices = 0;
    while (!(chunked = rec.finishSome(8))) slices++;
    expect(slices).toBe(6); // 50 wanted routes, 8 at a time
    expect(chunked).toEqual(whole);
    expect(whole.add).toHaveLength(10);
    expect(whole.delete).toHaveLength(20);
    expect(whole.replace.map((r) => r.route.prefix)).toEqual([14, 21, 28, 35, 42, 49].map((i) => P(`10.${i}.0.0/24`)));
    expect(whole.adopt).toHaveLength(40 - 6);
  });
});

describe('driftVerdict', () => {
  const want = ipip('10.244.1.0/26', '192.168.2.9') as DesiredRoute;
  const desired = desiredOf(want);

  it('ours deleted by someone else while wanted: re-add', () => {
    expect(driftVerdict(desired, { kind: 'del', route: want }, opts)).toEqual({ kind: 'repair', op: { kind: 'add', route: want, cause: 'drift' } });
  });

  it('ours changed by someone else: replace; the echo of our own write: nothing', () => {
    const changed = ipip('10.244.1.0/26', '192.168.2.77');
    expect(driftVerdict(desired, { kind: 'new', route: changed }, opts)).toEqual({ kind: 'repair', op: { kind: 'replace', route: want, cause: 'drift' } });
    expect(driftVerdict(desired, { kind: 'new', route: want }, opts)).toEqual({ kind: 'none' });
  });

  it('a route with our protocol nobody wants: deleted, unless keepStale', () => {
    const intruder = ipip('10.244.5.0/26', '192.168.2.9');
    expect(driftVerdict(desired, { kind: 'new', route: intruder }, opts)).toMatchObject({ kind: 'repair', op: { kind: 'delete' } });
    expect(driftVerdict(desired, { kind: 'new', route: intruder }, { ...opts, keepStale: true })).toEqual({ kind: 'none' });
    expect(driftVerdict(desired, { kind: 'del', route: intruder }, opts)).toEqual({ kind: 'none' });
  });

  it('a foreign route taking our key is a conflict; foreign routes elsewhere are ignored', () => {
    const foreign = ipip('10.244.1.0/26', '192.168.2.9', { protocol: 3 });
    expect(driftVerdict(desired, { kind: 'new', route: foreign }, opts)).toEqual({ kind: 'conflict', route: want, observed: foreign });
    expect(driftVerdict(desired, { kind: 'del', route: foreign }, opts)).toEqual({ kind: 'none' });
    expect(driftVerdict(desired, { kind: 'del', route: { ...want, table: 100 } }, opts)).toEqual({ kind: 'none' });
  });
});
