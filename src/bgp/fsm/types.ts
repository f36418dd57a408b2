// The vocabulary of the pure BGP finite state machine (RFC 4271 §8): session
// state names, the events the session shell feeds in, the actions it carries
// out, timer names, the per-peer FSM configuration and the session negotiated
// from the OPEN exchange (RFC 5492 capabilities, RFC 6793, RFC 4760, RFC 7911,
// RFC 4724, RFC 8654). Plain data only: `step` (fsm.ts) maps
// (FsmState, FsmEvent, FsmConfig) to { state, actions } without I/O or clocks.
//
// Conventions for the shell (src/bgp/session):
// - One FsmState per TCP connection attempt chain. A second, inbound connection
//   for the same peer gets its own FsmState; collision.ts says which survives.
// - `start-timer` (re)arms the named timer, replacing one already running;
//   `stop-timer` cancels it. When a timer fires the shell feeds the matching
//   `…TimerExpires` event. A timer cancelled by an action must never fire later.
// - Jitter is deterministic: `cfg.random()` is injected (a [0,1) source) and the
//   step computes every delay itself, so tests replay exactly.
// - Times inside FsmConfig and in timer actions are milliseconds; hold and
//   keepalive times in OPENs and NegotiatedSession are seconds as on the wire.

import type { Family } from '../../lib/prefix.js';
import type {
  AddPathMode,
  BgpMessage,
  CodecContext,
  NotificationMessage,
  OpenMessage,
  RouteRefreshMessage,
  UpdateMessage,
} from '../wire/types.js';
import type { WireError } from '../wire/errors.js';

/** RFC 4271 §8.2.2 state names; exact strings shared by logs, the API and metrics. */
export type SessionState = 'Idle' | 'Connect' | 'Active' | 'OpenSent' | 'OpenConfirm' | 'Established';

export const SESSION_STATES: readonly SessionState[] = [
  'Idle',
  'Connect',
  'Active',
  'OpenSent',
  'OpenConfirm',
  'Established',
];

/** RFC 4271 §8 timers (DelayOpen is not implemented). IdleHold is §8.1.1 DampPeerOscillations. */
export type TimerName = 'ConnectRetry' | 'Hold' | 'Keepalive' | 'IdleHold';

/** Why a session went (back) to Idle; string union shared by logs, the API and metrics. */
export type DownReason =
  | 'admin-stop' // ManualStop
  | 'hold-timer-expired' // we sent Hold Timer Expired
  | 'notification-received' // the peer sent a NOTIFICATION
  | 'connection-closed' // TCP closed or reset by the peer
  | 'connect-failed' // outgoing TCP connection failed (only surfaces via Idle when not retried)
  | 'open-error' // we rejected the peer's OPEN (bad AS, bad ID, hold time, version)
  | 'header-error' // Message Header Error sent
  | 'update-error' // UPDATE Message Error sent (RFC 7606 session-reset)
  | 'fsm-error' // unexpected message for the state (RFC 6608)
  | 'collision' // closed by connection collision resolution (RFC 4271 §6.8)
  | 'max-prefix' // Cease / Maximum Number of Prefixes Reached (RFC 4486)
  | 'config-change' // Cease / Other Configuration Change
  | 'deconfigured' // Cease / Peer De-configured
  | 'admin-reset' // Cease / Administrative Reset
  | 'graceful-restart' // we closed without a NOTIFICATION to restart (RFC 4724 §4)
  | 'bfd-down'; // BFD saw the forwarding path fail (RFC 5882 §3.2; Cease / BFD Down, RFC 9384)

export const DOWN_REASONS: readonly DownReason[] = [
  'admin-stop',
  'hold-timer-expired',
  'notification-received',
  'connection-closed',
  'connect-failed',
  'open-error',
  'header-error',
  'update-error',
  'fsm-error',
  'collision',
  'max-prefix',
  'config-change',
  'deconfigured',
  'admin-reset',
  'graceful-restart',
  'bfd-down',
];

/** Graceful restart settings we advertise (RFC 4724 §3). */
export interface LocalGracefulRestart {
  /** Seconds, 0..4095. */
  readonly restartTime: number;
  /** R bit: we are restarting (the daemon came back up within the restart window). */
  readonly restarting: boolean;
  /** Families whose forwarding state we preserved (F bit), as told by the caller. */
  readonly forwardingState: readonly Family[];
  /** N bit (RFC 8538); default false. */
  readonly notification?: boolean;
}

