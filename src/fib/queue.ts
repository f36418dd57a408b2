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
  readonly key: FibOpKey;
  /** Latest op not yet sent (undefined: only an in-flight op remains). */
  op: FibOp | undefined;
  inFlight: number | undefined;
  inFlightOp: FibOp | undefined;
  /** Retry time, 0 when ready; retryGen invalidates older heap entries. */
  retryAt: number;
  retryGen: number;
  /** In the ready list (waiting to be taken). */
  ready: boolean;
}

interface HeapEntry {
  readonly at: number;
  readonly key: FibOpKey;
  readonly gen: number;
}

/**
 * Per route the queue does as little hashing as it can: one map of slots;
 * the ready list and the in-flight window are arrays of slots (first-queued
 * order; the window indexed by sequence number), so a write costs a slot
 * lookup, insert and delete and nothing else keyed by prefix.
 */
export class FibQueue {
  private readonly slots = new Map<FibOpKey, Slot>();
  /** Slots ready to send, first-queued first, from readyHead on. */
  private ready: Slot[] = [];
  private readyHead = 0;
  /** In-flight slots by sequence number: flight[seq - flightBase] (undefined once acknowledged). */
  private flight: (Slot | undefined)[] = [];
  private flightBase = 1;
  /** flight[0 .. flightHead) are all acknowledged. */
  private flightHead = 0;
  private flightCount = 0;
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
      slot = { key, op, inFlight: undefined, inFlightOp: undefined, retryAt: 0, retryGen: 0, ready: false };
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
    if (slot.inFlight === undefined) this.markReady(slot);
  }

  private markReady(slot: Slot): void {
    if (slot.ready) return;
    slot.ready = true;
    this.ready.push(slot);
  }

  /** Up to `max` ops to send now; keys in backoff wait until their retry time. */
  takeBatch(max: number, now: number): InFlightOp[] {
    this.promoteDue(now);
    const out: InFlightOp[] = [];
    const ready = this.ready;
    while (out.length < max && this.readyHead < ready.length) {
      const slot = ready[this.readyHead++]!;
      slot.ready = false;
      const op = slot.op!;
      const seq = ++this.seq;
      slot.op = undefined;
      slot.inFlight = seq;
      slot.inFlightOp = op;
      this.flight.push(slot);
      this.flightCount++;
      out.push({ seq, key: slot.key, op });
    }
    if (this.readyHead === ready.length) {
      ready.length = 0;
      this.readyHead = 0;
    } else if (this.readyHead > 4096 && this.readyHead * 2 > ready.length) {
      this.ready = ready.slice(this.readyHead);
      this.readyHead = 0;
    }
    this.counters.sent += out.length;
    return out;
  }

  ack(seq: number, result: AckResult, now: number): AckOutcome {
    const i = seq - this.flightBase;
    const slot = i >= 0 && i < this.flight.length ? this.flight[i] : undefined;
    if (slot === undefined || slot.inFlight !== seq) return 'unknown';
    this.flight[i] = undefined;
    this.flightCount--;
    this.trimFlight();
    const key = slot.key;
    const op = slot.inFlightOp!;
    slot.inFlight = undefined;
    slot.inFlightOp = undefined;

    // DESIGN.md, FIB: "already gone" on delete is success.
    const ok = result === 'ok' || (op.kind === 'delete' && result.errno === ESRCH);
    if (ok) {
      this.counters.succeeded++;
      if (this.failures.size > 0) this.failures.delete(key);
      if (slot.op !== undefined) this.markReady(slot);
      else this.slots.delete(key);
      return 'done';
    }

    this.counters.refused++;
    const errno = (result as { errno: number }).errno;
    const prev = this.failures.get(key);
    const attempts = (prev?.attempts ?? 0) + 1;
    const since = prev?.since ?? now;
    if (slot.op !== undefined) {
      this.failures.set(key, { op, errno, since, attempts, retryAt: undefined });
      this.markReady(slot);
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

  /** Drops acknowledged entries from the front of the in-flight window. */
  private trimFlight(): void {
    if (this.flightCount === 0) {
      this.flightBase = this.seq + 1;
      this.flight.length = 0;
      this.flightHead = 0;
      return;
    }
    const f = this.flight;
    while (this.flightHead < f.length && f[this.flightHead] === undefined) this.flightHead++;
    if (this.flightHead > 1024 && this.flightHead * 2 > f.length) {
      this.flight = f.slice(this.flightHead);
      this.flightBase += this.flightHead;
      this.flightHead = 0;
    }
  }

  /** Puts every in-flight op back as unsent (the socket was lost; no attempt counted). */
  requeueInFlight(): number {
    let n = 0;
    for (const slot of this.flight) {
      if (slot === undefined) continue;
      if (slot.op === undefined) slot.op = slot.inFlightOp;
      slot.inFlight = undefined;
      slot.inFlightOp = undefined;
      if (slot.retryAt === 0) this.markReady(slot);
      n++;
    }
    this.flight = [];
    this.flightCount = 0;
    this.flightHead = 0;
    this.flightBase = this.seq + 1;
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
    return this.flightCount;
  }

  /** Keys that could be sent at `now`. */
  readyCount(now: number): number {
    this.promoteDue(now);
    return this.ready.length - this.readyHead;
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
      if (slot.inFlight === undefined) this.markReady(slot);
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
