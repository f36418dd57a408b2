// Update groups (STYLE.md §10b; FRR's update-groups, BIRD's shared buckets):
// sessions whose export result is the same — the same export rules, role (RR
// client, non-client, eBGP and its AS), negotiated encoding (4-octet AS,
// ADD-PATH send, extended messages, families) and next-hop rule with the same
// next-hop-self addresses — share one UpdateGroup. The group runs export
// (RFC 4456 §6 advertise table, RFC 1997 well-known communities, export
// policy, RFC 4271 §5.1 / RFC 4456 §8 rewrite) once per best-path change,
// keeps one Adj-RIB-Out (group-out.ts) and encodes each UPDATE once into a
// stream of shared Buffers. A member (group-member.ts) holds a cursor into the
// stream and skips whole the UPDATEs of routes it is the source of.
//
// The stream is bounded: items go once every member holding a place in it
// has passed them, and a member more than `maxLag` octets behind the tail
// loses its place; it then catches up from the group's table (what changed
// in the items it missed), never holding the stream or the group back. The
// stream grows only when a member at its tail asks for more, so it moves at
// the pace of the fastest member and the rest coalesces in the Adj-RIB-Out.
//
// ADD-PATH send (RFC 7911), for families where the group negotiated it: every
// eligible candidate that passes export goes, best first, each under a path
// ID naming its source (peer address, received path ID) for the group's
// lifetime, stable and never reused. A path ID has one source, so split
// horizon never changes what a member holds under it: a member skips its own
// paths and gets the others'.

import type { Family } from '../bgp/wire/types.js';
import { prefixFamily, type PrefixKey } from '../lib/prefix.js';
import type { AttrSet, AttrStore } from './attr-store.js';
import { checkEligibility } from './decision/eligibility.js';
import { exportCheck, poolExportDisabled, rewriteAttributes, type ExportSettings, type ExportSkipReason, type ExportTarget } from './export.js';
import { FAMILIES, GroupOut, excludes, familyIndex, type Bucket, type Exclusion, type StreamItem } from './group-out.js';
import type { DecisionContext } from './decision/context.js';
import { evaluate, wellKnownBlock, type Policy } from './policy/index.js';
import { makePeer, type Path, type PeerInfo } from './route.js';
import type { RibPeerSettings } from './rib-types.js';
import type { OutKey } from './update-packer.js';

/** Messages a group encodes per request of a member at its tail. */
const PRODUCE_MESSAGES = 64;
/** Default lag bound, octets of stream behind the tail (RibSettings.maxStreamLag). */
export const DEFAULT_MAX_LAG = 4 * 1024 * 1024;

/** RFC 7313 §3: ROUTE-REFRESH message subtypes. */
export const RR_REQUEST = 0;
export const RR_BORR = 1;
export const RR_EORR = 2;

/** Why a best path is not advertised to a peer (export rules, communities, policy). */
export type ExportBlock = ExportSkipReason | 'no-advertise' | 'no-export' | 'no-export-subconfed' | 'policy-rejected' | 'family-not-negotiated';

/** Every candidate of a prefix, for ADD-PATH send (the Loc-RIB fits). */
export interface CandidateSource {
  readonly ctx: DecisionContext;
  candidates(prefix: PrefixKey): readonly Path[];
}

type Rewritten = Bucket | ExportBlock;

/** What the group needs of a member (group-member.ts): its place in the stream, and leaving it. */
export interface StreamReader {
  readonly address: string;
  readonly cursor: number | undefined;
  /** Gives up its place: the items past it are walked from the table instead. */
  evict(): void;
}

/**
 * What makes two sessions' export results identical: everything export,
 * rewrite and encoding read of the target, and the peer's own export rules.
 * The peer's address and BGP Identifier are not in it: they only decide the
 * per-member skips (split horizon, ORIGINATOR_ID).
 */
export function groupKey(s: RibPeerSettings): string {
  const p = s.peer;
  const c = s.codec;
  return JSON.stringify([
    p.ibgp,
    p.rrClient,
    p.ibgp ? 0 : p.asn,
    p.localAsn,
    [...s.families].sort(),
    c.fourOctetAs,
    c.extendedMessage,
    c.addPathSend['ipv4-unicast'] === true,
    c.addPathSend['ipv6-unicast'] === true,
    s.nextHopMode,
    s.localAddressV4 ?? null,
    s.localAddressV6 ?? null,
    s.linkLocalAddressV6 ?? null,
    s.export?.length ? s.export : null, // no rules and an empty list are the same
  ]);
}

