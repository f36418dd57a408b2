// Shared builders for the attribute and UPDATE tests: wrap attribute octets in
// an UPDATE body, encode attributes alone, and the codec contexts in use.
import { fromHex } from '../../helpers/hex.js';
import { encodeUpdate } from '../../../src/bgp/wire/update.js';
import type { CodecContext, PathAttributes } from '../../../src/bgp/wire/types.js';
import { DEFAULT_CODEC_CONTEXT, NO_FAMILIES } from '../../../src/bgp/wire/types.js';

export const OLD: CodecContext = DEFAULT_CODEC_CONTEXT; // 2-octet ASNs
export const NEW: CodecContext = { ...DEFAULT_CODEC_CONTEXT, fourOctetAs: true };
export const ADD_PATH: CodecContext = {
  ...NEW,
  addPathReceive: { ...NO_FAMILIES, 'ipv4-unicast': true, 'ipv6-unicast': true },
  addPathSend: { ...NO_FAMILIES, 'ipv4-unicast': true, 'ipv6-unicast': true },
};

/** An UPDATE body (after the header) from annotated hex of its three parts. */
export function body(attrs: string, nlri = '', withdrawn = ''): Buffer {
  const w = fromHex(withdrawn);
  const a = fromHex(attrs);
  const n = fromHex(nlri);
  const out = Buffer.alloc(4 + w.length + a.length + n.length);
  out.writeUInt16BE(w.length, 0);
  w.copy(out, 2);
  out.writeUInt16BE(a.length, 2 + w.length);
  a.copy(out, 4 + w.length);
  n.copy(out, 4 + w.length + a.length);
  return out;
}

/** The Path Attributes field encodeUpdate writes for `attributes` alone. */
export function encodeAttrs(attributes: PathAttributes, ctx: CodecContext): Buffer {
  const empty = { family: 'ipv4-unicast' as const, prefixes: [] };
  return encodeUpdate({ type: 'update', withdrawn: empty, attributes, nlri: empty }, ctx).subarray(23);
}
