// The BGP finite state machine of RFC 4271 §8 as one pure function:
// step(state, event, cfg) → { state, actions }. The session shell feeds events
// (timer expiries, TCP changes, decoded messages) and carries out the actions
// (connect, send, timers, close, session up/down). No sockets, no clocks:
// delays are computed here, jitter comes from the injected cfg.random().
//
// Choices where RFC 4271 §8.2.2 leaves room (documented, tested):
// - DelayOpen is not implemented; OPEN is sent as soon as TCP is up.
// - TCP failure in Connect goes to Active and retries after a ConnectRetry
//   delay (the RFC's DelayOpen branch) instead of dropping to Idle.
// - ConnectRetry backs off: base * 2^attempts capped, times a jitter factor in
//   [0.75, 1] (RFC 4271 §10). Passive peers never arm it and never connect.
// - After an error drop to Idle, with cfg.allowAutomaticStart, the IdleHold
//   timer restarts the peer (§8.1.1 DampPeerOscillations): base * 2^(flaps-1)
//   capped, jittered. A session that got a KEEPALIVE or UPDATE in Established
//   proved stable and resets the flap count. ManualStop never restarts.
// - Timer expiries that cannot apply to the state (a stale Hold in Active)
//   are ignored rather than treated as FSM errors.
// - A second connection to the same peer is a separate FsmState (collision.ts).

import { encodeShutdownCommunication } from '../wire/notification.js';
import {
  CEASE_ADMIN_SHUTDOWN,
  CEASE_COLLISION_RESOLUTION,
  ERR_CEASE,
  ERR_FSM,
  ERR_HOLD_TIMER,
  ERR_OPEN,
  FSM_UNEXPECTED_IN_ESTABLISHED,
  FSM_UNEXPECTED_IN_OPENCONFIRM,
  FSM_UNEXPECTED_IN_OPENSENT,
  OPEN_UNSUPPORTED_VERSION,
  type WireError,
} from '../wire/errors.js';
import { afiSafiFamily, type NotificationMessage } from '../wire/types.js';
import { buildOpen, negotiate } from './negotiate.js';
import {
  OPEN_SENT_HOLD_MS,
  type DownReason,
  type FsmAction,
  type FsmConfig,
  type FsmEvent,
  type FsmState,
  type SessionNotification,
  type StepResult,
} from './types.js';

/** RFC 4271 §10: jitter multiplies a timer by a uniform factor in [0.75, 1]. */
export function jitter(ms: number, random: () => number): number {
  const r = Math.min(Math.max(random(), 0), 1);
  return Math.round(ms * (0.75 + 0.25 * r));
}

/** ConnectRetry delay after `attempts` consecutive failed connection attempts. */
export function connectRetryDelay(attempts: number, cfg: FsmConfig): number {
  const base = Math.min(cfg.connectRetryMs * 2 ** Math.min(attempts, 30), cfg.connectRetryMaxMs);
  return jitter(Math.max(base, 1), cfg.random);
}

/** IdleHold delay before the automatic restart after the `flaps`-th consecutive drop (flaps >= 1). */
export function idleHoldDelay(flaps: number, cfg: FsmConfig): number {
  const base = Math.min(cfg.idleHoldMs * 2 ** Math.min(Math.max(flaps - 1, 0), 30), cfg.idleHoldMaxMs);
  return jitter(Math.max(base, 1), cfg.random);
}

/** A NOTIFICATION from a code/subcode and optional data. */
export function notification(code: number, subcode: number, data: Buffer = Buffer.alloc(0)): NotificationMessage {
  return { type: 'notification', code, subcode, data };
}

/** Cease with an optional RFC 8203/9003 shutdown communication. */
export function cease(subcode: number, message?: string, data?: Buffer): NotificationMessage {
  if (message === undefined) return notification(ERR_CEASE, subcode, data);
  return { ...notification(ERR_CEASE, subcode, encodeShutdownCommunication(message)), shutdownMessage: message };
}

