// The export side of one established session: its Adj-RIB-Out (RFC 4271 §3.2)
// and the pipeline a best path runs through before it lands there:
// exportCheck (RFC 4456 §6 advertise table, split horizon) → RFC 1997
// well-known communities → export policy → rewriteAttributes (RFC 4271 §5.1,
// RFC 4456 §8). The rewritten attribute set depends only on the post-policy
// set, the source peer and the family, so it is cached per (set, source) and
// a whole UPDATE's worth of prefixes costs one rewrite.
//
// Route refresh (RFC 2918 §4): a request re-queues everything advertised; with
// enhanced route refresh (RFC 7313 §4) the resend is bracketed by a
// Beginning-of-RIB-Refresh and an End-of-RIB-Refresh for the family asked.
// The shell pulls ready UPDATE buffers with take(); nothing is pushed.
//
// ADD-PATH send (RFC 7911), for families where it is negotiated: like BIRD's
// `add paths tx` (Calico turns it on for every peer), every eligible
// candidate of the prefix that passes the export rules and policy goes out,
// best first, each under its own path identifier; there is no cap beyond the
// candidates themselves. An identifier names one source, (peer address,
// received path ID), for the whole session, so it is stable: a changed path
// is re-announced under the same ID (an implicit replace, RFC 7911 §3) and a
// path that goes away is withdrawn by its ID. IDs start at 1 and are never
// reused within a session.

import { encodeRouteRefresh } from '../bgp/wire/route-refresh.js';
import { familyAfiSafi, type CodecContext, type Family } from '../bgp/wire/types.js';
import { prefixFamily, type PrefixKey } from '../lib/prefix.js';
import { AdjRibOut } from './adj-rib-out.js';
import type { AttrSet, AttrStore } from './attr-store.js';
import type { DecisionContext } from './decision/context.js';
import { checkEligibility } from './decision/eligibility.js';
import { exportCheck, poolExportDisabled, rewriteAttributes, type ExportSettings, type ExportSkipReason, type ExportTarget } from './export.js';
import { evaluate, wellKnownBlock, type Policy } from './policy/index.js';
import type { Path, PeerInfo } from './route.js';
import type { RibPeerSettings } from './rib-types.js';

/** RFC 7313 §3: ROUTE-REFRESH message subtypes. */
export const RR_REQUEST = 0;
export const RR_BORR = 1;
export const RR_EORR = 2;

/** Why a best path is not advertised to a peer (export rules, communities, policy). */
export type ExportBlock = ExportSkipReason | 'no-advertise' | 'no-export' | 'no-export-subconfed' | 'policy-rejected' | 'family-not-negotiated';

type Rewritten = AttrSet | ExportBlock;

/** Every candidate of a prefix, for ADD-PATH send (the Loc-RIB fits). */
export interface CandidateSource {
  readonly ctx: DecisionContext;
  candidates(prefix: PrefixKey): readonly Path[];
}

export interface PeerOutOptions {
  readonly target: ExportTarget;
  readonly families: readonly Family[];
  readonly codec: CodecContext;
  readonly exportPolicy: Policy;
  readonly enhancedRouteRefresh: boolean;
  /** RFC 7911: required for families with ADD-PATH send (codec.addPathSend); without it only the best path goes. */
  readonly candidates?: CandidateSource;
}

export class PeerOut {
  readonly adjRibOut: AdjRibOut;
  readonly peer: PeerInfo;
  /** Post-policy attribute set → source peer → [IPv4 result, IPv6 result]. */
  private cache = new WeakMap<AttrSet, Map<PeerInfo, [Rewritten | undefined, Rewritten | undefined]>>();
  /** BoRR messages to send before anything else (RFC 7313 §4). */
  private readonly control: Buffer[] = [];
  /** Families owed an EoRR once the resend has gone out. */
  private readonly eorr = new Set<Family>();
  /** Initial-table dumps (or soft-out re-exports) still running for this peer. */
  dumps = 0;
  /** The initial table has been queued (End-of-RIB armed). */
  initialQueued = false;
  /** The session is gone; jobs holding this object stop. */
  closed = false;
  /** RFC 7911: per family [IPv4, IPv6], every eligible path goes, each with its own path ID. */
  private readonly addPathSend: readonly [boolean, boolean];
  /** ADD-PATH send: source "address#received path ID" → our path ID on this session. */
  private readonly pathIds = new Map<string, number>();
  private nextPathId = 1;
  /** ADD-PATH send: per prefix, the path IDs announced or queued (one number in the common case). */
  private readonly sentIds = new Map<PrefixKey, number | number[]>();

