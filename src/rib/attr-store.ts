// Attribute interning (STYLE.md §6). Every UPDATE's path attributes, minus the
// NLRI carried in MP_REACH/MP_UNREACH (RFC 4760 §3-4) but keeping the MP next
// hop(s), become one frozen shared object per distinct set, keyed by a
// canonical string and refcounted: thousands of pod blocks from one node share
// one AttrSet. Facts the decision process needs are derived once, when the set
// is first stored: AS_PATH length (RFC 4271 §9.1.2.2 a), neighbour AS (§9.1.2.2
// c), origin AS, next hop, CLUSTER_LIST length (RFC 4456 §9).
//
// The attributes are deep-frozen; the AttrSet wrapper itself is not, because
// its refcount changes. Only the store touches `refs`.

import {
  AS_CONFED_SEQUENCE,
  AS_CONFED_SET,
  AS_SEQUENCE,
  AS_SET,
  type AsPathSegment,
  type MpReach,
  type PathAttributes,
} from '../bgp/wire/types.js';
import { v4Parse } from '../lib/prefix.js';
import { classifyNextHop, type NextHopClass } from './decision/next-hop-class.js';

/** An interned attribute set with its derived facts. */
export interface AttrSet {
  /** Deep-frozen attributes; `mpReach.nlri` is empty and `mpUnreach` absent. */
  readonly attrs: PathAttributes;
  /** Canonical key the set is interned under. */
  readonly key: string;
  /** RFC 4271 §9.1.2.2 a: AS_SET counts 1, confederation segments 0 (RFC 5065 §5.3). */
  readonly asPathLength: number;
  /** RFC 4271 §9.1.2.2 c: first AS of a leading AS_SEQUENCE (after confed segments); undefined = the local AS. */
  readonly neighbourAs: number | undefined;
  /** Last AS of a trailing AS_SEQUENCE; undefined when the path is empty or ends in an AS_SET. */
  readonly originAs: number | undefined;
  /** IPv4 next hop as text: NEXT_HOP, else an IPv4 MP_REACH next hop. */
  readonly nextHopV4: string | undefined;
  /** The same as an unsigned 32-bit number. */
  readonly nextHopV4Num: number | undefined;
  /** IPv6 global next hop from MP_REACH (RFC 2545). */
  readonly nextHopV6: string | undefined;
  /** RFC 2545 link-local next hop. */
  readonly linkLocalNextHop: string | undefined;
  /** RFC 4271 §6.3: what kind of address each next hop is (decision/next-hop.ts), derived once. */
  readonly nextHopV4Class: NextHopClass;
  readonly nextHopV6Class: NextHopClass;
  /** RFC 4456 §9: 0 when CLUSTER_LIST is absent. */
  readonly clusterListLength: number;
  /** Routes (and other holders) referring to this set. */
  refs: number;
}

export interface InternOptions {
  /**
   * RFC 4271 §5.1.5: LOCAL_PREF received from an external peer MUST be ignored;
   * set this for UPDATEs from eBGP sessions and the attribute is dropped.
   */
  readonly external?: boolean;
}

const EMPTY_NLRI_V4 = Object.freeze({ family: 'ipv4-unicast' as const, prefixes: Object.freeze([]) });
const EMPTY_NLRI_V6 = Object.freeze({ family: 'ipv6-unicast' as const, prefixes: Object.freeze([]) });

/** Canonical key: one field per attribute in a fixed order; cheap string concatenation. */
export function canonicalKey(a: PathAttributes, external = false): string {
  let k = a.origin === undefined ? 'o' : 'o' + a.origin;
  k += '|p';
  if (a.asPath) for (const s of a.asPath) k += s.type + ':' + s.asns.join(',') + ';';
  k += '|n' + (a.nextHop ?? '');
  k += '|m' + (a.med ?? '');
  k += '|l' + (external ? '' : a.localPref ?? '');
  k += a.atomicAggregate ? '|A' : '|';
  if (a.aggregator) k += '|g' + a.aggregator.asn + '@' + a.aggregator.address;
  if (a.communities) k += '|c' + a.communities.join(',');
  if (a.originatorId !== undefined) k += '|r' + a.originatorId;
  if (a.clusterList) k += '|k' + a.clusterList.join(',');
  if (a.mpReach) k += '|h' + a.mpReach.family + ' ' + a.mpReach.nextHop + ' ' + (a.mpReach.linkLocalNextHop ?? '');
  if (a.extCommunities) k += '|x' + a.extCommunities.join(',');
  if (a.largeCommunities) k += '|L' + a.largeCommunities.map((c) => `${c.global}:${c.local1}:${c.local2}`).join(',');
  if (a.unknown) for (const u of a.unknown) k += '|u' + u.code + '/' + u.flags + '/' + u.value.toString('hex');
  return k;
}

/** RFC 4271 §9.1.2.2 a (and RFC 5065 §5.3 for confederation segments). */
export function asPathLength(path: readonly AsPathSegment[] | undefined): number {
  let n = 0;
  if (path)
    for (const s of path) {
      if (s.type === AS_SEQUENCE) n += s.asns.length;
      else if (s.type === AS_SET) n += 1;
    }
  return n;
}

