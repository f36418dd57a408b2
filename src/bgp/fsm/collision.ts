// Connection collision detection (RFC 4271 §6.8, RFC 6286 §2.3) as pure
// decisions over the (at most two) TCP connections a peer can have: one we
// initiated (outbound) and one the peer initiated (inbound), each driven by its
// own FsmState. The session shell asks:
//
// 1. admitInbound(existing) when a TCP connection arrives for a known peer:
//    accept it (handing it to the existing FSM when that has no connection, or
//    running it as a second FsmState), reject it, or replace an Established
//    session whose peer evidently restarted (RFC 4724 §4.2).
// 2. resolveCollision(...) when an OPEN arrives on one connection while the
//    other is in OpenSent, OpenConfirm (or Established, when allowed). Ask
//    BEFORE feeding BGPOpen: feed OpenCollisionDump (event 23) to the loser,
//    which sends Cease / Connection Collision Resolution and closes, and
//    BGPOpen to the survivor.
//
// Choice: the RFC checks only connections in OpenConfirm, and OpenSent ones
// "when the peer's identifier is known by other means". Both connections of a
// configured peer belong to the same neighbor address, so the identifier in
// the OPEN just received stands for the peer on either connection; we resolve
// against OpenSent as well, deciding the collision one round trip earlier.

import {
  CEASE_COLLISION_RESOLUTION,
  CEASE_CONNECTION_REJECTED,
} from '../wire/errors.js';
import { cease } from './fsm.js';
import type { CollisionVerdict, ConnectionDirection, ConnectionView, InboundVerdict, SessionState } from './types.js';

export interface CollisionPolicy {
  /**
   * RFC 4271 §6.8, last paragraph: "unless allowed via configuration" a new
   * connection colliding with an Established one is closed. true: let it in
   * and resolve by BGP identifier like any other collision. Default false.
   */
  readonly allowWhenEstablished?: boolean;
}

/** What to do with a new inbound TCP connection, given the peer's current connection (if any). */
export function admitInbound(existing: ConnectionView | undefined, policy: CollisionPolicy = {}): InboundVerdict {
  if (!existing) return { type: 'accept' };
  switch (existing.state) {
    case 'Idle':
      // RFC 4271 §8.2.2 Idle refuses connections; RFC 4486 §4 Connection Rejected.
      return { type: 'reject', notification: cease(CEASE_CONNECTION_REJECTED) };
    case 'Connect':
    case 'Active':
      // No connection yet: the existing FSM takes it (TcpConnectionConfirmed, event 17).
      // In Connect the shell abandons its own attempt still in flight (or, if that
      // completes first, runs it as a second FsmState resolved like any collision).
      return { type: 'accept' };
    case 'OpenSent':
    case 'OpenConfirm':
      // Run it as a second FsmState; resolveCollision decides once an OPEN arrives.
      return { type: 'accept' };
    case 'Established':
      // RFC 4724 §4.2: with graceful restart a new connection means the peer
      // restarted; close the old session (no NOTIFICATION) and keep its routes stale.
      if (existing.gracefulRestart) return { type: 'replace-existing' };
      if (policy.allowWhenEstablished) return { type: 'accept' };
      // RFC 4271 §6.8: the newly created connection is closed.
      return { type: 'reject', notification: cease(CEASE_COLLISION_RESOLUTION) };
  }
}

/**
 * Which connection survives a collision by identifiers alone (RFC 4271 §6.8):
 * the one initiated by the side with the higher BGP identifier. If the
 * identifiers are equal (possible for eBGP under RFC 6286), the one initiated
 * by the side with the larger AS number (RFC 6286 §2.3).
 */
export function collisionWinner(localId: number, peerId: number, localAsn: number, peerAsn: number): ConnectionDirection {
  if (localId !== peerId) return localId > peerId ? 'outbound' : 'inbound';
  if (localAsn !== peerAsn) return localAsn > peerAsn ? 'outbound' : 'inbound';
  return 'outbound'; // cannot happen for a valid session (iBGP with our own identifier is rejected)
}

export interface CollisionInput {
  readonly localId: number;
  readonly localAsn: number;
  /** The BGP identifier and (4-octet) ASN from the OPEN just received. */
  readonly peerId: number;
  readonly peerAsn: number;
  /** Current states of the two connections (before feeding the OPEN). */
  readonly inbound: SessionState;
  readonly outbound: SessionState;
}

const IN_OPEN_EXCHANGE: readonly SessionState[] = ['OpenSent', 'OpenConfirm'];

/**
 * RFC 4271 §6.8: decides between a peer's two connections, or returns
 * undefined when they do not collide (one of them has no BGP session under way).
 */
export function resolveCollision(input: CollisionInput, policy: CollisionPolicy = {}): CollisionVerdict | undefined {
  const { inbound, outbound } = input;
  const live = (s: SessionState) => IN_OPEN_EXCHANGE.includes(s) || s === 'Established';
  if (!live(inbound) || !live(outbound)) return undefined;
  const notification = cease(CEASE_COLLISION_RESOLUTION);
  if (inbound === 'Established' && outbound === 'Established') return undefined; // impossible; nothing to decide
  if (!policy.allowWhenEstablished) {
    // §6.8 last paragraph: an Established session wins over the newcomer.
    if (inbound === 'Established') return { keep: 'inbound', close: 'outbound', notification };
    if (outbound === 'Established') return { keep: 'outbound', close: 'inbound', notification };
  }
  const keep = collisionWinner(input.localId, input.peerId, input.localAsn, input.peerAsn);
  return { keep, close: keep === 'inbound' ? 'outbound' : 'inbound', notification };
}
