// Export rules: whether a best route goes to a given peer, and the path
// attributes it carries there (RFC 4271 §5.1, §9.1.3, §9.2; RFC 4456 §6, §8;
// RFC 2545 §3 and RFC 4760 §3 for IPv6 next hops). The RIB facade runs, per
// target peer: exportCheck (the advertise rules) → export policy →
// rewriteAttributes (this file) → Adj-RIB-Out. Pure and synchronous.
//
// Decision on sender-side AS loop checks: like BIRD and FRR by default, we DO
// send an eBGP peer a route whose AS_PATH already holds the peer's ASN; the
// receiver's loop check (RFC 4271 §9.1.2) decides, and Calico-style setups
// that reuse one AS per rack rely on allowas-in there. `senderAsLoopCheck`
// turns the FRR-style "sender-as-path-loop-detection" on per target.
//
// Decision on `ipPools[].disableExport` (Calico disableBGPExport): Calico's
// BIRD export filter accepts a prefix only when it lies inside an IP pool
// whose export is on, and the filter sees every route it exports, learned
// ones included. So a pool with export off is matched by destination, not by
// source: neither our own blocks inside it nor routes learned inside it (a
// reflector's clients' blocks, a ToR's route) go to any peer. The FIB still
// installs them (the blackhole for our own blocks stays).

import {
  AS_CONFED_SEQUENCE,
  AS_CONFED_SET,
  AS_SEQUENCE,
  ORIGIN_IGP,
  ORIGIN_INCOMPLETE,
  type AsPathSegment,
  type Family,
  type MpReach,
  type PathAttributes,
} from '../bgp/wire/types.js';
import { prefixFamily, type PrefixKey } from '../lib/prefix.js';
import type { AttrSet } from './attr-store.js';
import { compilePrefixRange, v4InRange, v6InRange, type PrefixRange } from './policy/match.js';
import { isReflection, reflectAttributes, shouldAdvertise } from './reflect.js';
import type { PeerInfo } from './route.js';

/** A best path as export sees it: where it came from and its interned attributes (route.ts Path). */
export interface ExportPath {
  readonly peer: PeerInfo;
  readonly attrs: AttrSet;
}

export type NextHopMode = 'auto' | 'self' | 'keep';

/** The session a route is exported to. */
export interface ExportTarget {
  readonly peer: PeerInfo;
  readonly nextHopMode: NextHopMode;
  /** Our IPv4 address on this session: NEXT_HOP when we are the next hop. */
  readonly localAddressV4?: string;
  /** Our global IPv6 address on this session: MP_REACH next hop when we are the next hop. */
  readonly localAddressV6?: string;
  /** Our link-local IPv6 address; set only when the peer shares the link (RFC 2545 §3). */
  readonly linkLocalAddressV6?: string;
  /** Refuse to send routes whose AS_PATH holds the target's ASN (off by default; see the file comment). */
  readonly senderAsLoopCheck?: boolean;
}

/** Speaker-wide settings export needs. */
export interface ExportSettings {
  readonly routerId: number;
  /** RFC 4456 §7: defaults to the router ID. */
  readonly clusterId?: number;
  /** We reflect routes between iBGP peers (RFC 4456). */
  readonly isReflector: boolean;
  /** RFC 4456 §5: reflect client routes to other clients. */
  readonly clientToClient: boolean;
  /** LOCAL_PREF given to iBGP peers for routes without one (RFC 4271 §5.1.5); usually 100. */
  readonly defaultLocalPref: number;
  /** IP pools with export off (Calico disableBGPExport), from compileExportDisabledPools. */
  readonly exportDisabledPools?: readonly PrefixRange[];
}

export type ExportSkipReason =
  /** Never back to the peer the route came from. */
  | 'source-peer'
  /** RFC 4271 §9.2: iBGP-learned routes do not go to iBGP peers without reflection. */
  | 'ibgp-to-ibgp'
  /** RFC 4456 §6: a non-client's route is reflected to clients only. */
  | 'non-client-to-non-client'
  /** RFC 4456 §5: client-to-client reflection is turned off. */
  | 'client-to-client-disabled'
  /** RFC 4456 §8: the target originated the route (its ORIGINATOR_ID); it would drop it. */
  | 'originator-is-target'
  /** The target's ASN is in AS_PATH and senderAsLoopCheck is on. */
  | 'as-loop-at-target'
  /** We must be the next hop but have no local address of the route's family on this session. */
  | 'no-next-hop'
  /** The prefix lies inside an IP pool with export off (ipPools[].disableExport, Calico disableBGPExport). */
  | 'pool-export-disabled';

