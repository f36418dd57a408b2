// Address classes of a next hop (RFC 4271 §6.3's "semantically incorrect"
// cases), derived once per interned attribute set by attr-store.ts. No RIB
// imports: the store depends on it, so it depends on nothing of the RIB.

import { v4Parse, v6Parse } from '../../lib/prefix.js';

/** What kind of address a next hop is; 'missing' = none of the prefix's family was carried. */
export type NextHopClass = 'missing' | 'unspecified' | 'loopback' | 'multicast' | 'link-local' | 'unicast';

function classifyV4(n: number): NextHopClass {
  const a = n >>> 24;
  if (n === 0) return 'unspecified'; // RFC 1122 §3.2.1.3 (a): 0.0.0.0 "this host"
  if (a === 0) return 'unspecified'; // 0/8 "this network": never a next hop
  if (a === 127) return 'loopback'; // RFC 1122 §3.2.1.3 (g)
  if (a >= 224) return 'multicast'; // RFC 5771 224/4; 240/4 and 255.255.255.255 are no unicast either
  if (a === 169 && ((n >>> 16) & 255) === 254) return 'link-local'; // RFC 3927 169.254/16
  return 'unicast';
}

/** Classifies a next hop's text (IPv4 dotted quad or IPv6; IPv4-mapped IPv6 by its IPv4 part). */
export function classifyNextHop(text: string | undefined): NextHopClass {
  if (text === undefined) return 'missing';
  if (!text.includes(':')) {
    const n = v4Parse(text);
    return n === undefined ? 'missing' : classifyV4(n);
  }
  const b = v6Parse(text);
  if (!b) return 'missing';
  // RFC 4291 §2.5.5.2: ::ffff:a.b.c.d names an IPv4 address.
  if (b.subarray(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff) return classifyV4(b.readUInt32BE(12));
  if (b[0] === 0xff) return 'multicast'; // RFC 4291 §2.7 ff00::/8
  if (b[0] === 0xfe && (b[1]! & 0xc0) === 0x80) return 'link-local'; // RFC 4291 §2.5.6 fe80::/10
  if (b.subarray(0, 15).every((x) => x === 0)) {
    if (b[15] === 0) return 'unspecified'; // RFC 4291 §2.5.2 ::
    if (b[15] === 1) return 'loopback'; // RFC 4291 §2.5.3 ::1
  }
  return 'unicast';
}

