// NLRI codec: the <length, prefix> lists of the UPDATE Withdrawn Routes and
// NLRI fields (RFC 4271 §4.3) and of MP_REACH/MP_UNREACH (RFC 4760 §5), with
// the RFC 7911 §3 Path Identifier in front of each prefix when ADD-PATH is
// negotiated for the family and direction.
//
// IPv4 prefixes decode straight into number keys (src/lib/prefix.ts) in a plain
// number array: no string or object per prefix. IPv6 prefixes become string keys.
// Decoders never throw: a bad length returns a WireError (RFC 7606 §5.3).

import type { Family, Nlri, PrefixKey } from './types.js';
import type { Decoded } from './errors.js';
import { ERR_UPDATE, UPD_INVALID_NETWORK_FIELD, fail, ok, wireError } from './errors.js';
import { v4KeyAddress, v4KeyLength, v6KeyFromBytes, v6KeyLength } from '../../lib/prefix.js';

const EMPTY: readonly never[] = Object.freeze([]);

/** An empty NLRI list of a family. */
export function emptyNlri(family: Family): Nlri {
  return { family, prefixes: EMPTY };
}

function bad(reason: string): Decoded<Nlri> {
  // RFC 4271 §6.3: a syntactically incorrect NLRI field is an Invalid Network Field.
  return fail(wireError(ERR_UPDATE, UPD_INVALID_NETWORK_FIELD, reason));
}

/**
 * Decodes the prefixes in `buf[start, end)`. `addPath` says whether each prefix
 * is preceded by a 4-octet Path Identifier (RFC 7911 §3).
 */
export function decodeNlri(buf: Buffer, start: number, end: number, family: Family, addPath: boolean): Decoded<Nlri> {
  if (start === end) return ok(addPath ? { family, prefixes: [], pathIds: [] } : emptyNlri(family));
  const v4 = family === 'ipv4-unicast';
  const maxLen = v4 ? 32 : 128;
  const prefixes: PrefixKey[] = [];
  const pathIds: number[] | undefined = addPath ? [] : undefined;
  let p = start;
  while (p < end) {
    if (pathIds) {
      if (p + 5 > end) return bad(`path identifier runs past the field at offset ${p - start}`);
      pathIds.push(buf.readUInt32BE(p));
      p += 4;
    }
    const len = buf[p++]!;
    if (len > maxLen) return bad(`prefix length ${len} exceeds ${maxLen}`);
    const n = (len + 7) >> 3;
    if (p + n > end) return bad(`prefix of length ${len} runs past the field`);
    if (v4) {
      // Build the address from the significant octets; host bits beyond `len` are cleared.
      let a = 0;
      for (let i = 0; i < 4; i++) a = a * 256 + (i < n ? buf[p + i]! : 0);
      const mask = len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
      prefixes.push(((a & mask) >>> 0) * 64 + len);
    } else {
      prefixes.push(v6KeyFromBytes(buf, p, len));
    }
    p += n;
  }
  return ok(pathIds ? { family, prefixes, pathIds } : { family, prefixes });
}

/** Octets one prefix takes on the wire: length octet, significant octets, path id. */
export function prefixWireLength(key: PrefixKey, addPath: boolean): number {
  const len = typeof key === 'number' ? v4KeyLength(key) : v6KeyLength(key);
  return 1 + ((len + 7) >> 3) + (addPath ? 4 : 0);
}

/** Octets the prefix list takes on the wire. */
export function encodedNlriLength(nlri: Nlri, addPath: boolean): number {
  return prefixesWireLength(nlri.prefixes, 0, nlri.prefixes.length, addPath);
}

/** Octets of `prefixes[from, to)` on the wire. */
export function prefixesWireLength(prefixes: readonly PrefixKey[], from: number, to: number, addPath: boolean): number {
  let total = 0;
  for (let i = from; i < to; i++) total += prefixWireLength(prefixes[i]!, addPath);
  return total;
}

/**
 * How many prefixes, starting at `from`, fit in `budget` octets. The update
 * packer uses it with budget = max message length - fixed UPDATE overhead.
 */
export function maxPrefixesThatFit(prefixes: readonly PrefixKey[], from: number, budget: number, addPath: boolean): number {
  let used = 0;
  let i = from;
  while (i < prefixes.length) {
    const n = prefixWireLength(prefixes[i]!, addPath);
    if (used + n > budget) break;
    used += n;
    i++;
  }
  return i - from;
}

function hexNibble(c: number): number {
  // '0'-'9' = 48-57, 'a'-'f' = 97-102 (keys are lowercase).
  return c <= 57 ? c - 48 : c - 87;
}

/** Writes the prefix list at `offset`; returns the offset after it. */
export function writeNlri(buf: Buffer, offset: number, nlri: Nlri, addPath: boolean): number {
  const { prefixes, pathIds } = nlri;
  let p = offset;
  for (let i = 0; i < prefixes.length; i++) {
    if (addPath) {
      buf.writeUInt32BE(pathIds?.[i] ?? 0, p); // RFC 7911 §3
      p += 4;
    }
    const key = prefixes[i]!;
    if (typeof key === 'number') {
      const len = v4KeyLength(key);
      const addr = v4KeyAddress(key);
      buf[p++] = len;
      const n = (len + 7) >> 3;
      for (let j = 0; j < n; j++) buf[p++] = (addr >>> (24 - 8 * j)) & 0xff;
    } else {
      const len = v6KeyLength(key);
      buf[p++] = len;
      const n = (len + 7) >> 3;
      for (let j = 0; j < n; j++) buf[p++] = (hexNibble(key.charCodeAt(2 * j)) << 4) | hexNibble(key.charCodeAt(2 * j + 1));
    }
  }
  return p;
}

/** The prefix list as its own Buffer. */
export function encodeNlri(nlri: Nlri, addPath: boolean): Buffer {
  const out = Buffer.allocUnsafe(encodedNlriLength(nlri, addPath));
  writeNlri(out, 0, nlri, addPath);
  return out;
}