export type ExportResult =
  | { readonly ok: true; readonly attrs: PathAttributes }
  | { readonly ok: false; readonly reason: ExportSkipReason };

export interface RewriteOptions {
  /** Export policy set MED itself, so it goes to eBGP peers too (RFC 4271 §5.1.4 forbids only propagating a received one). */
  readonly medSetByPolicy?: boolean;
}

const EMPTY_V6 = Object.freeze({ family: 'ipv6-unicast' as const, prefixes: Object.freeze([]) as readonly never[] });

/** AS_PATH segments hold at most 255 ASNs (one-octet segment length, RFC 4271 §4.3 b). */
export const MAX_SEGMENT_ASNS = 255;

/** The pools with export off, compiled once: each matches its CIDR and every more-specific prefix. */
export function compileExportDisabledPools(cidrs: readonly string[]): PrefixRange[] {
  return cidrs.map((cidr, i) => compilePrefixRange(cidr, undefined, undefined, `ipPools[${i}].cidr`));
}

/** Whether `prefix` lies inside a pool whose export is off (see the file comment: learned routes too). */
export function poolExportDisabled(prefix: PrefixKey, settings: ExportSettings): boolean {
  const pools = settings.exportDisabledPools;
  if (!pools || pools.length === 0) return false;
  if (typeof prefix === 'number') {
    for (const r of pools) if (r.v4 && v4InRange(r, prefix)) return true;
  } else {
    for (const r of pools) if (!r.v4 && v6InRange(r, prefix)) return true;
  }
  return false;
}

/**
 * Whether `path` may be advertised to `target` at all (before policy). Returns
 * the reason it may not, or undefined when it may.
 */
export function exportCheck(path: ExportPath, target: ExportTarget, settings: ExportSettings): ExportSkipReason | undefined {
  const source = path.peer;
  const to = target.peer;
  // Split horizon: the peer a route came from already has it.
  if (source === to || (!source.local && source.address === to.address)) return 'source-peer';
  // RFC 4456 §6 advertise table (RFC 4271 §9.2 when we do not reflect).
  const opts = { isReflector: settings.isReflector, clientToClient: settings.clientToClient };
  if (!shouldAdvertise(source, to, opts)) {
    if (!settings.isReflector) return 'ibgp-to-ibgp';
    return source.rrClient && to.rrClient ? 'client-to-client-disabled' : 'non-client-to-non-client';
  }
  const attrs = path.attrs.attrs;
  // RFC 4456 §8: a peer that finds its own router ID in ORIGINATOR_ID drops the route.
  if (to.ibgp && attrs.originatorId !== undefined && attrs.originatorId >>> 0 === to.bgpId >>> 0) return 'originator-is-target';
  if (!to.ibgp && target.senderAsLoopCheck && attrs.asPath)
    for (const s of attrs.asPath) if (s.asns.includes(to.asn)) return 'as-loop-at-target';
  return undefined;
}

/** RFC 4271 §5.1.2: our ASN in front of the path; a new AS_SEQUENCE when the leading one is not a sequence or is full. */
export function prependAs(path: readonly AsPathSegment[], asn: number): AsPathSegment[] {
  const first = path[0];
  if (first && first.type === AS_SEQUENCE && first.asns.length < MAX_SEGMENT_ASNS)
    return [{ type: AS_SEQUENCE, asns: [asn, ...first.asns] }, ...path.slice(1)];
  return [{ type: AS_SEQUENCE, asns: [asn] }, ...path];
}

/** RFC 5065 §5.3: confederation segments never leave the confederation. */
function withoutConfed(path: readonly AsPathSegment[]): readonly AsPathSegment[] {
  return path.some((s) => s.type === AS_CONFED_SEQUENCE || s.type === AS_CONFED_SET)
    ? path.filter((s) => s.type !== AS_CONFED_SEQUENCE && s.type !== AS_CONFED_SET)
    : path;
}

function isUnspecifiedV6(text: string): boolean {
  return text === '::' || text === '';
}

/**
 * The path attributes `attrs` (of a route from `source`, after export policy)
 * carry to `target` for a prefix of `family`, without NLRI: the packer adds it.
 */
