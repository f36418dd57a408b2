// The write queue: coalescing per key, batches, acknowledgements, backoff
// timing with injected times, supersede, the failed map.
import { describe, expect, it } from 'vitest';
import { prefixParse, type PrefixKey } from '../../src/lib/prefix.js';
import { FibQueue } from '../../src/fib/queue.js';
import type { DesiredRoute, FibOp } from '../../src/fib/types.js';

const P = (text: string): PrefixKey => prefixParse(text)!;
const route = (prefix: string, gw: string, metric = 0): DesiredRoute => ({
  prefix: P(prefix),
  table: 254,
  protocol: 201,
  metric,
  type: 'unicast',
  nextHops: [{ gateway: gw, ifindex: 7, onlink: true }],
});
const add = (prefix: string, gw: string): FibOp => ({ kind: 'add', route: route(prefix, gw), cause: 'rib' });
const del = (prefix: string, metric = 0): FibOp => ({ kind: 'delete', route: route(prefix, '0.0.0.0', metric), cause: 'rib' });
const ENETUNREACH = 101;
const ESRCH = 3;

describe('FibQueue coalescing', () => {
  it('ten flaps of one prefix while nothing is sent become one op in the final state', () => {
    const q = new FibQueue();
    for (let i = 0; i < 10; i++) q.push(i % 2 === 0 ? add('10.244.1.0/26', `192.168.2.${i}`) : del('10.244.1.0/26'));
    q.push(add('10.244.1.0/26', '192.168.2.99'));
    expect(q.depth()).toBe(1);
    const batch = q.takeBatch(100, 0);
    expect(batch).toHaveLength(1);
    expect(batch[0]!.op).toEqual(add('10.244.1.0/26', '192.168.2.99'));
    expect(q.stats()).toMatchObject({ pushed: 11, coalesced: 10, sent: 1 });
  });

  it('keys keep their first-queued order; a coalesced push does not lose its place', () => {
    const q = new FibQueue();
    q.push(add('10.0.1.0/24', '1.1.1.1'));
    q.push(add('10.0.2.0/24', '1.1.1.1'));
    q.push(add('10.0.1.0/24', '2.2.2.2'));
    expect(q.takeBatch(10, 0).map((b) => b.op.route.prefix)).toEqual([P('10.0.1.0/24'), P('10.0.2.0/24')]);
  });

  it('a delete at another metric is its own key, not swallowed by an add at ours', () => {
    const q = new FibQueue();
    q.push(del('10.0.1.0/24', 20));
    q.push(add('10.0.1.0/24', '1.1.1.1'));
    expect(q.takeBatch(10, 0).map((b) => b.op.kind)).toEqual(['delete', 'add']);
  });

  it('batches are bounded; a push during flight waits for the ack, then goes in its final state', () => {
    const q = new FibQueue();
    for (let i = 0; i < 5; i++) q.push(add(`10.0.${i}.0/24`, '1.1.1.1'));
    const first = q.takeBatch(2, 0);
    expect(first).toHaveLength(2);
    q.push(add('10.0.0.0/24', '9.9.9.9')); // 10.0.0.0/24 is in flight
    q.push(add('10.0.0.0/24', '9.9.9.8'));
    expect(q.takeBatch(10, 0).map((b) => b.op.route.prefix)).toEqual([2, 3, 4].map((i) => P(`10.0.${i}.0/24`)));
    expect(q.ack(first[0]!.seq, 'ok', 1)).toBe('done');
    const next = q.takeBatch(10, 1);
    expect(next.map((b) => b.op)).toEqual([add('10.0.0.0/24', '9.9.9.8')]);
    expect(q.inFlightCount()).toBe(5);
    expect(q.depth()).toBe(5);
  });

  it('acks remove finished keys; unknown seqs are reported', () => {
    const q = new FibQueue();
    q.push(add('10.0.0.0/24', '1.1.1.1'));
    const [b] = q.takeBatch(1, 0);
    expect(q.ack(b!.seq, 'ok', 0)).toBe('done');
    expect(q.depth()).toBe(0);
    expect(q.ack(b!.seq, 'ok', 0)).toBe('unknown');
  });
});

