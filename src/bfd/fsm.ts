// The BFD session state machine of RFC 5880 §6.2 and §6.8 (asynchronous mode,
// no Demand mode, no Echo, no authentication) as one pure function:
// step(session, event, ctx) → { session, actions }. The shell (worker.ts)
// feeds received packets and timer expiries and carries out the actions (send
// a packet, arm/disarm the transmit and detection timers, report a state
// change). No sockets and no clocks: delays are computed here, jitter comes
// from the injected ctx.random().
//
// Choices where RFC 5880 leaves room (documented, tested):
// - Active role (§6.1): we always transmit, even before hearing from the peer.
// - A timer change (configure, or the switch to and from the ≥ 1 s idle rate
//   of §6.8.3 on leaving or entering Up) starts a Poll Sequence (§6.5) only
//   while the session is Up; in Down/Init the new values simply apply.
// - Remote Demand mode (D bit) is recorded but not honoured: we keep sending.
// - The C bit (§4.1) is never set: the daemon's BFD shares fate with its
//   control plane. The peer's C bit is kept for RFC 5882 §4.3.2.
// - AdminDown (§6.8.16): "BFD Control packets SHOULD be transmitted for at
//   least a Detection Time after transitioning to AdminDown state", so one
//   lost packet does not make the peer detect a failure (and, RFC 5882 §3.2,
//   tear down BGP). We keep sending AdminDown for adminDownWindowUs (the
//   larger of the two Detection Times, capped) at the transmit interval in use
//   before (the one the peer's Detection Time counts on; the advertised
//   DesiredMinTx still goes to the ≥ 1 s idle value of §6.8.3), then cease
//   (the 'admin' timer, then the 'silent' action). admin-up resumes at once.

import type { BfdControlFields, BfdControlPacket, BfdDiagnostic, BfdState } from './packet.js';

/** RFC 5880 §6.8.3: while not Up, bfd.DesiredMinTxInterval is at least one second. */
export const IDLE_TX_US = 1_000_000;

/** Timer values as configured (microseconds, as on the wire). */
export interface BfdTimers {
  /** bfd.DesiredMinTxInterval once Up. */
  readonly desiredMinTxUs: number;
  /** bfd.RequiredMinRxInterval. */
  readonly requiredMinRxUs: number;
  /** bfd.DetectMult. */
  readonly detectMult: number;
}

/** The RFC 5880 §6.8.1 state variables of one session, plus the values in use during a Poll Sequence. */
export interface BfdSession {
  readonly state: BfdState; // bfd.SessionState
  readonly remoteState: BfdState; // bfd.RemoteSessionState
  readonly localDiscr: number; // bfd.LocalDiscr
  readonly remoteDiscr: number; // bfd.RemoteDiscr
  readonly localDiag: BfdDiagnostic; // bfd.LocalDiag
  readonly configured: BfdTimers;
  /** bfd.DesiredMinTxInterval as advertised now (≥ 1 s while not Up). */
  readonly desiredMinTxUs: number;
  /** bfd.RequiredMinRxInterval as advertised now. */
  readonly requiredMinRxUs: number;
  readonly detectMult: number; // bfd.DetectMult
  /** The DesiredMinTxInterval the transmit interval is computed from (§6.8.3: an increase waits for the Final). */
  readonly txBaseUs: number;
  /** The RequiredMinRxInterval the detection time is computed from (§6.8.3: a reduction waits for the Final). */
  readonly rxBaseUs: number;
  readonly remoteMinRxUs: number; // bfd.RemoteMinRxInterval
  readonly remoteDesiredMinTxUs: number;
  readonly remoteDetectMult: number;
  readonly remoteDemand: boolean; // bfd.RemoteDemandMode
  /** The peer's C bit in its last packet (RFC 5882 §4.3.2). */
  readonly remoteCpi: boolean;
  /** A Poll Sequence is in progress (§6.5). */
  readonly polling: boolean;
  /** The transmit interval last armed (µs before jitter), so a change re-arms the timer. */
  readonly txIntervalUs: number;
  /** AdminDown, and its packets went out for the window: transmission ceased (§6.8.16). */
  readonly silent: boolean;
}

export type BfdTimerName = 'tx' | 'detect' | 'admin';

/** The event each timer's expiry feeds back. */
export const TIMER_EVENT = { tx: 'tx-timer', detect: 'detect-timer', admin: 'admin-timer' } as const satisfies Record<BfdTimerName, BfdEvent['type']>;

/**
 * The longest we keep sending AdminDown (a peer with a multiplier of 255 and
 * 1 s intervals would otherwise keep a removed session for minutes). µs.
 */
export const ADMIN_DOWN_MAX_US = 30_000_000;

