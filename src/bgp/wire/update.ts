// UPDATE message codec (RFC 4271 §4.3): Withdrawn Routes, Path Attributes and
// NLRI, with the revised error handling of RFC 7606. Every verdict is a value:
// a session reset comes back as a failed Decoded; treat-as-withdraw and
// attribute-discard come back beside a usable update, which always carries all
// the NLRI it announced (IPv4 and MP) so the caller can withdraw them.
// Attributes are looked up in attrs/registry.ts; RFC 6793 AS4_* merging is in
// attrs/as4.ts. Encoding writes one exactly-sized Buffer in a single pass.

import type { CodecContext, PathAttributes, RawAttribute, UpdateMessage } from './types.js';
import { HEADER_LENGTH, MSG_UPDATE } from './types.js';
import type { Decoded, ErrorAction, WireError } from './errors.js';
import {
  ERR_UPDATE,
  UPD_ATTRIBUTE_FLAGS,
  UPD_MALFORMED_ATTRIBUTE_LIST,
  UPD_MISSING_WELL_KNOWN,
  UPD_UNRECOGNIZED_WELL_KNOWN,
  fail,
  ok,
  wireError,
} from './errors.js';
import { decodeNlri, encodedNlriLength, writeNlri } from './nlri.js';
import { ATTRIBUTE_SPECS, attributeName, attributeSpec } from './attrs/registry.js';
import { applyAs4 } from './attrs/as4.js';
import {
  ATTR_AS4_AGGREGATOR,
  ATTR_AS4_PATH,
  ATTR_AS_PATH,
  ATTR_MP_REACH_NLRI,
  ATTR_MP_UNREACH_NLRI,
  ATTR_NEXT_HOP,
  ATTR_ORIGIN,
  FLAG_EXTENDED_LENGTH,
  FLAG_OPTIONAL,
  FLAG_PARTIAL,
  FLAG_TRANSITIVE,
  type AttributeAccumulator,
  type AttributeSpec,
} from './attrs/spec.js';

export interface DecodedUpdate {
  readonly type: 'update';
  readonly update: UpdateMessage;
  /** RFC 7606 §2: set when every NLRI of this UPDATE must be handled as withdrawn. */
  readonly treatAsWithdraw?: WireError;
  /** RFC 7606 §2: attributes dropped while the rest of the UPDATE stands. */
  readonly discarded: readonly WireError[];
}

function isMp(code: number): boolean {
  return code === ATTR_MP_REACH_NLRI || code === ATTR_MP_UNREACH_NLRI;
}

function reset(subcode: number, reason: string, data?: Buffer): Decoded<DecodedUpdate> {
  return fail(wireError(ERR_UPDATE, subcode, reason, data));
}

