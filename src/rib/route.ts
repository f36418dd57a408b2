// Peers and paths as the RIB sees them. A route is a prefix key plus a Path:
// the peer it came from, a pointer to an interned attribute set and an RFC
// 7911 path identifier (RFC 4271 §1.1: the information reported with a set of
// destinations). Every prefix of one UPDATE shares one Path object, so a
// route costs only its table entries: the prefix key is the table key and
// nothing per prefix is allocated beyond them (DESIGN.md, Memory). Staleness
// for RFC 4724 graceful restart is kept by the Adj-RIB-In, not in the Path.

import { v4Parse, v6Parse } from '../lib/prefix.js';
import type { PrefixKey } from '../lib/prefix.js';
import type { AttrSet } from './attr-store.js';

/** What the RIB needs to know about the peer a route was learned from. */
export interface PeerInfo {
  /** Canonical text of the peer's address ("192.0.2.2", "2001:db8::2"); "local" for originated routes. */
  readonly address: string;
  /** Sortable form of the address: IPv4 before IPv6, then numeric order (RFC 4271 §9.1.2.2 g). */
  readonly addressOrder: string;
  readonly asn: number;
  /** Our ASN on this session (may differ per neighbour). */
  readonly localAsn: number;
  /** The peer's BGP Identifier (RFC 4271 §4.2) as an unsigned 32-bit number. */
  readonly bgpId: number;
  /** Same AS on both ends (RFC 4271 §3: internal peer). */
  readonly ibgp: boolean;
  /** RFC 4456 §2: this peer is a route-reflector client of ours. */
  readonly rrClient: boolean;
  /** The pseudo-peer for routes this speaker originates itself. */
  readonly local: boolean;
  /** How many times our own ASN may appear in AS_PATH before the route is a loop ("allowas-in"); default 0. */
  readonly allowOwnAs: number;
  /**
   * The interface the session runs over when the peer is on one of our
   * connected subnets (one hop away); undefined for multihop sessions. A
   * link-local next hop is only usable with it (decision/next-hop.ts).
   */
  readonly interface?: string;
}

export interface PeerInit {
  readonly address: string;
  readonly asn: number;
  readonly localAsn: number;
  readonly bgpId: number;
  readonly rrClient?: boolean;
  readonly allowOwnAs?: number;
  readonly interface?: string;
}

/** Sortable key of an address: '4' + 8 hex digits or '6' + 32 hex digits. */
export function addressOrder(address: string): string {
  const v4 = v4Parse(address);
  if (v4 !== undefined) return '4' + v4.toString(16).padStart(8, '0');
  const v6 = v6Parse(address);
  if (v6 !== undefined) return '6' + v6.toString('hex');
  return '9' + address;
}

/** Builds the PeerInfo for one session; create one object per session and reuse it. */
export function makePeer(init: PeerInit): PeerInfo {
  return Object.freeze({
    address: init.address,
    addressOrder: addressOrder(init.address),
    asn: init.asn,
    localAsn: init.localAsn,
    bgpId: init.bgpId >>> 0,
    ibgp: init.asn === init.localAsn,
    rrClient: init.rrClient ?? false,
    local: false,
    allowOwnAs: init.allowOwnAs ?? 0,
    ...(init.interface !== undefined ? { interface: init.interface } : {}),
  });
}

/** The pseudo-peer of locally originated routes: our own router ID and ASN. */
export function localPeer(routerId: number, asn: number): PeerInfo {
  return Object.freeze({
    address: 'local',
    addressOrder: '0',
    asn,
    localAsn: asn,
    bgpId: routerId >>> 0,
    ibgp: false,
    rrClient: false,
    local: true,
    allowOwnAs: 0,
  });
}

/**
 * A path: how one peer reaches the prefixes it is stored under. Shared by
 * every prefix advertised with it; the same object may sit in an Adj-RIB-In
 * and the Loc-RIB when import policy leaves the attributes alone. Candidates
 * for a prefix are identified by (peer object, pathId).
 */
export class Path {
  constructor(
    readonly peer: PeerInfo,
    readonly attrs: AttrSet,
    /** RFC 7911 path identifier; 0 when ADD-PATH is not in use. */
    readonly pathId: number = 0,
  ) {}
}

/** Prefixes with their paths, as parallel arrays (no object per prefix): what RIB operations report. */
export interface RouteList {
  readonly prefixes: PrefixKey[];
  readonly paths: Path[];
}

/** True when both describe the same candidate: same session, same path identifier. */
export function sameCandidate(a: Path, b: Path): boolean {
  return a.peer === b.peer && a.pathId === b.pathId;
}