describe('FibQueue failures', () => {
  it('a refusal is retried with exponential backoff: 0.5 s, 1 s, 2 s ... capped at 30 s', () => {
    const q = new FibQueue();
    q.push(add('10.0.0.0/24', '1.1.1.1'));
    let now = 1000;
    const delays: number[] = [];
    for (let attempt = 1; attempt <= 9; attempt++) {
      const [b] = q.takeBatch(10, now);
      expect(b).toBeDefined();
      expect(q.ack(b!.seq, { errno: ENETUNREACH }, now)).toBe('retry');
      const due = q.nextRetryAt()!;
      delays.push(due - now);
      // Not a millisecond early.
      expect(q.takeBatch(10, due - 1)).toEqual([]);
      now = due;
    }
    expect(delays).toEqual([500, 1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);
    const f = q.failed().get(P('10.0.0.0/24'))!;
    expect(f).toMatchObject({ errno: ENETUNREACH, since: 1000, attempts: 9 });
    // Success clears the failure.
    const [b] = q.takeBatch(10, now);
    expect(q.ack(b!.seq, 'ok', now)).toBe('done');
    expect(q.failed().size).toBe(0);
    expect(q.depth()).toBe(0);
    expect(q.nextRetryAt()).toBeUndefined();
  });

  it('keys in backoff are skipped while others flow', () => {
    const q = new FibQueue();
    q.push(add('10.0.0.0/24', '1.1.1.1'));
    const [b] = q.takeBatch(10, 0);
    q.ack(b!.seq, { errno: ENETUNREACH }, 0);
    q.push(add('10.0.1.0/24', '1.1.1.1'));
    expect(q.takeBatch(10, 100).map((x) => x.op.route.prefix)).toEqual([P('10.0.1.0/24')]);
    expect(q.readyCount(499)).toBe(0);
    expect(q.readyCount(500)).toBe(1);
  });

  it('a newer op supersedes the pending retry and goes at once', () => {
    const q = new FibQueue();
    q.push(add('10.0.0.0/24', '1.1.1.1'));
    const [b] = q.takeBatch(10, 0);
    q.ack(b!.seq, { errno: ENETUNREACH }, 0);
    expect(q.failed().get(P('10.0.0.0/24'))?.retryAt).toBe(500);
    q.push(add('10.0.0.0/24', '2.2.2.2'));
    expect(q.failed().get(P('10.0.0.0/24'))?.retryAt).toBeUndefined();
    const [c] = q.takeBatch(10, 1);
    expect(c!.op).toEqual(add('10.0.0.0/24', '2.2.2.2'));
    // The old retry never resurfaces.
    expect(q.ack(c!.seq, 'ok', 2)).toBe('done');
    expect(q.takeBatch(10, 10_000)).toEqual([]);
    expect(q.nextRetryAt()).toBeUndefined();
  });

  it('a failure while a newer op waits: the newer one is sent, no retry of the old', () => {
    const q = new FibQueue();
    q.push(add('10.0.0.0/24', '1.1.1.1'));
    const [b] = q.takeBatch(10, 0);
    q.push(del('10.0.0.0/24'));
    expect(q.ack(b!.seq, { errno: 22 }, 5)).toBe('superseded');
    expect(q.failed().get(P('10.0.0.0/24'))).toMatchObject({ errno: 22, attempts: 1, since: 5, retryAt: undefined });
    const [c] = q.takeBatch(10, 5);
    expect(c!.op.kind).toBe('delete');
    // A failure streak keeps counting for the backoff of the newer op.
    expect(q.ack(c!.seq, { errno: 22 }, 6)).toBe('retry');
    expect(q.failed().get(P('10.0.0.0/24'))).toMatchObject({ attempts: 2, since: 5, retryAt: 6 + 1000 });
  });

  it('ESRCH on a delete means already gone: success', () => {
    const q = new FibQueue();
    q.push(del('10.0.0.0/24'));
    q.push(add('10.0.1.0/24', '1.1.1.1'));
    const [d, a] = q.takeBatch(10, 0);
    expect(q.ack(d!.seq, { errno: ESRCH }, 0)).toBe('done');
    expect(q.ack(a!.seq, { errno: ESRCH }, 0)).toBe('retry'); // not for an add
    expect([...q.failed().keys()]).toEqual([P('10.0.1.0/24')]);
  });

  it('requeueInFlight puts lost writes back without counting an attempt', () => {
    const q = new FibQueue();
    q.push(add('10.0.0.0/24', '1.1.1.1'));
    q.push(add('10.0.1.0/24', '1.1.1.1'));
    const sent = q.takeBatch(10, 0);
    q.push(add('10.0.1.0/24', '3.3.3.3'));
    expect(q.requeueInFlight()).toBe(2);
    expect(q.ack(sent[0]!.seq, 'ok', 0)).toBe('unknown');
    expect(q.takeBatch(10, 0).map((b) => b.op)).toEqual([add('10.0.0.0/24', '1.1.1.1'), add('10.0.1.0/24', '3.3.3.3')]);
    expect(q.failed().size).toBe(0);
  });

  it('the retry heap serves many keys in time order', () => {
    const q = new FibQueue({ baseDelayMs: 100, maxDelayMs: 100 });
    const n = 50;
    for (let i = 0; i < n; i++) q.push(add(`10.0.${i}.0/24`, '1.1.1.1'));
    // Fail key i at time 1000 - i*10: key 49 is due first.
    const batch = q.takeBatch(n, 0);
    batch.forEach((b, i) => q.ack(b.seq, { errno: ENETUNREACH }, 1000 - i * 10));
    const order: PrefixKey[] = [];
    let t = q.nextRetryAt();
    while (t !== undefined) {
      const due = q.takeBatch(n, t);
      for (const b of due) {
        order.push(b.op.route.prefix);
        q.ack(b.seq, 'ok', t);
      }
      t = q.nextRetryAt();
    }
    expect(order).toEqual(Array.from({ length: n }, (_, i) => P(`10.0.${n - 1 - i}.0/24`)));
  });
});
