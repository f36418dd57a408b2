// Next-hop validity (RFC 4271 §5.1.3, §6.3): the pure part of "can this path's
// NEXT_HOP be used at all", decided before resolvability (RFC 4271 §9.1.2).
// A semantically incorrect NEXT_HOP — unspecified, loopback, multicast, a
// link-local address where the session has no interface to pair it with, or
// an address of our own — makes the route ignored for the decision (§6.3:
// logged, no NOTIFICATION, the session stays), but it stays in the Adj-RIB-In
// and the Loc-RIB's candidates so the API shows it with its reason. The
// address class is derived once per interned attribute set (attr-store.ts);
// only the context lookups (own addresses, the session's interface) run per
// decision.

import type { Family } from '../../lib/prefix.js';
import { classifyNextHop, type NextHopClass } from './next-hop-class.js';
import type { Path, PeerInfo } from '../route.js';
import type { DecisionContext, IneligibleReason } from './context.js';

export { classifyNextHop, type NextHopClass } from './next-hop-class.js';

/** The family of the prefixes a path was stored under when the caller does not say: IPv6 when it only carries an IPv6 next hop. */
export function pathFamily(route: Path): Family {
  const a = route.attrs;
  return a.nextHopV6 !== undefined && a.nextHopV4 === undefined ? 'ipv6-unicast' : 'ipv4-unicast';
}

/** The next hop a path forwards `family`'s prefixes to (RFC 4271 §5.1.3 for IPv4, RFC 2545 §3 global for IPv6). */
export function nextHopOf(route: Path, family: Family): string | undefined {
  return family === 'ipv4-unicast' ? route.attrs.nextHopV4 : route.attrs.nextHopV6;
}

const CLASS_REASON: Partial<Record<NextHopClass, IneligibleReason>> = {
  missing: 'next-hop-missing',
  unspecified: 'next-hop-unspecified',
  loopback: 'next-hop-loopback',
  multicast: 'next-hop-multicast',
};

const sameHost = new WeakMap<PeerInfo, boolean>();

/** The session itself runs over a loopback address: the peer is a speaker on this host. */
function peerOnLoopback(peer: PeerInfo): boolean {
  let v = sameHost.get(peer);
  if (v === undefined) sameHost.set(peer, (v = classifyNextHop(peer.address) === 'loopback'));
  return v;
}

/**
 * RFC 4271 §6.3 / §5.1.3: why the path's NEXT_HOP for `family` is semantically
 * incorrect, or undefined when it is usable. Locally originated paths have no
 * next hop to check.
 */
export function nextHopFault(route: Path, family: Family, ctx: DecisionContext): IneligibleReason | undefined {
  if (route.peer.local) return undefined;
  const a = route.attrs;
  const cls = family === 'ipv4-unicast' ? a.nextHopV4Class : a.nextHopV6Class;
  // A loopback next hop names this host, so it is wrong from any peer but one
  // that runs on this host itself (its session is over loopback too).
  if (cls === 'loopback' && peerOnLoopback(route.peer)) return undefined;
  const bad = CLASS_REASON[cls];
  if (bad) return bad;
  // A link-local next hop names an address on one link only (RFC 4291 §2.5.6, RFC 3927 §2.6):
  // usable only when the session runs over an interface we can send it out of.
  if (cls === 'link-local' && route.peer.interface === undefined) return 'next-hop-link-local';
  // RFC 4271 §5.1.3 a / §6.3: it MUST NOT be the IP address of the receiving speaker.
  if (ctx.ownAddress && ctx.ownAddress(nextHopOf(route, family)!)) return 'next-hop-own-address';
  return undefined;
}
