// One BGP transport connection: a TCP socket, its Framer (RFC 4271 §4.1), the
// decoder with the connection's CodecContext, and its OutQueue. It paces
// input (DESIGN.md, Event loop discipline): messages are decoded and
// delivered for at most INPUT_SLICE_MS (and MESSAGES_PER_SLICE messages) per
// task of the loop-turn budget (lib/loop-turns.ts, shared with RIB and FIB
// work, never past the turn's end), then it yields so timers (our KEEPALIVEs,
// other peers' hold timers) run even while one peer floods us: an UPDATE
// full of NLRI costs far more than a KEEPALIVE, so time, not a count, is the
// bound. While a backlog is pending the socket is paused, so a flood is held
// by TCP flow control rather than our memory.
// No handler here lets an exception escape to the process: a failure is
// reported as `onClosed` after the socket is destroyed.

import type { Socket } from 'node:net';
import type { Clock, TimerHandle } from '../../lib/clock.js';
import { loopTurns } from '../../lib/loop-turns.js';
import {
  DEFAULT_CODEC_CONTEXT,
  Framer,
  decodeMessage,
  encodeMessage,
  maxMessageLength,
  type BgpMessage,
  type CodecContext,
  type Decoded,
  type InboundMessage,
  type WireError,
} from '../wire/index.js';
import { OutQueue, type OutQueueStats } from './out-queue.js';
import type { ConnectionDirection } from '../fsm/index.js';

/** Messages decoded per macrotask at most before yielding to the event loop. */
export const MESSAGES_PER_SLICE = 64;
/** Time decoding and delivering may take per macrotask before yielding, ms (wall clock). */
export const INPUT_SLICE_MS = 4;
/** Undelivered messages above which the socket is paused. */
const PAUSE_BACKLOG = 4 * MESSAGES_PER_SLICE;
/** After `close()`, how long a FIN may take to flush before the socket is destroyed. */
const CLOSE_LINGER_MS = 2000;

export interface ConnectionHandlers {
  /** One decoded message, or the error it decoded to (with the raw message type). */
  onMessage(result: Decoded<InboundMessage>, type: number): void;
  /** The framer lost sync or saw a bad length: the stream is unusable (RFC 4271 §6.1). */
  onFramingError(error: WireError): void;
  /** The socket closed for any reason other than our own `close()`. */
  onClosed(reason: string): void;
  /** The out queue emptied after backpressure. */
  onWritable?(): void;
}

export class Connection {
  readonly remote: string;
  readonly local: string;
  readonly localPort: number;
  private readonly framer = new Framer();
  private readonly out: OutQueue;
  private codec: CodecContext = DEFAULT_CODEC_CONTEXT;
  private backlog: Buffer[] = [];
  private backlogHead = 0;
  private scheduled = false;
  private done = false;
  private linger: TimerHandle | undefined;

  constructor(
    readonly socket: Socket,
    readonly direction: ConnectionDirection,
    private readonly clock: Clock,
    private readonly handlers: ConnectionHandlers,
  ) {
    this.remote = socket.remoteAddress ?? '';
    this.local = socket.localAddress ?? '';
    this.localPort = socket.localPort ?? 0;
    socket.setNoDelay(true);
    this.out = new OutQueue(socket, () => this.handlers.onWritable?.());
    socket.on('data', (chunk: Buffer) => this.guard(() => this.receive(chunk)));
    socket.on('error', () => {}); // 'close' follows with the outcome
    socket.on('end', () => this.guard(() => this.lost('connection closed by peer')));
    socket.on('close', () => this.guard(() => this.lost('connection closed')));
  }

  /** RFC 8654 / RFC 6793 / RFC 7911: switch the codec once the session is negotiated. */
  setCodec(ctx: CodecContext): void {
    this.codec = ctx;
    this.framer.setMaxLength(maxMessageLength(ctx));
  }

  get codecContext(): CodecContext {
    return this.codec;
  }

  get closed(): boolean {
    return this.done;
  }

