// The FIB write queue: PURE state for batching and backpressure between the
// desired table and the kernel. One slot per route key (fibOpKey): a newer
// operation replaces an unsent older one, so a prefix that flaps ten times
// while the kernel is busy is written once, in its final state. The writer
// takes batches, sends them pipelined, and acknowledges each by sequence
// number. A refusal (errno) is recorded in the failed map the API shows and
// retried with exponential backoff (0.5 s doubling up to 30 s by default); a
// newer operation for the key supersedes the pending retry and goes at once.
// RTM_DELROUTE answered ESRCH ("already gone") counts as done. Time is a
// parameter: no timers here; nextRetryAt() tells the shell when to come back.

import { fibOpKey, type FibOp, type FibOpKey } from './types.js';

export interface QueueOptions {
  readonly baseDelayMs?: number;
  readonly maxDelayMs?: number;
  readonly factor?: number;
}

/** One operation handed to the writer; acknowledge it with its seq. */
export interface InFlightOp {
  readonly seq: number;
  readonly key: FibOpKey;
  readonly op: FibOp;
}

/** 'ok', or the kernel's errno (positive, e.g. 101 ENETUNREACH). */
export type AckResult = 'ok' | { readonly errno: number };

/** done: finished; retry: scheduled again; superseded: failed, but a newer op is queued; unknown: not in flight. */
export type AckOutcome = 'done' | 'retry' | 'superseded' | 'unknown';

/** A key whose last write failed (shown by the API as failed). */
export interface FailedState {
  readonly op: FibOp;
  readonly errno: number;
  /** When this run of failures began. */
  readonly since: number;
  /** Failures in a row. */
  readonly attempts: number;
  /** When the retry is due; undefined when a newer op superseded it. */
  readonly retryAt: number | undefined;
}

export interface QueueStats {
  readonly pushed: number;
  /** Pushes that replaced an unsent op for the same key. */
  readonly coalesced: number;
  readonly sent: number;
  readonly succeeded: number;
  readonly refused: number;
}

const ESRCH = 3;

interface Slot {
  /** Latest op not yet sent (undefined: only an in-flight op remains). */
  op: FibOp | undefined;
  inFlight: number | undefined;
  inFlightOp: FibOp | undefined;
  /** Retry time, 0 when ready; retryGen invalidates older heap entries. */
  retryAt: number;
  retryGen: number;
}

interface HeapEntry {
  readonly at: number;
  readonly key: FibOpKey;
  readonly gen: number;
}

export class FibQueue {
  private readonly slots = new Map<FibOpKey, Slot>();
  /** Keys ready to send, in first-queued order (Set keeps insertion order). */
  private readonly ready = new Set<FibOpKey>();
  private readonly inFlight = new Map<number, FibOpKey>();
  private readonly retries: HeapEntry[] = [];
  private readonly failures = new Map<FibOpKey, FailedState>();
  private seq = 0;
  private counters = { pushed: 0, coalesced: 0, sent: 0, succeeded: 0, refused: 0 };
  private readonly base: number;
  private readonly max: number;
  private readonly factor: number;

  constructor(opts: QueueOptions = {}) {
    this.base = opts.baseDelayMs ?? 500;
    this.max = opts.maxDelayMs ?? 30_000;
    this.factor = opts.factor ?? 2;
  }

  push(op: FibOp, key: FibOpKey = fibOpKey(op.route)): void {
    this.counters.pushed++;
    let slot = this.slots.get(key);
    if (!slot) {
      slot = { op, inFlight: undefined, inFlightOp: undefined, retryAt: 0, retryGen: 0 };
      this.slots.set(key, slot);
    } else {
      if (slot.op !== undefined && slot.retryAt === 0) this.counters.coalesced++;
      slot.op = op;
      if (slot.retryAt !== 0) {
        // The newer op supersedes the scheduled retry of the older one.
        slot.retryAt = 0;
        slot.retryGen++;
        const f = this.failures.get(key);
        if (f) this.failures.set(key, { ...f, retryAt: undefined });
      }
    }
    // Re-adding a present key keeps its place: a flapping prefix is not starved.
    if (slot.inFlight === undefined) this.ready.add(key);
  }

  /** Up to `max` ops to send now; keys in backoff wait until their retry time. */
  takeBatch(max: number, now: number): InFlightOp[] {
    this.promoteDue(now);
    const out: InFlightOp[] = [];
    for (const key of this.ready) {
      if (out.length >= max) break;
      this.ready.delete(key);
      const slot = this.slots.get(key)!;
      const op = slot.op!;
      const seq = ++this.seq;
      slot.op = undefined;
      slot.inFlight = seq;
      slot.inFlightOp = op;
      this.inFlight.set(seq, key);
      out.push({ seq, key, op });
    }
    this.counters.sent += out.length;
    return out;
  }

