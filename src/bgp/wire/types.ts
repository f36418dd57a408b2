// The typed shape of every BGP message bgp-ts reads and writes (RFC 4271 §4)
// and the contexts that negotiated capabilities give the codec. Plain readonly
// data: decoders produce it, encoders consume it, nothing here does I/O.
//
// Address conventions: IP addresses (next hops, aggregator, peer addresses)
// are canonical text ("192.0.2.1", "2001:db8::1"); BGP identifiers, cluster IDs
// and ORIGINATOR_ID are unsigned 32-bit numbers; prefixes are PrefixKeys
// (src/lib/prefix.ts: number for IPv4, string for IPv6).

import type { Family, PrefixKey } from '../../lib/prefix.js';

export type { Family, PrefixKey };

export const AFI_IPV4 = 1;
export const AFI_IPV6 = 2;
export const SAFI_UNICAST = 1;

export const MSG_OPEN = 1;
export const MSG_UPDATE = 2;
export const MSG_NOTIFICATION = 3;
export const MSG_KEEPALIVE = 4;
export const MSG_ROUTE_REFRESH = 5;

/** RFC 4271 §4.1: header is 19 octets; RFC 8654 raises the maximum from 4096. */
export const HEADER_LENGTH = 19;
export const MAX_MESSAGE_LENGTH = 4096;
export const MAX_EXTENDED_MESSAGE_LENGTH = 65535;
/** RFC 6793 §9: AS_TRANS stands in for a 4-octet ASN in 2-octet fields. */
export const AS_TRANS = 23456;

/** Per-family flags negotiated for a session. */
export interface FamilyFlags {
  readonly 'ipv4-unicast': boolean;
  readonly 'ipv6-unicast': boolean;
}

export const NO_FAMILIES: FamilyFlags = { 'ipv4-unicast': false, 'ipv6-unicast': false };

/**
 * What the codec needs to know about a session to read or write UPDATEs.
 * Before OPEN exchange completes use DEFAULT_CODEC_CONTEXT.
 */
export interface CodecContext {
  /** RFC 6793: both sides advertised the 4-octet AS capability. */
  readonly fourOctetAs: boolean;
  /** RFC 8654: both sides advertised extended messages (max length 65535). */
  readonly extendedMessage: boolean;
  /** RFC 7911: NLRI we receive carry a Path Identifier, per family. */
  readonly addPathReceive: FamilyFlags;
  /** RFC 7911: NLRI we send carry a Path Identifier, per family. */
  readonly addPathSend: FamilyFlags;
  /** RFC 7313: both sides advertised enhanced route refresh (changes the ROUTE-REFRESH length error, §5). */
  readonly enhancedRouteRefresh?: boolean;
}

export const DEFAULT_CODEC_CONTEXT: CodecContext = {
  fourOctetAs: false,
  extendedMessage: false,
  addPathReceive: NO_FAMILIES,
  addPathSend: NO_FAMILIES,
};

// ---------------------------------------------------------------- OPEN

export type AddPathMode = 'receive' | 'send' | 'both';

export interface AfiSafi {
  readonly afi: number;
  readonly safi: number;
}

/** RFC 5492 capabilities; `code` is the IANA capability code. */
export type Capability =
  | { readonly kind: 'multiprotocol'; readonly code: 1; readonly afi: number; readonly safi: number }
  | { readonly kind: 'route-refresh'; readonly code: 2 }
  | { readonly kind: 'extended-message'; readonly code: 6 }
  | {
      readonly kind: 'graceful-restart';
      readonly code: 64;
      /** R bit: the sender has restarted. */
      readonly restarting: boolean;
      /** N bit (RFC 8538): graceful notification supported. */
      readonly notification: boolean;
      /** Restart time in seconds, 0..4095. */
      readonly restartTime: number;
      readonly families: readonly (AfiSafi & { readonly forwardingState: boolean })[];
    }
  | { readonly kind: 'four-octet-as'; readonly code: 65; readonly asn: number }
  | {
      readonly kind: 'add-path';
      readonly code: 69;
      readonly families: readonly (AfiSafi & { readonly mode: AddPathMode })[];
    }
  | { readonly kind: 'enhanced-route-refresh'; readonly code: 70 }
  | { readonly kind: 'fqdn'; readonly code: 73; readonly hostname: string; readonly domain: string }
  | { readonly kind: 'unknown'; readonly code: number; readonly value: Buffer };

export interface OpenMessage {
  readonly type: 'open';
  /** Always 4 on the wire (RFC 4271 §4.2). */
  readonly version: number;
  /** The 2-octet "My Autonomous System" field (AS_TRANS when the real ASN needs 4 octets). */
  readonly myAs: number;
  /** Seconds; 0 or >= 3. */
  readonly holdTime: number;
  /** BGP Identifier as an unsigned 32-bit number. */
  readonly bgpId: number;
  readonly capabilities: readonly Capability[];
  /** Optional parameters other than capabilities (type 2), kept as they came. */
  readonly otherParams?: readonly { readonly type: number; readonly value: Buffer }[];
}

