// Compact prefix keys shared by the codec, the RIB and the FIB.
//
// IPv4: a prefix is one JS number, `address * 64 + length` (address as an
// unsigned 32-bit integer with the host bits cleared, length 0..32). It fits in
// 38 bits, well inside a double's exact range, sorts by address then length,
// and lives unboxed in a packed double array, so decoding 800 NLRI allocates no
// string and no object per prefix (DESIGN.md, Memory).
//
// IPv6: a prefix is a string of 32 lowercase hex digits (the masked address)
// followed by '/' and the length. IPv6 tables are small in a pod network; the
// key stays a string so it can index a Map directly.

export type Family = 'ipv4-unicast' | 'ipv6-unicast';

/** A prefix key: number for IPv4, string for IPv6 (see the file comment). */
export type PrefixKey = number | string;


/** Network mask for an IPv4 length as an unsigned 32-bit integer. */
export function v4Mask(len: number): number {
  return len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
}

/** Key of an IPv4 prefix; host bits are cleared. */
export function v4Key(address: number, len: number): number {
  return ((address & v4Mask(len)) >>> 0) * 64 + len;
}

export function v4KeyAddress(key: number): number {
  return Math.floor(key / 64);
}

export function v4KeyLength(key: number): number {
  return key % 64;
}

/** Dotted-quad text of an unsigned 32-bit address. */
export function v4ToString(address: number): string {
  return `${address >>> 24}.${(address >>> 16) & 255}.${(address >>> 8) & 255}.${address & 255}`;
}

/** Parses dotted-quad text; returns undefined when it is not a valid IPv4 address. */
export function v4Parse(text: string): number | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let value = 0;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part)) return undefined;
    const octet = Number(part);
    if (octet > 255) return undefined;
    value = value * 256 + octet;
  }
  return value;
}

export function v4KeyToString(key: number): string {
  return `${v4ToString(v4KeyAddress(key))}/${v4KeyLength(key)}`;
}

/** Parses "a.b.c.d/len". Host bits must be clear unless `lenient`. */
export function v4KeyParse(text: string, lenient = false): number | undefined {
  const slash = text.indexOf('/');
  if (slash < 0) return undefined;
  const address = v4Parse(text.slice(0, slash));
  const lenText = text.slice(slash + 1);
  if (address === undefined || !/^\d{1,2}$/.test(lenText)) return undefined;
  const len = Number(lenText);
  if (len > 32) return undefined;
  if (!lenient && ((address & ~v4Mask(len)) >>> 0) !== 0) return undefined;
  return v4Key(address, len);
}

/** True when IPv4 prefix `inner` lies within (or equals) `outer`. */
export function v4Contains(outer: number, inner: number): boolean {
  const outerLen = v4KeyLength(outer);
  if (v4KeyLength(inner) < outerLen) return false;
  return ((v4KeyAddress(inner) & v4Mask(outerLen)) >>> 0) === v4KeyAddress(outer);
}

// ---------------------------------------------------------------- IPv6

const HEX = '0123456789abcdef';

/**
 * Key of an IPv6 prefix from wire bytes: `bytes[offset .. offset+ceil(len/8))`
 * hold the significant octets (as in NLRI encoding); trailing host bits are
 * cleared.
 */
export function v6KeyFromBytes(bytes: Uint8Array, offset: number, len: number): string {
  const nbytes = (len + 7) >> 3;
  let out = '';
  for (let i = 0; i < 16; i++) {
    let b = i < nbytes ? bytes[offset + i]! : 0;
    if (i === nbytes - 1 && (len & 7) !== 0) b &= (0xff << (8 - (len & 7))) & 0xff;
    out += HEX[b >> 4]! + HEX[b & 15]!;
  }
  return `${out}/${len}`;
}

/** The 16 address bytes of an IPv6 key. */
export function v6KeyBytes(key: string): Buffer {
  return Buffer.from(key.slice(0, 32), 'hex');
}

