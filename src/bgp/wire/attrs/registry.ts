// The path attribute table (STYLE.md §2): one row per attribute bgp-ts knows,
// code → name, expected flags, decode, encode, RFC 7606 verdict and log format.
// update.ts walks the attribute list against it; anything not in it is unknown
// and handled by the RFC 4271 §5 rules there.

import type { PathAttributes } from '../types.js';
import { aggregatorSpec, as4AggregatorSpec, atomicAggregateSpec } from './aggregation.js';
import { as4PathSpec, asPathSpec } from './as-path.js';
import { communitiesSpec, extCommunitiesSpec, largeCommunitySpec } from './communities.js';
import { localPrefSpec, medSpec } from './metrics.js';
import { mpReachSpec, mpUnreachSpec } from './mp.js';
import { nextHopSpec } from './next-hop.js';
import { originSpec } from './origin.js';
import { clusterListSpec, originatorIdSpec } from './reflection.js';
import type { AttributeSpec } from './spec.js';

/** Every known attribute, in ascending type code order (the order they are encoded in). */
export const ATTRIBUTE_SPECS: readonly AttributeSpec[] = [
  originSpec, // 1
  asPathSpec, // 2
  nextHopSpec, // 3
  medSpec, // 4
  localPrefSpec, // 5
  atomicAggregateSpec, // 6
  aggregatorSpec, // 7
  communitiesSpec, // 8
  originatorIdSpec, // 9
  clusterListSpec, // 10
  mpReachSpec, // 14
  mpUnreachSpec, // 15
  extCommunitiesSpec, // 16
  as4PathSpec, // 17
  as4AggregatorSpec, // 18
  largeCommunitySpec, // 32
];

const BY_CODE: (AttributeSpec | undefined)[] = new Array<AttributeSpec | undefined>(256).fill(undefined);
for (const spec of ATTRIBUTE_SPECS) BY_CODE[spec.code] = spec;

/** The table row for a type code, or undefined when the attribute is unknown to us. */
export function attributeSpec(code: number): AttributeSpec | undefined {
  return BY_CODE[code];
}

/** Name of a type code for logs ("AS_PATH", or "type 99"). */
export function attributeName(code: number): string {
  return BY_CODE[code]?.name ?? `type ${code}`;
}

/**
 * One-line log text of a set of attributes, e.g.
 * `origin igp, as-path 64512 64513 {1 2}, next-hop 192.0.2.1, communities 64512:100`.
 */
export function formatAttributes(attrs: PathAttributes): string {
  const parts: string[] = [];
  for (const spec of ATTRIBUTE_SPECS) {
    const text = spec.format?.(attrs);
    if (text !== undefined) parts.push(`${spec.name.toLowerCase().replace(/_/g, '-')} ${text}`.trimEnd());
  }
  for (const u of attrs.unknown ?? []) parts.push(`type-${u.code} 0x${u.value.toString('hex')}`);
  return parts.join(', ');
}