  /** Encodes and queues a message; KEEPALIVE/NOTIFICATION/OPEN/ROUTE-REFRESH jump queued UPDATEs. */
  send(message: BgpMessage): Buffer | undefined {
    if (this.done) return undefined;
    const bytes = encodeMessage(message, this.codec);
    this.out.push(bytes, message.type === 'update' ? 'update' : 'control');
    return bytes;
  }

  /** Queues an already encoded UPDATE; false when the caller should wait for onWritable. */
  sendRaw(bytes: Buffer): boolean {
    if (this.done) return false;
    return this.out.push(bytes, 'update');
  }

  /** Queues encoded UPDATEs as one write (out-queue.ts pushMany); false when the caller should wait. */
  sendRawMany(messages: readonly Buffer[]): boolean {
    if (this.done) return false;
    return this.out.pushMany(messages);
  }

  get writable(): boolean {
    return !this.done && this.out.writable;
  }

  queueStats(): OutQueueStats {
    return this.out.stats();
  }

  /**
   * Closes after flushing what was already written (a NOTIFICATION sent just
   * before); the socket is destroyed if the FIN cannot go out in time.
   * No `onClosed` follows.
   */
  close(): Promise<void> {
    if (!this.done) this.finish();
    const s = this.socket;
    if (s.destroyed) return Promise.resolve();
    return new Promise<void>((resolve) => {
      s.once('close', () => resolve());
      s.end();
      this.linger = this.clock.after(CLOSE_LINGER_MS, () => s.destroy());
    });
  }

  /** Destroys the socket at once. No `onClosed` follows. */
  destroy(): void {
    if (!this.done) this.finish();
    this.linger?.cancel();
    this.socket.destroy();
  }

  private finish(): void {
    this.done = true;
    this.backlog = [];
    this.backlogHead = 0;
    this.out.close();
    this.socket.on('close', () => this.linger?.cancel());
  }

  private lost(reason: string): void {
    if (this.done) return;
    // A NOTIFICATION usually arrives just before the FIN: deliver what is queued first.
    this.drainBacklog(Infinity);
    if (this.done) return;
    this.finish();
    this.socket.destroy();
    this.handlers.onClosed(reason);
  }

  private receive(chunk: Buffer): void {
    if (this.done) return;
    const { messages, error } = this.framer.push(chunk);
    for (const m of messages) this.backlog.push(m);
    if (error) {
      // Deliver what framed cleanly first, then the error, in order.
      this.drainBacklog(Infinity);
      if (!this.done) this.handlers.onFramingError(error);
      return;
    }
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled || this.done || this.backlog.length === this.backlogHead) return;
    if (this.backlog.length - this.backlogHead > PAUSE_BACKLOG) this.socket.pause();
    this.scheduled = true;
    loopTurns.schedule(() =>
      this.guard(() => {
        this.scheduled = false;
        this.drainBacklog(MESSAGES_PER_SLICE, loopTurns.deadline(INPUT_SLICE_MS));
        if (this.done) return;
        if (this.backlog.length === this.backlogHead) {
          this.backlog = [];
          this.backlogHead = 0;
          this.socket.resume();
        } else {
          this.schedule();
        }
      }),
    );
  }

  /** Delivers up to `limit` backlogged messages, until `deadline` (performance.now() ms). */
  private drainBacklog(limit: number, deadline = Infinity): void {
    let n = 0;
    while (!this.done && this.backlogHead < this.backlog.length && n < limit) {
      const msg = this.backlog[this.backlogHead++]!;
      n++;
      this.handlers.onMessage(decodeMessage(msg, this.codec), msg[18] ?? 0);
      if (performance.now() >= deadline) break;
    }
  }

  /** Runs a socket callback; an exception becomes a reset of this connection, never a crash. */
  private guard(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      if (this.done) return;
      this.finish();
      this.socket.destroy();
      this.handlers.onClosed(`internal error: ${err instanceof Error ? err.message : String(err)}`);
    }
  }
}
