// The UPDATE packer: turns one group (an outgoing attribute set and the
// prefixes that share it) into as few UPDATE messages as fit the negotiated
// maximum (4096 octets, RFC 4271 §4.1; 65535 with RFC 8654 extended messages).
// IPv4 unicast goes in the classic NLRI / Withdrawn Routes fields (RFC 4271
// §4.3); IPv6 in MP_REACH_NLRI / MP_UNREACH_NLRI (RFC 4760 §3, §4), placed
// first in the attribute list (RFC 7606 §5.1). Each prefix carries a 4-octet
// Path Identifier when ADD-PATH send is negotiated for its family (RFC 7911 §3).
//
// This is the hot path when reflecting a full table: the attribute block is
// encoded once per group with the codec's encoder (encodeAttributeBlock) and
// copied into each message; NLRI bytes are written straight into one buffer per
// message, no object per prefix. The codec has no "attributes only" or "NLRI at
// an offset from a key stream" entry point, so both live here.

import { encodeUpdate } from '../bgp/wire/update.js';
import { endOfRib } from '../bgp/wire/eor.js';
import { emptyNlri } from '../bgp/wire/nlri.js';
import {
  HEADER_LENGTH,
  MAX_EXTENDED_MESSAGE_LENGTH,
  MAX_MESSAGE_LENGTH,
  MSG_UPDATE,
  familyAfiSafi,
  type CodecContext,
  type Family,
  type PathAttributes,
  type PrefixKey,
} from '../bgp/wire/types.js';

/**
 * What the Adj-RIB-Out queues: a prefix key when the path identifier is 0 (no
 * ADD-PATH, or its first path), else the string `<prefix key>#<path id>`.
 */
export type OutKey = PrefixKey | string;

const FLAG_OPTIONAL_EXTENDED = 0x80 | 0x10; // RFC 4271 §4.3: Optional, Extended Length
const ATTR_MP_REACH_NLRI = 14;
const ATTR_MP_UNREACH_NLRI = 15;
/** Octets before the Withdrawn Routes: header (19) + Withdrawn Routes Length (2). */
const BODY_START = HEADER_LENGTH + 2;

export function outKey(prefix: PrefixKey, pathId = 0): OutKey {
  return pathId === 0 ? prefix : `${prefix}#${pathId >>> 0}`;
}

export function outKeyPrefix(key: OutKey): PrefixKey {
  if (typeof key === 'number') return key;
  const hash = key.indexOf('#');
  if (hash < 0) return key;
  const text = key.slice(0, hash);
  return text.includes('/') ? text : Number(text);
}

export function outKeyPathId(key: OutKey): number {
  if (typeof key === 'number') return 0;
  const hash = key.indexOf('#');
  return hash < 0 ? 0 : Number(key.slice(hash + 1));
}

export function outKeyFamily(key: OutKey): Family {
  return typeof outKeyPrefix(key) === 'number' ? 'ipv4-unicast' : 'ipv6-unicast';
}

/** The largest message the session may send (RFC 8654 §3). */
export function maxUpdateLength(ctx: CodecContext): number {
  return ctx.extendedMessage ? MAX_EXTENDED_MESSAGE_LENGTH : MAX_MESSAGE_LENGTH;
}

/** A group's attributes, encoded once and laid out around the NLRI of each message. */
export interface AttributeBlock {
  readonly family: Family;
  /** Message octets before the first prefix: header, lengths, attributes (IPv4) or the MP_REACH_NLRI head (IPv6). */
  readonly head: Buffer;
  /** Attribute octets after the prefixes (IPv6: the attributes that follow MP_REACH_NLRI); empty for IPv4. */
  readonly tail: Buffer;
  /** Octets of NLRI one message can carry. */
  readonly nlriBudget: number;
  readonly addPath: boolean;
  readonly maxLength: number;
}

/** Octets of the longest prefix of a family on the wire (so a budget below it can carry nothing). */
export function longestPrefixWire(family: Family, addPath: boolean): number {
  return (family === 'ipv4-unicast' ? 5 : 17) + (addPath ? 4 : 0);
}

