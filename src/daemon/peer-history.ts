// Per-peer history the session layer does not keep, for the API: when the
// session last changed state, how often it reached Established, the
// NOTIFICATIONs sent and received by code/subcode (RFC 4271 §4.5, RFC 8203
// text), the last error, whether an operator shut it down, and when it was
// created (readiness gives a new peer a startup grace). Fed by
// peer-events.ts, one record per session; read by api-adapter.ts.

import type { Clock } from '../lib/clock.js';
import { notificationName, type NotificationMessage } from '../bgp/wire/index.js';
import type { PeerSession, SessionDown } from '../bgp/session/index.js';
import type { PeerKind } from '../bgp/session/neighbors.js';
import type { ApiPeer } from '../api/deps.js';

export interface PeerRecord {
  readonly kind: PeerKind;
  /** Clock time the session was created (startup grace starts here). */
  readonly createdAt: number;
  transitions: number;
  /** Clock time of the last state change. */
  since: number | undefined;
  lastError?: string;
  lastNotification?: ApiPeer['lastNotification'];
  readonly notes: { readonly sent: Map<string, number>; readonly received: Map<string, number> };
  adminShutdown: boolean;
}

export class PeerHistory {
  private readonly records = new Map<PeerSession, PeerRecord>();

  constructor(private readonly clock: Clock) {}

  track(session: PeerSession, kind: PeerKind): void {
    this.records.set(session, { kind, transitions: 0, since: undefined, createdAt: this.clock.now(), notes: { sent: new Map(), received: new Map() }, adminShutdown: false });
  }

  untrack(session: PeerSession): void {
    this.records.delete(session);
  }

  get(session: PeerSession): PeerRecord | undefined {
    return this.records.get(session);
  }

  stateChanged(session: PeerSession): void {
    const r = this.records.get(session);
    if (r) r.since = this.clock.now();
  }

  established(session: PeerSession): void {
    const r = this.records.get(session);
    if (r) r.transitions++;
  }

  notification(session: PeerSession, direction: 'sent' | 'received', n: NotificationMessage): void {
    const r = this.records.get(session);
    if (!r) return;
    const k = `${n.code}/${n.subcode}`;
    r.notes[direction].set(k, (r.notes[direction].get(k) ?? 0) + 1);
    r.lastNotification = { direction, code: n.code, subcode: n.subcode, name: notificationName(n.code, n.subcode), ...(n.shutdownMessage ? { message: n.shutdownMessage } : {}), at: new Date().toISOString() };
  }

  down(session: PeerSession, d: SessionDown): void {
    const r = this.records.get(session);
    if (r) r.lastError = d.detail ? `${d.reason}: ${d.detail}` : d.reason;
  }

  markShutdown(session: PeerSession, down: boolean): void {
    const r = this.records.get(session);
    if (r) r.adminShutdown = down;
  }
}