/** What we say about ourselves in our OPEN; input of buildOpen and negotiate. */
export interface LocalSettings {
  /** Our ASN for this session (neighbor localAsn ?? global asn), 4-octet allowed. */
  readonly asn: number;
  /** Our BGP identifier as an unsigned 32-bit number. */
  readonly routerId: number;
  /** Seconds; 0 or >= 3. */
  readonly holdTime: number;
  /** Seconds; when absent, keepalive = negotiated hold / 3. */
  readonly keepaliveTime?: number;
  readonly families: readonly Family[];
  /** Absent: no graceful restart capability. */
  readonly gracefulRestart?: LocalGracefulRestart;
  /** RFC 7911 mode per family; absent families carry no ADD-PATH. */
  readonly addPath?: Partial<Record<Family, AddPathMode>>;
  /** FQDN capability (draft-walton-bgp-hostname-capability). */
  readonly hostname?: string;
  readonly domain?: string;
  /** RFC 8654 extended messages. */
  readonly extendedMessage: boolean;
}

/** Per-peer FSM configuration; stays constant for the life of an FsmState. */
export interface FsmConfig {
  readonly local: LocalSettings;
  /** The ASN(s) the peer must present (RFC 4271 §6.2 Bad Peer AS otherwise). */
  readonly peerAsn: number | readonly number[];
  /** Default for starts that don't say: never initiate TCP, only accept. */
  readonly passive: boolean;
  /** Base ConnectRetry time, ms (neighbor connectRetryTime * 1000). */
  readonly connectRetryMs: number;
  /** Cap for the exponential ConnectRetry backoff, ms. */
  readonly connectRetryMaxMs: number;
  /** Base IdleHold time before an automatic restart after an error, ms. */
  readonly idleHoldMs: number;
  /** Cap for the IdleHold backoff (RFC 4271 §8.1.1 DampPeerOscillations), ms. */
  readonly idleHoldMaxMs: number;
  /** After an error, restart automatically via IdleHold (RFC 4271 §8.1.1 AllowAutomaticStart). */
  readonly allowAutomaticStart: boolean;
  /** Uniform [0,1) source for jitter; injected so the step stays deterministic. */
  readonly random: () => number;
}

/** Which side opened the TCP connection. */
export type ConnectionDirection = 'inbound' | 'outbound';

/** The peer's graceful restart capability (RFC 4724 §3), restricted to negotiated families. */
export interface PeerGracefulRestart {
  readonly restartTime: number;
  /** R bit: the peer says it restarted. */
  readonly restarting: boolean;
  /** N bit (RFC 8538). */
  readonly notification: boolean;
  readonly families: readonly { readonly family: Family; readonly forwardingState: boolean }[];
}

/** Everything the OPEN exchange settled, ready for the codec and the RIB side. */
export interface NegotiatedSession {
  readonly localAsn: number;
  readonly localId: number;
  /** The peer's real (4-octet) ASN. */
  readonly peerAsn: number;
  readonly peerId: number;
  readonly ibgp: boolean;
  /** Seconds; 0 = no keepalives and no hold timer. */
  readonly holdTime: number;
  /** Seconds; 0 when holdTime is 0. */
  readonly keepaliveTime: number;
  /** Families both sides advertised (RFC 4760 §8: IPv4 unicast when the peer sends no MP capability). */
  readonly families: readonly Family[];
  /** Codec context: 4-octet AS, extended message, ADD-PATH per family and direction. */
  readonly codec: CodecContext;
  /** RFC 2918, both sides. */
  readonly routeRefresh: boolean;
  /** RFC 7313, both sides. */
  readonly enhancedRouteRefresh: boolean;
  /** Both sides advertised graceful restart; `peerGracefulRestart` then says what the peer offered. */
  readonly gracefulRestart: boolean;
  readonly peerGracefulRestart?: PeerGracefulRestart;
  readonly peerHostname?: { readonly hostname: string; readonly domain: string };
  readonly localOpen: OpenMessage;
  readonly peerOpen: OpenMessage;
}

