// Set-actions of accepting policy rules: LOCAL_PREF (RFC 4271 §5.1.5),
// MULTI_EXIT_DISC (§5.1.4), add communities (RFC 1997 COMMUNITIES for "aa:nn",
// RFC 8092 LARGE_COMMUNITY for "aa:nn:mm") and AS_PATH prepending (§5.1.2).
// Actions work on plain PathAttributes and report "no change" as undefined,
// so the policy can hand back the very same interned AttrSet when a rule's
// actions leave a route as it was.
//
// Decisions:
// - Added communities go after those already present, in rule order, and a
//   value already present is not added again: what a peer sent keeps its
//   order (and its bytes), and a route that already carries every added value
//   is unchanged.
// - Prepending adds the given ASN N times in front of the path, into the
//   leading AS_SEQUENCE while it has room (255 ASNs, RFC 4271 §4.3 b) and in a
//   new one otherwise. Which ASN is the policy's choice (policy.ts).
// - Several accepting rules (global, then per-peer) apply their actions in
//   that order: a later LOCAL_PREF or MED overrides, communities accumulate,
//   prepends add up.

import { AS_SEQUENCE, type AsPathSegment, type LargeCommunity, type PathAttributes } from '../../bgp/wire/types.js';
import type { PolicyRule } from '../../config/schema.js';
import { hasLarge, parseCommunityList } from './communities.js';
import { PolicyConfigError } from './match.js';

type SetConfig = NonNullable<PolicyRule['set']>;

/** RFC 4271 §4.3 b: the segment length is one octet. */
const MAX_SEGMENT_ASNS = 255;

export interface CompiledSet {
  readonly localPref: number | undefined;
  readonly med: number | undefined;
  readonly addCommunities: readonly number[];
  readonly addLargeCommunities: readonly LargeCommunity[];
  /** How many times to prepend; 0 = not at all. */
  readonly prepend: number;
}

/** Compiles a rule's `set` block; undefined when it changes nothing. */
export function compileSet(set: SetConfig | undefined, path: string): CompiledSet | undefined {
  if (!set) return undefined;
  const add = parseCommunityList(set.addCommunities);
  if (!add.ok) throw new PolicyConfigError(`${path}.addCommunities[${add.index}]`, `not a community: ${JSON.stringify(add.text)}`);
  const out: CompiledSet = Object.freeze({
    localPref: set.localPref,
    med: set.med,
    addCommunities: add.lists.standard,
    addLargeCommunities: add.lists.large,
    prepend: set.prepend ?? 0,
  });
  const empty =
    out.localPref === undefined && out.med === undefined && out.addCommunities.length === 0 && out.addLargeCommunities.length === 0 && out.prepend === 0;
  return empty ? undefined : out;
}

/** RFC 4271 §5.1.2: `asn` `times` times in front of the path. */
export function prependAsPath(path: readonly AsPathSegment[] | undefined, asn: number, times: number): AsPathSegment[] {
  const segments = path ? [...path] : [];
  let left = times;
  while (left > 0) {
    const first = segments[0];
    if (first && first.type === AS_SEQUENCE && first.asns.length < MAX_SEGMENT_ASNS) {
      const n = Math.min(left, MAX_SEGMENT_ASNS - first.asns.length);
      segments[0] = { type: AS_SEQUENCE, asns: [...new Array<number>(n).fill(asn), ...first.asns] };
      left -= n;
    } else {
      const n = Math.min(left, MAX_SEGMENT_ASNS);
      segments.unshift({ type: AS_SEQUENCE, asns: new Array<number>(n).fill(asn) });
      left -= n;
    }
  }
  return segments;
}

type Draft = { -readonly [K in keyof PathAttributes]: PathAttributes[K] };

/**
 * Applies `sets` in order to `attrs`. Returns the new attributes, or
 * undefined when nothing changed. `prependAsn` undefined skips prepending
 * (the policy decided it does not apply to this session).
 */
export function applySets(sets: readonly CompiledSet[], attrs: PathAttributes, prependAsn: number | undefined): PathAttributes | undefined {
  let draft: Draft | undefined;
  const edit = (): Draft => (draft ??= { ...attrs });
  for (const s of sets) {
    const cur = draft ?? attrs;
    // RFC 4271 §5.1.5 LOCAL_PREF, §5.1.4 MULTI_EXIT_DISC.
    if (s.localPref !== undefined && cur.localPref !== s.localPref) edit().localPref = s.localPref;
    if (s.med !== undefined && cur.med !== s.med) edit().med = s.med;
    // RFC 1997 COMMUNITIES: append the missing ones.
    if (s.addCommunities.length > 0) {
      const have = cur.communities ?? [];
      let next: number[] | undefined;
      for (const c of s.addCommunities) if (!have.includes(c)) (next ??= [...have]).push(c);
      if (next) edit().communities = next;
    }
    // RFC 8092 LARGE_COMMUNITY: the same, for triples.
    if (s.addLargeCommunities.length > 0) {
      const have = cur.largeCommunities ?? [];
      let next: LargeCommunity[] | undefined;
      for (const c of s.addLargeCommunities) if (!hasLarge(have, c)) (next ??= [...have]).push(c);
      if (next) edit().largeCommunities = next;
    }
    if (s.prepend > 0 && prependAsn !== undefined) edit().asPath = prependAsPath(cur.asPath, prependAsn, s.prepend);
  }
  return draft;
}
