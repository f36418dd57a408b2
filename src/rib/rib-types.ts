// The RIB facade's typed inputs and outputs (STYLE.md §5): speaker-wide
// settings, what a session brings when it comes up, the best-path changes
// handed to the FIB, the notices the shell acts on (max-prefix, RFC 4724
// stale sweeps) and the figures the API and metrics read. Plain data only.

import type { CodecContext, Family } from '../bgp/wire/types.js';
import type { PolicyRule } from '../config/schema.js';
import type { PrefixKey } from '../lib/prefix.js';
import type { NextHopMode } from './export.js';
import type { GlobalPolicies } from './policy/index.js';
import type { Path, PeerInfo } from './route.js';

export interface RibSettings {
  /** Our BGP Identifier as an unsigned 32-bit number. */
  readonly routerId: number;
  readonly asn: number;
  /** We reflect routes (RFC 4456): a cluster ID is configured or some peer is a client. */
  readonly isReflector: boolean;
  /** RFC 4456 §7: defaults to the router ID. */
  readonly clusterId?: number;
  /** RFC 4456 §5: reflect client routes to other clients (default on). */
  readonly clientToClient: boolean;
  readonly alwaysCompareMed: boolean;
  /** Largest multipath (ECMP) set, fib.ecmp. */
  readonly ecmp: number;
  /** RFC 4271 §9.1.1 / §5.1.5: LOCAL_PREF when absent; 100. */
  readonly defaultLocalPref?: number;
  /** Config `serviceCidrs`: originated prefixes inside them are services (originate.ts). */
  readonly serviceCidrs?: readonly string[];
  /** CIDRs of the IP pools with export off (config ipPools[].disableExport, Calico disableBGPExport). */
  readonly exportDisabledPools?: readonly string[];
  /** The global import/export rules and the RFC 8212 switch, compiled once. */
  readonly policies?: GlobalPolicies;
  /**
   * Octets of an update group's encoded stream a member may fall behind before
   * it leaves the stream and catches up from the group's table (update-group.ts).
   */
  readonly maxStreamLag?: number;
}

/** Everything the RIB needs of one established session. */
export interface RibPeerSettings {
  readonly peer: PeerInfo;
  /** Families negotiated on the session (RFC 4760 §8). */
  readonly families: readonly Family[];
  /** The session's codec context (4-octet AS, ADD-PATH, extended messages). */
  readonly codec: CodecContext;
  readonly nextHopMode: NextHopMode;
  /** Our addresses as next hop on this session (next-hop-self); see the daemon for how they are chosen. */
  readonly localAddressV4?: string;
  readonly localAddressV6?: string;
  readonly linkLocalAddressV6?: string;
  /** RFC 7313 negotiated: bracket route-refresh resends with BoRR/EoRR. */
  readonly enhancedRouteRefresh?: boolean;
  /** RFC 4724 negotiated with the peer: its routes survive a session loss for `restartTime` seconds. */
  readonly gracefulRestart?: { readonly restartTime: number };
  readonly maxPrefix?: { readonly limit: number; readonly action: 'close' | 'warn' };
  readonly import?: readonly PolicyRule[];
  readonly export?: readonly PolicyRule[];
}

/**
 * A best-path change for the FIB (the daemon converts it to src/fib's input):
 * the multipath (ECMP) set, best first; empty = the prefix has no route any
 * more. `local` = the best path is one we originate.
 */
export interface FibChange {
  readonly prefix: PrefixKey;
  readonly paths: readonly Path[];
  readonly local: boolean;
  /** A local block Calico-style blackholes (originate.ts: blocks yes, /32 and /128 no). */
  readonly blackhole?: boolean;
}

/** Things the shell must act on or log. */
export type RibNotice =
  /** RFC 4486 §4: the peer sent more prefixes of `family` than `limit`. With 'close' its updates are ignored from now on. */
  | { readonly type: 'max-prefix'; readonly address: string; readonly family: Family; readonly limit: number; readonly count: number; readonly action: 'close' | 'warn' }
  /** RFC 4724 §4.2: stale routes removed (End-of-RIB, restart timer, or the peer came back without GR). */
  | { readonly type: 'stale-swept'; readonly address: string; readonly count: number }
  /** RFC 7313 §4: routes of `family` the peer did not re-advertise between its BoRR and its EoRR (or before the refresh timer ran out) removed. */
  | { readonly type: 'refresh-stale-swept'; readonly address: string; readonly family: Family; readonly count: number; readonly reason: 'eorr' | 'timer' }
  /** RFC 4724 §2: End-of-RIB received. */
  | { readonly type: 'end-of-rib-received'; readonly address: string; readonly family: Family }
  /** The initial table for a peer is queued; End-of-RIB follows it out. */
  | { readonly type: 'initial-table-queued'; readonly address: string; readonly prefixes: number };

export interface FamilyCounts {
  readonly received: number;
  readonly accepted: number;
  readonly advertised: number;
}

export interface RibPeerStats {
  readonly address: string;
  readonly up: boolean;
  /** Routes held as stale after a graceful restart (RFC 4724) or during an enhanced route refresh (RFC 7313). */
  readonly stale: number;
  readonly byFamily: Readonly<Record<Family, FamilyCounts>>;
}

export interface RibTotals {
  /** Loc-RIB prefixes, per family. */
  readonly routes: Readonly<Record<Family, number>>;
  /** Adj-RIB-In paths (all peers, plus originated), per family. */
  readonly paths: Readonly<Record<Family, number>>;
  readonly bestPathChanges: number;
  readonly attributeSets: number;
  /** Outgoing attribute sets (after export rewrite). */
  readonly outAttributeSets: number;
  /** Queued work: dirty prefixes and background jobs. */
  readonly dirty: number;
  readonly jobs: number;
}

export type OriginateResult = { readonly ok: true } | { readonly ok: false; readonly error: 'invalid' | 'conflict' | 'not-found'; readonly message: string };

/**
 * What Rib.routeRefresh did with a ROUTE-REFRESH from a peer: 'resend' (RFC
 * 2918 request, our Adj-RIB-Out goes again), 'begin' (RFC 7313 BoRR: the
 * family's routes are stale; the shell arms the refresh timer), 'end' (EoRR:
 * what is still stale is purged; the shell cancels the timer), 'ignored'.
 */
export type RouteRefreshAction = 'resend' | 'begin' | 'end' | 'ignored';

/** What peerDown did with the peer's routes. */
export interface PeerDownResult {
  /** Routes kept as stale (RFC 4724 §4.2); 0 when they are being withdrawn. */
  readonly stale: number;
  /** Seconds until the shell should call staleTimerFired (the peer's restart time). */
  readonly restartTime?: number;
}
