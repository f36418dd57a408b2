// The BFD session table and its I/O (RFC 5881 single hop over IPv4 and IPv6):
// carries out the actions of the pure fsm.ts against a Transport (UDP sockets)
// and a Clock (timers), decodes and demultiplexes received datagrams
// (packet.ts, demux.ts) and counts what it drops. It runs inside the BFD
// worker (worker.ts) with the native UDP transport; tests run it on a fake
// clock and a fake transport. Only state changes leave it (onStateChange).
//
// RFC 5881 §4: packets go to port 3784 from a source port in 49152–65535,
// one source port per session for its whole life. RFC 5881 §5: sent with TTL
// 255; received ones with a lower TTL are dropped (the transport reports it).
//
// RFC 5880 §6.8.16: a removed session (peer deconfigured or shut down in the
// file, BFD turned off for it) is not freed at once: it keeps sending AdminDown
// for its window (fsm.ts adminDownWindowUs), out of the table the API shows but
// still owning its discriminator and source port, and is freed when the FSM
// reports 'silent'. Added again meanwhile, it comes back (AdminDown → Down).
// stop() does the same for every session at once, bounded by a stop budget.

import type { Clock, TimerHandle } from '../lib/clock.js';
import { canonicalIp } from '../lib/address.js';
import { allocateDiscriminator, selectSession } from './demux.js';
import { detectionTimeUs, initialSession, step, TIMER_EVENT, txInterval, type BfdEvent, type BfdSession, type BfdTimerName, type BfdTimers } from './fsm.js';
import {
  BFD_CONTROL_PORT,
  BFD_SOURCE_PORT_MAX,
  BFD_SOURCE_PORT_MIN,
  decodeControl,
  encodeControl,
  type BfdDiagnostic,
  type BfdDropReason,
  type BfdState,
} from './packet.js';
import type { BfdSessionSpec, BfdSessionView, BfdSnapshot, BfdStateChange } from './types.js';

/** A bound UDP socket as the engine sees it. */
export interface BfdSocket {
  readonly port: number;
  /** Bytes sent or a negative errno. */
  send(data: Buffer, address: string, port: number): number;
  close(): void;
}

export interface BfdTransport {
  /** The receive socket of a family on port 3784; throws when it cannot be bound. */
  openReceiver(family: 4 | 6, onDatagram: (data: Buffer, address: string, port: number, ttl: number) => void): BfdSocket;
  /** A send socket bound to `localAddress` (or any) and `port`; throws (errno -98 EADDRINUSE) when taken. */
  openSender(family: 4 | 6, localAddress: string | undefined, port: number): BfdSocket;
}

export interface BfdEngineOptions {
  readonly clock: Clock;
  readonly random: () => number;
  readonly transport: BfdTransport;
  readonly onStateChange: (change: BfdStateChange) => void;
  /** Wall-clock milliseconds for `since` fields (Date.now in production). */
  readonly wallClock?: () => number;
}

interface Entry {
  readonly key: string;
  readonly spec: BfdSessionSpec;
  readonly family: 4 | 6;
  readonly peer: string;
  s: BfdSession;
  socket: BfdSocket | undefined;
  readonly timers: Map<BfdTimerName, TimerHandle>;
  /** Removed: sending AdminDown until the FSM says 'silent', then freed. */
  removing: boolean;
  /** Freed: sockets closed, out of every table; late timer events are ignored. */
  freed: boolean;
  upSince: number | undefined;
  lastChange: number;
  lastDownDiagnostic: BfdDiagnostic;
  flaps: number;
  readonly downs: Map<BfdDiagnostic, number>;
  packetsIn: number;
  packetsOut: number;
  sendErrors: number;
  lastPeriodicAt: number | undefined;
  maxTxGapMs: number;
}

/** Canonical text of an address (the form the kernel reports), and its family; undefined when not an address. */
export function canonicalAddress(text: string): { family: 4 | 6; address: string } | undefined {
  const address = canonicalIp(text); // lib/address.ts: the one canonical form of the daemon
  if (address === undefined) return undefined;
  return { family: address.includes(':') ? 6 : 4, address };
}

/**
 * Why a session is not Up, in one word for the API and `bgp-ts bfd`: a peer
 * that never sent us a valid packet has BFD missing or off (issue: "shows
 * Down with a reason"), one that says AdminDown turned it off on purpose.
 */
export function downReason(state: BfdState, remoteState: BfdState, packetsIn: number, lastDown: BfdDiagnostic): string {
  if (state === 'AdminDown') return 'administratively-down';
  if (packetsIn === 0) return 'no-packets-from-peer';
  if (remoteState === 'AdminDown') return 'peer-admin-down';
  return lastDown === 'none' ? 'waiting-for-peer' : lastDown;
}

