// Community text and the well-known communities: parsing "aa:nn" (RFC 1997
// §3, two 16-bit halves) and "aa:nn:mm" (RFC 8092 §3, three 32-bit parts) as
// the config and the API write them, the names of the well-known values
// (RFC 1997 §4, RFC 7999 §5, RFC 8326 §5), and the RFC 1997 §4 rule the export
// step applies: NO_EXPORT stays inside the AS, NO_ADVERTISE goes nowhere.
// Parsers return undefined on bad text; they never throw.

import type { LargeCommunity, PathAttributes } from '../../bgp/wire/types.js';

/** RFC 1997 §4: not advertised outside the AS (confederation). */
export const NO_EXPORT = 0xffffff01;
/** RFC 1997 §4: not advertised to any peer. */
export const NO_ADVERTISE = 0xffffff02;
/** RFC 1997 §4: not advertised to external peers, not even confederation members. */
export const NO_EXPORT_SUBCONFED = 0xffffff03;
/** RFC 8326 §5: graceful shutdown of the path. */
export const GRACEFUL_SHUTDOWN = 0xffff0000;
/** RFC 7999 §5: traffic to the prefix should be discarded. */
export const BLACKHOLE = 0xffff029a;

/** Well-known community names, accepted in place of "aa:nn" by parseCommunity. */
export const WELL_KNOWN_COMMUNITIES: Readonly<Record<string, number>> = Object.freeze({
  NO_EXPORT,
  NO_ADVERTISE,
  NO_EXPORT_SUBCONFED,
  GRACEFUL_SHUTDOWN,
  BLACKHOLE,
});

/** A parsed community of either kind. */
export type ParsedCommunity =
  | { readonly kind: 'standard'; readonly value: number }
  | { readonly kind: 'large'; readonly value: LargeCommunity };

const MAX16 = 0xffff;
const MAX32 = 0xffffffff;

/** A decimal integer 0..max without sign, exponent or spaces; undefined otherwise. */
function decimal(text: string, max: number): number | undefined {
  if (text.length === 0 || text.length > 10) return undefined;
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const d = text.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return undefined;
    n = n * 10 + d;
  }
  return n <= max ? n : undefined;
}

/** "aa:nn" (each 0..65535) or a well-known name → the 32-bit value (RFC 1997 §3: aa << 16 | nn). */
export function parseStandardCommunity(text: string): number | undefined {
  const named = WELL_KNOWN_COMMUNITIES[text.toUpperCase()];
  if (named !== undefined) return named;
  const parts = text.split(':');
  if (parts.length !== 2) return undefined;
  const high = decimal(parts[0]!, MAX16);
  const low = decimal(parts[1]!, MAX16);
  if (high === undefined || low === undefined) return undefined;
  return (high * 0x10000 + low) >>> 0;
}

/** "aa:nn:mm", each part 0..4294967295 (RFC 8092 §3: global administrator, local data 1, local data 2). */
export function parseLargeCommunity(text: string): LargeCommunity | undefined {
  const parts = text.split(':');
  if (parts.length !== 3) return undefined;
  const global = decimal(parts[0]!, MAX32);
  const local1 = decimal(parts[1]!, MAX32);
  const local2 = decimal(parts[2]!, MAX32);
  if (global === undefined || local1 === undefined || local2 === undefined) return undefined;
  return Object.freeze({ global, local1, local2 });
}

/** Either form: two parts (or a name) → standard, three parts → large. */
export function parseCommunity(text: string): ParsedCommunity | undefined {
  const large = parseLargeCommunity(text);
  if (large) return { kind: 'large', value: large };
  const standard = parseStandardCommunity(text);
  return standard === undefined ? undefined : { kind: 'standard', value: standard };
}

/** A config or API list split by kind, duplicates dropped, first-seen order kept. */
export interface CommunityLists {
  readonly standard: readonly number[];
  readonly large: readonly LargeCommunity[];
}

export type CommunityListResult =
  | { readonly ok: true; readonly lists: CommunityLists }
  | { readonly ok: false; readonly index: number; readonly text: string };

export function parseCommunityList(texts: readonly string[] | undefined): CommunityListResult {
  const standard: number[] = [];
  const large: LargeCommunity[] = [];
  const list = texts ?? [];
  for (let i = 0; i < list.length; i++) {
    const parsed = parseCommunity(list[i]!);
    if (!parsed) return { ok: false, index: i, text: list[i]! };
    if (parsed.kind === 'standard') {
      if (!standard.includes(parsed.value)) standard.push(parsed.value);
    } else if (!large.some((c) => sameLarge(c, parsed.value))) large.push(parsed.value);
  }
  return { ok: true, lists: { standard: Object.freeze(standard), large: Object.freeze(large) } };
}

export function sameLarge(a: LargeCommunity, b: LargeCommunity): boolean {
  return a.global === b.global && a.local1 === b.local1 && a.local2 === b.local2;
}

/** True when `list` holds `c`. */
export function hasLarge(list: readonly LargeCommunity[], c: LargeCommunity): boolean {
  for (let i = 0; i < list.length; i++) if (sameLarge(list[i]!, c)) return true;
  return false;
}

/** Why a well-known community keeps a route from a peer. */
export type WellKnownBlock = 'no-advertise' | 'no-export' | 'no-export-subconfed';

/** The target side of the RFC 1997 check: an internal or external peer. */
export interface CommunityTarget {
  readonly ibgp: boolean;
}

/**
 * RFC 1997 §4: NO_ADVERTISE → to no peer; NO_EXPORT → not outside the AS, so
 * to no eBGP peer; NO_EXPORT_SUBCONFED → not to any external peer (without
 * confederations, the same eBGP peers). Returns the blocking community's name.
 */
export function wellKnownBlock(attrs: PathAttributes, target: CommunityTarget): WellKnownBlock | undefined {
  const list = attrs.communities;
  if (!list || list.length === 0) return undefined;
  let noExport = false;
  let noExportSubconfed = false;
  for (let i = 0; i < list.length; i++) {
    const c = list[i]! >>> 0;
    if (c === NO_ADVERTISE) return 'no-advertise';
    if (c === NO_EXPORT) noExport = true;
    else if (c === NO_EXPORT_SUBCONFED) noExportSubconfed = true;
  }
  if (target.ibgp) return undefined;
  if (noExport) return 'no-export';
  return noExportSubconfed ? 'no-export-subconfed' : undefined;
}

/** True when the well-known communities let the route go to `target` (RFC 1997 §4). */
export function honourWellKnownCommunities(attrs: PathAttributes, target: CommunityTarget): boolean {
  return wellKnownBlock(attrs, target) === undefined;
}
