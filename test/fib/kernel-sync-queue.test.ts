// The kernel writer over a scripted socket: batches are pipelined up to the
// configured depth, changes to one prefix made while the kernel is busy are
// coalesced into one write of the final state, a refusal is retried on the
// backoff schedule (fake clock) while other routes go on, and a monitor
// overrun (ENOBUFS) resynchronises by dump and rewrites what was lost.
import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import { KernelFibWriter, type RouteSocket } from '../../src/fib/kernel-sync.js';
import type { KernelRoute as NlRoute, RouteOp } from '../../src/fib/netlink/messages.js';
import type { NetlinkOutcome } from '../../src/fib/netlink/transport.js';
import type { DesiredRoute, FibOp } from '../../src/fib/types.js';
import { FakeClock } from '../../src/lib/clock.js';
import { v4Key, v4KeyParse } from '../../src/lib/prefix.js';

class ScriptedSocket implements RouteSocket {
  readonly calls: { ops: readonly RouteOp[]; resolve: (o: NetlinkOutcome[]) => void }[] = [];
  kernel: NlRoute[] = [];
  refuse: (op: RouteOp) => number | undefined = () => undefined;
  auto = false;
  applyRoutes(ops: readonly RouteOp[]): Promise<NetlinkOutcome[]> {
    return new Promise((resolve) => {
      this.calls.push({ ops, resolve });
      if (this.auto) this.answer(this.calls.length - 1);
    });
  }
  answer(i: number): void {
    const c = this.calls[i]!;
    c.resolve(c.ops.map((op) => {
      const e = this.refuse(op);
      return e === undefined ? { ok: true } : { ok: false, errno: e, code: e === 101 ? 'ENETUNREACH' : `E${e}` };
    }));
  }
  dumps = 0;
  async dumpRoutes(): Promise<NlRoute[]> {
    this.dumps++;
    return this.kernel;
  }
  close(): void {}
}

const route = (i: number, gateway = '192.0.2.2'): DesiredRoute => ({
  prefix: v4Key(0x0af40000 + i * 64, 26),
  table: 254,
  protocol: 201,
  metric: 0,
  type: 'unicast',
  nextHops: [{ gateway, onlink: false }],
  unresolvable: undefined,
});
const add = (r: DesiredRoute): FibOp => ({ kind: 'add', route: r, cause: 'rib' });
const tick = () => new Promise((r) => setImmediate(r));

function writer(opts: { batchSize?: number; pipeline?: number } = {}) {
  const socket = new ScriptedSocket();
  const clock = new FakeClock();
  const w = new KernelFibWriter({ socket, table: 254, protocol: 201, logger: pino({ level: 'silent' }), clock, batchSize: opts.batchSize ?? 100, pipeline: opts.pipeline ?? 2 });
  return { socket, clock, w };
}

