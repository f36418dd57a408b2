// OutQueue: whole messages, backpressure honoured, control messages jump the queue.
import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { OutQueue } from '../../../src/bgp/session/out-queue.js';

/** A socket whose write() returns false once `capacity` octets are pending. */
class FakeSocket extends EventEmitter {
  written: Buffer[] = [];
  pending = 0;
  destroyed = false;
  constructor(private readonly capacity: number) {
    super();
  }
  write(data: Buffer): boolean {
    this.written.push(data);
    this.pending += data.length;
    return this.pending < this.capacity;
  }
  /** The peer reads everything. */
  flush(): void {
    this.pending = 0;
    this.emit('drain');
  }
  bytes(): Buffer {
    return Buffer.concat(this.written);
  }
}

const update = (n: number) => Buffer.alloc(100, n); // 100 octets filled with n
const keepalive = Buffer.from('ffffffffffffffffffffffffffffffff' + '0013' + '04', 'hex'); // marker, len 19, type 4

describe('OutQueue', () => {
  it('writes at once while the socket accepts data', () => {
    const s = new FakeSocket(1000);
    const q = new OutQueue(s);
    expect(q.push(update(1))).toBe(true);
    expect(q.push(update(2))).toBe(true);
    expect(s.written).toHaveLength(2);
    expect(q.stats()).toMatchObject({ queuedMessages: 0, blocked: false, sentMessages: 2, sentBytes: 200 });
  });

  it('holds UPDATEs after write() returns false and releases them in order on drain', () => {
    const s = new FakeSocket(250);
    let writable = 0;
    const q = new OutQueue(s, () => writable++);
    q.push(update(1));
    q.push(update(2));
    expect(q.push(update(3))).toBe(false); // 300 >= 250: socket pushes back
    q.push(update(4));
    q.push(update(5));
    expect(s.written).toHaveLength(3);
    expect(q.stats()).toMatchObject({ queuedMessages: 2, queuedBytes: 200, blocked: true });
    expect(q.writable).toBe(false);
    s.flush();
    expect(q.stats().queuedMessages).toBe(0);
    expect(writable).toBe(1);
    // every message whole and in order: 1..5
    const all = s.bytes();
    expect(all.length).toBe(500);
    for (let i = 0; i < 5; i++) expect(all.subarray(i * 100, i * 100 + 100).every((b) => b === i + 1)).toBe(true);
  });

  it('control messages go out ahead of queued UPDATEs, never inside one', () => {
    const s = new FakeSocket(150);
    const q = new OutQueue(s);
    q.push(update(1));
    q.push(update(2)); // blocked now
    q.push(update(3));
    q.push(keepalive, 'control');
    // the KEEPALIVE reached the socket before UPDATE 3
    expect(s.written.map((b) => b.length)).toEqual([100, 100, 19]);
    s.flush();
    const all = s.bytes();
    expect(all.subarray(200, 219).equals(keepalive)).toBe(true);
    expect(all.subarray(219).every((b) => b === 3)).toBe(true);
  });

  it('close() drops queued UPDATEs and refuses more', () => {
    const s = new FakeSocket(50);
    const q = new OutQueue(s);
    q.push(update(1));
    q.push(update(2));
    q.close();
    expect(q.push(update(3))).toBe(false);
    s.flush();
    expect(s.written).toHaveLength(1);
    expect(q.stats().queuedMessages).toBe(0);
  });

  it('pushMany hands a batch to the socket in one write, in order; behind backpressure it queues them whole', () => {
    const s = new FakeSocket(250);
    const q = new OutQueue(s);
    expect(q.pushMany([update(1), update(2)])).toBe(true);
    expect(s.written).toHaveLength(1); // one syscall for the batch
    expect(s.bytes()).toEqual(Buffer.concat([update(1), update(2)]));
    expect(q.pushMany([update(3), update(4)])).toBe(false); // 400 octets pending: the socket pushes back
    expect(s.written).toHaveLength(2);
    expect(q.pushMany([update(5), update(6)])).toBe(false);
    expect(q.stats()).toMatchObject({ queuedMessages: 2, queuedBytes: 200, blocked: true, sentMessages: 4 });
    s.flush();
    expect(s.bytes()).toEqual(Buffer.concat([1, 2, 3, 4, 5, 6].map(update)));
    expect(q.stats()).toMatchObject({ queuedMessages: 0, sentMessages: 6 });
  });

  it('pushMany on a socket that corks: every buffer written as it is (no copy) between one cork and one uncork', () => {
    const s = new FakeSocket(1000) as FakeSocket & { cork(): void; uncork(): void };
    const calls: string[] = [];
    s.cork = () => void calls.push('cork');
    s.uncork = () => void calls.push('uncork');
    const q = new OutQueue(s);
    const batch = [update(1), update(2), update(3)];
    expect(q.pushMany(batch)).toBe(true);
    expect(calls).toEqual(['cork', 'uncork']);
    expect(s.written).toHaveLength(3);
    s.written.forEach((b, i) => expect(b).toBe(batch[i]));
  });
});