  constructor(
    readonly options: PeerOutOptions,
    private settings: ExportSettings,
    private readonly inStore: AttrStore,
    private readonly outStore: AttrStore,
  ) {
    this.peer = options.target.peer;
    this.adjRibOut = new AdjRibOut(outStore, options.codec, options.families);
    const send = options.codec.addPathSend;
    const on = (f: Family): boolean => options.candidates !== undefined && send[f] === true && options.families.includes(f);
    this.addPathSend = [on('ipv4-unicast'), on('ipv6-unicast')];
  }

  /** The PeerOut for an established session's settings (RibPeerSettings). */
  static forSession(
    s: RibPeerSettings,
    exportPolicy: Policy,
    settings: ExportSettings,
    inStore: AttrStore,
    outStore: AttrStore,
    candidates?: CandidateSource,
  ): PeerOut {
    const target: ExportTarget = {
      peer: s.peer,
      nextHopMode: s.nextHopMode,
      ...(s.localAddressV4 !== undefined ? { localAddressV4: s.localAddressV4 } : {}),
      ...(s.localAddressV6 !== undefined ? { localAddressV6: s.localAddressV6 } : {}),
      ...(s.linkLocalAddressV6 !== undefined ? { linkLocalAddressV6: s.linkLocalAddressV6 } : {}),
    };
    const options = {
      target,
      families: s.families,
      codec: s.codec,
      exportPolicy,
      enhancedRouteRefresh: s.enhancedRouteRefresh ?? false,
      ...(candidates ? { candidates } : {}),
    };
    return new PeerOut(options, settings, inStore, outStore);
  }

  get families(): readonly Family[] {
    return this.options.families;
  }

  /** RFC 7911: ADD-PATH send is on for some family: every candidate change matters, not only best-path changes. */
  get sendsAddPath(): boolean {
    return this.addPathSend[0] || this.addPathSend[1];
  }

  /** New speaker-wide export settings (reload, e.g. pools with export off); the caller re-exports (soft-out). */
  setExportSettings(settings: ExportSettings): void {
    this.settings = settings;
    this.cache = new WeakMap();
  }

  /** New export policy (reload): forget cached rewrites; the caller re-exports (soft-out). */
  setExportPolicy(policy: Policy): void {
    (this.options as { exportPolicy: Policy }).exportPolicy = policy;
    this.cache = new WeakMap();
  }

  /**
   * Exports the best path of `prefix` (undefined: there is none) to this peer:
   * queues an announcement with the rewritten attributes or a withdraw.
   * Returns why it was not announced, if it was not.
   */
  export(prefix: PrefixKey, best: Path | undefined): ExportBlock | undefined {
    const family = prefixFamily(prefix);
    if (!this.options.families.includes(family)) return 'family-not-negotiated';
    if (this.addPathSend[family === 'ipv4-unicast' ? 0 : 1]) return this.exportPaths(prefix, best, family);
    if (!best) {
      this.adjRibOut.withdraw(prefix);
      return undefined;
    }
    const result = this.rewrite(prefix, best, family);
    if (typeof result === 'string') {
      this.adjRibOut.withdraw(prefix); // RFC 4271 §9.1.3: no longer advertised
      return result;
    }
    this.adjRibOut.announceSet(prefix, result);
    return undefined;
  }

  /**
   * RFC 7911 §3 with ADD-PATH send: `best` and every other eligible candidate
   * (RFC 4271 §9.1.2) that passes the export rules, each under its path ID;
   * IDs announced before and not now are withdrawn. Returns why the best path
   * was not announced when nothing was.
   */
  private exportPaths(prefix: PrefixKey, best: Path | undefined, family: Family): ExportBlock | undefined {
    const before = this.sentIds.get(prefix);
    const ids: number[] = [];
    let bestBlock: ExportBlock | undefined;
    if (best) {
      const source = this.options.candidates!;
      const paths = [best];
      for (const c of source.candidates(prefix)) if (c !== best && checkEligibility(c, source.ctx) === undefined) paths.push(c);
      for (const path of paths) {
        const result = this.rewrite(prefix, path, family);
        if (typeof result === 'string') {
          if (path === best) bestBlock = result;
          continue;
        }
        const id = this.pathIdFor(path);
        if (ids.includes(id)) {
          this.outStore.release(result); // a stale and a fresh copy of one source: the first (better) wins
          continue;
        }
        ids.push(id);
        this.adjRibOut.announceSet(prefix, result, id);
      }
    }
    if (typeof before === 'number') {
      if (!ids.includes(before)) this.adjRibOut.withdraw(prefix, before);
    } else if (before) for (const id of before) if (!ids.includes(id)) this.adjRibOut.withdraw(prefix, id);
    if (ids.length === 0) this.sentIds.delete(prefix);
    else this.sentIds.set(prefix, ids.length === 1 ? ids[0]! : ids);
    return ids.length > 0 ? undefined : bestBlock;
  }