describe('kernel writer queueing', () => {
  it('keeps at most `pipeline` batches in flight and sends the rest as ACKs return', async () => {
    const { socket, w } = writer({ batchSize: 100, pipeline: 2 });
    w.apply(Array.from({ length: 450 }, (_, i) => add(route(i))));
    expect(socket.calls.map((c) => c.ops.length)).toEqual([100, 100]);
    socket.answer(0);
    await tick();
    expect(socket.calls.map((c) => c.ops.length)).toEqual([100, 100, 100]);
    socket.auto = true;
    socket.answer(1);
    socket.answer(2);
    await w.idle();
    expect(socket.calls.map((c) => c.ops.length)).toEqual([100, 100, 100, 100, 50]);
    expect(w.installedCount()).toBe(450);
  });

  it('coalesces changes to one prefix made while the kernel is busy', async () => {
    const { socket, w } = writer({ batchSize: 1, pipeline: 1 });
    w.apply([add(route(0))]);
    // In flight: three more states for route 1, only the last is written.
    w.apply([add(route(1, '192.0.2.3'))]);
    w.apply([{ kind: 'replace', route: route(1, '192.0.2.4'), cause: 'rib' }]);
    w.apply([{ kind: 'replace', route: route(1, '192.0.2.5'), cause: 'rib' }]);
    socket.auto = true;
    socket.answer(0);
    await w.idle();
    expect(socket.calls).toHaveLength(2);
    expect(socket.calls[1]!.ops[0]!.route.gateway).toBe('192.0.2.5');
  });

  it('retries a refused route on the backoff schedule; the others are not held up', async () => {
    const { socket, clock, w } = writer();
    socket.auto = true;
    socket.refuse = (op) => (op.route.dst === route(1).prefix && socket.calls.length < 3 ? 101 : undefined);
    w.apply([add(route(0)), add(route(1)), add(route(2))]);
    await tick();
    expect(w.installedCount()).toBe(2);
    expect(w.snapshot().failed).toMatchObject([{ prefix: route(1).prefix, errno: 101, attempts: 1, retryAt: 500 }]);
    clock.advance(499);
    await tick();
    expect(socket.calls).toHaveLength(1);
    clock.advance(1); // 0.5 s: second attempt, refused again
    await tick();
    expect(w.snapshot().failed).toMatchObject([{ attempts: 2, retryAt: 1500 }]);
    clock.advance(1000); // 1 s later: third attempt succeeds
    await w.idle();
    expect(socket.calls).toHaveLength(3);
    expect(w.snapshot().failed).toEqual([]);
    expect(w.installedCount()).toBe(3);
    expect(w.operations.add).toEqual({ ok: 3, error: 2 });
  });

  it('a monitor overrun resyncs by dump and rewrites the routes the kernel lost', async () => {
    const { socket, w } = writer();
    socket.auto = true;
    const desired = new Map([route(0), route(1)].map((r) => [r.prefix, r]));
    await w.sync(desired, { keepStale: false });
    await w.idle();
    expect(socket.calls.flatMap((c) => c.ops).length).toBe(2);
    // The kernel now holds only route 0 (a notification for route 1's loss was dropped) plus a stale one of ours.
    const nl = (r: DesiredRoute): NlRoute => ({ family: 'ipv4-unicast', dst: r.prefix, table: 254, protocol: 201, type: 'unicast', scope: 0, gateway: '192.0.2.2', onlink: false });
    socket.kernel = [nl(route(0)), nl(route(7)), { ...nl(route(8)), protocol: 186 }];
    w.overflow();
    await new Promise((r) => setTimeout(r, 20));
    await w.idle();
    const resync = socket.calls.slice(1).flatMap((c) => c.ops);
    expect(resync.map((o) => [o.op, o.route.dst]).sort()).toEqual([
      ['delete', route(7).prefix],
      ['replace', route(1).prefix],
    ].sort());
    expect(w.snapshot().counters.reconciles).toBe(2);
    expect(v4KeyParse('10.244.0.0/26')).toBe(route(0).prefix);
  });
  it("the view holds the kernel's form of each notified or dumped route, next-hop sets shared among routes over one hop", async () => {
    const { socket, w } = writer();
    socket.auto = true;
    const nl = (i: number, gateway: string, oif: number, extra: Partial<NlRoute> = {}): NlRoute =>
      ({ family: 'ipv4-unicast', dst: route(i).prefix, table: 254, protocol: 201, type: 'unicast', scope: 0, gateway, oif, onlink: false, ...extra });
    w.apply([add(route(0)), add(route(1)), add(route(2, '192.0.2.3'))]);
    await w.idle();
    // The echoes of the three writes, then a route of ours via the same hop but onlink, and one on another device.
    w.routeEvent('new', nl(0, '192.0.2.2', 3));
    w.routeEvent('new', nl(1, '192.0.2.2', 3));
    w.routeEvent('new', nl(2, '192.0.2.3', 3));
    w.routeEvent('new', nl(3, '192.0.2.2', 3, { onlink: true }));
    w.routeEvent('new', nl(4, '192.0.2.2', 4));
    const view = new Map(w.snapshot().installed.map((r) => [r.prefix, r]));
    const at = (i: number) => view.get(route(i).prefix)!;
    expect(at(0)).toEqual({ prefix: route(0).prefix, table: 254, protocol: 201, metric: 0, type: 'unicast', nextHops: [{ gateway: '192.0.2.2', ifindex: 3, onlink: false }] });
    expect(at(1).nextHops).toEqual([{ gateway: '192.0.2.2', ifindex: 3, onlink: false }]);
    expect(at(2).nextHops).toEqual([{ gateway: '192.0.2.3', ifindex: 3, onlink: false }]);
    expect(at(3).nextHops).toEqual([{ gateway: '192.0.2.2', ifindex: 3, onlink: true }]);
    expect(at(4).nextHops).toEqual([{ gateway: '192.0.2.2', ifindex: 4, onlink: false }]);
    expect(at(1).nextHops).toBe(at(0).nextHops);
    for (const i of [2, 3, 4]) expect(at(i).nextHops).not.toBe(at(0).nextHops);
    // A dump (the reconcile) shares them the same way, with the sets the notifications made.
    socket.kernel = [nl(0, '192.0.2.2', 3), nl(1, '192.0.2.2', 3), nl(5, '192.0.2.2', 3)];
    await w.sync(new Map([route(0), route(1), route(5)].map((r) => [r.prefix, r])), { keepStale: false });
    await w.idle();
    const after = new Map(w.snapshot().installed.map((r) => [r.prefix, r]));
    expect(after.get(route(5).prefix)).toEqual({ prefix: route(5).prefix, table: 254, protocol: 201, metric: 0, type: 'unicast', nextHops: [{ gateway: '192.0.2.2', ifindex: 3, onlink: false }] });
    expect(after.get(route(5).prefix)!.nextHops).toBe(after.get(route(0).prefix)!.nextHops);
    // A withdrawal notification still removes the route from the view.
    w.routeEvent('del', nl(1, '192.0.2.2', 3));
    expect(w.snapshot().installed.map((r) => r.prefix)).not.toContain(route(1).prefix);
  });
  it('a monitor overrun during a burst resyncs once the batches in flight are answered, not in the middle of them', async () => {
    const { socket, w } = writer({ batchSize: 100, pipeline: 2 });
    const desired = new Map(Array.from({ length: 300 }, (_, i) => route(i)).map((r) => [r.prefix, r]));
    const nl = (r: DesiredRoute): NlRoute => ({ family: 'ipv4-unicast', dst: r.prefix, table: 254, protocol: 201, type: 'unicast', scope: 0, gateway: '192.0.2.2', onlink: false });
    await w.sync(desired, { keepStale: false }); // an empty kernel: the burst of 300 writes
    expect(socket.dumps).toBe(1);
    expect(socket.calls).toHaveLength(2);
    w.overflow();
    await tick();
    expect(socket.dumps).toBe(1); // two batches in flight: no dump yet
    socket.answer(0);
    await tick();
    expect(socket.calls).toHaveLength(3);
    expect(socket.dumps).toBe(1); // the third batch went out, still none
    socket.kernel = [...desired.values()].map(nl); // what the kernel holds once the writes are in
    socket.answer(1);
    socket.auto = true;
    socket.answer(2);
    await tick();
    await w.idle();
    await new Promise((r) => setTimeout(r, 20));
    expect(socket.dumps).toBe(2); // once, after the burst
    expect(socket.calls).toHaveLength(3); // and it found nothing to rewrite
    // The kernel lost route 5 behind our back: the resync (with the dump showing all but it) rewrites it.
    socket.kernel = [...desired.values()].filter((r) => r.prefix !== route(5).prefix).map(nl);
    const before = socket.calls.length;
    w.overflow();
    await new Promise((r) => setTimeout(r, 20));
    await w.idle();
    expect(socket.dumps).toBe(3); // idle: at once
    expect(socket.calls.slice(before).flatMap((c) => c.ops).map((o) => [o.op, o.route.dst])).toEqual([['replace', route(5).prefix]]);
  });
});