export function toTimers(t: { minRx: number; minTx: number; multiplier: number }): BfdTimers {
  return { desiredMinTxUs: Math.round(t.minTx * 1000), requiredMinRxUs: Math.round(t.minRx * 1000), detectMult: t.multiplier };
}

/**
 * Daemon stop (RFC 5880 §6.8.16): every session sends AdminDown in parallel
 * for min(its window, this budget), so a stop takes at most about 1 s however
 * many sessions there are. The first AdminDown of each goes out at once.
 */
export const STOP_BUDGET_MS = 1_000;

export class BfdEngine {
  private readonly byKey = new Map<string, Entry>();
  /** Removed sessions still sending AdminDown (§6.8.16), in byDiscriminator but not byKey / byPeer. */
  private readonly lingering = new Set<Entry>();
  private stopped: (() => void) | undefined;
  private stopping: Promise<void> | undefined;
  private readonly byDiscriminator = new Map<number, Entry>();
  private readonly byPeer = new Map<string, Entry>();
  private readonly receivers = new Map<4 | 6, BfdSocket>();
  private readonly drops = new Map<BfdDropReason, number>();
  private received = 0;
  private readonly wall: () => number;

  constructor(private readonly opts: BfdEngineOptions) {
    this.wall = opts.wallClock ?? (() => Date.now());
  }

  /** Adds (or replaces the timers of) the session for `spec.peer`. Throws on an address that is not one. */
  add(spec: BfdSessionSpec): void {
    const peer = canonicalAddress(spec.peer);
    if (!peer) throw new TypeError(`BFD peer ${JSON.stringify(spec.peer)} is not an IP address`);
    const existing = this.byKey.get(peer.address);
    if (existing) {
      this.update(peer.address, spec);
      return;
    }
    const back = [...this.lingering].find((e) => e.key === peer.address && e.spec.localAddress === spec.localAddress);
    if (back && !this.stopped) {
      // Re-enabled inside its AdminDown window: the same session (discriminator, source port) comes back Down.
      this.lingering.delete(back);
      back.removing = false;
      Object.assign(back, { spec });
      this.byKey.set(back.key, back);
      this.byPeer.set(back.peer, back);
      this.feed(back, { type: 'configure', timers: toTimers(spec) });
      this.feed(back, { type: 'admin-up' });
      return;
    }
    this.ensureReceiver(peer.family);
    const discr = allocateDiscriminator(new Set(this.byDiscriminator.keys()), this.opts.random);
    const e: Entry = {
      key: peer.address,
      spec,
      family: peer.family,
      peer: peer.address,
      s: initialSession(discr, toTimers(spec)),
      socket: undefined,
      timers: new Map(),
      removing: false,
      freed: false,
      upSince: undefined,
      lastChange: this.wall(),
      lastDownDiagnostic: 'none',
      flaps: 0,
      downs: new Map(),
      packetsIn: 0,
      packetsOut: 0,
      sendErrors: 0,
      lastPeriodicAt: undefined,
      maxTxGapMs: 0,
    };
    e.socket = this.openSender(peer.family, spec.localAddress);
    this.byKey.set(e.key, e);
    this.byDiscriminator.set(discr, e);
    this.byPeer.set(e.peer, e);
    this.feed(e, { type: 'start' });
  }

  /** New timers for a running session: RFC 5880 §6.8.3 Poll / Final, never a reset. */
  update(peer: string, spec: Pick<BfdSessionSpec, 'minRx' | 'minTx' | 'multiplier'>): boolean {
    const e = this.entry(peer);
    if (!e) return false;
    Object.assign(e, { spec: { ...e.spec, ...spec } });
    this.feed(e, { type: 'configure', timers: toTimers(spec) });
    return true;
  }

  /** RFC 5880 §6.8.16: AdminDown (peer shut down); `false` brings it back to Down. */
  adminDown(peer: string, down: boolean): boolean {
    const e = this.entry(peer);
    if (!e) return false;
    this.feed(e, { type: down ? 'admin-down' : 'admin-up' });
    return true;
  }

  /**
   * Removes a session; with `adminDown` the peer is told AdminDown (§6.8.16)
   * for the session's window first, so it counts no failure, and the session is
   * freed after; without, at once.
   */
  remove(peer: string, adminDown = true): boolean {
    const e = this.entry(peer);
    if (!e) return false;
    this.byKey.delete(e.key);
    this.byPeer.delete(e.peer);
    if (!adminDown) {
      this.free(e);
      return true;
    }
    e.removing = true;
    this.lingering.add(e);
    if (e.s.state !== 'AdminDown') this.feed(e, { type: 'admin-down' });
    else if (e.s.silent) this.free(e); // shut down long ago: the peer was told
    return true;
  }