function fromWireError(e: WireError): NotificationMessage {
  return notification(e.code, e.subcode, e.data);
}

const KEEPALIVE = { type: 'keepalive' } as const;

/** RFC 6608 subcode for an unexpected message in the given state. */
function unexpectedSubcode(state: FsmState['state']): number {
  if (state === 'OpenSent') return FSM_UNEXPECTED_IN_OPENSENT;
  if (state === 'OpenConfirm') return FSM_UNEXPECTED_IN_OPENCONFIRM;
  return FSM_UNEXPECTED_IN_ESTABLISHED;
}

interface IdleCause {
  readonly reason: DownReason;
  /** The NOTIFICATION we send before closing. */
  readonly send?: NotificationMessage;
  /** The NOTIFICATION the peer sent. */
  readonly received?: NotificationMessage;
  /** RFC 4271 §8.2.2: most error drops increment ConnectRetryCounter. */
  readonly count: boolean;
  /** Arm IdleHold for an automatic restart (when allowed). */
  readonly restart: boolean;
  /** ManualStop: also zero the counter and stop being started. */
  readonly manual?: boolean;
}

/** Every drop to Idle from a non-Idle state: notify, close, stop timers, report, maybe re-arm. */
function toIdle(s: FsmState, cfg: FsmConfig, cause: IdleCause): StepResult {
  const actions: FsmAction[] = [];
  if (cause.send) actions.push({ type: 'send', message: cause.send });
  actions.push({ type: 'close' });
  for (const timer of ['ConnectRetry', 'Hold', 'Keepalive', 'IdleHold'] as const) actions.push({ type: 'stop-timer', timer });
  const note: SessionNotification | undefined = cause.send
    ? { direction: 'sent', message: cause.send }
    : cause.received
      ? { direction: 'received', message: cause.received }
      : undefined;
  actions.push({
    type: 'session-down',
    reason: cause.reason,
    wasEstablished: s.state === 'Established',
    ...(note ? { notification: note } : {}),
  });
  const started = cause.manual ? false : s.started;
  const flaps = s.flaps + 1;
  if (cause.restart && started && cfg.allowAutomaticStart)
    actions.push({ type: 'start-timer', timer: 'IdleHold', ms: idleHoldDelay(flaps, cfg) });
  const state: FsmState = {
    state: 'Idle',
    connectRetryCounter: cause.manual ? 0 : s.connectRetryCounter + (cause.count ? 1 : 0),
    connectAttempts: s.connectAttempts,
    flaps: cause.manual ? 0 : flaps,
    passive: s.passive,
    started,
    stable: false,
    lastDown: note ? { reason: cause.reason, notification: note } : { reason: cause.reason },
  };
  return { state, actions };
}

/** Idle → Connect (or Active when passive): RFC 4271 §8.2.2 Idle, events 1, 3, 4, 5. */
function start(s: FsmState, cfg: FsmConfig, passive: boolean, resetCounters: boolean): StepResult {
  const base: FsmState = {
    ...s,
    passive,
    started: true,
    stable: false,
    ...(resetCounters ? { connectRetryCounter: 0, connectAttempts: 0, flaps: 0 } : {}),
  };
  const actions: FsmAction[] = [{ type: 'stop-timer', timer: 'IdleHold' }];
  if (passive) return { state: { ...base, state: 'Active' }, actions };
  actions.push(
    { type: 'start-timer', timer: 'ConnectRetry', ms: connectRetryDelay(base.connectAttempts, cfg) },
    { type: 'connect' },
  );
  return { state: { ...base, state: 'Connect' }, actions };
}

/** TCP is up (Connect/Active, events 16/17): send OPEN, arm the large OpenSent hold timer. */
function connectionUp(s: FsmState, cfg: FsmConfig, direction: 'inbound' | 'outbound'): StepResult {
  const localOpen = buildOpen(cfg.local);
  return {
    state: { ...s, state: 'OpenSent', direction, connectAttempts: 0, localOpen },
    actions: [
      { type: 'stop-timer', timer: 'ConnectRetry' },
      { type: 'send', message: localOpen },
      { type: 'start-timer', timer: 'Hold', ms: OPEN_SENT_HOLD_MS }, // RFC 4271 §8.2.2: 4 minutes
    ],
  };
}

