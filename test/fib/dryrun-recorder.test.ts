// The bounded dry-run writer the daemon runs without privileges: it keeps the
// last N writes in order, counts all of them, reports unresolvable prefixes,
// and holds no per-route state of its own. Also the full simulation's record
// trimming (maxRecords) and the disabled-mode stand-in.
import { describe, expect, it } from 'vitest';
import { prefixParse, v4Key, type PrefixKey } from '../../src/lib/prefix.js';
import { DisabledWriter, DryRunRecorder, DryRunWriter } from '../../src/fib/dryrun.js';
import type { DesiredRoute, FibOp } from '../../src/fib/types.js';

const P = (text: string): PrefixKey => prefixParse(text)!;
const route = (prefix: PrefixKey, gw: string, unresolvable?: DesiredRoute['unresolvable']): DesiredRoute => ({
  prefix,
  table: 254,
  protocol: 201,
  metric: 0,
  type: 'unicast',
  nextHops: unresolvable ? [] : [{ gateway: gw, ifindex: 7, onlink: true }],
  ...(unresolvable ? { unresolvable } : {}),
});
const add = (r: DesiredRoute): FibOp => ({ kind: 'add', route: r, cause: 'rib' });

describe('DryRunRecorder', () => {
  it('keeps only the last maxRecords writes, oldest first, and counts every one', () => {
    let now = 100;
    const w = new DryRunRecorder({ maxRecords: 3, now: () => now });
    for (let i = 0; i < 5; i++) {
      now = 100 + i;
      w.apply([add(route(v4Key(0x0af40000 + i * 64, 26), '192.168.2.9'))]);
    }
    w.apply([{ kind: 'replace', route: route(v4Key(0x0af40000, 26), '192.168.2.8'), cause: 'rib' }]);
    expect(w.records().map((r) => [r.at, r.op.kind, r.op.route.prefix])).toEqual([
      [103, 'add', v4Key(0x0af400c0, 26)],
      [104, 'add', v4Key(0x0af40100, 26)],
      [104, 'replace', v4Key(0x0af40000, 26)],
    ]);
    expect(w.written).toBe(6);
    expect(w.snapshot().counters).toMatchObject({ adds: 5, replaces: 1, deletes: 0, errors: 0 });
    expect(w.snapshot().installed).toEqual([]); // no simulated kernel
  });

  it('records an unresolvable route as the delete it would send and reports it until it resolves', () => {
    const w = new DryRunRecorder({ maxRecords: 10 });
    const p = P('10.244.1.0/26');
    w.apply([add(route(p, '', 'tunnel-missing'))]);
    expect(w.records().map((r) => r.op.kind)).toEqual(['delete']);
    expect(w.snapshot().unresolvable).toEqual([{ prefix: p, reason: 'tunnel-missing' }]);
    expect(w.unresolvableCount()).toBe(1);
    w.apply([{ kind: 'replace', route: route(p, '192.168.2.9'), cause: 'rib' }]);
    expect(w.unresolvableCount()).toBe(0);
    expect(w.snapshot().counters).toMatchObject({ deletes: 1, replaces: 1 });
  });

  it('sync reports the unresolvable routes of the desired table and nothing to write', async () => {
    const w = new DryRunRecorder({ maxRecords: 10 });
    const desired = new Map([route(P('10.244.1.0/26'), '192.168.2.9'), route(P('10.244.2.0/26'), '', 'no-nexthop')].map((r) => [r.prefix, r]));
    expect(await w.sync(desired)).toEqual({ added: 0, replaced: 0, deleted: 0, adopted: 0, kept: 0, unresolvable: 1, conflicts: 0 });
    expect(w.snapshot().unresolvable).toEqual([{ prefix: P('10.244.2.0/26'), reason: 'no-nexthop' }]);
    expect(w.snapshot().counters.reconciles).toBe(1);
  });

  it('with maxRecords 0 keeps no records at all but still counts', () => {
    const w = new DryRunRecorder({ maxRecords: 0 });
    w.apply([add(route(P('10.244.1.0/26'), '192.168.2.9'))]);
    expect(w.records()).toEqual([]);
    expect(w.written).toBe(1);
  });
});

describe('DryRunWriter maxRecords', () => {
  it('returns the last maxRecords writes in order after many more were written', () => {
    const w = new DryRunWriter({ table: 254, protocol: 201, maxRecords: 4 });
    for (let i = 0; i < 50; i++) w.apply([add(route(v4Key(0x0af40000 + i * 64, 26), '192.168.2.9'))]);
    expect(w.records().map((r) => r.op.route.prefix)).toEqual([46, 47, 48, 49].map((i) => v4Key(0x0af40000 + i * 64, 26)));
    expect(w.snapshot().installed).toHaveLength(50);
  });
});

describe('DisabledWriter', () => {
  it('holds nothing and reconciles nothing', async () => {
    const w = new DisabledWriter();
    w.apply();
    expect(await w.sync()).toMatchObject({ added: 0, unresolvable: 0 });
    expect(w.snapshot()).toMatchObject({ installed: [], pending: 0, failed: [], unresolvable: [] });
  });
});
