// The transport's bookkeeping, driven by a scripted kernel in place of the
// addon: window and chunking, per-seq attribution, timeouts on a fake clock,
// holding sends after an overrun until the queue drains, dump retries.
import { describe, expect, it } from 'vitest';
import * as C from '../../../src/fib/netlink/constants.js';
import { NlWriter, splitMessages, type NlMessage, type RouteOp } from '../../../src/fib/netlink/messages.js';
import { NetlinkRouteSocket } from '../../../src/fib/netlink/transport.js';
import { FakeClock } from '../../../src/lib/clock.js';
import { v4Key } from '../../../src/lib/prefix.js';
import type { NativeAddon, NativeDataCallback, NativeNetlinkHandle } from '../../../src/lib/native.js';

/** A stand-in kernel: records every send; the test decides what it answers. */
class ScriptedKernel {
  sends: NlMessage[][] = [];
  onData: NativeDataCallback = () => undefined;
  refs: boolean[] = [];
  readonly addon: NativeAddon = {
    open: (_o, onData) => {
      this.onData = onData;
      return { fd: 99, portId: 4242 } as NativeNetlinkHandle;
    },
    send: (_h, data) => {
      const split = splitMessages(Buffer.from(data));
      if (!split.ok) throw new Error(split.error);
      this.sends.push(split.value);
      return data.length;
    },
    close: () => undefined,
    ref: (_h, on) => void this.refs.push(on),
    setsockoptInt: () => 0,
    setsockoptBuffer: () => 0,
    getsockoptInt: () => 0,
  };

  /** NLMSG_ERROR answers (errno 0 = ACK) for the given requests, in one burst. */
  ack(msgs: NlMessage[], errnoOf: (m: NlMessage) => number = () => 0, drained = true): void {
    const w = new NlWriter();
    for (const m of msgs) {
      const at = w.begin(C.NLMSG_ERROR, C.NLM_F_CAPPED, m.seq, 4242);
      const e = errnoOf(m);
      w.u32(e === 0 ? 0 : -e >>> 0);
      w.u32(16 + m.body.length); // echoed header
      w.u16(m.type);
      w.u16(m.flags);
      w.u32(m.seq);
      w.u32(0);
      w.end(at);
    }
    this.onData(w.take(), 0, drained);
  }
}

const ops = (n: number): RouteOp[] =>
  Array.from({ length: n }, (_, i) => ({ op: 'replace', route: { dst: v4Key((10 << 24) + i * 64, 26), protocol: 201, gateway: '192.0.2.1' } }));

