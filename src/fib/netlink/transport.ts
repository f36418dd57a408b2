// The netlink shell over the native addon: a request socket that pipelines
// batches of route changes, runs dumps (NLM_F_DUMP, decoded burst by burst so
// a large table never blocks the event loop for long), and a monitor socket
// for multicast notifications that reports receive-queue overruns (ENOBUFS)
// so the FIB can resynchronise by dumping.
//
// Outcomes are attributed by sequence number (RFC 3549 §2.3.2.2). By default
// only the last request of each send carries NLM_F_ACK: the kernel answers a
// failed request with NLMSG_ERROR whether or not it asked for an ACK
// (netlink_rcv_skb), and it handles the requests of one send in order, so
// when the last one is answered every request before it without an error
// answer succeeded. That spares the kernel one ACK message per route. The
// window (requests sent and not yet settled) is sized so that even if every
// one of them fails, the error answers fit the receive buffer and stay
// attributable; an overrun still fails all unsettled requests as lost.
import { constants as osConstants } from 'node:os';
import { type Clock, type TimerHandle, systemClock } from '../../lib/clock.js';
import { loadNative, type NativeAddon, type NativeNetlinkHandle } from '../../lib/native.js';
import * as C from './constants.js';
import { decodeEvent, type RtnlEvent } from './events.js';
import { decodeAddress, decodeLink, type KernelAddress, type KernelLink } from './interfaces.js';
import { decodeAck, decodeRoute, encodeDumpRequest, encodeRouteOp, type KernelRoute, NlWriter, type NlMessage, type RouteOp, splitMessages } from './messages.js';

/** Outcome of one request: the kernel's ACK, or the errno it answered with. */
export type NetlinkOutcome =
  | { readonly ok: true }
  | { readonly ok: false; readonly errno: number; readonly code: string; readonly message?: string };

const ERRNO_NAMES = new Map<number, string>(Object.entries(osConstants.errno).map(([name, n]) => [n, name]));
export const errnoName = (errno: number): string => ERRNO_NAMES.get(errno) ?? `E${errno}`;
const failure = (errno: number, message?: string): NetlinkOutcome => ({ ok: false, errno, code: errnoName(errno), ...(message ? { message } : {}) });

export interface NetlinkSocketOptions {
  /** Network namespace to open the socket in (a path such as /run/netns/NAME). */
  netns?: string;
  /** Receive buffer; the error answers of a whole window must fit (default 8 MiB). */
  rcvbuf?: number;
  /** No answer for this long fails what is outstanding with ETIMEDOUT (default 10 s). */
  timeoutMs?: number;
  /**
   * Most requests sent and not yet settled (default 16384: a failure answer
   * with its echoed request and extended-ACK text takes under 1 KiB of a
   * doubled 8 MiB receive buffer, so 16384 failures still fit).
   */
  window?: number;
  /** Most requests packed into one send (default 1024). */
  chunk?: number;
  /** Ask for an ACK on every request instead of only the last of each send. */
  ackEach?: boolean;
  /** Time budget of sends in one go before yielding to the event loop (default 8 ms). */
  sliceMs?: number;
  clock?: Clock;
  /** For tests: an addon stand-in. */
  native?: NativeAddon;
}

interface Job {
  readonly ops: readonly RouteOp[];
  readonly results: NetlinkOutcome[];
  next: number;
  remaining: number;
  readonly resolve: (r: NetlinkOutcome[]) => void;
}

/** One send: requests with consecutive sequence numbers firstSeq.., the last one acked. */
interface Chunk {
  readonly job: Job;
  readonly firstSeq: number;
  /** Job index of the request with sequence number firstSeq + i. */
  readonly indices: number[];
  /** Requests not yet settled. */
  open: number;
}

const OK: NetlinkOutcome = Object.freeze({ ok: true });
const MAX_SEQ = 0xffffffff;

