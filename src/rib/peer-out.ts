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

import { encodeRouteRefresh } from '../bgp/wire/route-refresh.js';
import { familyAfiSafi, type CodecContext, type Family } from '../bgp/wire/types.js';
import { prefixFamily, type PrefixKey } from '../lib/prefix.js';
import { AdjRibOut } from './adj-rib-out.js';
import type { AttrSet, AttrStore } from './attr-store.js';
import { exportCheck, rewriteAttributes, type ExportSettings, type ExportSkipReason, type ExportTarget } from './export.js';
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

export interface PeerOutOptions {
  readonly target: ExportTarget;
  readonly families: readonly Family[];
  readonly codec: CodecContext;
  readonly exportPolicy: Policy;
  readonly enhancedRouteRefresh: boolean;
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

  constructor(
    readonly options: PeerOutOptions,
    private readonly settings: ExportSettings,
    private readonly inStore: AttrStore,
    private readonly outStore: AttrStore,
  ) {
    this.peer = options.target.peer;
    this.adjRibOut = new AdjRibOut(outStore, options.codec, options.families);
  }

  /** The PeerOut for an established session's settings (RibPeerSettings). */
  static forSession(s: RibPeerSettings, exportPolicy: Policy, settings: ExportSettings, inStore: AttrStore, outStore: AttrStore): PeerOut {
    const target: ExportTarget = {
      peer: s.peer,
      nextHopMode: s.nextHopMode,
      ...(s.localAddressV4 !== undefined ? { localAddressV4: s.localAddressV4 } : {}),
      ...(s.localAddressV6 !== undefined ? { localAddressV6: s.localAddressV6 } : {}),
      ...(s.linkLocalAddressV6 !== undefined ? { linkLocalAddressV6: s.linkLocalAddressV6 } : {}),
    };
    const options = { target, families: s.families, codec: s.codec, exportPolicy, enhancedRouteRefresh: s.enhancedRouteRefresh ?? false };
    return new PeerOut(options, settings, inStore, outStore);
  }

  get families(): readonly Family[] {
    return this.options.families;
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

  /** The outgoing attribute set for `best` (one reference for the caller), or why there is none. */
  private rewrite(prefix: PrefixKey, best: Path, family: Family): Rewritten {
    const target = this.options.target;
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
    this.control.length = 0;
    this.eorr.clear();
  }
}
