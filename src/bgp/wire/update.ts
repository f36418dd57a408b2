// UPDATE message codec (RFC 4271 §4.3). Minimal first version: IPv4 withdrawn
// routes and NLRI; path attributes are kept opaque. Fleshed out in later commits.

import type { CodecContext, UpdateMessage, RawAttribute } from './types.js';
import { HEADER_LENGTH, MSG_UPDATE } from './types.js';
import type { Decoded, WireError } from './errors.js';
import { ERR_UPDATE, UPD_MALFORMED_ATTRIBUTE_LIST, fail, ok, wireError } from './errors.js';
import { v4Key, v4KeyAddress, v4KeyLength } from '../../lib/prefix.js';

export interface DecodedUpdate {
  readonly type: 'update';
  readonly update: UpdateMessage;
  readonly treatAsWithdraw?: WireError;
  readonly discarded: readonly WireError[];
}

function decodeV4(body: Buffer, start: number, end: number): number[] | undefined {
  const out: number[] = [];
  let p = start;
  while (p < end) {
    const len = body[p++]!;
    const n = (len + 7) >> 3;
    if (len > 32 || p + n > end) return undefined;
    let a = 0;
    for (let i = 0; i < 4; i++) a = a * 256 + (i < n ? body[p + i]! : 0);
    out.push(v4Key(a, len));
    p += n;
  }
  return out;
}

/** Decodes an UPDATE body (the bytes after the 19-octet header). */
export function decodeUpdate(body: Buffer, _ctx: CodecContext): Decoded<DecodedUpdate> {
  const bad = (r: string) => fail<DecodedUpdate>(wireError(ERR_UPDATE, UPD_MALFORMED_ATTRIBUTE_LIST, r));
  if (body.length < 4) return bad('UPDATE too short');
  const wl = body.readUInt16BE(0);
  if (2 + wl + 2 > body.length) return bad('withdrawn length');
  const al = body.readUInt16BE(2 + wl);
  const as = 4 + wl;
  if (as + al > body.length) return bad('attribute length');
  const withdrawn = decodeV4(body, 2, 2 + wl);
  const nlri = decodeV4(body, as + al, body.length);
  if (!withdrawn || !nlri) return bad('bad prefix');
  const unknown: RawAttribute[] = [];
  let p = as;
  while (p < as + al) {
    const flags = body[p]!;
    const code = body[p + 1]!;
    const ext = (flags & 0x10) !== 0;
    const len = ext ? body.readUInt16BE(p + 2) : body[p + 2]!;
    const v = p + (ext ? 4 : 3);
    unknown.push({ flags, code, value: body.subarray(v, v + len) });
    p = v + len;
  }
  return ok({
    type: 'update',
    update: {
      type: 'update',
      withdrawn: { family: 'ipv4-unicast', prefixes: withdrawn },
      attributes: unknown.length ? { unknown } : {},
      nlri: { family: 'ipv4-unicast', prefixes: nlri },
    },
    discarded: [],
  });
}

/** Encodes a whole UPDATE message, header included. */
export function encodeUpdate(msg: UpdateMessage, _ctx: CodecContext): Buffer {
  const parts: Buffer[] = [];
  const v4 = (keys: readonly (number | string)[]) => {
    for (const k of keys) {
      const key = k as number;
      const len = v4KeyLength(key);
      const n = (len + 7) >> 3;
      const b = Buffer.alloc(4);
      b.writeUInt32BE(v4KeyAddress(key));
      parts.push(Buffer.from([len]), b.subarray(0, n));
    }
  };
  v4(msg.withdrawn.prefixes);
  const w = Buffer.concat(parts);
  parts.length = 0;
  for (const a of msg.attributes.unknown ?? []) {
    parts.push(Buffer.from([a.flags | (a.value.length > 255 ? 0x10 : 0), a.code]));
    parts.push(a.value.length > 255 ? Buffer.from([a.value.length >> 8, a.value.length & 255]) : Buffer.from([a.value.length]));
    parts.push(a.value);
  }
  const at = Buffer.concat(parts);
  parts.length = 0;
  v4(msg.nlri.prefixes);
  const n = Buffer.concat(parts);
  const total = HEADER_LENGTH + 4 + w.length + at.length + n.length;
  const out = Buffer.alloc(total, 0xff);
  out.writeUInt16BE(total, 16);
  out[18] = MSG_UPDATE;
  out.writeUInt16BE(w.length, 19);
  w.copy(out, 21);
  out.writeUInt16BE(at.length, 21 + w.length);
  at.copy(out, 23 + w.length);
  n.copy(out, 23 + w.length + at.length);
  return out;
}