interface Dump {
  readonly seq: number;
  readonly visit: (msg: NlMessage) => string | undefined;
  interrupted: boolean;
  readonly resolve: (interrupted: boolean) => void;
  readonly reject: (e: Error) => void;
}

/** A NETLINK_ROUTE socket for requests and dumps. */
export class NetlinkRouteSocket {
  private readonly native: NativeAddon;
  private readonly handle: NativeNetlinkHandle;
  private readonly clock: Clock;
  private readonly timeoutMs: number;
  private readonly window: number;
  private readonly chunk: number;
  private readonly ackEach: boolean;
  private readonly sliceMs: number;
  private readonly writer = new NlWriter(256 * 1024);
  private seq = 1;
  /** Sends not yet fully settled, oldest first (the kernel answers in this order). */
  private readonly chunks: Chunk[] = [];
  /** Requests sent and not yet settled. */
  private outstanding = 0;
  /** When this event-loop turn's sends began (-1: none yet); yielded: sends wait for the next turn. */
  private sliceStart = -1;
  private yielded = false;
  private readonly jobs: Job[] = [];
  private dump: Dump | undefined;
  private dumpQueue: Promise<unknown> = Promise.resolve();
  private timer: TimerHandle | undefined;
  private lastProgress = 0;
  private closed = false;
  /** After an overrun the kernel drops everything until we empty the queue: hold sends till then. */
  private congested = false;
  /** Counters for metrics: datagrams sent, ENOBUFS seen, timeouts. */
  readonly stats = { sends: 0, overruns: 0, timeouts: 0 };

  constructor(options: NetlinkSocketOptions = {}) {
    this.native = options.native ?? loadNative();
    this.clock = options.clock ?? systemClock;
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.window = options.window ?? 16_384;
    this.chunk = Math.min(options.chunk ?? 1024, this.window);
    this.ackEach = options.ackEach ?? false;
    this.sliceMs = options.sliceMs ?? 8;
    const open: { rcvbuf: number; sndbuf: number; netns?: string } = { rcvbuf: options.rcvbuf ?? 8 << 20, sndbuf: 4 << 20 };
    if (options.netns) open.netns = options.netns;
    this.handle = this.native.open(open, (data, errno, drained) => this.onData(data, errno, drained));
    this.native.ref(this.handle, false);
  }

  get portId(): number {
    return this.handle.portId;
  }

  /** Applies route changes in order; one outcome per op, never rejects. */
  applyRoutes(ops: readonly RouteOp[]): Promise<NetlinkOutcome[]> {
    if (ops.length === 0) return Promise.resolve([]);
    if (this.closed) return Promise.resolve(ops.map(() => failure(9 /* EBADF */, 'socket closed')));
    return new Promise((resolve) => {
      this.jobs.push({ ops, results: new Array<NetlinkOutcome>(ops.length), next: 0, remaining: ops.length, resolve });
      this.pump();
    });
  }

  /** Dumps routes (family AF_INET, AF_INET6 or 0 for both), retrying an interrupted dump. */
  async dumpRoutes(family = 0): Promise<KernelRoute[]> {
    return this.dumpDecoded('route', family, (m) => (m.type === C.RTM_NEWROUTE ? decodeRoute(m) : { ok: true, value: null }));
  }

  async dumpLinks(): Promise<KernelLink[]> {
    return this.dumpDecoded('link', 0, (m) => (m.type === C.RTM_NEWLINK ? decodeLink(m) : { ok: true, value: null }));
  }

  async dumpAddresses(family = 0): Promise<KernelAddress[]> {
    return this.dumpDecoded('addr', family, (m) => (m.type === C.RTM_NEWADDR ? decodeAddress(m) : { ok: true, value: null }));
  }