describe('NetlinkRouteSocket', () => {
  it('never has more than `window` requests outstanding and sends in chunks', async () => {
    const k = new ScriptedKernel();
    const s = new NetlinkRouteSocket({ native: k.addon, window: 4, chunk: 2, clock: new FakeClock() });
    const done = s.applyRoutes(ops(7));
    expect(k.sends.map((b) => b.length)).toEqual([2, 2]);
    k.ack(k.sends[0]!);
    expect(k.sends.map((b) => b.length)).toEqual([2, 2, 2]);
    k.ack([...k.sends[1]!, ...k.sends[2]!]);
    expect(k.sends.map((b) => b.length)).toEqual([2, 2, 2, 1]);
    k.ack(k.sends[3]!);
    expect(await done).toEqual(ops(7).map(() => ({ ok: true })));
    const seqs = k.sends.flat().map((m) => m.seq);
    expect(new Set(seqs).size).toBe(7);
    expect(k.refs.at(-1)).toBe(false); // idle again: does not hold the process open
  });

  it('attributes errors by sequence number even when acks arrive out of order (ackEach)', async () => {
    const k = new ScriptedKernel();
    const s = new NetlinkRouteSocket({ native: k.addon, clock: new FakeClock(), ackEach: true });
    const done = s.applyRoutes(ops(3));
    const sent = k.sends[0]!;
    k.ack([sent[2]!, sent[0]!, sent[1]!], (m) => (m.seq === sent[1]!.seq ? 101 : 0));
    expect(await done).toEqual([{ ok: true }, { ok: false, errno: 101, code: 'ENETUNREACH' }, { ok: true }]);
  });

  it('asks for an ACK only on the last request of each send; silence before it is success', async () => {
    const k = new ScriptedKernel();
    const s = new NetlinkRouteSocket({ native: k.addon, chunk: 3, clock: new FakeClock() });
    const done = s.applyRoutes(ops(5));
    expect(k.sends.map((b) => b.map((m) => (m.flags & C.NLM_F_ACK) !== 0))).toEqual([
      [false, false, true],
      [false, true],
    ]);
    // The kernel answers failures whether asked or not, then the acked barrier.
    const [a, b] = [k.sends[0]!, k.sends[1]!];
    k.ack([a[1]!, a[2]!, b[0]!, b[1]!], (m) => (m.seq === a[1]!.seq ? 101 : m.seq === b[0]!.seq ? 17 : 0));
    expect(await done).toEqual([
      { ok: true },
      { ok: false, errno: 101, code: 'ENETUNREACH' },
      { ok: true },
      { ok: false, errno: 17, code: 'EEXIST' },
      { ok: true },
    ]);
  });

  it('settles nothing before the barrier arrives, and a failed barrier is its own outcome', async () => {
    const k = new ScriptedKernel();
    const s = new NetlinkRouteSocket({ native: k.addon, clock: new FakeClock() });
    let settled = false;
    const done = s.applyRoutes(ops(3)).then((r) => ((settled = true), r));
    const sent = k.sends[0]!;
    k.ack([sent[0]!], () => 3); // an error answer alone completes nothing
    await Promise.resolve();
    expect(settled).toBe(false);
    k.ack([sent[2]!], () => 22);
    expect(await done).toEqual([
      { ok: false, errno: 3, code: 'ESRCH' },
      { ok: true },
      { ok: false, errno: 22, code: 'EINVAL' },
    ]);
  });

  it('fails an earlier send whose barrier never came when a later barrier arrives', async () => {
    const k = new ScriptedKernel();
    const s = new NetlinkRouteSocket({ native: k.addon, chunk: 2, clock: new FakeClock() });
    const done = s.applyRoutes(ops(4));
    k.ack([k.sends[1]![1]!]);
    expect(await done).toEqual([
      expect.objectContaining({ ok: false, code: 'EIO' }),
      expect.objectContaining({ ok: false, code: 'EIO' }),
      { ok: true },
      { ok: true },
    ]);
  });

  it('fails what is outstanding with ETIMEDOUT when the kernel stays silent', async () => {
    const k = new ScriptedKernel();
    const clock = new FakeClock();
    const s = new NetlinkRouteSocket({ native: k.addon, clock, timeoutMs: 1000 });
    const done = s.applyRoutes(ops(2));
    clock.advance(600);
    k.ack([k.sends[0]![0]!]); // progress re-arms the deadline
    clock.advance(600);
    expect(s.stats.timeouts).toBe(0);
    clock.advance(500);
    expect(await done).toEqual([{ ok: true }, expect.objectContaining({ ok: false, code: 'ETIMEDOUT' })]);
    expect(s.stats.timeouts).toBe(1);
  });

  it('after an overrun reports outstanding requests lost and holds sends until the queue drains', async () => {
    const k = new ScriptedKernel();
    const s = new NetlinkRouteSocket({ native: k.addon, window: 2, chunk: 2, clock: new FakeClock() });
    const first = s.applyRoutes(ops(2));
    const second = s.applyRoutes(ops(1));
    const w = new NlWriter();
    const m0 = k.sends[0]![0]!;
    w.end(w.begin(C.NLMSG_ERROR, C.NLM_F_CAPPED, m0.seq));
    w.u32(0);
    w.bytes(Buffer.alloc(16));
    const ackBuf = w.take();
    ackBuf.writeUInt32LE(ackBuf.length, 0);
    ackBuf.writeUInt32LE(m0.seq, 4 + 16 + 8); // echoed seq
    k.onData(ackBuf, -105, false); // one ACK arrived, then ENOBUFS; queue not yet empty
    expect(await first).toEqual([{ ok: true }, expect.objectContaining({ ok: false, code: 'ENOBUFS' })]);
    expect(k.sends).toHaveLength(1); // held
    k.onData(Buffer.alloc(0), 0, true); // drained
    expect(k.sends).toHaveLength(2);
    k.ack(k.sends[1]!);
    expect(await second).toEqual([{ ok: true }]);
    expect(s.stats.overruns).toBe(1);
  });

  it('reports unencodable ops without sending them', async () => {
    const k = new ScriptedKernel();
    const s = new NetlinkRouteSocket({ native: k.addon, clock: new FakeClock() });
    const out = await s.applyRoutes([{ op: 'replace', route: { dst: v4Key(0, 0), protocol: 201, gateway: 'nope' } }]);
    expect(out).toEqual([expect.objectContaining({ ok: false, code: 'EINVAL' })]);
    expect(k.sends).toHaveLength(0);
  });

  it('retries a dump the kernel flags as interrupted, and decodes routes', async () => {
    const k = new ScriptedKernel();
    const s = new NetlinkRouteSocket({ native: k.addon, clock: new FakeClock() });
    const answer = (seq: number, flags: number, dst: number): Buffer => {
      const w = new NlWriter();
      const at = w.begin(C.RTM_NEWROUTE, C.NLM_F_MULTI | flags, seq);
      w.bytes(Buffer.from([2, 24, 0, 0, 254, 201, 0, 1, 0, 0, 0, 0]));
      w.attrBytes(C.RTA_DST, Buffer.from([10, 0, dst, 0]));
      w.end(at);
      w.end(w.begin(C.NLMSG_DONE, C.NLM_F_MULTI | flags, seq));
      return w.take();
    };
    const dump = s.dumpRoutes(C.AF_INET);
    await Promise.resolve();
    expect(k.sends[0]![0]!.type).toBe(C.RTM_GETROUTE);
    k.onData(answer(k.sends[0]![0]!.seq, C.NLM_F_DUMP_INTR, 1), 0, true);
    await new Promise((r) => setImmediate(r));
    expect(k.sends).toHaveLength(2);
    k.onData(answer(k.sends[1]![0]!.seq, 0, 2), 0, true);
    expect((await dump).map((r) => r.dst)).toEqual([v4Key((10 << 24) + (2 << 8), 24)]);
  });
});