// ---------------------------------------------------------------- UPDATE

export const ORIGIN_IGP = 0;
export const ORIGIN_EGP = 1;
export const ORIGIN_INCOMPLETE = 2;
export type Origin = 0 | 1 | 2;

export const AS_SET = 1;
export const AS_SEQUENCE = 2;
export const AS_CONFED_SEQUENCE = 3;
export const AS_CONFED_SET = 4;
export type AsPathSegmentType = 1 | 2 | 3 | 4;

export interface AsPathSegment {
  readonly type: AsPathSegmentType;
  /** 4-octet values (after the RFC 6793 AS4_PATH merge when the peer is 2-octet). */
  readonly asns: readonly number[];
}

/** A path attribute the codec does not know; kept and passed on when transitive. */
export interface RawAttribute {
  readonly flags: number;
  readonly code: number;
  readonly value: Buffer;
}

/** A set of prefixes of one family, with RFC 7911 path identifiers when negotiated. */
export interface Nlri {
  readonly family: Family;
  readonly prefixes: readonly PrefixKey[];
  /** Same length as `prefixes` when ADD-PATH is in use for this family and direction. */
  readonly pathIds?: readonly number[];
}

/** RFC 4760 MP_REACH_NLRI. */
export interface MpReach {
  readonly family: Family;
  /** Global next hop as text; IPv4 text for IPv4 next hops. */
  readonly nextHop: string;
  /** RFC 2545 link-local next hop (IPv6, 32-octet next-hop field). */
  readonly linkLocalNextHop?: string;
  readonly nlri: Nlri;
}

/** RFC 4760 MP_UNREACH_NLRI. */
export interface MpUnreach {
  readonly nlri: Nlri;
}

export interface Aggregator {
  readonly asn: number;
  readonly address: string;
}

/** RFC 8092 large community. */
export interface LargeCommunity {
  readonly global: number;
  readonly local1: number;
  readonly local2: number;
}

/** The path attributes of one UPDATE, decoded. Absent = not present. */
export interface PathAttributes {
  readonly origin?: Origin;
  readonly asPath?: readonly AsPathSegment[];
  /** NEXT_HOP (type 3), IPv4 text. */
  readonly nextHop?: string;
  readonly med?: number;
  readonly localPref?: number;
  readonly atomicAggregate?: boolean;
  readonly aggregator?: Aggregator;
  /** RFC 1997 communities as 32-bit numbers (asn << 16 | value). */
  readonly communities?: readonly number[];
  /** RFC 4456 */
  readonly originatorId?: number;
  readonly clusterList?: readonly number[];
  readonly mpReach?: MpReach;
  readonly mpUnreach?: MpUnreach;
  /** RFC 4360 extended communities, each as a 64-bit value. */
  readonly extCommunities?: readonly bigint[];
  readonly largeCommunities?: readonly LargeCommunity[];
  /** Unrecognised attributes, in arrival order. */
  readonly unknown?: readonly RawAttribute[];
}

export interface UpdateMessage {
  readonly type: 'update';
  /** IPv4 withdrawn routes (RFC 4271 §4.3). */
  readonly withdrawn: Nlri;
  readonly attributes: PathAttributes;
  /** IPv4 NLRI. */
  readonly nlri: Nlri;
}

// ---------------------------------------------------------------- others

export interface NotificationMessage {
  readonly type: 'notification';
  readonly code: number;
  readonly subcode: number;
  readonly data: Buffer;
  /** RFC 8203/9003 shutdown communication for Cease subcodes 2 and 4, when present and valid. */
  readonly shutdownMessage?: string;
}

export interface KeepaliveMessage {
  readonly type: 'keepalive';
}

/** RFC 2918 / RFC 7313: subtype 0 request, 1 BoRR, 2 EoRR. */
export interface RouteRefreshMessage {
  readonly type: 'route-refresh';
  readonly afi: number;
  readonly safi: number;
  readonly subtype: number;
}

export type BgpMessage =
  | OpenMessage
  | UpdateMessage
  | NotificationMessage
  | KeepaliveMessage
  | RouteRefreshMessage;

/** Maps a family to its (AFI, SAFI), and back. */
export function familyAfiSafi(family: Family): AfiSafi {
  return family === 'ipv4-unicast' ? { afi: AFI_IPV4, safi: SAFI_UNICAST } : { afi: AFI_IPV6, safi: SAFI_UNICAST };
}

export function afiSafiFamily(afi: number, safi: number): Family | undefined {
  if (safi !== SAFI_UNICAST) return undefined;
  if (afi === AFI_IPV4) return 'ipv4-unicast';
  if (afi === AFI_IPV6) return 'ipv6-unicast';
  return undefined;
}
