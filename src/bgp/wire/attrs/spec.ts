// The shape of one row of the path attribute table (attrs/registry.ts): how a
// known attribute is named, flagged, decoded, encoded and printed (RFC 4271
// §4.3, §5), and what RFC 7606 §7 says to do when its value is malformed.

import type { Aggregator, AsPathSegment, CodecContext, PathAttributes } from '../types.js';
import type { ErrorAction } from '../errors.js';

/** RFC 4271 §4.3 Attribute Flags octet. */
export const FLAG_OPTIONAL = 0x80;
export const FLAG_TRANSITIVE = 0x40;
export const FLAG_PARTIAL = 0x20;
export const FLAG_EXTENDED_LENGTH = 0x10;

/** Well-known attributes carry Transitive only; optional ones Optional (+ Transitive). */
export const WELL_KNOWN = FLAG_TRANSITIVE;
export const OPTIONAL_NON_TRANSITIVE = FLAG_OPTIONAL;
export const OPTIONAL_TRANSITIVE = FLAG_OPTIONAL | FLAG_TRANSITIVE;

// IANA path attribute type codes.
export const ATTR_ORIGIN = 1;
export const ATTR_AS_PATH = 2;
export const ATTR_NEXT_HOP = 3;
export const ATTR_MULTI_EXIT_DISC = 4;
export const ATTR_LOCAL_PREF = 5;
export const ATTR_ATOMIC_AGGREGATE = 6;
export const ATTR_AGGREGATOR = 7;
export const ATTR_COMMUNITIES = 8;
export const ATTR_ORIGINATOR_ID = 9;
export const ATTR_CLUSTER_LIST = 10;
export const ATTR_MP_REACH_NLRI = 14;
export const ATTR_MP_UNREACH_NLRI = 15;
export const ATTR_EXTENDED_COMMUNITIES = 16;
export const ATTR_AS4_PATH = 17;
export const ATTR_AS4_AGGREGATOR = 18;
export const ATTR_LARGE_COMMUNITY = 32;

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/**
 * Attributes being gathered while one UPDATE is decoded. The RFC 6793 AS4_*
 * values sit here until the merge (attrs/as4.ts) folds them into asPath and
 * aggregator; they never reach PathAttributes.
 */
export interface AttributeAccumulator extends Mutable<PathAttributes> {
  as4Path?: AsPathSegment[];
  as4Aggregator?: Aggregator;
}

/** A decoder's verdict on a malformed value; the defaults come from the spec row. */
export interface Malformed {
  readonly reason: string;
  readonly action?: ErrorAction;
  readonly subcode?: number;
}

export interface AttributeSpec {
  readonly code: number;
  readonly name: string;
  /** Expected Optional and Transitive bits (RFC 4271 §5; checked per RFC 7606 §3.c). */
  readonly flags: number;
  /** RFC 7606 §7 action when the value is malformed. */
  readonly onMalformed: ErrorAction;
  /** NOTIFICATION subcode RFC 4271 §6.3 gives for a malformed value. */
  readonly subcode: number;
  /** Reads `value` into `into`; returns a verdict when malformed, undefined when fine. */
  decode(value: Buffer, ctx: CodecContext, into: AttributeAccumulator): Malformed | undefined;
  /** Value octets this attribute takes when encoding `attrs`, or -1 when it is not sent. */
  valueLength(attrs: PathAttributes, ctx: CodecContext): number;
  /** Writes the value at `offset` (valueLength octets). */
  writeValue(attrs: PathAttributes, ctx: CodecContext, buf: Buffer, offset: number): void;
  /** Log text of the value, or undefined when absent. */
  format?(attrs: PathAttributes): string | undefined;
}

/** A fixed-length check shared by several decoders. */
export function lengthIs(value: Buffer, n: number, name: string): Malformed | undefined {
  return value.length === n ? undefined : { reason: `${name} length ${value.length}, expected ${n}` };
}

/** Dotted-quad text of 4 octets at `offset`. */
export function ipv4Text(buf: Buffer, offset: number): string {
  return `${buf[offset]}.${buf[offset + 1]}.${buf[offset + 2]}.${buf[offset + 3]}`;
}

/** Writes dotted-quad text as 4 octets (0.0.0.0 when the text is not an address). */
export function writeIpv4Text(text: string, buf: Buffer, offset: number): void {
  const parts = text.split('.');
  for (let i = 0; i < 4; i++) buf[offset + i] = Number(parts[i] ?? 0) & 0xff;
}
