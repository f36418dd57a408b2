// The one address canonicaliser. Every place that keys something by a peer's
// address (sessions, the RIB, the reload diff, the API, metrics) uses this
// text, so "2001:DB8:0::2", "2001:db8::2" and a socket's "::ffff:10.0.0.1"
// name the same neighbor as "10.0.0.1" would: IPv6 per RFC 5952 §4, IPv4-mapped
// IPv6 (RFC 4291 §2.5.5.2) unwrapped to dotted quad, a zone index dropped.

import { v4Parse, v4ToString, v6Parse, v6ToString } from './prefix.js';

/** Canonical text of an address; text that is no address comes back as given (minus a zone). */
export function normalizeAddress(address: string): string {
  return canonicalIp(address) ?? stripZone(address);
}

/** Canonical text of an address, or undefined when the text is no IPv4 or IPv6 address. */
export function canonicalIp(text: string): string | undefined {
  const bare = stripZone(text);
  if (!bare.includes(':')) {
    const v4 = v4Parse(bare);
    return v4 === undefined ? undefined : v4ToString(v4);
  }
  const bytes = v6Parse(bare);
  if (!bytes) return undefined;
  const mapped = bytes.subarray(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff;
  if (mapped) return `${bytes[12]}.${bytes[13]}.${bytes[14]}.${bytes[15]}`;
  return v6ToString(bytes);
}

function stripZone(text: string): string {
  const zone = text.indexOf('%');
  return zone >= 0 ? text.slice(0, zone) : text;
}