/**
 * Encodes `attrs` once for announcing prefixes of `family`. IPv4 uses NEXT_HOP
 * and the classic NLRI field; IPv6 needs `attrs.mpReach` (its next hop) and
 * drops NEXT_HOP. MP_UNREACH_NLRI and any NLRI inside `attrs` are ignored.
 */
export function encodeAttributeBlock(attrs: PathAttributes, family: Family, ctx: CodecContext): AttributeBlock {
  const maxLength = maxUpdateLength(ctx);
  const addPath = ctx.addPathSend[family];
  const { mpReach: _reach, mpUnreach: _unreach, ...rest } = attrs;
  if (family === 'ipv4-unicast') {
    // Encode with the codec, no NLRI: the result is exactly the head of every message.
    const empty = emptyNlri('ipv4-unicast');
    const head = encodeUpdate({ type: 'update', withdrawn: empty, attributes: rest, nlri: empty }, ctx);
    return { family, head, tail: Buffer.alloc(0), nlriBudget: maxLength - head.length, addPath, maxLength };
  }
  const reach = attrs.mpReach;
  if (!reach || reach.family !== 'ipv6-unicast') throw new Error('IPv6 announcements need an IPv6 MP_REACH_NLRI next hop');
  const { nextHop: _nh, ...withoutNextHop } = rest;
  const withReach: PathAttributes = { ...withoutNextHop, mpReach: { ...reach, nlri: emptyNlri('ipv6-unicast') } };
  const empty = emptyNlri('ipv4-unicast');
  const encoded = encodeUpdate({ type: 'update', withdrawn: empty, attributes: withReach, nlri: empty }, ctx);
  // Walk the encoded attribute list: MP_REACH_NLRI's value (AFI .. Reserved)
  // goes in the head behind a 4-octet extended-length header we fill per
  // message; every other attribute goes in the tail, in the codec's order.
  const attrEnd = encoded.length;
  let p = BODY_START + 2;
  let reachValue: Buffer | undefined;
  const others: Buffer[] = [];
  while (p < attrEnd) {
    const flags = encoded[p]!;
    const code = encoded[p + 1]!;
    const hl = flags & 0x10 ? 4 : 3;
    const len = hl === 4 ? encoded.readUInt16BE(p + 2) : encoded[p + 2]!;
    if (code === ATTR_MP_REACH_NLRI) reachValue = encoded.subarray(p + hl, p + hl + len);
    else others.push(encoded.subarray(p, p + hl + len));
    p += hl + len;
  }
  const tail = Buffer.concat(others);
  const head = Buffer.allocUnsafe(BODY_START + 2 + 4 + reachValue!.length);
  encoded.copy(head, 0, 0, BODY_START + 2); // header and zero Withdrawn Routes Length; lengths are rewritten
  head[BODY_START + 2] = FLAG_OPTIONAL_EXTENDED;
  head[BODY_START + 3] = ATTR_MP_REACH_NLRI;
  reachValue!.copy(head, BODY_START + 6);
  return { family, head, tail, nlriBudget: maxLength - head.length - tail.length, addPath, maxLength };
}

function hexNibble(c: number): number {
  return c <= 57 ? c - 48 : c - 87; // '0'-'9', 'a'-'f' (keys are lowercase)
}

/** Octets `key` takes in NLRI (length octet, significant octets, RFC 7911 path id). */
export function outKeyWireLength(key: OutKey, addPath: boolean): number {
  const prefix = typeof key === 'number' ? key : outKeyPrefix(key);
  const len = typeof prefix === 'number' ? prefix % 64 : Number(prefix.slice(33));
  return 1 + ((len + 7) >> 3) + (addPath ? 4 : 0);
}

/**
 * Writes one prefix at `p` if it fits before `limit`; returns the new offset,
 * or -1 when it does not fit (nothing written).
 */
