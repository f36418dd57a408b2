// The write queue's arrays in place of per-prefix maps: the in-flight window
// indexed by sequence number (acks in any order, stale and repeated acks are
// 'unknown', the window is compacted as its front is acknowledged) and the
// ready list (first-queued order kept across many batches and compactions).
import { describe, expect, it } from 'vitest';
import { v4Key } from '../../src/lib/prefix.js';
import { FibQueue } from '../../src/fib/queue.js';
import type { FibOp } from '../../src/fib/types.js';

const add = (i: number, gw = '192.168.2.9'): FibOp => ({
  kind: 'add',
  route: { prefix: v4Key(0x0a000000 + i * 64, 26), table: 254, protocol: 201, metric: 0, type: 'unicast', nextHops: [{ gateway: gw, onlink: false }] },
  cause: 'rib',
});
const ENETUNREACH = 101;

describe('FibQueue in-flight window', () => {
  it('acks in reverse and shuffled order each settle their own key; repeated and stale acks are unknown', () => {
    const q = new FibQueue();
    const n = 5000;
    for (let i = 0; i < n; i++) q.push(add(i));
    const batch = q.takeBatch(n, 0);
    expect(batch.map((b) => b.key)).toEqual(Array.from({ length: n }, (_, i) => v4Key(0x0a000000 + i * 64, 26)));
    // Every third from the back first, then the rest from the front: the window's front stays open a while.
    const order = [...batch].reverse().filter((_, i) => i % 3 === 0);
    const rest = batch.filter((b) => !order.includes(b));
    for (const b of order) expect(q.ack(b.seq, 'ok', 1)).toBe('done');
    expect(q.inFlightCount()).toBe(n - order.length);
    expect(q.ack(order[0]!.seq, 'ok', 1)).toBe('unknown');
    for (const b of rest) expect(q.ack(b.seq, b.key === batch[8]!.key ? { errno: ENETUNREACH } : 'ok', 1)).toBe(b.key === batch[8]!.key ? 'retry' : 'done');
    expect(q.inFlightCount()).toBe(0);
    expect(q.depth()).toBe(1); // only the refused one, waiting to retry
    expect(q.ack(batch[0]!.seq, 'ok', 1)).toBe('unknown');
    expect(q.ack(999_999, 'ok', 1)).toBe('unknown');
    expect(q.ack(0, 'ok', 1)).toBe('unknown');
    const again = q.takeBatch(10, 1000);
    expect(again.map((b) => b.key)).toEqual([batch[8]!.key]);
    expect(q.ack(again[0]!.seq, 'ok', 1000)).toBe('done');
    expect(q.failed().size).toBe(0);
  });

  it('a requeue after a lost socket makes the old sequence numbers unknown; the writes go again', () => {
    const q = new FibQueue();
    for (let i = 0; i < 3; i++) q.push(add(i));
    const first = q.takeBatch(2, 0);
    expect(q.requeueInFlight()).toBe(2);
    expect(q.ack(first[0]!.seq, 'ok', 0)).toBe('unknown');
    // The unsent third keeps its place ahead of the requeued two.
    expect(q.takeBatch(10, 0).map((b) => b.key)).toEqual([2, 0, 1].map((i) => v4Key(0x0a000000 + i * 64, 26)));
  });

  it('keeps first-queued order over many small batches (the ready list compacts underneath)', () => {
    const q = new FibQueue();
    const n = 20_000;
    for (let i = 0; i < n; i++) q.push(add(i));
    const seen: number[] = [];
    let k = 0;
    while (q.readyCount(0) > 0) {
      const b = q.takeBatch(97, 0);
      // A coalesced push of a key still waiting keeps its place; a pushed key already taken waits for its ack.
      if (k < n - 200) q.push(add(k + 150, '192.168.2.10'));
      for (const x of b) {
        seen.push(x.key as number);
        expect(q.ack(x.seq, 'ok', 0)).toBe('done');
      }
      k += 97;
    }
    expect(seen).toEqual(Array.from({ length: n }, (_, i) => v4Key(0x0a000000 + i * 64, 26)));
    expect(q.depth()).toBe(0);
  });
});
