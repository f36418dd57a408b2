// Extended communities as text (RFC 4360 §3-§5, RFC 5668, RFC 7153, RFC 9012),
// in the forms BIRD and FRR print: `rt 64512:100` (Route Target), `ro
// 198.19.0.1:7` (Route Origin, FRR's "soo"), one for each of the 2-octet AS,
// IPv4 address and 4-octet AS types; `color 42` and `encap 8` (opaque types of
// RFC 9012 §4.1/§4.3). Anything else is the eight octets in hex, lossless:
// `0x030d000000000001`.

/** RFC 4360 §5 / RFC 5668 §2 / RFC 7153 §4: the transitive types whose subtypes 0x02 and 0x03 name rt/ro. */
const TWO_OCTET_AS = 0x00;
const IPV4_ADDRESS = 0x01;
const FOUR_OCTET_AS = 0x02;
const OPAQUE = 0x03;
const SUBTYPE_NAMES: Record<number, string> = { 0x02: 'rt', 0x03: 'ro' };

function dotted(n: number): string {
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

/** One extended community (the 8 octets as a bigint) in its usual text form. */
export function formatExtCommunity(c: bigint): string {
  const type = Number(c >> 56n) & 0xff;
  const subtype = Number(c >> 48n) & 0xff;
  const name = SUBTYPE_NAMES[subtype];
  // RFC 4360 §3.1: global administrator a 2-octet AS, local a 4-octet number.
  if (name && type === TWO_OCTET_AS) return `${name} ${Number(c >> 32n) & 0xffff}:${Number(c & 0xffffffffn)}`;
  // RFC 4360 §3.2: an IPv4 address and a 2-octet number.
  if (name && type === IPV4_ADDRESS) return `${name} ${dotted(Number((c >> 16n) & 0xffffffffn))}:${Number(c & 0xffffn)}`;
  // RFC 5668 §2: a 4-octet AS and a 2-octet number.
  if (name && type === FOUR_OCTET_AS) return `${name} ${Number((c >> 16n) & 0xffffffffn)}:${Number(c & 0xffffn)}`;
  // RFC 9012 §4.3 Color (value in the last 4 octets) and §4.1 Encapsulation (tunnel type in the last 2).
  if (type === OPAQUE && subtype === 0x0b) return `color ${Number(c & 0xffffffffn)}`;
  if (type === OPAQUE && subtype === 0x0c) return `encap ${Number(c & 0xffffn)}`;
  return `0x${c.toString(16).padStart(16, '0')}`;
}
