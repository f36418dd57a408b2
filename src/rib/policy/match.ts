// Compiled match conditions of a policy rule (Calico BGPFilter-like; BIRD
// filter semantics where Calico is silent). Config text is turned once into
// numbers and hex strings so that testing a route allocates nothing: IPv4
// prefixes are compared as masked 32-bit numbers, IPv6 prefix keys by hex
// prefix with no slicing, communities as 32-bit numbers (RFC 1997) and
// triples (RFC 8092). Every condition present must hold (logical AND).
//
// Semantics decided here:
// - A rule's prefix implies its family: a rule with an IPv4 prefix never
//   matches an IPv6 route, not even with notEqual/notIn (Calico keeps its
//   rules per family).
// - matchOperator defaults to `in`. `in` without ge/le matches the prefix and
//   every more-specific; ge/le bound the route's length (inclusive). `equal`
//   is the exact prefix (ge/le ignored). notEqual/notIn negate equal/in.
// - peerType: `ebgp` = an external session (RFC 4271 §3), `ibgp` = internal;
//   the local pseudo-peer of originated routes is neither.
// - asPathContains looks in every segment; asPathPrefix must match the
//   leading AS_SEQUENCE members, after any confederation segments (RFC 5065
//   §5.3 keeps those inside), and cannot run into an AS_SET.
// - nextHop: an IPv4 rule tests the IPv4 next hop, an IPv6 rule the global
//   IPv6 one (RFC 2545); originated routes have none and never match.

import { AS_CONFED_SEQUENCE, AS_CONFED_SET, AS_SEQUENCE, type LargeCommunity } from '../../bgp/wire/types.js';
import { v4KeyAddress, v4KeyLength, v4KeyParse, v4Mask, v6KeyParse, v6Parse } from '../../lib/prefix.js';
import type { PolicyRule } from '../../config/schema.js';
import type { AttrSet } from '../attr-store.js';
import type { PeerInfo } from '../route.js';
import { hasLarge, parseCommunityList } from './communities.js';

type MatchConfig = NonNullable<PolicyRule['match']>;

/** Thrown by compile functions when config text slipped past validation; `path` names the field. */
export class PolicyConfigError extends Error {
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(`${path}: ${message}`);
    this.name = 'PolicyConfigError';
  }
}

/** A prefix range of one family, ready for allocation-free tests. */
export interface PrefixRange {
  readonly v4: boolean;
  /** IPv4: the masked network address (unsigned) and its mask. */
  readonly addr: number;
  readonly mask: number;
  /** IPv6: the significant whole hex digits of the network, and the bits of a trailing partial digit. */
  readonly hexHead: string;
  readonly partialMask: number;
  readonly partialValue: number;
  /** The range's own key (for `equal`). */
  readonly key: number | string;
  readonly minLen: number;
  readonly maxLen: number;
}

export type MatchOperator = 'equal' | 'in' | 'notEqual' | 'notIn';

export interface CompiledMatch {
  /** 0 = any family. */
  readonly family: 0 | 4 | 6;
  /** 0 = any, 1 = eBGP only, 2 = iBGP only. */
  readonly peerType: 0 | 1 | 2;
  readonly prefix: PrefixRange | undefined;
  readonly operator: MatchOperator;
  readonly nextHop: PrefixRange | undefined;
  readonly communities: readonly number[];
  readonly largeCommunities: readonly LargeCommunity[];
  readonly asPathContains: number | undefined;
  readonly asPathPrefix: readonly number[] | undefined;
}

/** A rule with no conditions: matches every route. */
export const MATCH_ALL: CompiledMatch = Object.freeze({
  family: 0,
  peerType: 0,
  prefix: undefined,
  operator: 'in',
  nextHop: undefined,
  communities: Object.freeze([]) as readonly number[],
  largeCommunities: Object.freeze([]) as readonly LargeCommunity[],
  asPathContains: undefined,
  asPathPrefix: undefined,
});