  /**
   * Runs one dump, handing every message to `visit` as it arrives. Resolves
   * with whether the kernel flagged it inconsistent (NLM_F_DUMP_INTR).
   */
  dumpRaw(kind: 'route' | 'link' | 'addr', family: number, visit: (msg: NlMessage) => string | undefined): Promise<boolean> {
    // The kernel runs one dump per socket at a time: queue them.
    const run = this.dumpQueue.then(
      () =>
        new Promise<boolean>((resolve, reject) => {
          if (this.closed) return reject(new Error('netlink socket closed'));
          const seq = this.nextSeq();
          this.dump = { seq, visit, interrupted: false, resolve, reject };
          this.busy();
          const sent = this.native.send(this.handle, encodeDumpRequest(kind, family, seq));
          if (sent < 0) this.finishDump(new Error(`netlink dump send failed: ${errnoName(-sent)}`));
        }),
    );
    this.dumpQueue = run.catch(() => undefined);
    return run;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.timer?.cancel();
    this.failOutstanding(9 /* EBADF */, 'socket closed');
    for (const job of this.jobs.splice(0)) {
      for (let i = job.next; i < job.ops.length; i++) job.results[i] = failure(9, 'socket closed');
      job.resolve(job.results);
    }
    this.native.close(this.handle);
  }

  // ------------------------------------------------------------ internals

  private async dumpDecoded<T>(kind: 'route' | 'link' | 'addr', family: number, decode: (m: NlMessage) => { ok: true; value: T | null } | { ok: false; error: string }): Promise<T[]> {
    for (let attempt = 0; ; attempt++) {
      const out: T[] = [];
      const interrupted = await this.dumpRaw(kind, family, (m) => {
        const r = decode(m);
        if (!r.ok) return r.error;
        if (r.value !== null) out.push(r.value);
        return undefined;
      });
      if (!interrupted || attempt >= 4) return out;
    }
  }

  private nextSeq(): number {
    const s = this.seq;
    this.seq = this.seq >= 0xffffffff ? 1 : this.seq + 1;
    return s;
  }

  /**
   * Sends chunks while the window has room. A send of 1024 routes keeps the
   * kernel busy for a few ms in our thread, so sends of one event-loop turn
   * (over all callers) stop after sliceMs and go on in the next turn.
   */
  private pump(): void {
    if (this.yielded) return; // the next turn goes on
    while (!this.closed && !this.congested && this.jobs.length > 0 && this.outstanding < this.window) {
      const now = this.clock.now();
      if (this.sliceStart < 0) {
        this.sliceStart = now;
        setImmediate(() => {
          this.sliceStart = -1;
          if (!this.yielded) return;
          this.yielded = false;
          this.pump();
        });
      } else if (now - this.sliceStart >= this.sliceMs) {
        this.yielded = true;
        break;
      }
      this.sendChunk(this.jobs[0]!);
    }
    this.idleCheck();
  }

  /** Packs and sends up to one chunk of the job's requests. */
  private sendChunk(job: Job): void {
    const w = this.writer;
    w.rewind(0);
    const room = Math.min(this.window - this.outstanding, this.chunk);
    // Sequence numbers of one chunk never wrap: start over well before 2^32.
    if (this.seq > MAX_SEQ - room) this.seq = 1;
    const firstSeq = this.seq;
    const indices: number[] = [];
    let lastAt = -1;
    while (indices.length < room && job.next < job.ops.length) {
      const index = job.next++;
      const at = w.pos;
      const err = encodeRouteOp(w, job.ops[index]!, this.seq, this.ackEach);
      if (err) {
        job.results[index] = failure(22 /* EINVAL */, err);
        job.remaining--;
        continue;
      }
      lastAt = at;
      this.seq++;
      indices.push(index);
    }
    if (job.next >= job.ops.length) this.jobs.shift();
    if (indices.length > 0) {
      // The barrier: the last request asks for an ACK (RFC 3549 §2.3.2.2).
      w.buf.writeUInt16LE(w.buf.readUInt16LE(lastAt + 6) | C.NLM_F_ACK, lastAt + 6);
      const chunk: Chunk = { job, firstSeq, indices, open: indices.length };
      this.chunks.push(chunk);
      this.outstanding += indices.length;
      this.busy();
      this.stats.sends++;
      const sent = this.native.send(this.handle, w.buf.subarray(0, w.pos));
      // Nothing of this chunk reached the kernel.
      if (sent < 0) this.closeChunk(chunk, failure(-sent, 'send failed'));
    }
    if (job.remaining === 0 && job.next >= job.ops.length) job.resolve(job.results);
  }

