// Per-peer outbound message queue with socket backpressure (DESIGN.md, Output:
// "a slow peer never blocks the others").
//
// Every message is written whole (one Buffer per BGP message, RFC 4271 §4.1),
// so two messages never interleave. While the socket accepts data we write at
// once; when `socket.write()` returns false we stop and hold further UPDATEs in
// our own queue until 'drain'. Control messages (OPEN, KEEPALIVE, NOTIFICATION,
// ROUTE-REFRESH) jump ahead of queued UPDATEs: a KEEPALIVE must reach the peer
// before its hold timer runs out (RFC 4271 §4.4) however many UPDATEs wait.
// Control messages are written straight to the socket even while it is
// backpressured; Node buffers them behind at most one high-water mark of data,
// never behind our unbounded UPDATE queue.

/** What the queue needs of a socket (a net.Socket satisfies it). */
export interface OutSocket {
  write(data: Buffer): boolean;
  once(event: 'drain', fn: () => void): unknown;
  removeListener(event: 'drain', fn: () => void): unknown;
  readonly destroyed: boolean;
  /** Present on a net.Socket: writes between cork and uncork leave in one writev. */
  cork?(): void;
  uncork?(): void;
}

/** `control` messages jump ahead of queued `update`s. */
export type OutPriority = 'control' | 'update';

export interface OutQueueStats {
  /** Messages and octets held by us (not yet handed to the socket). */
  readonly queuedMessages: number;
  readonly queuedBytes: number;
  /** True while waiting for the socket's 'drain'. */
  readonly blocked: boolean;
  readonly sentMessages: number;
  readonly sentBytes: number;
}

/** Octets handed to the socket in one write when flushing the queue. */
const FLUSH_CHUNK = 64 * 1024;

export class OutQueue {
  private readonly updates: Buffer[] = [];
  private head = 0;
  private queuedBytes = 0;
  private blocked = false;
  private closed = false;
  private sentMessages = 0;
  private sentBytes = 0;
  private readonly onSocketDrain = (): void => this.drained();

  /**
   * @param onWritable called when the queue has emptied after backpressure,
   *   so a producer (the Adj-RIB-Out) can generate more UPDATEs.
   */
  constructor(
    private readonly socket: OutSocket,
    private readonly onWritable: () => void = () => {},
  ) {}

  /** Queues one whole BGP message. Returns false once the caller should pause (queue non-empty). */
  push(message: Buffer, priority: OutPriority = 'update'): boolean {
    if (this.closed || this.socket.destroyed) return false;
    if (priority === 'control') {
      this.write(message);
      return !this.blocked;
    }
    if (!this.blocked && this.size() === 0) {
      this.write(message);
      return !this.blocked;
    }
    this.updates.push(message);
    this.queuedBytes += message.length;
    return false;
  }

  /**
   * Queues whole BGP messages in order, handed to the socket as ONE write when
   * it is free (a slice's worth of UPDATEs for a peer costs one syscall, not
   * one per message): corked, so the buffers go in one writev without a copy,
   * or concatenated on a socket that cannot cork. Returns false once the
   * caller should pause.
   */
  pushMany(messages: readonly Buffer[]): boolean {
    if (this.closed || this.socket.destroyed || messages.length === 0) return !this.closed && !this.blocked;
    if (!this.blocked && this.size() === 0) {
      const s = this.socket;
      if (messages.length > 1 && s.cork && s.uncork) {
        // One writev of the (shared, never copied) buffers.
        s.cork();
        for (const m of messages) this.write(m);
        s.uncork();
        return !this.blocked;
      }
      let bytes = 0;
      for (const m of messages) bytes += m.length;
      this.write(messages.length === 1 ? messages[0]! : Buffer.concat(messages, bytes), messages.length);
      return !this.blocked;
    }
    for (const m of messages) {
      this.updates.push(m);
      this.queuedBytes += m.length;
    }
    return false;
  }

  /** True when a producer may push more UPDATEs without growing our queue. */
  get writable(): boolean {
    return !this.closed && !this.blocked && this.size() === 0;
  }

  stats(): OutQueueStats {
    return {
      queuedMessages: this.size(),
      queuedBytes: this.queuedBytes,
      blocked: this.blocked,
      sentMessages: this.sentMessages,
      sentBytes: this.sentBytes,
    };
  }

  /** Drops everything queued and stops writing (session going down). */
  close(): void {
    this.closed = true;
    this.updates.length = 0;
    this.head = 0;
    this.queuedBytes = 0;
    this.socket.removeListener('drain', this.onSocketDrain);
  }

  private size(): number {
    return this.updates.length - this.head;
  }

  private write(data: Buffer, count = 1): void {
    this.sentMessages += count;
    this.sentBytes += data.length;
    if (!this.socket.write(data) && !this.blocked) {
      this.blocked = true;
      this.socket.once('drain', this.onSocketDrain);
    }
  }

  private drained(): void {
    this.blocked = false;
    if (this.closed) return;
    // Hand queued UPDATEs over in chunks until the socket pushes back again.
    while (!this.blocked && this.size() > 0 && !this.socket.destroyed) {
      const parts: Buffer[] = [];
      let bytes = 0;
      while (this.size() > 0 && bytes < FLUSH_CHUNK) {
        const m = this.updates[this.head++]!;
        parts.push(m);
        bytes += m.length;
      }
      this.queuedBytes -= bytes;
      this.write(parts.length === 1 ? parts[0]! : Buffer.concat(parts, bytes), parts.length);
    }
    if (this.size() === 0) {
      this.updates.length = 0;
      this.head = 0;
    }
    if (!this.blocked && this.size() === 0) this.onWritable();
  }
}