/** Connection lost before OPEN exchange finished: back to Active, retry later (§8.2.2 OpenSent, event 18). */
function backToActive(s: FsmState, cfg: FsmConfig, close: boolean): StepResult {
  const attempts = s.connectAttempts + 1;
  const actions: FsmAction[] = [];
  if (close) actions.push({ type: 'close' });
  actions.push({ type: 'stop-timer', timer: 'Hold' });
  if (!s.passive) actions.push({ type: 'start-timer', timer: 'ConnectRetry', ms: connectRetryDelay(attempts, cfg) });
  const { localOpen: _l, direction: _d, ...rest } = s;
  return { state: { ...rest, state: 'Active', connectAttempts: attempts }, actions };
}

function holdRestart(s: FsmState): FsmAction[] {
  const hold = s.session?.holdTime ?? 0;
  return hold > 0 ? [{ type: 'start-timer', timer: 'Hold', ms: hold * 1000 }] : [];
}

const none = (s: FsmState): StepResult => ({ state: s, actions: [] });

/** Shared handling of stop events and peer-side failures in OpenSent, OpenConfirm and Established. */
function connectedCommon(s: FsmState, e: FsmEvent, cfg: FsmConfig): StepResult | undefined {
  switch (e.type) {
    case 'ManualStop': // event 2
      return toIdle(s, cfg, {
        reason: e.reason ?? 'admin-stop',
        // RFC 4724 §4: a restarting speaker just closes the connection (no Cease).
        ...(e.silent ? {} : { send: cease(e.subcode ?? CEASE_ADMIN_SHUTDOWN, e.message, e.data) }),
        count: false,
        restart: false,
        manual: true,
      });
    case 'AutomaticStop': // event 8
      return toIdle(s, cfg, { reason: e.reason, send: cease(e.subcode, e.message), count: true, restart: true });
    case 'HoldTimerExpires': // event 10: RFC 4271 §6.5, Hold Timer Expired
      return toIdle(s, cfg, {
        reason: 'hold-timer-expired',
        send: notification(ERR_HOLD_TIMER, 0),
        count: true,
        restart: true,
      });
    case 'BGPHeaderErr': // event 21
      return toIdle(s, cfg, { reason: 'header-error', send: fromWireError(e.error), count: true, restart: true });
    case 'BGPOpenMsgErr': // event 22
      return toIdle(s, cfg, { reason: 'open-error', send: fromWireError(e.error), count: true, restart: true });
    case 'OpenCollisionDump': // event 23: RFC 4271 §6.8, Cease / Connection Collision Resolution
      return toIdle(s, cfg, {
        reason: 'collision',
        send: cease(CEASE_COLLISION_RESOLUTION),
        count: true,
        restart: false, // the other connection carries the session on
      });
    case 'NotifMsgVerErr': // event 24: no counter increment
      return toIdle(s, cfg, { reason: 'notification-received', received: e.notification, count: false, restart: true });
    case 'NotifMsg': {
      // event 25; a version error before Established is event 24 (RFC 4271 §8.2.2)
      const n = e.notification;
      const verErr = s.state !== 'Established' && n.code === ERR_OPEN && n.subcode === OPEN_UNSUPPORTED_VERSION;
      return toIdle(s, cfg, { reason: 'notification-received', received: n, count: !verErr, restart: true });
    }
    case 'KeepaliveTimerExpires': // event 11: RFC 4271 §4.4
      if (s.state === 'OpenSent' || !s.session || s.session.keepaliveTime === 0) return none(s);
      return {
        state: s,
        actions: [
          { type: 'send', message: KEEPALIVE },
          { type: 'start-timer', timer: 'Keepalive', ms: s.session.keepaliveTime * 1000 },
        ],
      };
    case 'ManualStart': // events 1, 3-5 are ignored once started
    case 'AutomaticStart':
    case 'ConnectRetryTimerExpires': // stale: ConnectRetry stops when TCP comes up
    case 'IdleHoldTimerExpires':
    case 'TcpConnectionConfirmed': // a second connection belongs to its own FsmState
    case 'TcpCRAcked':
      return none(s);
    default:
      return undefined;
  }
}