export type BfdEvent =
  | { readonly type: 'start' } // the session is created: begin transmitting
  | { readonly type: 'packet'; readonly packet: BfdControlPacket } // passed decodeControl and demux
  | { readonly type: 'tx-timer' } // the periodic transmit timer fired
  | { readonly type: 'detect-timer' } // the Detection Time passed without a packet (§6.8.4)
  | { readonly type: 'admin-down'; readonly maxMs?: number } // §6.8.16: administrative shutdown (maxMs bounds the AdminDown window)
  | { readonly type: 'admin-timer' } // the AdminDown window (§6.8.16) is over
  | { readonly type: 'admin-up' } // leave AdminDown
  | { readonly type: 'configure'; readonly timers: BfdTimers }; // new timers (reload)

export type BfdAction =
  | { readonly type: 'send'; readonly fields: BfdControlFields }
  | { readonly type: 'arm'; readonly timer: BfdTimerName; readonly ms: number }
  | { readonly type: 'disarm'; readonly timer: BfdTimerName }
  | {
      readonly type: 'state-change';
      readonly from: BfdState;
      readonly to: BfdState;
      readonly diagnostic: BfdDiagnostic;
    }
  | { readonly type: 'poll-complete' }
  /** §6.8.16: AdminDown went out for the window; no more packets (a removed session may be freed now). */
  | { readonly type: 'silent' };

export interface BfdStepResult {
  readonly session: BfdSession;
  readonly actions: readonly BfdAction[];
}

export interface BfdContext {
  /** A [0, 1) source for the transmit jitter (§6.8.7). */
  readonly random: () => number;
}

/** §6.8.1: the initial state of a session. `localDiscr` must be nonzero and unique in the system. */
export function initialSession(localDiscr: number, timers: BfdTimers): BfdSession {
  if (!Number.isInteger(localDiscr) || localDiscr < 1 || localDiscr > 0xffffffff)
    throw new RangeError(`local discriminator ${localDiscr} must be a nonzero 32-bit value`); // §6.8.1
  return {
    state: 'Down',
    remoteState: 'Down',
    localDiscr,
    remoteDiscr: 0,
    localDiag: 'none',
    configured: timers,
    desiredMinTxUs: Math.max(timers.desiredMinTxUs, IDLE_TX_US),
    requiredMinRxUs: timers.requiredMinRxUs,
    detectMult: timers.detectMult,
    txBaseUs: Math.max(timers.desiredMinTxUs, IDLE_TX_US),
    rxBaseUs: timers.requiredMinRxUs,
    remoteMinRxUs: 1, // §6.8.1: "This variable MUST be initialized to 1."
    remoteDesiredMinTxUs: 0,
    remoteDetectMult: 0,
    remoteDemand: false,
    remoteCpi: false,
    polling: false,
    txIntervalUs: Math.max(timers.desiredMinTxUs, IDLE_TX_US),
    silent: false,
  };
}

/** §6.8.7: the periodic interval before jitter, or 0 when the peer asked for none (RemoteMinRxInterval 0). */
export function txInterval(s: BfdSession): number {
  if (s.remoteMinRxUs === 0) return 0;
  return Math.max(s.txBaseUs, s.remoteMinRxUs);
}

/**
 * §6.8.7: each interval "MUST be reduced by a random value of 0 to 25%", and
 * by at least 10 % when bfd.DetectMult is 1. We draw the reduction from
 * 10–25 % always (75–90 % of the interval): within the RFC's range, and the
 * 10 % left is headroom for a timer that fires late on a loaded host
 * (bench/bfd.ts measured 31 ms of lateness with two busy cores). Milliseconds.
 */
export function jitteredMs(intervalUs: number, _detectMult: number, random: () => number): number {
  const r = Math.min(Math.max(random(), 0), 0.999999);
  return (intervalUs * (0.75 + 0.15 * r)) / 1000;
}

/**
 * §6.8.4: in Asynchronous mode the Detection Time is the remote Detect Mult
 * times max(bfd.RequiredMinRxInterval, the remote DesiredMinTxInterval). µs.
 */
export function detectionTimeUs(s: BfdSession): number {
  return s.remoteDetectMult * Math.max(s.rxBaseUs, s.remoteDesiredMinTxUs);
}

/**
 * §6.8.16: how long AdminDown is sent before transmission ceases: at least a
 * Detection Time, whichever side's: ours of the peer (§6.8.4, 0 while it was
 * never heard) and the peer's of us (our DetectMult × our transmit interval,
 * ≥ 1 s × DetectMult while the session was never Up). Capped at
 * ADMIN_DOWN_MAX_US; 0 when the peer wants no periodic packets. µs.
 */
