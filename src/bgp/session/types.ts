// What a PeerSession's owner passes in and hears back: construction options
// and the typed events (state changes with RFC 4271 §8.2.2 state names,
// Established with the negotiated session, UPDATEs with their RFC 7606
// verdicts, ROUTE-REFRESH, NOTIFICATIONs with RFC 8203 text, down).

import type { Clock } from '../../lib/clock.js';
import type { Logger } from '../../lib/log.js';
import type { NotificationMessage, RouteRefreshMessage } from '../wire/index.js';
import type { DecodedUpdate } from '../wire/update.js';
import type { DownReason, FsmConfig, NegotiatedSession, SessionState } from '../fsm/index.js';
import type { TransportSecurity } from './socket-options.js';

export interface PeerSessionOptions {
  /** Remote address (normalised text) and TCP port (RFC 4271 §8.2.1.1: 179). */
  readonly address: string;
  readonly port: number;
  /** Source address for outgoing connections. */
  readonly localAddress?: string;
  /** TCP MD5 key (RFC 2385) and GTSM hops (RFC 5082) for outgoing connections. */
  readonly security?: TransportSecurity;
  /** The peer's configured ASN (for logs). */
  readonly asn: number;
  readonly fsm: FsmConfig;
  readonly clock: Clock;
  readonly logger: Logger;
  /** Outgoing connect attempt timeout, ms (default 30 s). */
  readonly connectTimeoutMs?: number;
}

export interface SessionDown {
  readonly reason: DownReason;
  readonly wasEstablished: boolean;
  readonly notification?: { readonly direction: 'sent' | 'received'; readonly message: NotificationMessage };
  /** Transport detail (e.g. "connection closed by peer"). */
  readonly detail?: string;
}

export interface PeerSessionEvents {
  state: [from: SessionState, to: SessionState];
  established: [session: NegotiatedSession];
  update: [update: DecodedUpdate];
  'route-refresh': [refresh: RouteRefreshMessage];
  'notification-received': [n: NotificationMessage];
  'notification-sent': [n: NotificationMessage];
  down: [down: SessionDown];
  /** The out queue drained after backpressure: more UPDATEs may be sent. */
  writable: [];
}
