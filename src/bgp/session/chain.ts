// One connection chain of a peer: an FsmState with its transport and timers
// (fsm/types.ts: "one FsmState per TCP connection attempt chain"), plus the
// mapping from what a connection decoded to the RFC 4271 §8.1 event it is.

import type { TimerHandle } from '../../lib/clock.js';
import { ERR_UPDATE, MSG_OPEN, MSG_UPDATE, openAsn, type OpenMessage, type WireError } from '../wire/index.js';
import {
  initialFsmState,
  resolveCollision,
  type ConnectionDirection,
  type FsmEvent,
  type FsmState,
  type LocalSettings,
  type TimerName,
} from '../fsm/index.js';
import type { PendingConnect } from './connector.js';
import type { Connection } from './connection.js';

export interface Chain {
  fsm: FsmState;
  conn?: Connection;
  /** Outgoing connect attempt in flight. */
  pending?: PendingConnect;
  readonly timers: Map<TimerName, TimerHandle>;
  /** Transport detail for the next session-down line. */
  closeDetail?: string;
  /** Retired: its timers are cancelled and late events are dropped. */
  discarded: boolean;
}

export function newChain(): Chain {
  return { fsm: initialFsmState(), timers: new Map(), discarded: false };
}

/** Cancels everything a chain holds; no NOTIFICATION, no events. */
export function discardChain(chain: Chain): void {
  chain.discarded = true;
  for (const t of chain.timers.values()) t.cancel();
  chain.timers.clear();
  chain.pending?.cancel();
  chain.pending = undefined;
  chain.conn?.destroy();
  chain.conn = undefined;
}

/** RFC 4271 §8.1.3 events 9-11 and §8.1.1 IdleHold, per timer. */
export const TIMER_EVENTS: Record<TimerName, FsmEvent> = {
  ConnectRetry: { type: 'ConnectRetryTimerExpires' },
  Hold: { type: 'HoldTimerExpires' },
  Keepalive: { type: 'KeepaliveTimerExpires' },
  IdleHold: { type: 'IdleHoldTimerExpires' },
};

/**
 * The event for a message that failed to decode (RFC 4271 §8.1.5): event 22
 * BGPOpenMsgErr for an OPEN, 28 UpdateMsgErr for an UPDATE error, else 21
 * BGPHeaderErr (header, KEEPALIVE length, ROUTE-REFRESH length per RFC 7313 §5).
 */
export function decodeErrorEvent(error: WireError, messageType: number): FsmEvent {
  if (messageType === MSG_OPEN) return { type: 'BGPOpenMsgErr', error };
  if (messageType === MSG_UPDATE && error.code === ERR_UPDATE) return { type: 'UpdateMsgErr', error };
  return { type: 'BGPHeaderErr', error };
}

/**
 * RFC 4271 §6.8: an OPEN arrived on `chain` while `other` has a connection in
 * the opposite direction. Returns the chain to dump (feed it
 * OpenCollisionDump), or undefined when the two do not collide.
 */
export function collisionLoser(chain: Chain, other: Chain, open: OpenMessage, local: LocalSettings): Chain | undefined {
  const mine = chain.conn?.direction;
  const theirs = other.conn?.direction;
  if (!mine || !theirs || mine === theirs) return undefined;
  const byDir = (d: ConnectionDirection) => (d === mine ? chain : other);
  const verdict = resolveCollision({
    localId: local.routerId,
    localAsn: local.asn,
    peerId: open.bgpId,
    peerAsn: openAsn(open),
    inbound: byDir('inbound').fsm.state,
    outbound: byDir('outbound').fsm.state,
  });
  if (!verdict) return undefined;
  const loser = byDir(verdict.close);
  loser.closeDetail = `collision: keeping the ${verdict.keep} connection`;
  return loser;
}
