// End-of-RIB marker (RFC 4724 §2): for IPv4 unicast an UPDATE with no withdrawn
// routes, no attributes and no NLRI (23 octets on the wire); for any other
// family an UPDATE whose only attribute is an empty MP_UNREACH_NLRI.

import type { Family, PathAttributes, UpdateMessage } from './types.js';
import { emptyNlri } from './nlri.js';

/** The End-of-RIB UPDATE for a family. */
export function endOfRib(family: Family): UpdateMessage {
  const empty = emptyNlri('ipv4-unicast');
  const attributes: PathAttributes = family === 'ipv4-unicast' ? {} : { mpUnreach: { nlri: emptyNlri(family) } };
  return { type: 'update', withdrawn: empty, attributes, nlri: empty };
}

function onlyKeys(attrs: PathAttributes, allowed: string | undefined): boolean {
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || k === allowed) continue;
    if (k === 'unknown' && Array.isArray(v) && v.length === 0) continue;
    return false;
  }
  return true;
}

/** The family an UPDATE marks End-of-RIB for, or undefined when it is an ordinary UPDATE. */
export function endOfRibFamily(u: UpdateMessage): Family | undefined {
  if (u.withdrawn.prefixes.length > 0 || u.nlri.prefixes.length > 0) return undefined;
  const unreach = u.attributes.mpUnreach;
  if (!unreach) return onlyKeys(u.attributes, undefined) ? 'ipv4-unicast' : undefined;
  if (unreach.nlri.prefixes.length > 0 || !onlyKeys(u.attributes, 'mpUnreach')) return undefined;
  return unreach.nlri.family;
}