export class UpdateGroup {
  readonly out: GroupOut;
  /** The export target every member shares: the first member's role, no address or BGP Identifier of its own. */
  readonly target: ExportTarget;
  readonly families: readonly Family[];
  /** The members' own export rules (every member has the same: they are in the key). */
  readonly exportRules: RibPeerSettings['export'];
  readonly members = new Set<StreamReader>();
  /** The stream: items[i] has sequence number base + i. */
  items: StreamItem[] = [];
  base = 0;
  /** Octets the stream has carried so far. */
  bytes = 0;
  /** Per family: the sequence number of the stream's End-of-RIB item, once encoded. */
  readonly eorSeq: [number | undefined, number | undefined] = [undefined, undefined];
  /** Dumps of the Loc-RIB into the group still running. */
  dumps = 0;
  /** The initial table has been queued (End-of-RIB armed). */
  initialQueued = false;
  closed = false;
  /** Post-policy attribute set → source peer → [IPv4 result, IPv6 result]. */
  private cache = new WeakMap<AttrSet, Map<PeerInfo, [Rewritten | undefined, Rewritten | undefined]>>();
  /** Interned buckets: outgoing set → exclusion → bucket. */
  private buckets = new WeakMap<AttrSet, Map<Exclusion | undefined, Bucket>>();
  private readonly exclusions = new Map<string, Exclusion>();
  private readonly addPathSend: readonly [boolean, boolean];
  /** ADD-PATH send: source "address#received path ID" → our path ID in this group. */
  private readonly pathIds = new Map<string, number>();
  private nextPathId = 1;
  /** ADD-PATH send: per prefix, the path IDs announced or queued. */
  private readonly sentIds = new Map<PrefixKey, number | number[]>();

  constructor(
    readonly key: string,
    first: RibPeerSettings,
    private exportPolicy: Policy,
    private settings: ExportSettings,
    private readonly inStore: AttrStore,
    readonly outStore: AttrStore,
    private readonly candidates: CandidateSource,
    readonly maxLag: number,
  ) {
    const p = first.peer;
    // The shared target: a peer no route comes from and no ORIGINATOR_ID names (the members' skips are per member).
    const peer = makePeer({ address: '', asn: p.asn, localAsn: p.localAsn, bgpId: 0, rrClient: p.rrClient, allowOwnAs: p.allowOwnAs });
    this.target = {
      peer,
      nextHopMode: first.nextHopMode,
      ...(first.localAddressV4 !== undefined ? { localAddressV4: first.localAddressV4 } : {}),
      ...(first.localAddressV6 !== undefined ? { localAddressV6: first.localAddressV6 } : {}),
      ...(first.linkLocalAddressV6 !== undefined ? { linkLocalAddressV6: first.linkLocalAddressV6 } : {}),
    };
    this.families = first.families;
    this.exportRules = first.export;
    this.out = new GroupOut(outStore, first.codec, first.families);
    const on = (f: Family): boolean => first.codec.addPathSend[f] === true && first.families.includes(f);
    this.addPathSend = [on('ipv4-unicast'), on('ipv6-unicast')];
  }

  /** RFC 7911: ADD-PATH send is on for some family: every candidate change matters. */
  get sendsAddPath(): boolean {
    return this.addPathSend[0] || this.addPathSend[1];
  }

  get tail(): number {
    return this.base + this.items.length;
  }

  /** New speaker-wide export settings; the caller re-exports (soft-out). */
  setExportSettings(settings: ExportSettings): void {
    this.settings = settings;
    this.cache = new WeakMap();
  }

  /** New export policy with the same rules (a global change every member shares); the caller re-exports. */
  setExportPolicy(policy: Policy): void {
    this.exportPolicy = policy;
    this.cache = new WeakMap();
  }

  // ------------------------------------------------------------ export, once per group