/** Compiles a prefix text plus length bounds; `path` is for errors. */
export function compilePrefixRange(text: string, ge: number | undefined, le: number | undefined, path: string): PrefixRange {
  // Host bits are cleared rather than refused: the schema already checked the text.
  const key = text.includes(':') ? v6KeyParse(text, true) : v4KeyParse(text, true);
  if (key === undefined) throw new PolicyConfigError(path, `not a prefix: ${JSON.stringify(text)}`);
  const v4 = typeof key === 'number';
  const bits = v4 ? 32 : 128;
  const len = v4 ? v4KeyLength(key) : Number(key.slice(33));
  const minLen = ge ?? len;
  const maxLen = le ?? bits;
  if (minLen < len || maxLen > bits || minLen > maxLen)
    throw new PolicyConfigError(path, `length bounds ge ${minLen} le ${maxLen} do not fit ${text} (${len}..${bits})`);
  if (v4) {
    return Object.freeze({ v4, addr: v4KeyAddress(key), mask: v4Mask(len), hexHead: '', partialMask: 0, partialValue: 0, key, minLen, maxLen });
  }
  const whole = len >> 2;
  const rest = len & 3;
  const partialMask = rest === 0 ? 0 : (0xf << (4 - rest)) & 0xf;
  const partialValue = rest === 0 ? 0 : parseInt(key.charAt(whole), 16) & partialMask;
  return Object.freeze({ v4, addr: 0, mask: 0, hexHead: key.slice(0, whole), partialMask, partialValue, key, minLen, maxLen });
}

function hexDigit(code: number): number {
  return code <= 57 ? code - 48 : code - 87; // '0'..'9', 'a'..'f' (keys are lowercase)
}

/** Length of an IPv6 key ("<32 hex>/<len>") without slicing. */
export function v6KeyLen(key: string): number {
  let n = 0;
  for (let i = 33; i < key.length; i++) n = n * 10 + key.charCodeAt(i) - 48;
  return n;
}

/** IPv4 key within the range, honouring the length bounds. */
export function v4InRange(r: PrefixRange, key: number): boolean {
  const len = key % 64;
  if (len < r.minLen || len > r.maxLen) return false;
  return (((key - len) / 64) & r.mask) >>> 0 === r.addr;
}

/** 32 hex digits (an address or the head of a key) within the range's network bits. */
function v6HexInNetwork(r: PrefixRange, hex: string): boolean {
  if (!hex.startsWith(r.hexHead)) return false;
  return r.partialMask === 0 || (hexDigit(hex.charCodeAt(r.hexHead.length)) & r.partialMask) === r.partialValue;
}

export function v6InRange(r: PrefixRange, key: string): boolean {
  const len = v6KeyLen(key);
  if (len < r.minLen || len > r.maxLen) return false;
  return v6HexInNetwork(r, key);
}

function prefixMatches(r: PrefixRange, op: MatchOperator, key: number | string): boolean {
  if (typeof key === 'number') {
    if (!r.v4) return false;
    switch (op) {
      case 'equal':
        return key === r.key;
      case 'notEqual':
        return key !== r.key;
      case 'in':
        return v4InRange(r, key);
      case 'notIn':
        return !v4InRange(r, key);
    }
  }
  if (r.v4) return false;
  switch (op) {
    case 'equal':
      return key === r.key;
    case 'notEqual':
      return key !== r.key;
    case 'in':
      return v6InRange(r, key);
    case 'notIn':
      return !v6InRange(r, key);
  }
}

/** Parsed IPv6 next hops as 32 hex digits, once per attribute set (text parsing is not per route). */
const v6NextHopHex = new WeakMap<AttrSet, string | null>();

function nextHopV6Hex(set: AttrSet): string | null {
  let hex = v6NextHopHex.get(set);
  if (hex === undefined) {
    const bytes = set.nextHopV6 === undefined ? undefined : v6Parse(set.nextHopV6);
    hex = bytes ? bytes.toString('hex') : null;
    v6NextHopHex.set(set, hex);
  }
  return hex;
}

function nextHopMatches(r: PrefixRange, set: AttrSet): boolean {
  if (r.v4) {
    const nh = set.nextHopV4Num;
    return nh !== undefined && ((nh & r.mask) >>> 0) === r.addr;
  }
  const hex = nextHopV6Hex(set);
  return hex !== null && v6HexInNetwork(r, hex);
}