/** The FSM's memory for one connection chain. Treat as immutable. */
export interface FsmState {
  readonly state: SessionState;
  /** RFC 4271 §8: ConnectRetryCounter, +1 on each error-driven drop to Idle, 0 on ManualStop. */
  readonly connectRetryCounter: number;
  /** Consecutive failed outgoing connection attempts; drives ConnectRetry backoff. 0 once TCP connects. */
  readonly connectAttempts: number;
  /** Consecutive sessions lost before proving stable; drives IdleHold backoff. */
  readonly flaps: number;
  /** Passive: accept only, never connect. Set by the start event. */
  readonly passive: boolean;
  /** False after ManualStop: no automatic restart until a ManualStart. */
  readonly started: boolean;
  /** Set when TCP is up on this chain. */
  readonly direction?: ConnectionDirection;
  /** The OPEN we sent on the current connection. */
  readonly localOpen?: OpenMessage;
  /** The peer's OPEN, once received and accepted (OpenConfirm, Established). */
  readonly peerOpen?: OpenMessage;
  /** Set from OpenConfirm on. */
  readonly session?: NegotiatedSession;
  /** True once a KEEPALIVE or UPDATE arrived in Established (the session proved stable; flaps reset). */
  readonly stable: boolean;
  /** Why we last went to Idle. */
  readonly lastDown?: { readonly reason: DownReason; readonly notification?: SessionNotification };
}

export interface SessionNotification {
  readonly direction: 'sent' | 'received';
  readonly message: NotificationMessage;
}

/**
 * Inputs to the FSM. Each names the RFC 4271 §8.1 events it covers.
 */
export type FsmEvent =
  /** Events 1 ManualStart, 4 ManualStart_with_PassiveTcpEstablishment. `passive` defaults to cfg.passive. */
  | { readonly type: 'ManualStart'; readonly passive?: boolean }
  /**
   * Event 2 ManualStop. Sends Cease (subcode default 2 Administrative Shutdown, RFC 8203 message optional);
   * `silent`: close the TCP connection without any NOTIFICATION, so a graceful restart peer keeps our
   * routes as stale for our restart time (RFC 4724 §4; we advertise N = 0, so RFC 8538 does not apply).
   */
  | {
      readonly type: 'ManualStop';
      readonly subcode?: number;
      readonly message?: string;
      readonly reason?: DownReason;
      readonly data?: Buffer;
      readonly silent?: boolean;
    }
  /** Events 3 AutomaticStart, 5 AutomaticStart_with_PassiveTcpEstablishment. */
  | { readonly type: 'AutomaticStart'; readonly passive?: boolean }
  /** Event 8 AutomaticStop: a Cease for a local reason (max prefix, config change); automatic restart allowed. */
  | { readonly type: 'AutomaticStop'; readonly subcode: number; readonly reason: DownReason; readonly message?: string }
  /** Event 9 ConnectRetryTimer_Expires. */
  | { readonly type: 'ConnectRetryTimerExpires' }
  /** Event 10 HoldTimer_Expires. */
  | { readonly type: 'HoldTimerExpires' }
  /** Event 11 KeepaliveTimer_Expires. */
  | { readonly type: 'KeepaliveTimerExpires' }
  /** Event 13 IdleHoldTimer_Expires: automatic restart after an error (§8.1.1 DampPeerOscillations). */
  | { readonly type: 'IdleHoldTimerExpires' }
  /** Events 14 TcpConnection_Valid + 17 TcpConnectionConfirmed: an inbound connection was accepted. */
  | { readonly type: 'TcpConnectionConfirmed' }
  /** Event 16 Tcp_CR_Acked: our outgoing connection completed. */
  | { readonly type: 'TcpCRAcked' }
  /** Event 18 TcpConnectionFails: connect failed, or the connection closed/reset. */
  | { readonly type: 'TcpConnectionFails' }
  /** Event 19 BGPOpen: a syntactically valid OPEN; the FSM validates and negotiates it. */
  | { readonly type: 'BGPOpen'; readonly open: OpenMessage }
  /** Event 21 BGPHeaderErr: framing/header error; `error` is the NOTIFICATION to send. */
  | { readonly type: 'BGPHeaderErr'; readonly error: WireError }
  /** Event 22 BGPOpenMsgErr: the OPEN failed to decode. */
  | { readonly type: 'BGPOpenMsgErr'; readonly error: WireError }
  /** Event 23 OpenCollisionDump: collision.ts chose to drop this connection. */
  | { readonly type: 'OpenCollisionDump' }
  /** Event 24 NotifMsgVerErr: NOTIFICATION with OPEN / Unsupported Version Number. */
  | { readonly type: 'NotifMsgVerErr'; readonly notification: NotificationMessage }
  /** Event 25 NotifMsg (a version error in OpenSent/OpenConfirm is treated as event 24). */
  | { readonly type: 'NotifMsg'; readonly notification: NotificationMessage }
  /** Event 26 KeepAliveMsg. */
  | { readonly type: 'KeepAliveMsg' }
  /** Event 27 UpdateMsg (decoded without a session-reset error). */
  | { readonly type: 'UpdateMsg'; readonly update: UpdateMessage }
  /** Event 28 UpdateMsgErr: an UPDATE error whose RFC 7606 action is session-reset. */
  | { readonly type: 'UpdateMsgErr'; readonly error: WireError }
  /** ROUTE-REFRESH received (RFC 2918 §4, RFC 7313); counts as a message like UpdateMsg. */
  | { readonly type: 'RouteRefreshMsg'; readonly refresh: RouteRefreshMessage };