/** RFC 4271 §9.1.2.2 c: the AS a route was learned from; undefined means our own AS. */
export function neighbourAs(path: readonly AsPathSegment[] | undefined): number | undefined {
  if (!path) return undefined;
  for (const s of path) {
    if (s.type === AS_CONFED_SEQUENCE || s.type === AS_CONFED_SET) continue;
    return s.type === AS_SEQUENCE && s.asns.length > 0 ? s.asns[0] : undefined;
  }
  return undefined;
}

export function originAs(path: readonly AsPathSegment[] | undefined): number | undefined {
  if (!path || path.length === 0) return undefined;
  const last = path[path.length - 1]!;
  return last.type === AS_SEQUENCE && last.asns.length > 0 ? last.asns[last.asns.length - 1] : undefined;
}

/** How many times `asn` appears in AS_PATH, confederation segments included (RFC 4271 §9.1.2 loop check). */
export function asPathCount(set: AttrSet, asn: number): number {
  let n = 0;
  const path = set.attrs.asPath;
  if (path) for (const s of path) for (const a of s.asns) if (a === asn) n++;
  return n;
}

/** A deep-frozen copy of the attributes to keep, without NLRI. */
function freezeCopy(a: PathAttributes, external: boolean): PathAttributes {
  const out: { -readonly [K in keyof PathAttributes]: PathAttributes[K] } = {};
  if (a.origin !== undefined) out.origin = a.origin;
  if (a.asPath) out.asPath = Object.freeze(a.asPath.map((s) => Object.freeze({ type: s.type, asns: Object.freeze([...s.asns]) })));
  if (a.nextHop !== undefined) out.nextHop = a.nextHop;
  if (a.med !== undefined) out.med = a.med;
  if (a.localPref !== undefined && !external) out.localPref = a.localPref;
  if (a.atomicAggregate) out.atomicAggregate = true;
  if (a.aggregator) out.aggregator = Object.freeze({ ...a.aggregator });
  if (a.communities) out.communities = Object.freeze([...a.communities]);
  if (a.originatorId !== undefined) out.originatorId = a.originatorId;
  if (a.clusterList) out.clusterList = Object.freeze([...a.clusterList]);
  if (a.mpReach) {
    const mp: MpReach = {
      family: a.mpReach.family,
      nextHop: a.mpReach.nextHop,
      ...(a.mpReach.linkLocalNextHop !== undefined ? { linkLocalNextHop: a.mpReach.linkLocalNextHop } : {}),
      nlri: a.mpReach.family === 'ipv4-unicast' ? EMPTY_NLRI_V4 : EMPTY_NLRI_V6,
    };
    out.mpReach = Object.freeze(mp);
  }
  if (a.extCommunities) out.extCommunities = Object.freeze([...a.extCommunities]);
  if (a.largeCommunities) out.largeCommunities = Object.freeze(a.largeCommunities.map((c) => Object.freeze({ ...c })));
  // Buffers cannot be frozen; the copy is private to the store and never written.
  if (a.unknown) out.unknown = Object.freeze(a.unknown.map((u) => Object.freeze({ flags: u.flags, code: u.code, value: Buffer.from(u.value) })));
  return Object.freeze(out);
}

/** Interns attribute sets; one store per daemon. */
export class AttrStore {
  private readonly sets = new Map<string, AttrSet>();

  /** Returns the shared set for these attributes with one more reference (the caller's). */
  intern(attrs: PathAttributes, options?: InternOptions): AttrSet {
    const external = options?.external === true && attrs.localPref !== undefined;
    const key = canonicalKey(attrs, external);
    const found = this.sets.get(key);
    if (found) {
      found.refs++;
      return found;
    }
    const frozen = freezeCopy(attrs, external);
    const mp = frozen.mpReach;
    const nextHopV4 = frozen.nextHop ?? (mp?.family === 'ipv4-unicast' ? mp.nextHop : undefined);
    const set: AttrSet = {
      attrs: frozen,
      key,
      asPathLength: asPathLength(frozen.asPath),
      neighbourAs: neighbourAs(frozen.asPath),
      originAs: originAs(frozen.asPath),
      nextHopV4,
      nextHopV4Num: nextHopV4 === undefined ? undefined : v4Parse(nextHopV4),
      nextHopV6: mp?.family === 'ipv6-unicast' ? mp.nextHop : undefined,
      linkLocalNextHop: mp?.linkLocalNextHop,
      nextHopV4Class: classifyNextHop(nextHopV4),
      nextHopV6Class: classifyNextHop(mp?.family === 'ipv6-unicast' ? mp.nextHop : undefined),
      clusterListLength: frozen.clusterList?.length ?? 0,
      refs: 1,
    };
    this.sets.set(key, set);
    return set;
  }

  /** Adds `n` references to a set already held. */
  retain(set: AttrSet, n = 1): void {
    set.refs += n;
  }

  /** Drops `n` references; the set is forgotten when none remain. */
  release(set: AttrSet, n = 1): void {
    set.refs -= n;
    if (set.refs <= 0) {
      set.refs = 0;
      if (this.sets.get(set.key) === set) this.sets.delete(set.key);
    }
  }

  /** Distinct attribute sets held (a metric). */
  size(): number {
    return this.sets.size;
  }

  /** Whether a set is still interned (for tests and assertions). */
  has(set: AttrSet): boolean {
    return this.sets.get(set.key) === set;
  }
}