  /** The stable path ID of a source on this session (RFC 7911 §3: unique per prefix; we make it unique per source). */
  private pathIdFor(path: Path): number {
    const key = `${path.peer.address}#${path.pathId}`;
    let id = this.pathIds.get(key);
    if (id === undefined) {
      id = this.nextPathId++ >>> 0;
      this.pathIds.set(key, id);
    }
    return id;
  }

  /** The path IDs this session has for `prefix` (ADD-PATH send; empty otherwise). */
  pathIdsOf(prefix: PrefixKey): readonly number[] {
    const ids = this.sentIds.get(prefix);
    return ids === undefined ? [] : typeof ids === 'number' ? [ids] : ids;
  }

  /** The outgoing attribute set for `best` (one reference for the caller), or why there is none. */
  private rewrite(prefix: PrefixKey, best: Path, family: Family): Rewritten {
    const target = this.options.target;
    // Calico disableBGPExport: nothing inside such a pool leaves (export.ts file comment).
    if (poolExportDisabled(prefix, this.settings)) return 'pool-export-disabled';
    const skip = exportCheck(best, target, this.settings);
    if (skip) return skip;
    // RFC 1997 §4: NO_ADVERTISE, NO_EXPORT, NO_EXPORT_SUBCONFED.
    const blocked = wellKnownBlock(best.attrs.attrs, this.peer);
    if (blocked) return blocked;
    let set = best.attrs;
    let medSet = false;
    let owned = false;
    const policy = this.options.exportPolicy;
    if (!policy.empty || policy.ebgpRequiresPolicy) {
      const v = evaluate(policy, { prefix, attrs: set, peer: this.peer }, this.inStore);
      if (!v.accept) return 'policy-rejected';
      owned = v.attrs !== set;
      set = v.attrs;
      medSet = v.medSet;
    }
    const fi = family === 'ipv4-unicast' ? 0 : 1;
    let bySource = this.cache.get(set);
    if (!bySource) this.cache.set(set, (bySource = new Map()));
    let entry = bySource.get(best.peer);
    if (!entry) bySource.set(best.peer, (entry = [undefined, undefined]));
    let out = medSet ? undefined : entry[fi];
    if (out !== undefined && typeof out !== 'string' && !this.outStore.has(out)) out = undefined;
    if (owned) this.inStore.release(set);
    if (out === undefined) {
      const r = rewriteAttributes(set.attrs, best.peer, family, target, this.settings, { medSetByPolicy: medSet });
      // A fresh intern's reference is the caller's; the cache holds none (checked with has() above).
      out = r.ok ? this.outStore.intern(r.attrs) : r.reason;
      if (!medSet) entry[fi] = out;
      return out;
    }
    if (typeof out !== 'string') this.outStore.retain(out);
    return out;
  }

  /** RFC 2918 §4 / RFC 7313 §4: the peer asked for `family` again. */
  refreshRequested(family: Family): void {
    if (!this.options.families.includes(family)) return;
    const { afi, safi } = familyAfiSafi(family);
    if (this.options.enhancedRouteRefresh) {
      this.control.push(encodeRouteRefresh({ afi, safi, subtype: RR_BORR }));
      this.eorr.add(family);
    }
    this.adjRibOut.markAllForResend();
  }

  /** Something is ready to send. */
  hasPending(): boolean {
    return this.control.length > 0 || this.adjRibOut.hasPending() || (this.eorr.size > 0 && this.dumps === 0);
  }

  /** Up to `max` messages, whole, for the socket. */
  take(max: number): Buffer[] {
    const out = this.control.length > 0 ? this.control.splice(0, max) : [];
    if (out.length < max) for (const b of this.adjRibOut.takeBatch(max - out.length)) out.push(b);
    if (this.eorr.size > 0 && this.dumps === 0 && this.adjRibOut.pendingCount() === 0)
      for (const f of this.eorr) {
        if (out.length >= max) break;
        const { afi, safi } = familyAfiSafi(f);
        out.push(encodeRouteRefresh({ afi, safi, subtype: RR_EORR })); // RFC 7313 §4
        this.eorr.delete(f);
      }
    return out;
  }

  /** Prefixes advertised, per family (walks the Adj-RIB-Out: for the API, not per packet). */
  advertisedByFamily(): Record<Family, number> {
    const counts = { 'ipv4-unicast': 0, 'ipv6-unicast': 0 };
    for (const key of this.adjRibOut.advertisedKeys()) {
      if (typeof key === 'number' || !key.includes('/')) counts['ipv4-unicast']++;
      else counts['ipv6-unicast']++;
    }
    return counts;
  }

  /** Session gone: release everything held. */
  close(): void {
    this.closed = true;
    this.adjRibOut.clear();
    this.sentIds.clear();
    this.pathIds.clear();
    this.control.length = 0;
    this.eorr.clear();
  }
}