function writeKey(buf: Buffer, p: number, limit: number, key: OutKey, addPath: boolean): number {
  let prefix: PrefixKey = key;
  let pathId = 0;
  if (typeof key === 'string' && (addPath || key.includes('#'))) {
    prefix = outKeyPrefix(key);
    pathId = outKeyPathId(key);
  }
  if (typeof prefix === 'number') {
    const len = prefix % 64;
    const addr = (prefix - len) / 64;
    const n = (len + 7) >> 3;
    const end = p + 1 + n + (addPath ? 4 : 0);
    if (end > limit) return -1;
    if (addPath) {
      buf.writeUInt32BE(pathId, p); // RFC 7911 §3
      p += 4;
    }
    buf[p++] = len;
    // RFC 4271 §4.3: only the significant octets of the prefix.
    if (n > 0) buf[p++] = addr >>> 24;
    if (n > 1) buf[p++] = (addr >>> 16) & 0xff;
    if (n > 2) buf[p++] = (addr >>> 8) & 0xff;
    if (n > 3) buf[p++] = addr & 0xff;
    return end;
  }
  const len = Number(prefix.slice(33));
  const n = (len + 7) >> 3;
  const end = p + 1 + n + (addPath ? 4 : 0);
  if (end > limit) return -1;
  if (addPath) {
    buf.writeUInt32BE(pathId, p);
    p += 4;
  }
  buf[p++] = len;
  for (let j = 0; j < n; j++) buf[p++] = (hexNibble(prefix.charCodeAt(2 * j)) << 4) | hexNibble(prefix.charCodeAt(2 * j + 1));
  return end;
}

/** A message buffer trimmed to `used`; a short last message gets its own small buffer. */
function finish(buf: Buffer, used: number): Buffer {
  buf.writeUInt16BE(used, 16); // RFC 4271 §4.1 Length
  if (used === buf.length) return buf;
  return used * 2 <= buf.length ? Buffer.from(buf.subarray(0, used)) : buf.subarray(0, used);
}

/**
 * Packs announcements of `keys` (all of the block's family) into at most
 * `maxMessages` UPDATEs appended to `out`. Returns how many keys, from the
 * start of the iteration, were packed; `perMessage` gets each message's count.
 */
export function packAnnouncements(block: AttributeBlock, keys: Iterable<OutKey>, maxMessages: number, out: Buffer[], perMessage?: number[]): number {
  const { head, tail, addPath, maxLength } = block;
  const v6 = block.family === 'ipv6-unicast';
  const nlriStart = head.length;
  const limit = maxLength - tail.length;
  let consumed = 0;
  let before = 0; // consumed when the open message began
  let messages = 0;
  let buf: Buffer | undefined;
  let p = 0;
  const close = (): void => {
    const b = buf!;
    let end = p;
    if (v6) {
      tail.copy(b, end);
      end += tail.length;
      const reachLength = p - (BODY_START + 6); // MP_REACH_NLRI value: AFI .. NLRI
      b.writeUInt16BE(reachLength, BODY_START + 4);
      b.writeUInt16BE(end - (BODY_START + 2), BODY_START); // Total Path Attribute Length
    }
    out.push(finish(b, end));
    perMessage?.push(consumed - before);
    before = consumed;
    messages++;
    buf = undefined;
  };
  for (const key of keys) {
    if (!buf) {
      if (messages >= maxMessages) break;
      buf = Buffer.allocUnsafe(maxLength);
      head.copy(buf, 0);
      p = nlriStart;
    }
    let next = writeKey(buf, p, limit, key, addPath);
    if (next < 0) {
      if (p === nlriStart) throw new RangeError(`attributes leave no room for ${String(key)} in a ${maxLength}-octet UPDATE`);
      close();
      if (messages >= maxMessages) break;
      buf = Buffer.allocUnsafe(maxLength);
      head.copy(buf, 0);
      p = nlriStart;
      next = writeKey(buf, p, limit, key, addPath);
      if (next < 0) throw new RangeError(`attributes leave no room for ${String(key)} in a ${maxLength}-octet UPDATE`);
    }
    p = next;
    consumed++;
  }
  if (buf) close();
  return consumed;
}