/** Decodes an UPDATE body (the bytes after the 19-octet header). */
export function decodeUpdate(body: Buffer, ctx: CodecContext): Decoded<DecodedUpdate> {
  // RFC 4271 §4.3: Withdrawn Routes Length (2), Withdrawn Routes, Total Path
  // Attribute Length (2), Path Attributes, NLRI. Lengths that do not fit the
  // message are a Malformed Attribute List and a session reset (RFC 4271 §6.3,
  // RFC 7606 §3 a... the NLRI cannot be located).
  if (body.length < 4) return reset(UPD_MALFORMED_ATTRIBUTE_LIST, `UPDATE body of ${body.length} octets is too short`);
  const withdrawnLength = body.readUInt16BE(0);
  if (4 + withdrawnLength > body.length)
    return reset(UPD_MALFORMED_ATTRIBUTE_LIST, `Withdrawn Routes Length ${withdrawnLength} overruns the message`);
  const attrStart = 4 + withdrawnLength;
  const attrLength = body.readUInt16BE(2 + withdrawnLength);
  const attrEnd = attrStart + attrLength;
  if (attrEnd > body.length)
    return reset(UPD_MALFORMED_ATTRIBUTE_LIST, `Total Path Attribute Length ${attrLength} overruns the message`);

  // RFC 7606 §5.3: a malformed IPv4 prefix list cannot be recovered: session reset.
  const withdrawn = decodeNlri(body, 2, 2 + withdrawnLength, 'ipv4-unicast', ctx.addPathReceive['ipv4-unicast']);
  if (!withdrawn.ok) return fail({ ...withdrawn.error, reason: `Withdrawn Routes: ${withdrawn.error.reason}` });
  const nlri = decodeNlri(body, attrEnd, body.length, 'ipv4-unicast', ctx.addPathReceive['ipv4-unicast']);
  if (!nlri.ok) return fail({ ...nlri.error, reason: `NLRI: ${nlri.error.reason}` });

  const acc: AttributeAccumulator = {};
  const seen = new Uint8Array(256);
  const discarded: WireError[] = [];
  let treatAsWithdraw: WireError | undefined;
  let unknown: RawAttribute[] | undefined;
  const verdict = (err: WireError): void => {
    if (err.action === 'treat-as-withdraw') treatAsWithdraw ??= err;
    else discarded.push(err);
  };

  let p = attrStart;
  while (p < attrEnd) {
    const start = p;
    // RFC 7606 §4: too few octets left for an attribute header, or a value
    // overrunning the list: treat-as-withdraw, relying on the Total Path
    // Attribute Length to find the NLRI.
    if (attrEnd - p < 3) {
      verdict(wireError(ERR_UPDATE, UPD_MALFORMED_ATTRIBUTE_LIST, `${attrEnd - p} stray octets at the end of the attribute list`, undefined, 'treat-as-withdraw'));
      break;
    }
    const flags = body[p]!;
    const code = body[p + 1]!;
    const headerLength = flags & FLAG_EXTENDED_LENGTH ? 4 : 3;
    if (attrEnd - p < headerLength) {
      verdict(wireError(ERR_UPDATE, UPD_MALFORMED_ATTRIBUTE_LIST, `${attributeName(code)} header truncated`, undefined, 'treat-as-withdraw'));
      break;
    }
    const length = headerLength === 4 ? body.readUInt16BE(p + 2) : body[p + 2]!;
    const valueStart = p + headerLength;
    const valueEnd = valueStart + length;
    if (valueEnd > attrEnd) {
      const reason = `${attributeName(code)} length ${length} overruns the attribute list`;
      // An MP_* attribute we cannot read hides NLRI we would need to withdraw (RFC 7606 §5.3).
      if (isMp(code)) return reset(UPD_MALFORMED_ATTRIBUTE_LIST, reason);
      verdict(wireError(ERR_UPDATE, UPD_MALFORMED_ATTRIBUTE_LIST, reason, undefined, 'treat-as-withdraw'));
      break;
    }
    p = valueEnd;
    const value = body.subarray(valueStart, valueEnd);
    // RFC 4271 §6.3: the NOTIFICATION data is the erroneous attribute (type, length, value).
    const attrBytes = (): Buffer => Buffer.from(body.subarray(start, valueEnd));

    // RFC 7606 §3 g: a repeated MP_* is a Malformed Attribute List (session
    // reset); any other repeat is discarded, keeping the first.
    if (seen[code]) {
      if (isMp(code)) return reset(UPD_MALFORMED_ATTRIBUTE_LIST, `${attributeName(code)} appears more than once`);
      verdict(wireError(ERR_UPDATE, UPD_MALFORMED_ATTRIBUTE_LIST, `duplicate ${attributeName(code)} discarded`, attrBytes(), 'attribute-discard'));
      continue;
    }
    seen[code] = 1;

    const spec = attributeSpec(code);
    if (!spec) {
      // RFC 4271 §5 / §6.3: an unrecognised well-known attribute resets the session;
      // unknown optional transitive ones pass on (Partial set when re-sent);
      // unknown optional non-transitive ones are quietly ignored.
      if (!(flags & FLAG_OPTIONAL))
        return reset(UPD_UNRECOGNIZED_WELL_KNOWN, `unrecognized well-known attribute type ${code}`, attrBytes());
      // Extended Length is framing, not meaning: the encoder sets it again as the length requires.
      if (flags & FLAG_TRANSITIVE) (unknown ??= []).push({ flags: flags & ~FLAG_EXTENDED_LENGTH, code, value: Buffer.from(value) });
      continue;
    }

    // RFC 7606 §3 c: Optional/Transitive bits in conflict with the attribute's
    // definition make it malformed: treat-as-withdraw (AS4_* are discarded,
    // RFC 6793 §6). MP_* are still read so their NLRI can be withdrawn.
    if ((flags & (FLAG_OPTIONAL | FLAG_TRANSITIVE)) !== spec.flags) {
      const action: ErrorAction = code === ATTR_AS4_PATH || code === ATTR_AS4_AGGREGATOR ? 'attribute-discard' : 'treat-as-withdraw';
      verdict(wireError(ERR_UPDATE, UPD_ATTRIBUTE_FLAGS, `${spec.name} flags 0x${flags.toString(16)} are wrong`, attrBytes(), action));
      if (!isMp(code)) continue;
    }

    const bad = spec.decode(value, ctx, acc);
    if (bad) {
      const err = wireError(ERR_UPDATE, bad.subcode ?? spec.subcode, bad.reason, attrBytes(), bad.action ?? spec.onMalformed);
      if (err.action === 'session-reset') return fail(err);
      verdict(err);
    }
  }

  // RFC 6793 §4.2.3: rebuild the 4-octet path from AS_PATH + AS4_PATH.
  if (!ctx.fourOctetAs) applyAs4(acc);

  // RFC 7606 §3 d: with NLRI present, a missing well-known mandatory attribute
  // is treat-as-withdraw. NEXT_HOP is mandatory only with IPv4 NLRI (RFC 4760 §3).
  if (nlri.value.prefixes.length > 0 || acc.mpReach) {
    const missing =
      acc.origin === undefined ? ATTR_ORIGIN
      : acc.asPath === undefined ? ATTR_AS_PATH
      : acc.nextHop === undefined && nlri.value.prefixes.length > 0 ? ATTR_NEXT_HOP
      : 0;
    if (missing)
      treatAsWithdraw ??= wireError(
        ERR_UPDATE,
        UPD_MISSING_WELL_KNOWN,
        `missing well-known attribute ${attributeName(missing)}`,
        Buffer.from([missing]), // RFC 4271 §6.3: data is the missing attribute's type code
        'treat-as-withdraw',
      );
  }
  if (unknown) acc.unknown = unknown;

  const update: UpdateMessage = { type: 'update', withdrawn: withdrawn.value, attributes: acc, nlri: nlri.value };
  return ok(treatAsWithdraw ? { type: 'update', update, treatAsWithdraw, discarded } : { type: 'update', update, discarded });
}