  /** Settles request `i` of a chunk (once). */
  private settleAt(chunk: Chunk, i: number, outcome: NetlinkOutcome): void {
    const job = chunk.job;
    const index = chunk.indices[i]!;
    if (job.results[index] !== undefined) return;
    job.results[index] = outcome;
    chunk.open--;
    this.outstanding--;
    if (chunk.open === 0) this.chunks.splice(this.chunks.indexOf(chunk), 1);
    if (--job.remaining === 0 && job.next >= job.ops.length) job.resolve(job.results);
  }

  /** Settles every unsettled request of a chunk with `outcome`. */
  private closeChunk(chunk: Chunk, outcome: NetlinkOutcome): void {
    for (let i = 0; i < chunk.indices.length && chunk.open > 0; i++) this.settleAt(chunk, i, outcome);
  }

  /** An NLMSG_ERROR for one of our requests: its outcome, and for the last of a chunk, the chunk's end. */
  private answer(seq: number, outcome: NetlinkOutcome): boolean {
    for (let c = 0; c < this.chunks.length; c++) {
      const chunk = this.chunks[c]!;
      const i = seq - chunk.firstSeq;
      if (i < 0 || i >= chunk.indices.length) continue;
      if (!this.ackEach && i === chunk.indices.length - 1) {
        // Answers come in send order: an earlier chunk still open lost its barrier.
        while (this.chunks[0] !== chunk) this.closeChunk(this.chunks[0]!, failure(5 /* EIO */, 'acknowledgement missing'));
        this.settleAt(chunk, i, outcome);
        this.closeChunk(chunk, OK);
      } else this.settleAt(chunk, i, outcome);
      return true;
    }
    return false;
  }

  private onData(data: Buffer | null, errno: number, drained: boolean): void {
    this.lastProgress = this.clock.now();
    if (data !== null) this.receive(data);
    if (errno === -105 /* ENOBUFS */) {
      // Acknowledgements were dropped. Those that did arrive were settled just
      // above; every request still outstanding is reported lost (its change
      // may or may not be in the kernel; replace is safe to retry).
      this.stats.overruns++;
      this.congested = true;
      this.failOutstanding(105, 'receive queue overrun: acknowledgement lost');
      this.finishDump(new Error('netlink dump lost messages (ENOBUFS)'));
    }
    if (drained) this.congested = false;
    this.pump();
  }

  private receive(data: Buffer): void {
    const split = splitMessages(data);
    if (!split.ok) return; // a datagram we cannot frame carries nothing attributable
    for (const msg of split.value) {
      if (msg.type === C.NLMSG_ERROR) {
        const ack = decodeAck(msg);
        if (!ack.ok) continue;
        const { errno: e, seq, message } = ack.value;
        if (this.dump && seq === this.dump.seq) this.finishDump(new Error(`netlink dump failed: ${errnoName(e)}${message ? `: ${message}` : ''}`));
        else this.answer(seq, e === 0 ? OK : failure(e, message));
      } else if (this.dump && msg.seq === this.dump.seq) {
        if (msg.flags & C.NLM_F_DUMP_INTR) this.dump.interrupted = true;
        if (msg.type === C.NLMSG_DONE) this.finishDump();
        else {
          const problem = this.dump.visit(msg);
          if (problem) this.finishDump(new Error(`netlink dump: ${problem}`));
        }
      }
    }
  }

