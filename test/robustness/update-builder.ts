// A structured UPDATE for the fuzzers (RFC 4271 §4.3): withdrawn routes, path
// attributes and NLRI kept apart so a mutation can change one field (a length,
// a flag, a value) and serialize() writes the rest consistently around it.
import { message } from './live.js';

export interface RawAttr {
  flags: number;
  code: number;
  value: Buffer;
  /** Written instead of value.length (a lie about the length). */
  lengthOverride?: number;
}

export interface RawUpdate {
  withdrawn: Buffer;
  attrs: RawAttr[];
  nlri: Buffer;
  withdrawnLengthOverride?: number;
  attrLengthOverride?: number;
}

export function attrBytes(a: RawAttr): Buffer {
  const ext = (a.flags & 0x10) !== 0;
  const head = Buffer.alloc(ext ? 4 : 3);
  head[0] = a.flags;
  head[1] = a.code;
  const len = a.lengthOverride ?? a.value.length;
  if (ext) head.writeUInt16BE(len & 0xffff, 2);
  else head[2] = len & 0xff;
  return Buffer.concat([head, a.value]);
}

/** The UPDATE body: lengths from the parts unless overridden. */
export function updateBody(u: RawUpdate): Buffer {
  const attrs = Buffer.concat(u.attrs.map(attrBytes));
  const wl = Buffer.alloc(2);
  wl.writeUInt16BE((u.withdrawnLengthOverride ?? u.withdrawn.length) & 0xffff);
  const al = Buffer.alloc(2);
  al.writeUInt16BE((u.attrLengthOverride ?? attrs.length) & 0xffff);
  return Buffer.concat([wl, u.withdrawn, al, attrs, u.nlri]);
}

export function updateMessage(u: RawUpdate): Buffer {
  return message(2, updateBody(u));
}

export const ORIGIN = 1;
export const AS_PATH = 2;
export const NEXT_HOP = 3;
export const MED = 4;
export const AGGREGATOR = 7;
export const COMMUNITIES = 8;
export const MP_REACH = 14;
export const AS4_PATH = 17;
export const AS4_AGGREGATOR = 18;

const v4 = (a: string) => Buffer.from(a.split('.').map(Number));

/**
 * A valid UPDATE of a 4-octet-AS session from AS 65082: ORIGIN IGP, AS_PATH
 * [65082], NEXT_HOP, MED 100, AGGREGATOR 65082 10.0.0.82, COMMUNITIES
 * 65082:1, and `prefixes` (IPv4 text) as NLRI; or, with `v6`, an
 * MP_REACH_NLRI for IPv6 unicast (next hop fd00::82) instead of NEXT_HOP/NLRI.
 * `pathId`: RFC 7911 Path Identifiers. `twoOctet`: the 2-octet-AS form of
 * RFC 6793 §4.2.2 (AS_TRANS with AS4_PATH [4200000001] and AS4_AGGREGATOR).
 */
export function baseUpdate(nextHop: string, prefixes: readonly string[], v6?: { prefix: string }, pathId?: number, twoOctet = false): RawUpdate {
  // RFC 7911 §3: with ADD-PATH each NLRI entry starts with a 4-octet Path Identifier.
  const id = pathId === undefined ? Buffer.alloc(0) : Buffer.from([pathId >>> 24, (pathId >>> 16) & 255, (pathId >>> 8) & 255, pathId & 255]);
  const attrs: RawAttr[] = [];
  if (v6) {
    const [addr, len] = v6.prefix.split('/');
    const bits = Number(len);
    const full = expand6(addr!);
    attrs.push({
      flags: 0x80,
      code: MP_REACH,
      value: Buffer.concat([Buffer.from('0002' + '01' + '10', 'hex'), expand6('fd00::82'), Buffer.from([0]), id, Buffer.from([bits]), full.subarray(0, Math.ceil(bits / 8))]),
    });
  }
  attrs.push(
    { flags: 0x40, code: ORIGIN, value: Buffer.from([0]) },
    // 2-octet sessions (RFC 6793 §4.2.2): AS_PATH [65082, AS_TRANS], the real tail in AS4_PATH.
    { flags: 0x40, code: AS_PATH, value: Buffer.from(twoOctet ? '0202' + 'fe3a' + '5ba0' : '0201' + '0000fe3a', 'hex') },
  );
  if (!v6) attrs.push({ flags: 0x40, code: NEXT_HOP, value: v4(nextHop) });
  attrs.push(
    { flags: 0x80, code: MED, value: Buffer.from('00000064', 'hex') },
    // AGGREGATOR AS_TRANS 10.0.0.82 plus AS4_AGGREGATOR 4200000001 on 2-octet sessions.
    { flags: 0xc0, code: AGGREGATOR, value: Buffer.from(twoOctet ? '5ba0' + '0a000052' : '0000fe3a' + '0a000052', 'hex') },
    { flags: 0xc0, code: COMMUNITIES, value: Buffer.from('fe3a0001', 'hex') },
  );
  if (twoOctet)
    attrs.push(
      { flags: 0xc0, code: AS4_PATH, value: Buffer.from('0201' + 'fa56ea01', 'hex') }, // [4200000001]
      { flags: 0xc0, code: AS4_AGGREGATOR, value: Buffer.from('fa56ea01' + '0a000052', 'hex') },
    );
  const nlri = v6 ? Buffer.alloc(0) : Buffer.concat(prefixes.flatMap((p) => [id, nlriBytes(p)]));
  return { withdrawn: Buffer.alloc(0), attrs, nlri };
}

/** One IPv4 NLRI entry: length octet and the significant address octets. */
export function nlriBytes(prefix: string): Buffer {
  const [addr, len] = prefix.split('/');
  const bits = Number(len);
  return Buffer.concat([Buffer.from([bits]), v4(addr!).subarray(0, Math.ceil(bits / 8))]);
}

function expand6(text: string): Buffer {
  const [head, tail] = text.split('::');
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const groups = [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
  const b = Buffer.alloc(16);
  groups.forEach((g, i) => b.writeUInt16BE(parseInt(g, 16), i * 2));
  return b;
}