  ack(seq: number, result: AckResult, now: number): AckOutcome {
    const key = this.inFlight.get(seq);
    if (key === undefined) return 'unknown';
    this.inFlight.delete(seq);
    const slot = this.slots.get(key)!;
    const op = slot.inFlightOp!;
    slot.inFlight = undefined;
    slot.inFlightOp = undefined;

    // DESIGN.md, FIB: "already gone" on delete is success.
    const ok = result === 'ok' || (op.kind === 'delete' && result.errno === ESRCH);
    if (ok) {
      this.counters.succeeded++;
      this.failures.delete(key);
      if (slot.op !== undefined) {
        this.ready.add(key);
      } else this.slots.delete(key);
      return 'done';
    }

    this.counters.refused++;
    const errno = (result as { errno: number }).errno;
    const prev = this.failures.get(key);
    const attempts = (prev?.attempts ?? 0) + 1;
    const since = prev?.since ?? now;
    if (slot.op !== undefined) {
      this.failures.set(key, { op, errno, since, attempts, retryAt: undefined });
      this.ready.add(key);
      return 'superseded';
    }
    const delay = Math.min(this.base * this.factor ** (attempts - 1), this.max);
    const retryAt = now + delay;
    slot.op = op;
    slot.retryAt = retryAt;
    slot.retryGen++;
    this.heapPush({ at: retryAt, key, gen: slot.retryGen });
    this.failures.set(key, { op, errno, since, attempts, retryAt });
    return 'retry';
  }

  /** Puts every in-flight op back as unsent (the socket was lost; no attempt counted). */
  requeueInFlight(): number {
    let n = 0;
    for (const [, key] of this.inFlight) {
      const slot = this.slots.get(key)!;
      if (slot.op === undefined) slot.op = slot.inFlightOp;
      slot.inFlight = undefined;
      slot.inFlightOp = undefined;
      if (slot.retryAt === 0) this.ready.add(key);
      n++;
    }
    this.inFlight.clear();
    return n;
  }

  /** Whether `key` has work not yet acknowledged (queued, in flight or waiting to retry). */
  has(key: FibOpKey): boolean {
    return this.slots.has(key);
  }

  /** Keys with work not yet acknowledged (queued, in flight or waiting to retry). */
  depth(): number {
    return this.slots.size;
  }

  inFlightCount(): number {
    return this.inFlight.size;
  }

  /** Keys that could be sent at `now`. */
  readyCount(now: number): number {
    this.promoteDue(now);
    return this.ready.size;
  }

  failed(): ReadonlyMap<FibOpKey, FailedState> {
    return this.failures;
  }

  stats(): QueueStats {
    return { ...this.counters };
  }

  /** Earliest pending retry time, for the shell's timer; undefined when none. */
  nextRetryAt(): number | undefined {
    while (this.retries.length > 0) {
      const top = this.retries[0]!;
      if (this.isLive(top)) return top.at;
      this.heapPop();
    }
    return undefined;
  }

  private isLive(e: HeapEntry): boolean {
    const slot = this.slots.get(e.key);
    return slot !== undefined && slot.retryGen === e.gen && slot.retryAt === e.at;
  }

  private promoteDue(now: number): void {
    while (this.retries.length > 0 && this.retries[0]!.at <= now) {
      const e = this.heapPop();
      if (!this.isLive(e)) continue;
      const slot = this.slots.get(e.key)!;
      slot.retryAt = 0;
      if (slot.inFlight === undefined) this.ready.add(e.key);
    }
  }

  // A binary min-heap on `at`, with lazy deletion through retryGen.
  private heapPush(e: HeapEntry): void {
    const h = this.retries;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (h[parent]!.at <= h[i]!.at) break;
      [h[parent], h[i]] = [h[i]!, h[parent]!];
      i = parent;
    }
  }

  private heapPop(): HeapEntry {
    const h = this.retries;
    const top = h[0]!;
    const last = h.pop()!;
    if (h.length > 0) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && h[l]!.at < h[m]!.at) m = l;
        if (r < h.length && h[r]!.at < h[m]!.at) m = r;
        if (m === i) break;
        [h[m], h[i]] = [h[i]!, h[m]!];
        i = m;
      }
    }
    return top;
  }
}
