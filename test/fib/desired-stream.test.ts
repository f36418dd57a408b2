// The desired table's streaming path (applyInto, what the bridge runs per
// best-path change): writes only for real changes, next hops resolved once per
// shared input list and mode and shared by every route using them, the cache
// dropped when the context changes (tunl0 appears), and the same outcome as
// apply() + opsForUpdate for every kind of change.
import { describe, expect, it } from 'vitest';
import { prefixParse, v4Key, type PrefixKey } from '../../src/lib/prefix.js';
import { compileFormContext, type LinkState } from '../../src/fib/modes.js';
import { DesiredTable, opsForUpdate } from '../../src/fib/desired.js';
import type { BestPathChange, FibOp } from '../../src/fib/types.js';
import type { IpPoolConfig } from '../../src/config/schema.js';

const P = (text: string): PrefixKey => prefixParse(text)!;
const pools: IpPoolConfig[] = [
  { cidr: '10.244.0.0/16', mode: 'ipip', program: true, disableExport: false },
  { cidr: '10.245.0.0/16', mode: 'crossSubnet', program: true, disableExport: false },
  { cidr: '10.250.0.0/16', mode: 'direct', program: false, disableExport: false },
];
const ctxWith = (tunnel: boolean) =>
  compileFormContext(
    { ipPools: pools, serviceCidrs: ['10.96.0.0/12'], fib: { defaultMode: 'direct' } },
    {
      links: new Map<string, LinkState>(Object.entries(tunnel ? { eth0: { ifindex: 2, up: true }, tunl0: { ifindex: 7, up: true } } : { eth0: { ifindex: 2, up: true } })),
      localSubnets: ['192.168.1.0/24'],
    },
  );
const opts = { table: 254, protocol: 201, ecmp: 3 };
const kinds = (ops: FibOp[]) => ops.map((o) => [o.kind, o.route.prefix]);

describe('DesiredTable.applyInto', () => {
  it('shares one resolved next-hop list among routes of the same input list, per mode', () => {
    const t = new DesiredTable(ctxWith(true), opts);
    const node = [{ address: '192.168.2.9' }];
    const ops: FibOp[] = [];
    for (let i = 0; i < 3; i++) t.applyInto({ prefix: v4Key(0x0af40000 + i * 64, 26), nextHops: node }, ops);
    t.applyInto({ prefix: P('10.245.1.0/26'), nextHops: node }, ops); // crossSubnet, other subnet: ipip too
    t.applyInto({ prefix: P('10.9.0.0/24'), nextHops: node }, ops); // default mode: direct
    expect(kinds(ops).map((k) => k[0])).toEqual(['add', 'add', 'add', 'add', 'add']);
    const a = t.get(v4Key(0x0af40000, 26))!;
    expect(a.nextHops).toEqual([{ gateway: '192.168.2.9', ifindex: 7, onlink: true }]);
    expect(t.get(v4Key(0x0af40040, 26))!.nextHops).toBe(a.nextHops);
    expect(t.get(P('10.245.1.0/26'))!.nextHops).toEqual(a.nextHops);
    expect(t.get(P('10.9.0.0/24'))!.nextHops).toEqual([{ gateway: '192.168.2.9', ifindex: undefined, onlink: false }]);
  });

  it('writes nothing for the same form again (shared list or an equal fresh one), replace for a new one, delete on withdraw and skip', () => {
    const t = new DesiredTable(ctxWith(true), opts);
    const node = [{ address: '192.168.2.9' }];
    const p = P('10.244.1.0/26');
    const ops: FibOp[] = [];
    expect(t.applyInto({ prefix: p, nextHops: node }, ops)).toBe(1);
    const first = t.get(p);
    expect(t.applyInto({ prefix: p, nextHops: node }, ops)).toBe(0);
    expect(t.applyInto({ prefix: p, nextHops: [{ address: '192.168.2.9' }] }, ops)).toBe(0);
    expect(t.get(p)).toBe(first);
    expect(t.applyInto({ prefix: p, nextHops: [{ address: '192.168.2.10' }] }, ops)).toBe(1);
    expect(t.applyInto({ prefix: p, nextHops: [] }, ops)).toBe(1);
    expect(t.applyInto({ prefix: p, nextHops: [] }, ops)).toBe(0);
    t.applyInto({ prefix: P('10.250.1.0/26'), nextHops: node }, ops); // pool not programmed: nothing
    expect(kinds(ops)).toEqual([
      ['add', p],
      ['replace', p],
      ['delete', p],
    ]);
    expect(ops[2]!.route).toMatchObject({ nextHops: [{ gateway: '192.168.2.10' }] }); // the delete names what is installed
    expect(t.skipped().get(P('10.250.1.0/26'))).toBe('pool-not-programmed');
  });

  it('re-resolves with the new context: the cached ipip form is not reused once tunl0 is gone and back', () => {
    const t = new DesiredTable(ctxWith(false), opts);
    const node = [{ address: '192.168.2.9' }];
    const p = P('10.244.1.0/26');
    const ops: FibOp[] = [];
    t.applyInto({ prefix: p, nextHops: node }, ops);
    expect(t.get(p)).toMatchObject({ nextHops: [], unresolvable: 'tunnel-missing' });
    const updates = t.setContext(ctxWith(true));
    expect(updates.map((u) => u.route?.nextHops)).toEqual([[{ gateway: '192.168.2.9', ifindex: 7, onlink: true }]]);
    // A new prefix of the same list after the change: resolved in the new context, not the old cache.
    t.applyInto({ prefix: P('10.244.2.0/26'), nextHops: node }, ops);
    expect(t.get(P('10.244.2.0/26'))).toMatchObject({ nextHops: [{ ifindex: 7 }], unresolvable: undefined });
  });

  it('gives the same ops as apply() + opsForUpdate over a random stream of changes', () => {
    const lists = [[{ address: '192.168.2.9' }], [{ address: '192.168.1.5' }], [{ address: '192.168.2.9' }, { address: '192.168.3.1' }], []];
    let seed = 7;
    const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) >>> 0) % n);
    const a = new DesiredTable(ctxWith(true), opts);
    const b = new DesiredTable(ctxWith(true), opts);
    const got: FibOp[] = [];
    const want: FibOp[] = [];
    for (let i = 0; i < 2000; i++) {
      const prefix = v4Key((rnd(2) === 0 ? 0x0af40000 : 0x0af50000) + rnd(40) * 64, 26);
      const r = rnd(6);
      const change: BestPathChange = r === 5 ? { prefix, local: { blackhole: true } } : { prefix, nextHops: lists[r % 4]! };
      a.applyInto(change, got);
      want.push(...opsForUpdate(b.apply(change)));
    }
    expect(got.map((o) => [o.kind, o.route.prefix, o.route.type])).toEqual(want.map((o) => [o.kind, o.route.prefix, o.route.type]));
    expect([...a.routes()].map(([k, r]) => [k, r.type, r.nextHops])).toEqual([...b.routes()].map(([k, r]) => [k, r.type, r.nextHops]));
  });
});