export function v6KeyLength(key: string): number {
  return Number(key.slice(33));
}

/** Canonical RFC 5952 text of 16 IPv6 address bytes. */
export function v6ToString(bytes: Uint8Array, offset = 0): string {
  const groups: number[] = [];
  for (let i = 0; i < 8; i++) groups.push((bytes[offset + 2 * i]! << 8) | bytes[offset + 2 * i + 1]!);
  // RFC 5952 §4.2: compress the longest run (>= 2) of zero groups, the first on a tie.
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  const head = hex.slice(0, bestStart).join(':');
  const tail = hex.slice(bestStart + bestLen).join(':');
  return `${head}::${tail}`;
}

/** Parses IPv6 text (with optional embedded IPv4 tail) into 16 bytes. */
export function v6Parse(text: string): Buffer | undefined {
  if (text.length === 0 || text.length > 45 || !/^[0-9a-fA-F:.]+$/.test(text)) return undefined;
  let body = text;
  if (text.includes('.')) {
    // An embedded IPv4 tail ("::ffff:192.0.2.1") becomes two hex groups.
    const lastColon = text.lastIndexOf(':');
    const v4 = v4Parse(text.slice(lastColon + 1));
    if (v4 === undefined) return undefined;
    body = `${text.slice(0, lastColon + 1)}${(v4 >>> 16).toString(16)}:${(v4 & 0xffff).toString(16)}`;
  }
  const halves = body.split('::');
  if (halves.length > 2) return undefined;
  const parseGroups = (s: string): number[] | undefined => {
    if (s === '') return [];
    const out: number[] = [];
    for (const g of s.split(':')) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
      out.push(parseInt(g, 16));
    }
    return out;
  };
  const head = parseGroups(halves[0]!);
  const rest = halves.length === 2 ? parseGroups(halves[1]!) : [];
  if (!head || !rest) return undefined;
  const explicit = head.length + rest.length;
  let groups: number[];
  if (halves.length === 2) {
    if (explicit > 7) return undefined;
    groups = [...head, ...new Array<number>(8 - explicit).fill(0), ...rest];
  } else {
    if (explicit !== 8) return undefined;
    groups = head;
  }
  const buf = Buffer.alloc(16);
  groups.forEach((g, i) => buf.writeUInt16BE(g, 2 * i));
  return buf;
}

export function v6KeyToString(key: string): string {
  return `${v6ToString(v6KeyBytes(key))}/${v6KeyLength(key)}`;
}

/** Parses "addr/len". Host bits must be clear unless `lenient`. */
export function v6KeyParse(text: string, lenient = false): string | undefined {
  const slash = text.indexOf('/');
  if (slash < 0) return undefined;
  const bytes = v6Parse(text.slice(0, slash));
  const lenText = text.slice(slash + 1);
  if (!bytes || !/^\d{1,3}$/.test(lenText)) return undefined;
  const len = Number(lenText);
  if (len > 128) return undefined;
  const key = v6KeyFromBytes(bytes, 0, len);
  if (!lenient && !v6KeyBytes(key).equals(bytes)) return undefined;
  return key;
}

// ---------------------------------------------------------------- both

export function prefixFamily(key: PrefixKey): Family {
  return typeof key === 'number' ? 'ipv4-unicast' : 'ipv6-unicast';
}

export function prefixToString(key: PrefixKey): string {
  return typeof key === 'number' ? v4KeyToString(key) : v6KeyToString(key);
}

/** Parses IPv4 or IPv6 prefix text; undefined when invalid or host bits are set. */
export function prefixParse(text: string): PrefixKey | undefined {
  return text.includes(':') ? v6KeyParse(text) : v4KeyParse(text);
}

export function prefixLength(key: PrefixKey): number {
  return typeof key === 'number' ? v4KeyLength(key) : v6KeyLength(key);
}
