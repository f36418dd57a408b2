// AS_PATH (type 2, well-known mandatory; RFC 4271 §4.3 b, §5.1.2) and AS4_PATH
// (type 17, optional transitive; RFC 6793 §3). Segments are AS_SET (1),
// AS_SEQUENCE (2), AS_CONFED_SEQUENCE (3) and AS_CONFED_SET (4) (RFC 5065 §3).
// AS_PATH numbers are 2 octets unless both sides negotiated 4-octet ASNs; when
// they did not, ASNs above 65535 go out as AS_TRANS and the real path in
// AS4_PATH (RFC 6793 §4.2.2). Malformed AS_PATH → treat-as-withdraw (RFC 7606
// §7.2); malformed AS4_PATH → attribute-discard (RFC 6793 §6).

import type { AsPathSegment, AsPathSegmentType, CodecContext, PathAttributes } from '../types.js';
import { AS_CONFED_SEQUENCE, AS_CONFED_SET, AS_SET, AS_TRANS } from '../types.js';
import { UPD_MALFORMED_AS_PATH, UPD_OPTIONAL_ATTRIBUTE } from '../errors.js';
import { ATTR_AS4_PATH, ATTR_AS_PATH, OPTIONAL_TRANSITIVE, WELL_KNOWN, type AttributeSpec, type Malformed } from './spec.js';

/** A segment holds at most 255 ASNs (one-octet count); longer ones are split on encode. */
const MAX_SEGMENT = 255;

/** Parses segments of `asSize`-octet ASNs; a string says why they are malformed. */
export function decodeSegments(value: Buffer, asSize: 2 | 4, allowConfed: boolean): AsPathSegment[] | string {
  const segments: AsPathSegment[] = [];
  let p = 0;
  while (p < value.length) {
    if (p + 2 > value.length) return `segment header truncated at offset ${p}`;
    const type = value[p]!;
    const count = value[p + 1]!;
    // RFC 7606 §7.2: an unrecognised segment type, a zero count or an overrun is malformed.
    if (type < 1 || type > 4) return `unknown segment type ${type}`;
    if (!allowConfed && type >= AS_CONFED_SEQUENCE) return `confederation segment type ${type} not allowed`;
    if (count === 0) return `empty segment at offset ${p}`;
    p += 2;
    if (p + count * asSize > value.length) return `segment of ${count} ASNs overruns the attribute`;
    const asns: number[] = new Array<number>(count);
    for (let i = 0; i < count; i++, p += asSize) asns[i] = asSize === 4 ? value.readUInt32BE(p) : value.readUInt16BE(p);
    segments.push({ type: type as AsPathSegmentType, asns });
  }
  return segments;
}

function segmentsLength(segments: readonly AsPathSegment[], asSize: number, skipConfed: boolean): number {
  let n = 0;
  for (const s of segments) {
    if (skipConfed && s.type >= AS_CONFED_SEQUENCE) continue;
    n += 2 * Math.ceil(s.asns.length / MAX_SEGMENT) + asSize * s.asns.length;
  }
  return n;
}

function writeSegments(
  segments: readonly AsPathSegment[],
  asSize: number,
  skipConfed: boolean,
  buf: Buffer,
  offset: number,
): void {
  let p = offset;
  for (const s of segments) {
    if (skipConfed && s.type >= AS_CONFED_SEQUENCE) continue;
    for (let from = 0; from < s.asns.length; from += MAX_SEGMENT) {
      const to = Math.min(s.asns.length, from + MAX_SEGMENT);
      buf[p++] = s.type;
      buf[p++] = to - from;
      for (let i = from; i < to; i++) {
        const asn = s.asns[i]!;
        if (asSize === 4) buf.writeUInt32BE(asn >>> 0, p);
        else buf.writeUInt16BE(asn > 0xffff ? AS_TRANS : asn, p); // RFC 6793 §4.2.2
        p += asSize;
      }
    }
  }
}

/** True when a 2-octet AS_PATH cannot carry `segments` and AS4_PATH is needed (RFC 6793 §4.2.2). */
export function needsAs4Path(segments: readonly AsPathSegment[] | undefined): boolean {
  if (!segments) return false;
  for (const s of segments) {
    if (s.type >= AS_CONFED_SEQUENCE) continue;
    for (const asn of s.asns) if (asn > 0xffff) return true;
  }
  return false;
}

/** "64512 64513 {1 2} (65001) [65002 65003]": sets in braces, confed sequence in parentheses, confed set in brackets. */
export function formatAsPath(segments: readonly AsPathSegment[]): string {
  return segments
    .map((s) => {
      const body = s.asns.join(' ');
      if (s.type === AS_SET) return `{${body}}`;
      if (s.type === AS_CONFED_SEQUENCE) return `(${body})`;
      if (s.type === AS_CONFED_SET) return `[${body}]`;
      return body;
    })
    .join(' ');
}

export const asPathSpec: AttributeSpec = {
  code: ATTR_AS_PATH,
  name: 'AS_PATH',
  flags: WELL_KNOWN,
  onMalformed: 'treat-as-withdraw',
  subcode: UPD_MALFORMED_AS_PATH,
  decode(value, ctx, into): Malformed | undefined {
    const segs = decodeSegments(value, ctx.fourOctetAs ? 4 : 2, true);
    if (typeof segs === 'string') return { reason: `AS_PATH: ${segs}` };
    into.asPath = segs;
    return undefined;
  },
  valueLength: (a, ctx) => (a.asPath === undefined ? -1 : segmentsLength(a.asPath, ctx.fourOctetAs ? 4 : 2, false)),
  writeValue(a, ctx, buf, offset) {
    writeSegments(a.asPath!, ctx.fourOctetAs ? 4 : 2, false, buf, offset);
  },
  format: (a) => (a.asPath === undefined ? undefined : formatAsPath(a.asPath)),
};

function sendAs4Path(a: PathAttributes, ctx: CodecContext): boolean {
  return !ctx.fourOctetAs && needsAs4Path(a.asPath);
}

export const as4PathSpec: AttributeSpec = {
  code: ATTR_AS4_PATH,
  name: 'AS4_PATH',
  flags: OPTIONAL_TRANSITIVE,
  onMalformed: 'attribute-discard',
  subcode: UPD_OPTIONAL_ATTRIBUTE,
  decode(value, ctx, into): Malformed | undefined {
    // RFC 6793 §4.1: a NEW speaker ignores AS4_PATH from a NEW peer.
    if (ctx.fourOctetAs) return undefined;
    // RFC 6793 §6: confederation segments in AS4_PATH make it malformed.
    const segs = decodeSegments(value, 4, false);
    if (typeof segs === 'string') return { reason: `AS4_PATH: ${segs}` };
    into.as4Path = segs;
    return undefined;
  },
  valueLength: (a, ctx) => (sendAs4Path(a, ctx) ? segmentsLength(a.asPath!, 4, true) : -1),
  writeValue(a, _ctx, buf, offset) {
    // RFC 6793 §4.2.2: AS4_PATH carries no confederation segments.
    writeSegments(a.asPath!, 4, true, buf, offset);
  },
};