export function adminDownWindowUs(s: BfdSession): number {
  const tx = txInterval(s);
  if (tx === 0) return 0;
  return Math.min(Math.max(detectionTimeUs(s), s.detectMult * tx), ADMIN_DOWN_MAX_US);
}

/** §6.8.7: the fields of the next packet we send. */
export function controlFields(s: BfdSession, flags: { poll?: boolean; final?: boolean } = {}): BfdControlFields {
  return {
    diagnostic: s.localDiag,
    state: s.state,
    poll: flags.final ? false : (flags.poll ?? s.polling), // §6.8.7: never P and F together
    final: flags.final ?? false,
    cpi: false,
    demand: false, // Demand mode is not implemented
    detectMult: s.detectMult,
    myDiscriminator: s.localDiscr,
    yourDiscriminator: s.remoteDiscr, // §6.8.7: bfd.RemoteDiscr, zero until learned
    desiredMinTxUs: s.desiredMinTxUs,
    requiredMinRxUs: s.requiredMinRxUs,
    requiredMinEchoRxUs: 0, // Echo is not implemented (§6.8.9: zero means no Echo)
  };
}

class Steps {
  readonly actions: BfdAction[] = [];
  constructor(
    public s: BfdSession,
    private readonly ctx: BfdContext,
  ) {}

  set(patch: Partial<BfdSession>): void {
    this.s = { ...this.s, ...patch };
  }

  send(flags: { poll?: boolean; final?: boolean } = {}): void {
    this.actions.push({ type: 'send', fields: controlFields(this.s, flags) });
  }

  /** (Re)arms the periodic transmit timer from the current interval, or stops it when the peer wants none. */
  armTx(): void {
    const us = txInterval(this.s);
    this.set({ txIntervalUs: us });
    if (us === 0 || this.s.silent) this.actions.push({ type: 'disarm', timer: 'tx' });
    else this.actions.push({ type: 'arm', timer: 'tx', ms: jitteredMs(us, this.s.detectMult, this.ctx.random) });
  }

  /** Re-arms the transmit timer only when the interval changed (a packet must not postpone our next one). */
  retuneTx(): void {
    if (txInterval(this.s) !== this.s.txIntervalUs) this.armTx();
  }

  armDetect(): void {
    const us = detectionTimeUs(this.s);
    if (us > 0) this.actions.push({ type: 'arm', timer: 'detect', ms: us / 1000 });
  }

  changeState(to: BfdState, diagnostic: BfdDiagnostic): void {
    const from = this.s.state;
    if (from === to) return;
    this.set({ state: to, localDiag: diagnostic });
    this.actions.push({ type: 'state-change', from, to, diagnostic });
    this.applyTimers(this.s.configured);
  }

  /**
   * Moves the advertised intervals toward `timers` (idle rate while not Up,
   * §6.8.3) and starts a Poll Sequence when they change while Up (§6.8.3).
   */
  applyTimers(timers: BfdTimers): void {
    const s = this.s;
    const desired = s.state === 'Up' ? timers.desiredMinTxUs : Math.max(timers.desiredMinTxUs, IDLE_TX_US);
    const required = timers.requiredMinRxUs;
    const changed = desired !== s.desiredMinTxUs || required !== s.requiredMinRxUs || timers.detectMult !== s.detectMult;
    this.set({ configured: timers, desiredMinTxUs: desired, requiredMinRxUs: required, detectMult: timers.detectMult });
    if (!changed) return;
    if (s.state === 'Up') {
      // §6.8.3: an increased DesiredMinTx takes effect only once the Poll
      // Sequence ends; a reduced RequiredMinRx keeps the old value for the
      // Detection Time until then. The other directions apply at once.
      this.set({
        txBaseUs: Math.min(this.s.txBaseUs, desired),
        rxBaseUs: Math.max(this.s.rxBaseUs, required),
        polling: true,
      });
      this.send({ poll: true }); // §6.5: the Poll goes out now, then rides on every periodic packet
    } else {
      this.set({ txBaseUs: desired, rxBaseUs: required, polling: false });
    }
    this.retuneTx();
  }

  /** §6.5: the Final ends the Poll Sequence; the new values are now in use. */
  finishPoll(): void {
    if (!this.s.polling) return;
    this.set({ polling: false, txBaseUs: this.s.desiredMinTxUs, rxBaseUs: this.s.requiredMinRxUs });
    this.actions.push({ type: 'poll-complete' });
  }
}