export type FsmEventType = FsmEvent['type'];

/** Effects for the shell to carry out, in order. */
export type FsmAction =
  /** Initiate an outgoing TCP connection (never emitted for passive peers). */
  | { readonly type: 'connect' }
  /** Write a message on the current connection (OPEN, KEEPALIVE, NOTIFICATION). */
  | { readonly type: 'send'; readonly message: BgpMessage }
  /** (Re)arm a timer for `ms` milliseconds. */
  | { readonly type: 'start-timer'; readonly timer: TimerName; readonly ms: number }
  | { readonly type: 'stop-timer'; readonly timer: TimerName }
  /** Drop the TCP connection (after flushing any `send` before it). */
  | { readonly type: 'close' }
  /** Entered Established: switch the codec to `session.codec`, tell the RIB side the peer is up. */
  | { readonly type: 'established'; readonly session: NegotiatedSession }
  /**
   * Went back to Idle from any other state. Emitted for every such drop, not
   * only from Established, so the shell can log and count the last error;
   * `wasEstablished` tells whether routes learned from the peer must be
   * flushed (or retained as stale under graceful restart).
   */
  | {
      readonly type: 'session-down';
      readonly reason: DownReason;
      readonly wasEstablished: boolean;
      readonly notification?: SessionNotification;
    }
  /** An UPDATE or ROUTE-REFRESH accepted in Established, for the RIB side. */
  | { readonly type: 'deliver'; readonly message: UpdateMessage | RouteRefreshMessage };

export type FsmActionType = FsmAction['type'];

export interface StepResult {
  readonly state: FsmState;
  readonly actions: FsmAction[];
}

/** The signature of `step` in fsm.ts. */
export type FsmStep = (state: FsmState, event: FsmEvent, cfg: FsmConfig) => StepResult;

/** OpenSent hold timer: "a large value", 4 minutes suggested (RFC 4271 §8.2.2). */
export const OPEN_SENT_HOLD_MS = 240_000;

/** A fresh FSM in Idle, not started. */
export function initialFsmState(): FsmState {
  return {
    state: 'Idle',
    connectRetryCounter: 0,
    connectAttempts: 0,
    flaps: 0,
    passive: false,
    started: false,
    stable: false,
  };
}

// ---------------------------------------------------------------- collision (RFC 4271 §6.8)

/** What collision.ts needs to know about one connection of a peer. */
export interface ConnectionView {
  readonly direction: ConnectionDirection;
  readonly state: SessionState;
  /** Both sides negotiated graceful restart on it (RFC 4724 §4.2 matters for Established). */
  readonly gracefulRestart?: boolean;
}

/** Answer for a new inbound TCP connection, given the peer's existing connection. */
export type InboundVerdict =
  /** Take it; run collision resolution once an OPEN arrives. */
  | { readonly type: 'accept' }
  /** Close the new connection, sending this NOTIFICATION first when present. */
  | { readonly type: 'reject'; readonly notification?: NotificationMessage }
  /** RFC 4724 §4.2: the existing Established session is dead; close it (no NOTIFICATION) and take the new one. */
  | { readonly type: 'replace-existing' };

/** Result of collision resolution between the two connections of one peer. */
export interface CollisionVerdict {
  readonly keep: ConnectionDirection;
  readonly close: ConnectionDirection;
  /** Cease / Connection Collision Resolution, to send on the closed one (feed it OpenCollisionDump). */
  readonly notification: NotificationMessage;
}