function asPathHas(set: AttrSet, asn: number): boolean {
  const path = set.attrs.asPath;
  if (path)
    for (let i = 0; i < path.length; i++) {
      const asns = path[i]!.asns;
      for (let j = 0; j < asns.length; j++) if (asns[j] === asn) return true;
    }
  return false;
}

function asPathStartsWith(set: AttrSet, want: readonly number[]): boolean {
  const path = set.attrs.asPath;
  if (!path) return want.length === 0;
  let w = 0;
  for (let i = 0; i < path.length && w < want.length; i++) {
    const seg = path[i]!;
    if (seg.type === AS_CONFED_SEQUENCE || seg.type === AS_CONFED_SET) continue; // RFC 5065 §5.3
    if (seg.type !== AS_SEQUENCE) return false;
    const asns = seg.asns;
    for (let j = 0; j < asns.length && w < want.length; j++, w++) if (asns[j] !== want[w]) return false;
  }
  return w === want.length;
}

function communitiesPresent(set: AttrSet, want: readonly number[], wantLarge: readonly LargeCommunity[]): boolean {
  if (want.length > 0) {
    const have = set.attrs.communities;
    if (!have) return false;
    for (let i = 0; i < want.length; i++) if (!have.includes(want[i]!)) return false;
  }
  if (wantLarge.length > 0) {
    const have = set.attrs.largeCommunities;
    if (!have) return false;
    for (let i = 0; i < wantLarge.length; i++) if (!hasLarge(have, wantLarge[i]!)) return false;
  }
  return true;
}

/** Compiles a rule's `match` block; `path` names the rule for errors. */
export function compileMatch(match: MatchConfig | undefined, path: string): CompiledMatch {
  if (!match) return MATCH_ALL;
  const prefix = match.prefix === undefined ? undefined : compilePrefixRange(match.prefix, match.ge, match.le, `${path}.prefix`);
  if (prefix === undefined && (match.ge !== undefined || match.le !== undefined || match.matchOperator !== undefined))
    throw new PolicyConfigError(`${path}.prefix`, 'missing: ge, le and matchOperator apply to a prefix');
  let family: 0 | 4 | 6 = match.family === undefined ? 0 : match.family === 'ipv4-unicast' ? 4 : 6;
  if (prefix) {
    const implied = prefix.v4 ? 4 : 6;
    if (family !== 0 && family !== implied) throw new PolicyConfigError(`${path}.family`, `${match.family} does not match the prefix ${match.prefix}`);
    family = implied;
  }
  const communities = parseCommunityList(match.communities);
  if (!communities.ok) throw new PolicyConfigError(`${path}.communities[${communities.index}]`, `not a community: ${JSON.stringify(communities.text)}`);
  return Object.freeze({
    family,
    peerType: match.peerType === undefined ? 0 : match.peerType === 'ebgp' ? 1 : 2,
    prefix,
    operator: match.matchOperator ?? 'in',
    nextHop: match.nextHop === undefined ? undefined : compilePrefixRange(match.nextHop, undefined, undefined, `${path}.nextHop`),
    communities: communities.lists.standard,
    largeCommunities: communities.lists.large,
    asPathContains: match.asPathContains,
    asPathPrefix: match.asPathPrefix === undefined ? undefined : Object.freeze([...match.asPathPrefix]),
  });
}

/** Whether a route meets every condition; cheapest tests first. */
export function matches(m: CompiledMatch, prefix: number | string, set: AttrSet, peer: PeerInfo): boolean {
  if (m.family !== 0 && (typeof prefix === 'number') !== (m.family === 4)) return false;
  if (m.peerType !== 0) {
    if (peer.local) return false;
    if (peer.ibgp !== (m.peerType === 2)) return false;
  }
  if (m.prefix !== undefined && !prefixMatches(m.prefix, m.operator, prefix)) return false;
  if (m.nextHop !== undefined && !nextHopMatches(m.nextHop, set)) return false;
  if (m.asPathContains !== undefined && !asPathHas(set, m.asPathContains)) return false;
  if (m.asPathPrefix !== undefined && !asPathStartsWith(set, m.asPathPrefix)) return false;
  if ((m.communities.length > 0 || m.largeCommunities.length > 0) && !communitiesPresent(set, m.communities, m.largeCommunities)) return false;
  return true;
}