/** An unexpected message: FSM Error with the RFC 6608 subcode for the state. */
function fsmError(s: FsmState, cfg: FsmConfig): StepResult {
  return toIdle(s, cfg, {
    reason: 'fsm-error',
    send: notification(ERR_FSM, unexpectedSubcode(s.state)),
    count: true,
    restart: true,
  });
}

function stepIdle(s: FsmState, e: FsmEvent, cfg: FsmConfig): StepResult {
  switch (e.type) {
    case 'ManualStart':
      return start(s, cfg, e.passive ?? cfg.passive, true);
    case 'AutomaticStart':
      return start(s, cfg, e.passive ?? cfg.passive, false);
    case 'IdleHoldTimerExpires': // §8.1.1: automatic restart after the damping delay
      return s.started ? start(s, cfg, s.passive, false) : none(s);
    case 'ManualStop':
      return {
        state: { ...s, started: false, connectRetryCounter: 0, flaps: 0 },
        actions: [{ type: 'stop-timer', timer: 'IdleHold' }],
      };
    case 'TcpConnectionConfirmed': // §8.2.2 Idle: connections are refused
    case 'TcpCRAcked':
      return { state: s, actions: [{ type: 'close' }] };
    default:
      return none(s); // §8.2.2: any other event is ignored in Idle
  }
}

/** Connect (outgoing attempt in flight) and Active (waiting to retry, listening). */
function stepConnectActive(s: FsmState, e: FsmEvent, cfg: FsmConfig): StepResult {
  switch (e.type) {
    case 'ManualStart':
    case 'AutomaticStart':
    case 'HoldTimerExpires': // stale timers: nothing of theirs runs here
    case 'KeepaliveTimerExpires':
    case 'IdleHoldTimerExpires':
      return none(s);
    case 'ManualStop':
      return toIdle(s, cfg, { reason: e.reason ?? 'admin-stop', count: false, restart: false, manual: true });
    case 'AutomaticStop':
      return toIdle(s, cfg, { reason: e.reason, count: true, restart: true });
    case 'ConnectRetryTimerExpires': {
      if (s.passive) return none(s);
      // Connect: abandon the attempt and retry; Active: try again (§8.2.2, event 9).
      const attempts = s.state === 'Connect' ? s.connectAttempts + 1 : s.connectAttempts;
      const actions: FsmAction[] = s.state === 'Connect' ? [{ type: 'close' }] : [];
      actions.push(
        { type: 'start-timer', timer: 'ConnectRetry', ms: connectRetryDelay(attempts, cfg) },
        { type: 'connect' },
      );
      return { state: { ...s, state: 'Connect', connectAttempts: attempts }, actions };
    }
    case 'TcpConnectionConfirmed':
      return connectionUp(s, cfg, 'inbound');
    case 'TcpCRAcked':
      return connectionUp(s, cfg, 'outbound');
    case 'TcpConnectionFails':
      // Connect: the attempt failed, wait and retry from Active. Active: nothing was open.
      return s.state === 'Connect' ? backToActive(s, cfg, false) : none(s);
    default:
      // §8.2.2 Connect/Active: any other event drops to Idle (no OPEN was sent, so no NOTIFICATION).
      return toIdle(s, cfg, { reason: 'fsm-error', count: true, restart: true });
  }
}