/** RFC 5880 §6.8.6 (reception, after the packet checks), §6.8.4/5 (detection), §6.8.7 (transmission), §6.8.16. */
export function step(session: BfdSession, event: BfdEvent, ctx: BfdContext): BfdStepResult {
  const t = new Steps(session, ctx);
  switch (event.type) {
    case 'start':
      t.armTx();
      break;

    case 'tx-timer':
      // §6.8.7: periodic transmission (P set while a Poll Sequence runs).
      if (t.s.silent) break;
      if (txInterval(t.s) !== 0) t.send();
      t.armTx();
      break;

    case 'detect-timer':
      // §6.8.5 / §6.8.1: the Detection Time passed without a valid packet.
      t.set({ remoteDiscr: 0, remoteState: 'Down', remoteMinRxUs: 1, remoteDesiredMinTxUs: 0, remoteDetectMult: 0 });
      if (t.s.state === 'Init' || t.s.state === 'Up') t.changeState('Down', 'control-detection-time-expired');
      if (t.s.polling) t.set({ polling: false, txBaseUs: t.s.desiredMinTxUs, rxBaseUs: t.s.requiredMinRxUs });
      t.retuneTx();
      break;

    case 'admin-down': {
      // §6.8.16: AdminDown with diagnostic 7, told to the peer at once, then
      // periodically for the window (see the header), then no more.
      if (t.s.state === 'AdminDown') break;
      const windowUs = Math.min(adminDownWindowUs(t.s), event.maxMs === undefined ? Infinity : Math.max(0, event.maxMs) * 1000);
      const txBaseUs = t.s.txBaseUs; // the interval in use: the peer's Detection Time of us counts on it
      t.changeState('AdminDown', 'administratively-down');
      t.set({ txBaseUs });
      t.actions.push({ type: 'disarm', timer: 'detect' });
      t.send();
      if (windowUs > 0) {
        t.armTx();
        t.actions.push({ type: 'arm', timer: 'admin', ms: windowUs / 1000 });
      } else {
        t.set({ silent: true });
        t.actions.push({ type: 'disarm', timer: 'tx' }, { type: 'silent' });
      }
      break;
    }

    case 'admin-timer':
      if (t.s.state !== 'AdminDown' || t.s.silent) break;
      t.set({ silent: true, txBaseUs: t.s.desiredMinTxUs });
      t.actions.push({ type: 'disarm', timer: 'tx' }, { type: 'silent' });
      break;

    case 'admin-up':
      if (t.s.state === 'AdminDown') {
        // Re-enabled (inside the window or after it): Down, transmitting at the idle rate again.
        t.set({ silent: false });
        t.actions.push({ type: 'disarm', timer: 'admin' });
        t.changeState('Down', 'none');
        t.set({ txBaseUs: t.s.desiredMinTxUs });
        t.armTx();
      }
      break;

    case 'configure':
      t.applyTimers(event.timers);
      break;

    case 'packet': {
      const p = event.packet;
      // §6.8.6: record the remote variables.
      t.set({
        remoteDiscr: p.myDiscriminator,
        remoteState: p.state,
        remoteDemand: p.demand,
        remoteMinRxUs: p.requiredMinRxUs,
        remoteDesiredMinTxUs: p.desiredMinTxUs,
        remoteDetectMult: p.detectMult,
        remoteCpi: p.cpi,
      });
      // §6.8.6: "If the Final (F) bit is set and the local system has sent a
      // Poll, the Poll Sequence is terminated."
      if (p.final) t.finishPoll();
      // §6.8.6: "If bfd.SessionState is AdminDown, discard the packet."
      if (t.s.state === 'AdminDown') {
        t.retuneTx();
        break;
      }
      if (p.state === 'AdminDown') {
        // §6.8.6: the peer is administratively down: we go Down with diagnostic 3.
        if (t.s.state !== 'Down') t.changeState('Down', 'neighbor-signaled-down');
      } else if (t.s.state === 'Down') {
        if (p.state === 'Down') t.changeState('Init', 'none');
        else if (p.state === 'Init') t.changeState('Up', 'none');
      } else if (t.s.state === 'Init') {
        if (p.state === 'Init' || p.state === 'Up') t.changeState('Up', 'none');
      } else if (p.state === 'Down') {
        // Up: the peer went Down.
        t.changeState('Down', 'neighbor-signaled-down');
      }
      // §6.8.6: "If the Poll (P) bit is set, send a BFD Control packet to the
      // remote system with the Poll (P) bit clear, and the Final (F) bit set."
      if (p.poll) t.send({ final: true });
      // §6.8.3 / §6.8.4: the peer's intervals may have changed ours; and a
      // packet that was not discarded restarts the Detection Time.
      t.retuneTx();
      t.armDetect();
      break;
    }
  }
  return { session: t.s, actions: t.actions };
}