  private finishDump(error?: Error): void {
    const d = this.dump;
    if (!d) return;
    this.dump = undefined;
    if (error) d.reject(error);
    else d.resolve(d.interrupted);
    this.idleCheck();
  }

  private failOutstanding(errno: number, message: string): void {
    const lost = failure(errno, message);
    while (this.chunks.length > 0) this.closeChunk(this.chunks[0]!, lost);
  }

  /** Keeps the process alive and arms the no-progress timeout while anything is outstanding. */
  private busy(): void {
    this.lastProgress = this.clock.now();
    this.native.ref(this.handle, true);
    if (!this.timer) this.armTimer(this.timeoutMs);
  }

  private armTimer(ms: number): void {
    this.timer = this.clock.after(ms, () => {
      this.timer = undefined;
      if (this.outstanding === 0 && !this.dump) return;
      const idle = this.clock.now() - this.lastProgress;
      if (idle < this.timeoutMs) return this.armTimer(this.timeoutMs - idle);
      this.stats.timeouts++;
      this.failOutstanding(110 /* ETIMEDOUT */, `no answer from the kernel in ${this.timeoutMs} ms`);
      this.finishDump(new Error(`netlink dump timed out after ${this.timeoutMs} ms`));
      this.pump();
    });
  }

  private idleCheck(): void {
    if (this.outstanding > 0 || this.dump || this.jobs.length > 0 || this.closed) return;
    this.timer?.cancel();
    this.timer = undefined;
    this.native.ref(this.handle, false);
  }
}

export interface MonitorHandlers {
  onEvent(event: RtnlEvent): void;
  /** Notifications were lost (ENOBUFS): the kernel state must be re-read by a dump. */
  onOverflow(): void;
  /** A message that could not be decoded, or another socket error. */
  onError?(reason: string): void;
}

export interface MonitorOptions {
  /** RTNLGRP_* groups; default IPv4 and IPv6 routes, links and addresses. */
  groups?: number[];
  netns?: string;
  rcvbuf?: number;
  /** Keep the process alive while monitoring (default true). */
  ref?: boolean;
  native?: NativeAddon;
}

export const DEFAULT_MONITOR_GROUPS = [C.RTNLGRP_IPV4_ROUTE, C.RTNLGRP_IPV6_ROUTE, C.RTNLGRP_LINK, C.RTNLGRP_IPV4_IFADDR, C.RTNLGRP_IPV6_IFADDR];

/** A socket joined to rtnetlink multicast groups, delivering typed events. */
export class NetlinkMonitor {
  private readonly native: NativeAddon;
  private readonly handle: NativeNetlinkHandle;
  private closed = false;
  readonly stats = { events: 0, overruns: 0 };

  constructor(handlers: MonitorHandlers, options: MonitorOptions = {}) {
    this.native = options.native ?? loadNative();
    const open: { groups: number[]; rcvbuf: number; netns?: string } = {
      groups: options.groups ?? DEFAULT_MONITOR_GROUPS,
      rcvbuf: options.rcvbuf ?? 8 << 20,
    };
    if (options.netns) open.netns = options.netns;
    this.handle = this.native.open(open, (data, errno) => {
      if (this.closed) return;
      if (data !== null) {
        const split = splitMessages(data);
        if (!split.ok) handlers.onError?.(split.error);
        else
          for (const msg of split.value) {
            const ev = decodeEvent(msg);
            if (!ev.ok) handlers.onError?.(ev.error);
            else if (ev.value) {
              this.stats.events++;
              handlers.onEvent(ev.value);
            }
          }
      }
      if (errno === -105 /* ENOBUFS */) {
        // Notifications were lost; the FIB resynchronises by dumping.
        this.stats.overruns++;
        handlers.onOverflow();
      } else if (errno < 0) handlers.onError?.(`netlink monitor: ${errnoName(-errno)}`);
    });
    this.native.ref(this.handle, options.ref ?? true);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.native.close(this.handle);
  }
}