function stepOpenSent(s: FsmState, e: FsmEvent, cfg: FsmConfig): StepResult {
  const common = connectedCommon(s, e, cfg);
  if (common) return common;
  switch (e.type) {
    case 'TcpConnectionFails': // §8.2.2 OpenSent, event 18: back to Active
      return backToActive(s, cfg, true);
    case 'BGPOpen': {
      const result = negotiate(cfg.local, cfg.peerAsn, e.open, s.localOpen ?? buildOpen(cfg.local));
      if (!result.ok)
        return toIdle(s, cfg, { reason: 'open-error', send: fromWireError(result.error), count: true, restart: true });
      const session = result.value;
      const actions: FsmAction[] = [{ type: 'send', message: KEEPALIVE }];
      if (session.holdTime > 0) {
        // RFC 4271 §8.2.2: KeepaliveTimer and HoldTimer from the negotiated hold time.
        actions.push(
          { type: 'start-timer', timer: 'Keepalive', ms: session.keepaliveTime * 1000 },
          { type: 'start-timer', timer: 'Hold', ms: session.holdTime * 1000 },
        );
      } else {
        actions.push({ type: 'stop-timer', timer: 'Hold' }); // hold time 0: neither timer runs
      }
      return { state: { ...s, state: 'OpenConfirm', peerOpen: e.open, session }, actions };
    }
    default: // KEEPALIVE, UPDATE, ROUTE-REFRESH, UPDATE error before OPEN
      return fsmError(s, cfg);
  }
}

function stepOpenConfirm(s: FsmState, e: FsmEvent, cfg: FsmConfig): StepResult {
  const common = connectedCommon(s, e, cfg);
  if (common) return common;
  switch (e.type) {
    case 'TcpConnectionFails':
      return toIdle(s, cfg, { reason: 'connection-closed', count: true, restart: true });
    case 'KeepAliveMsg': // event 26: the peer accepted our OPEN
      return {
        state: { ...s, state: 'Established' },
        actions: [...holdRestart(s), { type: 'established', session: s.session! }],
      };
    default: // a second OPEN (collision is decided outside), UPDATE, ROUTE-REFRESH
      return fsmError(s, cfg);
  }
}

function stepEstablished(s: FsmState, e: FsmEvent, cfg: FsmConfig): StepResult {
  const common = connectedCommon(s, e, cfg);
  if (common) return common;
  // A live session: any KEEPALIVE or UPDATE restarts the hold timer and proves it stable.
  const alive: FsmState = s.stable ? s : { ...s, stable: true, flaps: 0 };
  switch (e.type) {
    case 'TcpConnectionFails':
      return toIdle(s, cfg, { reason: 'connection-closed', count: true, restart: true });
    case 'KeepAliveMsg':
      return { state: alive, actions: holdRestart(s) };
    case 'UpdateMsg':
      return { state: alive, actions: [...holdRestart(s), { type: 'deliver', message: e.update }] };
    case 'RouteRefreshMsg': {
      // RFC 2918 §4: ignore a request for a family not negotiated.
      const family = afiSafiFamily(e.refresh.afi, e.refresh.safi);
      const wanted = family !== undefined && s.session!.families.includes(family);
      return {
        state: alive,
        actions: [...holdRestart(s), ...(wanted ? [{ type: 'deliver', message: e.refresh } as const] : [])],
      };
    }
    case 'UpdateMsgErr':
      // RFC 7606 §2: only session-reset closes; lesser errors were handled by the shell.
      if (e.error.action !== 'session-reset') return { state: alive, actions: holdRestart(s) };
      return toIdle(s, cfg, { reason: 'update-error', send: fromWireError(e.error), count: true, restart: true });
    default: // an OPEN in Established
      return fsmError(s, cfg);
  }
}

/** RFC 4271 §8: one event in, the next state and the actions to carry out. */
export function step(state: FsmState, event: FsmEvent, cfg: FsmConfig): StepResult {
  switch (state.state) {
    case 'Idle':
      return stepIdle(state, event, cfg);
    case 'Connect':
    case 'Active':
      return stepConnectActive(state, event, cfg);
    case 'OpenSent':
      return stepOpenSent(state, event, cfg);
    case 'OpenConfirm':
      return stepOpenConfirm(state, event, cfg);
    case 'Established':
      return stepEstablished(state, event, cfg);
  }
}