  /**
   * Daemon stop: every session AdminDown (told to the peers at once), kept
   * sending in parallel for min(its window, budgetMs) (STOP_BUDGET_MS), then
   * every socket closed. Resolves when all are freed.
   */
  stop(budgetMs = STOP_BUDGET_MS): Promise<void> {
    if (this.stopping) return this.stopping; // a second stop meanwhile waits for the same end
    const p = new Promise<void>((resolve) => {
      const done = (): void => {
        timer?.cancel();
        this.stopped = undefined;
        for (const e of [...this.lingering]) this.free(e);
        for (const r of this.receivers.values()) r.close();
        this.receivers.clear();
        resolve();
      };
      let timer: TimerHandle | undefined;
      for (const e of [...this.byKey.values()]) {
        this.byKey.delete(e.key);
        this.byPeer.delete(e.peer);
        e.removing = true;
        this.lingering.add(e);
        if (e.s.state !== 'AdminDown') this.feed(e, { type: 'admin-down', maxMs: budgetMs });
        else if (e.s.silent) this.free(e);
      }
      if (this.lingering.size === 0) return done();
      this.stopped = done; // the last session freed (its window over) ends the stop early
      timer = this.opts.clock.after(budgetMs, done); // sessions already lingering with a longer window end here too
    });
    this.stopping = p;
    void p.then(() => {
      if (this.stopping === p) this.stopping = undefined;
    });
    return p;
  }

  /** Closes a session's socket and timers and forgets it. */
  private free(e: Entry): void {
    if (e.freed) return;
    e.freed = true;
    for (const t of e.timers.values()) t.cancel();
    e.timers.clear();
    e.socket?.close();
    e.socket = undefined;
    this.lingering.delete(e);
    if (this.byKey.get(e.key) === e) this.byKey.delete(e.key);
    if (this.byPeer.get(e.peer) === e) this.byPeer.delete(e.peer);
    if (this.byDiscriminator.get(e.s.localDiscr) === e) this.byDiscriminator.delete(e.s.localDiscr);
    if (this.stopped && this.lingering.size === 0) this.stopped();
  }

  snapshot(): BfdSnapshot {
    const sessions: BfdSessionView[] = [...this.byKey.values()].map((e) => this.view(e));
    return { sessions, received: this.received, dropped: Object.fromEntries(this.drops) as BfdSnapshot['dropped'] };
  }

  private view(e: Entry): BfdSessionView {
    const s = e.s;
    const now = this.wall();
    return {
      peer: e.peer,
      ...(e.spec.localAddress !== undefined ? { localAddress: e.spec.localAddress } : {}),
      state: s.state,
      remoteState: s.remoteState,
      diagnostic: s.localDiag,
      lastDownDiagnostic: e.lastDownDiagnostic,
      ...(s.state !== 'Up' ? { downReason: downReason(s.state, s.remoteState, e.packetsIn, e.lastDownDiagnostic) } : {}),
      localDiscriminator: s.localDiscr,
      remoteDiscriminator: s.remoteDiscr,
      multiplier: s.detectMult,
      remoteMultiplier: s.remoteDetectMult,
      desiredMinTxMs: s.desiredMinTxUs / 1000,
      requiredMinRxMs: s.requiredMinRxUs / 1000,
      remoteMinRxMs: s.remoteMinRxUs / 1000,
      remoteMinTxMs: s.remoteDesiredMinTxUs / 1000,
      txIntervalMs: txInterval(s) / 1000,
      rxIntervalMs: Math.max(s.rxBaseUs, s.remoteDesiredMinTxUs) / 1000,
      detectionTimeMs: detectionTimeUs(s) / 1000,
      remoteCpi: s.remoteCpi,
      polling: s.polling,
      uptimeSeconds: e.upSince === undefined ? 0 : Math.max(0, Math.floor((now - e.upSince) / 1000)),
      lastChangeSeconds: Math.max(0, Math.floor((now - e.lastChange) / 1000)),
      flaps: e.flaps,
      downsByDiagnostic: Object.fromEntries(e.downs),
      packetsIn: e.packetsIn,
      packetsOut: e.packetsOut,
      sendErrors: e.sendErrors,
      maxTxGapMs: e.maxTxGapMs,
      sourcePort: e.socket?.port ?? 0,
    };
  }

