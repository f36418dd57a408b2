// Community attributes, all optional transitive: COMMUNITIES (type 8, RFC 1997),
// EXTENDED_COMMUNITIES (type 16, RFC 4360) and LARGE_COMMUNITY (type 32,
// RFC 8092). A length that is not a non-zero multiple of the element size →
// treat-as-withdraw (RFC 7606 §7.8, §7.14; RFC 8092 §6).

import { UPD_OPTIONAL_ATTRIBUTE } from '../errors.js';
import type { LargeCommunity } from '../types.js';
import { formatExtCommunity } from './ext-community-text.js';
import {
  ATTR_COMMUNITIES,
  ATTR_EXTENDED_COMMUNITIES,
  ATTR_LARGE_COMMUNITY,
  OPTIONAL_TRANSITIVE,
  type AttributeSpec,
  type Malformed,
} from './spec.js';

function multipleOf(value: Buffer, size: number, name: string): Malformed | undefined {
  if (value.length > 0 && value.length % size === 0) return undefined;
  return { reason: `${name} length ${value.length} is not a non-zero multiple of ${size}` };
}

/** "64512:100" text of an RFC 1997 community. */
export function formatCommunity(c: number): string {
  return `${c >>> 16}:${c & 0xffff}`;
}

export const communitiesSpec: AttributeSpec = {
  code: ATTR_COMMUNITIES,
  name: 'COMMUNITIES',
  flags: OPTIONAL_TRANSITIVE,
  onMalformed: 'treat-as-withdraw',
  subcode: UPD_OPTIONAL_ATTRIBUTE,
  decode(value, _ctx, into) {
    const bad = multipleOf(value, 4, 'COMMUNITIES');
    if (bad) return bad;
    const out: number[] = [];
    for (let p = 0; p < value.length; p += 4) out.push(value.readUInt32BE(p));
    into.communities = out;
    return undefined;
  },
  valueLength: (a) => (a.communities && a.communities.length > 0 ? 4 * a.communities.length : -1),
  writeValue(a, _ctx, buf, offset) {
    for (const c of a.communities!) {
      buf.writeUInt32BE(c >>> 0, offset);
      offset += 4;
    }
  },
  format: (a) => a.communities?.map(formatCommunity).join(' '),
};

/** RFC 4360 text forms (rt, ro, ...) live in ext-community-text.ts. */
export { formatExtCommunity };

export const extCommunitiesSpec: AttributeSpec = {
  code: ATTR_EXTENDED_COMMUNITIES,
  name: 'EXTENDED_COMMUNITIES',
  flags: OPTIONAL_TRANSITIVE,
  onMalformed: 'treat-as-withdraw',
  subcode: UPD_OPTIONAL_ATTRIBUTE,
  decode(value, _ctx, into) {
    const bad = multipleOf(value, 8, 'EXTENDED_COMMUNITIES');
    if (bad) return bad;
    const out: bigint[] = [];
    for (let p = 0; p < value.length; p += 8) out.push(value.readBigUInt64BE(p));
    into.extCommunities = out;
    return undefined;
  },
  valueLength: (a) => (a.extCommunities && a.extCommunities.length > 0 ? 8 * a.extCommunities.length : -1),
  writeValue(a, _ctx, buf, offset) {
    for (const c of a.extCommunities!) {
      buf.writeBigUInt64BE(BigInt.asUintN(64, c), offset);
      offset += 8;
    }
  },
  format: (a) => a.extCommunities?.map(formatExtCommunity).join(' '),
};

/** "64512:1:2" text of an RFC 8092 large community. */
export function formatLargeCommunity(c: LargeCommunity): string {
  return `${c.global}:${c.local1}:${c.local2}`;
}

export const largeCommunitySpec: AttributeSpec = {
  code: ATTR_LARGE_COMMUNITY,
  name: 'LARGE_COMMUNITY',
  flags: OPTIONAL_TRANSITIVE,
  onMalformed: 'treat-as-withdraw',
  subcode: UPD_OPTIONAL_ATTRIBUTE,
  decode(value, _ctx, into) {
    const bad = multipleOf(value, 12, 'LARGE_COMMUNITY');
    if (bad) return bad;
    const out: LargeCommunity[] = [];
    for (let p = 0; p < value.length; p += 12)
      out.push({ global: value.readUInt32BE(p), local1: value.readUInt32BE(p + 4), local2: value.readUInt32BE(p + 8) });
    into.largeCommunities = out;
    return undefined;
  },
  valueLength: (a) => (a.largeCommunities && a.largeCommunities.length > 0 ? 12 * a.largeCommunities.length : -1),
  writeValue(a, _ctx, buf, offset) {
    for (const c of a.largeCommunities!) {
      buf.writeUInt32BE(c.global >>> 0, offset);
      buf.writeUInt32BE(c.local1 >>> 0, offset + 4);
      buf.writeUInt32BE(c.local2 >>> 0, offset + 8);
      offset += 12;
    }
  },
  format: (a) => a.largeCommunities?.map(formatLargeCommunity).join(' '),
};