  /**
   * Exports the best path of `prefix` (undefined: none) to the group: queues
   * the rewritten announcement or a withdraw. Returns why it was not announced.
   */
  export(prefix: PrefixKey, best: Path | undefined): ExportBlock | undefined {
    const family = prefixFamily(prefix);
    if (!this.families.includes(family)) return 'family-not-negotiated';
    if (this.addPathSend[familyIndex(family)]) return this.exportPaths(prefix, best, family);
    if (!best) {
      this.out.withdraw(prefix);
      return undefined;
    }
    const result = this.rewrite(prefix, best, family);
    if (typeof result === 'string') {
      this.out.withdraw(prefix); // RFC 4271 §9.1.3: no longer advertised
      return result;
    }
    this.out.announce(prefix, result);
    return undefined;
  }

  /** RFC 7911 §3: `best` and every other eligible candidate that passes export, each under its path ID. */
  private exportPaths(prefix: PrefixKey, best: Path | undefined, family: Family): ExportBlock | undefined {
    const before = this.sentIds.get(prefix);
    const ids: number[] = [];
    let bestBlock: ExportBlock | undefined;
    if (best) {
      const paths = [best];
      for (const c of this.candidates.candidates(prefix)) if (c !== best && checkEligibility(c, this.candidates.ctx) === undefined) paths.push(c);
      for (const path of paths) {
        const result = this.rewrite(prefix, path, family);
        if (typeof result === 'string') {
          if (path === best) bestBlock = result;
          continue;
        }
        const id = this.pathIdFor(path);
        if (ids.includes(id)) {
          this.outStore.release(result.set); // a stale and a fresh copy of one source: the first (better) wins
          continue;
        }
        ids.push(id);
        this.out.announce(prefix, result, id);
      }
    }
    if (typeof before === 'number') {
      if (!ids.includes(before)) this.out.withdraw(prefix, before);
    } else if (before) for (const id of before) if (!ids.includes(id)) this.out.withdraw(prefix, id);
    if (ids.length === 0) this.sentIds.delete(prefix);
    else this.sentIds.set(prefix, ids.length === 1 ? ids[0]! : ids);
    return ids.length > 0 ? undefined : bestBlock;
  }

  private pathIdFor(path: Path): number {
    const key = `${path.peer.address}#${path.pathId}`;
    let id = this.pathIds.get(key);
    if (id === undefined) {
      id = this.nextPathId++ >>> 0;
      this.pathIds.set(key, id);
    }
    return id;
  }

  /** ADD-PATH send: the path IDs the group has for `prefix` (empty otherwise). */
  pathIdsOf(prefix: PrefixKey): readonly number[] {
    const ids = this.sentIds.get(prefix);
    return ids === undefined ? [] : typeof ids === 'number' ? [ids] : ids;
  }

  /**
   * Who must not get a route from `path`: its source (split horizon) and,
   * toward iBGP, the router its ORIGINATOR_ID names (RFC 4456 §8). Routes we
   * originate go to everyone.
   */
  private exclusionOf(path: Path): Exclusion | undefined {
    if (path.peer.local) return undefined;
    const oid = this.target.peer.ibgp ? path.attrs.attrs.originatorId : undefined;
    const originatorId = oid === undefined ? undefined : oid >>> 0;
    const k = `${path.peer.address}|${originatorId ?? ''}`;
    let ex = this.exclusions.get(k);
    if (!ex) this.exclusions.set(k, (ex = Object.freeze({ address: path.peer.address, originatorId })));
    return ex;
  }

  private bucketOf(set: AttrSet, ex: Exclusion | undefined): Bucket {
    let byEx = this.buckets.get(set);
    if (!byEx) this.buckets.set(set, (byEx = new Map()));
    let b = byEx.get(ex);
    if (!b) byEx.set(ex, (b = Object.freeze({ set, ex })));
    return b;
  }