  /** Resets the worst-gap figure of every session (benchmarks read it per phase). */
  resetGaps(): void {
    for (const e of this.byKey.values()) e.maxTxGapMs = 0;
  }

  private entry(peer: string): Entry | undefined {
    const c = canonicalAddress(peer);
    return c ? this.byKey.get(c.address) : undefined;
  }

  private ensureReceiver(family: 4 | 6): void {
    if (this.receivers.has(family)) return;
    this.receivers.set(
      family,
      this.opts.transport.openReceiver(family, (data, address, port, ttl) => this.receive(data, address, port, ttl)),
    );
  }

  /** RFC 5881 §4: a source port in 49152–65535, picked at random, retried while taken. */
  private openSender(family: 4 | 6, localAddress: string | undefined): BfdSocket {
    const span = BFD_SOURCE_PORT_MAX - BFD_SOURCE_PORT_MIN + 1;
    let last: unknown;
    for (let i = 0; i < 64; i++) {
      const port = BFD_SOURCE_PORT_MIN + Math.floor(Math.min(this.opts.random(), 0.999999) * span);
      try {
        return this.opts.transport.openSender(family, localAddress, port);
      } catch (err) {
        last = err;
        if ((err as { errno?: number }).errno !== -98) throw err; // anything but EADDRINUSE is final
      }
    }
    throw new Error(`no free BFD source port in ${BFD_SOURCE_PORT_MIN}–${BFD_SOURCE_PORT_MAX}: ${String(last)}`);
  }

  private drop(reason: BfdDropReason): void {
    this.drops.set(reason, (this.drops.get(reason) ?? 0) + 1);
  }

  private receive(data: Buffer, address: string, port: number, ttl: number): void {
    this.received++;
    const d = decodeControl(data);
    if (!d.ok) return this.drop(d.reason);
    const sel = selectSession(
      { byDiscriminator: this.byDiscriminator, byPeer: this.byPeer, peerOf: (e: Entry) => e.peer },
      d.packet,
      { address, port, ttl },
    );
    if (!sel.ok) return this.drop(sel.reason);
    sel.session.packetsIn++;
    this.feed(sel.session, { type: 'packet', packet: d.packet });
  }

  private feed(e: Entry, event: BfdEvent): void {
    if (e.freed) return; // freed meanwhile (a late timer)
    const r = step(e.s, event, { random: this.opts.random });
    e.s = r.session;
    for (const a of r.actions) {
      switch (a.type) {
        case 'send': {
          if (!e.socket) break;
          const now = this.opts.clock.now();
          if (!a.fields.final && event.type === 'tx-timer') {
            // Worst gap between our periodic packets while Up (the figure the benchmark reports).
            if (e.lastPeriodicAt !== undefined && e.s.state === 'Up') e.maxTxGapMs = Math.max(e.maxTxGapMs, now - e.lastPeriodicAt);
            e.lastPeriodicAt = now;
          }
          const n = e.socket.send(encodeControl(a.fields), e.peer, BFD_CONTROL_PORT);
          if (n < 0) e.sendErrors++;
          else e.packetsOut++;
          break;
        }
        case 'arm': {
          e.timers.get(a.timer)?.cancel();
          const timer = a.timer;
          e.timers.set(
            timer,
            this.opts.clock.after(a.ms, () => {
              e.timers.delete(timer);
              this.feed(e, { type: TIMER_EVENT[timer] });
            }),
          );
          break;
        }
        case 'disarm':
          e.timers.get(a.timer)?.cancel();
          e.timers.delete(a.timer);
          break;
        case 'state-change':
          this.changed(e, a.from, a.to, a.diagnostic);
          break;
        case 'poll-complete':
          break;
        case 'silent':
          if (e.removing) this.free(e); // §6.8.16: its AdminDown window is over
          break;
      }
    }
  }

  private changed(e: Entry, from: BfdState, to: BfdState, diagnostic: BfdDiagnostic): void {
    const at = this.wall();
    e.lastChange = at;
    if (to === 'Up') {
      e.upSince = at;
      e.lastPeriodicAt = undefined;
    } else {
      if (from === 'Up') e.flaps++;
      e.upSince = undefined;
    }
    if (to === 'Down' || to === 'AdminDown') e.lastDownDiagnostic = diagnostic;
    if (to === 'Down' && from !== 'AdminDown') e.downs.set(diagnostic, (e.downs.get(diagnostic) ?? 0) + 1);
    this.opts.onStateChange({ peer: e.peer, from, to, diagnostic, remoteCpi: e.s.remoteCpi, remoteState: e.s.remoteState, at });
  }
}