// ---------------------------------------------------------------- encoding

/**
 * Known attributes in the order they are written. RFC 7606 §5.1: MP_REACH_NLRI
 * and MP_UNREACH_NLRI go first so a receiver can find the NLRI even if a later
 * attribute is malformed; the rest follow in ascending type code order.
 */
const ENCODE_ORDER: readonly AttributeSpec[] = [
  ...ATTRIBUTE_SPECS.filter((s) => isMp(s.code)),
  ...ATTRIBUTE_SPECS.filter((s) => !isMp(s.code)),
];

function headerLength(valueLength: number): number {
  return valueLength > 255 ? 4 : 3; // RFC 4271 §4.3: Extended Length when the value exceeds 255 octets
}

function unknownToSend(attrs: PathAttributes): readonly RawAttribute[] {
  const u = attrs.unknown;
  if (!u || u.length === 0) return [];
  return u.length === 1 ? u : [...u].sort((a, b) => a.code - b.code);
}

/** Octets of the Path Attributes field for `attrs` (headers included). */
export function encodedAttributesLength(attrs: PathAttributes, ctx: CodecContext): number {
  let total = 0;
  for (const spec of ENCODE_ORDER) {
    const n = spec.valueLength(attrs, ctx);
    if (n >= 0) total += headerLength(n) + n;
  }
  for (const u of unknownToSend(attrs)) total += headerLength(u.value.length) + u.value.length;
  return total;
}

/** Octets of the whole UPDATE message, 19-octet header included. */
export function encodedUpdateLength(msg: UpdateMessage, ctx: CodecContext): number {
  const addPath = ctx.addPathSend['ipv4-unicast'];
  return (
    HEADER_LENGTH +
    4 +
    encodedNlriLength(msg.withdrawn, addPath) +
    encodedAttributesLength(msg.attributes, ctx) +
    encodedNlriLength(msg.nlri, addPath)
  );
}

function writeAttributeHeader(buf: Buffer, p: number, flags: number, code: number, length: number): number {
  if (length > 255) {
    buf[p] = flags | FLAG_EXTENDED_LENGTH;
    buf[p + 1] = code;
    buf.writeUInt16BE(length, p + 2);
    return p + 4;
  }
  buf[p] = flags & ~FLAG_EXTENDED_LENGTH;
  buf[p + 1] = code;
  buf[p + 2] = length;
  return p + 3;
}

/** Encodes a whole UPDATE message, header included, into one exactly-sized Buffer. */
export function encodeUpdate(msg: UpdateMessage, ctx: CodecContext): Buffer {
  const attrs = msg.attributes;
  const addPath = ctx.addPathSend['ipv4-unicast'];
  const lengths = ENCODE_ORDER.map((spec) => spec.valueLength(attrs, ctx));
  const unknown = unknownToSend(attrs);
  let attrLength = 0;
  for (const n of lengths) if (n >= 0) attrLength += headerLength(n) + n;
  for (const u of unknown) attrLength += headerLength(u.value.length) + u.value.length;
  const withdrawnLength = encodedNlriLength(msg.withdrawn, addPath);
  const nlriLength = encodedNlriLength(msg.nlri, addPath);
  const total = HEADER_LENGTH + 4 + withdrawnLength + attrLength + nlriLength;

  const buf = Buffer.allocUnsafe(total);
  buf.fill(0xff, 0, 16); // RFC 4271 §4.1 marker
  buf.writeUInt16BE(total, 16);
  buf[18] = MSG_UPDATE;
  buf.writeUInt16BE(withdrawnLength, 19);
  let p = writeNlri(buf, 21, msg.withdrawn, addPath);
  buf.writeUInt16BE(attrLength, p);
  p += 2;
  for (let i = 0; i < ENCODE_ORDER.length; i++) {
    const n = lengths[i]!;
    if (n < 0) continue;
    const spec = ENCODE_ORDER[i]!;
    p = writeAttributeHeader(buf, p, spec.flags, spec.code, n);
    spec.writeValue(attrs, ctx, buf, p);
    p += n;
  }
  for (const u of unknown) {
    // RFC 4271 §5: an optional transitive attribute we did not recognise goes on with Partial set.
    const optTransitive = (u.flags & (FLAG_OPTIONAL | FLAG_TRANSITIVE)) === (FLAG_OPTIONAL | FLAG_TRANSITIVE);
    p = writeAttributeHeader(buf, p, optTransitive ? u.flags | FLAG_PARTIAL : u.flags, u.code, u.value.length);
    u.value.copy(buf, p);
    p += u.value.length;
  }
  writeNlri(buf, p, msg.nlri, addPath);
  return buf;
}