export function rewriteAttributes(
  attrs: PathAttributes,
  source: PeerInfo,
  family: Family,
  target: ExportTarget,
  settings: ExportSettings,
  options: RewriteOptions = {},
): ExportResult {
  const to = target.peer;
  const out: { -readonly [K in keyof PathAttributes]: PathAttributes[K] } = {};

  // ORIGIN (RFC 4271 §5.1.1): unchanged; routes we originate are IGP.
  out.origin = attrs.origin ?? (source.local ? ORIGIN_IGP : ORIGIN_INCOMPLETE);

  const path = attrs.asPath ?? [];
  if (to.ibgp) {
    // RFC 4271 §5.1.2 b: to an internal peer the AS_PATH goes unchanged
    // (empty for routes we originate).
    out.asPath = path;
    // RFC 4271 §5.1.5: LOCAL_PREF goes to every internal peer; routes learned
    // over eBGP or originated here get the default.
    out.localPref = attrs.localPref ?? settings.defaultLocalPref;
    // RFC 4271 §5.1.4: MED may be propagated within the AS.
    if (attrs.med !== undefined) out.med = attrs.med;
  } else {
    // RFC 4271 §5.1.2 a: to an external peer, prepend our own ASN.
    out.asPath = prependAs(withoutConfed(path), to.localAsn);
    // RFC 4271 §5.1.5: LOCAL_PREF is never sent to an external peer (not copied).
    // RFC 4271 §5.1.4: a MED received from a neighbouring AS must not go to other ASes;
    // one we set (originated here or by export policy) may.
    if (attrs.med !== undefined && (source.local || options.medSetByPolicy)) out.med = attrs.med;
  }

  if (attrs.atomicAggregate) out.atomicAggregate = true;
  if (attrs.aggregator) out.aggregator = attrs.aggregator;
  if (attrs.communities) out.communities = attrs.communities;
  if (attrs.extCommunities) out.extCommunities = attrs.extCommunities;
  if (attrs.largeCommunities) out.largeCommunities = attrs.largeCommunities;
  if (attrs.unknown && attrs.unknown.length > 0) out.unknown = attrs.unknown;

  // RFC 4456 §8: ORIGINATOR_ID and CLUSTER_LIST only on reflection; they are
  // non-transitive and never leave the AS (or come in from outside it).
  if (to.ibgp && isReflection(source, to)) {
    const reflected = reflectAttributes(attrs, source.bgpId, settings.clusterId ?? settings.routerId);
    out.originatorId = reflected.originatorId;
    out.clusterList = reflected.clusterList;
  }

  // Next hop (RFC 4271 §5.1.3). Self: always toward eBGP in auto mode, for
  // routes we originate, and when configured. Keep: toward iBGP in auto mode
  // (§5.1.3 b: the external next hop is carried through the AS), when
  // configured, falling back to self when the route has none of the family.
  const self = target.nextHopMode === 'self' || source.local || (target.nextHopMode === 'auto' && !to.ibgp);
  if (family === 'ipv4-unicast') {
    const kept = attrs.nextHop ?? (attrs.mpReach?.family === 'ipv4-unicast' ? attrs.mpReach.nextHop : undefined);
    const nextHop = self || kept === undefined ? target.localAddressV4 : kept;
    if (nextHop === undefined) return { ok: false, reason: 'no-next-hop' };
    out.nextHop = nextHop;
  } else {
    const keptV6 = attrs.mpReach?.family === 'ipv6-unicast' ? attrs.mpReach.nextHop : undefined;
    let mp: MpReach;
    if (self || keptV6 === undefined || isUnspecifiedV6(keptV6)) {
      if (target.localAddressV6 === undefined) return { ok: false, reason: 'no-next-hop' };
      // RFC 2545 §3: global next hop, plus our link-local one when the peer is on the link.
      mp = target.linkLocalAddressV6
        ? { family, nextHop: target.localAddressV6, linkLocalNextHop: target.linkLocalAddressV6, nlri: EMPTY_V6 }
        : { family, nextHop: target.localAddressV6, nlri: EMPTY_V6 };
    } else {
      // Keeping another router's next hop: its link-local address means
      // nothing off its own link, so only the global one goes on (RFC 2545 §3).
      mp = { family, nextHop: keptV6, nlri: EMPTY_V6 };
    }
    out.mpReach = mp;
  }
  return { ok: true, attrs: out };
}

/** exportCheck then rewriteAttributes, for exports without policy. */
export function exportRoute(prefix: PrefixKey, path: ExportPath, target: ExportTarget, settings: ExportSettings): ExportResult {
  if (poolExportDisabled(prefix, settings)) return { ok: false, reason: 'pool-export-disabled' };
  const skip = exportCheck(path, target, settings);
  if (skip) return { ok: false, reason: skip };
  return rewriteAttributes(path.attrs.attrs, path.peer, prefixFamily(prefix), target, settings);
}