  /** The outgoing bucket for `path` (one outStore reference for the caller), or why there is none. */
  private rewrite(prefix: PrefixKey, path: Path, family: Family): Rewritten {
    const target = this.target;
    if (poolExportDisabled(prefix, this.settings)) return 'pool-export-disabled';
    const skip = exportCheck(path, target, this.settings);
    if (skip) return skip;
    // RFC 1997 §4: NO_ADVERTISE, NO_EXPORT, NO_EXPORT_SUBCONFED.
    const blocked = wellKnownBlock(path.attrs.attrs, target.peer);
    if (blocked) return blocked;
    let set = path.attrs;
    let medSet = false;
    let owned = false;
    const policy = this.exportPolicy;
    if (!policy.empty || policy.ebgpRequiresPolicy) {
      const v = evaluate(policy, { prefix, attrs: set, peer: target.peer }, this.inStore);
      if (!v.accept) return 'policy-rejected';
      owned = v.attrs !== set;
      set = v.attrs;
      medSet = v.medSet;
    }
    const fi = familyIndex(family);
    let bySource = this.cache.get(set);
    if (!bySource) this.cache.set(set, (bySource = new Map()));
    let entry = bySource.get(path.peer);
    if (!entry) bySource.set(path.peer, (entry = [undefined, undefined]));
    let out = medSet ? undefined : entry[fi];
    if (out !== undefined && typeof out !== 'string' && !this.outStore.has(out.set)) out = undefined;
    if (owned) this.inStore.release(set);
    if (out === undefined) {
      const r = rewriteAttributes(set.attrs, path.peer, family, target, this.settings, { medSetByPolicy: medSet });
      // A fresh intern's reference is the caller's; the cache holds none (checked with has() above).
      out = r.ok ? this.bucketOf(this.outStore.intern(r.attrs), this.exclusionOf(path)) : r.reason;
      if (!medSet) entry[fi] = out;
      return out;
    }
    if (typeof out !== 'string') this.outStore.retain(out.set);
    return out;
  }

  /** Why the best path of `prefix` does not reach `member`, if it does not (the member's skips included). */
  exportReason(prefix: PrefixKey, best: Path | undefined, member: { readonly address: string; readonly bgpId: number }): ExportBlock | undefined {
    const family = prefixFamily(prefix);
    if (!this.families.includes(family)) return 'family-not-negotiated';
    if (!best) return undefined;
    if (!best.peer.local && best.peer.address === member.address) return 'source-peer';
    const ex = this.exclusionOf(best);
    if (excludes(ex, member)) return 'originator-is-target';
    const r = this.rewrite(prefix, best, family);
    if (typeof r === 'string') return r;
    this.outStore.release(r.set);
    return undefined;
  }

  // ------------------------------------------------------------ the stream

  /** Encodes what is pending into the stream (a member at its tail asked), then applies the lag bound. */
  produce(): void {
    if (!this.out.hasPending()) return;
    const from = this.items.length;
    this.out.takeBatch(PRODUCE_MESSAGES, this.items);
    for (let i = from; i < this.items.length; i++) {
      const it = this.items[i]!;
      it.start = this.bytes;
      this.bytes += it.msg.length;
      if (it.eor) this.eorSeq[familyIndex(it.eor)] = this.base + i;
    }
    let min = this.tail;
    for (const m of this.members) {
      if (m.cursor === undefined) continue;
      // A member this far behind leaves the stream and catches up from the table (group-member.ts).
      if (this.bytes - this.startOf(m.cursor) > this.maxLag) m.evict();
      if (m.cursor < min) min = m.cursor;
    }
    this.trim(min);
  }

  /** Octets of stream before item `seq`. */
  startOf(seq: number): number {
    return seq < this.tail ? this.items[seq - this.base]!.start : this.bytes;
  }

  /** Drops the items before `seq`: every member with a place has passed them. */
  private trim(seq: number): void {
    const n = seq - this.base;
    if (n <= 0) return;
    if (n >= this.items.length) this.items = [];
    else this.items.splice(0, n);
    this.base = seq;
  }

  /** The keys of items [from, tail) and whether an End-of-RIB is among them (a member leaving its place folds them). */
  keysSince(from: number, into: (key: OutKey) => void): void {
    let last: readonly OutKey[] | undefined;
    for (let i = Math.max(0, from - this.base); i < this.items.length; i++) {
      const keys = this.items[i]!.keys;
      if (!keys || keys === last) continue; // messages of one pack call share their key list
      last = keys;
      for (const k of keys) into(k);
    }
  }

  /** A member left: the group goes with its last member. */
  leave(m: StreamReader): void {
    this.members.delete(m);
    if (this.members.size === 0) this.close();
  }

  close(): void {
    this.closed = true;
    this.out.clear();
    this.items = [];
    this.sentIds.clear();
    this.pathIds.clear();
  }

  static readonly FAMILIES = FAMILIES;
}