/**
 * Packs withdrawals of `keys` (all of `family`) into at most `maxMessages`
 * UPDATEs appended to `out`: IPv4 in Withdrawn Routes (RFC 4271 §4.3), IPv6 in
 * MP_UNREACH_NLRI (RFC 4760 §4) as the only attribute. Returns how many keys
 * were packed; `perMessage` gets each message's count.
 */
export function packWithdrawals(
  family: Family,
  keys: Iterable<OutKey>,
  ctx: CodecContext,
  maxMessages: number,
  out: Buffer[],
  perMessage?: number[],
): number {
  const maxLength = maxUpdateLength(ctx);
  const addPath = ctx.addPathSend[family];
  const v6 = family === 'ipv6-unicast';
  // IPv4: prefixes from offset 21, 2 octets of Total Path Attribute Length after them.
  // IPv6: Withdrawn Routes Length 0, attribute length, MP_UNREACH_NLRI header (4) + AFI/SAFI (3).
  const start = v6 ? BODY_START + 2 + 4 + 3 : BODY_START;
  const limit = v6 ? maxLength : maxLength - 2;
  let consumed = 0;
  let before = 0; // consumed when the open message began
  let messages = 0;
  let buf: Buffer | undefined;
  let p = 0;
  const open = (): Buffer => {
    const b = Buffer.allocUnsafe(maxLength);
    b.fill(0xff, 0, 16); // RFC 4271 §4.1 marker
    b[18] = MSG_UPDATE;
    if (v6) {
      const { afi, safi } = familyAfiSafi(family);
      b.writeUInt16BE(0, BODY_START - 2);
      b[BODY_START + 2] = FLAG_OPTIONAL_EXTENDED;
      b[BODY_START + 3] = ATTR_MP_UNREACH_NLRI;
      b.writeUInt16BE(afi, BODY_START + 6);
      b[BODY_START + 8] = safi;
    }
    p = start;
    return b;
  };
  const close = (): void => {
    const b = buf!;
    let end = p;
    if (v6) {
      b.writeUInt16BE(p - (BODY_START + 6), BODY_START + 4); // MP_UNREACH_NLRI length
      b.writeUInt16BE(p - (BODY_START + 2), BODY_START); // Total Path Attribute Length
    } else {
      b.writeUInt16BE(p - BODY_START, BODY_START - 2); // Withdrawn Routes Length
      b.writeUInt16BE(0, p); // Total Path Attribute Length: none
      end += 2;
    }
    out.push(finish(b, end));
    perMessage?.push(consumed - before);
    before = consumed;
    messages++;
    buf = undefined;
  };
  for (const key of keys) {
    if (!buf) {
      if (messages >= maxMessages) break;
      buf = open();
    }
    let next = writeKey(buf, p, limit, key, addPath);
    if (next < 0) {
      close();
      if (messages >= maxMessages) break;
      buf = open();
      next = writeKey(buf, p, limit, key, addPath);
    }
    p = next;
    consumed++;
  }
  if (buf) close();
  return consumed;
}

/** Everything in one go: announcements of `keys` with `attrs`, as many messages as it takes. */
export function packUpdates(attrs: PathAttributes, family: Family, keys: readonly OutKey[], ctx: CodecContext): Buffer[] {
  const out: Buffer[] = [];
  packAnnouncements(encodeAttributeBlock(attrs, family, ctx), keys, Infinity, out);
  return out;
}

/** Withdrawals of `keys`, as many messages as it takes. */
export function packWithdrawUpdates(family: Family, keys: readonly OutKey[], ctx: CodecContext): Buffer[] {
  const out: Buffer[] = [];
  packWithdrawals(family, keys, ctx, Infinity, out);
  return out;
}

/** RFC 4724 §2 End-of-RIB marker for a family, encoded. */
export function encodeEndOfRib(family: Family, ctx: CodecContext): Buffer {
  return encodeUpdate(endOfRib(family), ctx);
}
