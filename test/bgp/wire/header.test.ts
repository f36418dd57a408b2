// Message header checks (RFC 4271 §4.1, §6.1; RFC 7313 §5; RFC 8654).
import { describe, expect, it } from 'vitest';
import { decodeHeader, encodeHeader } from '../../../src/bgp/wire/header.js';
import { DEFAULT_CODEC_CONTEXT } from '../../../src/bgp/wire/types.js';
import { hex } from '../../helpers/hex.js';

/** A message of `length` octets of `type`, body zero-filled. */
function msg(type: number, length: number): Buffer {
  const b = Buffer.alloc(length);
  b.fill(0xff, 0, 16);
  b.writeUInt16BE(length, 16);
  b[18] = type;
  return b;
}

const ERR_CTX = { ...DEFAULT_CODEC_CONTEXT, enhancedRouteRefresh: true };

describe('header', () => {
  it('encodes marker, total length and type', () => {
    expect(encodeHeader(4, 0)).toEqual(hex`ffffffff ffffffff ffffffff ffffffff 0013 04`);
    expect(encodeHeader(2, 100)).toEqual(hex`ffffffff ffffffff ffffffff ffffffff 0077 02   # 119 = 19 + 100`);
  });

  it('accepts each type at its minimum length', () => {
    for (const [type, min] of [[1, 29], [2, 23], [3, 21], [4, 19], [5, 23]] as const) {
      expect(decodeHeader(msg(type, min))).toEqual({ ok: true, value: { type, length: min } });
    }
  });

  it('rejects each type one octet short with Bad Message Length carrying the length', () => {
    for (const [type, min] of [[1, 29], [2, 23], [3, 21], [5, 23]] as const) {
      const r = decodeHeader(msg(type, min - 1));
      expect(r).toMatchObject({ ok: false, error: { code: 1, subcode: 2, data: Buffer.from([0, min - 1]) } });
    }
  });

  it('requires KEEPALIVE to be exactly 19 octets', () => {
    expect(decodeHeader(msg(4, 20))).toMatchObject({ ok: false, error: { code: 1, subcode: 2, data: hex`0014` } });
  });

  it('ROUTE-REFRESH of the wrong length: Bad Message Length, or RFC 7313 §5 error with the whole message', () => {
    const m = msg(5, 24);
    expect(decodeHeader(m)).toMatchObject({ ok: false, error: { code: 1, subcode: 2, data: hex`0018` } });
    expect(decodeHeader(m, ERR_CTX)).toMatchObject({ ok: false, error: { code: 7, subcode: 1, data: m } });
  });

  it('rejects an unknown type with Bad Message Type carrying the type octet', () => {
    expect(decodeHeader(msg(6, 19))).toMatchObject({ ok: false, error: { code: 1, subcode: 3, data: hex`06` } });
    expect(decodeHeader(msg(0, 19))).toMatchObject({ ok: false, error: { code: 1, subcode: 3, data: hex`00` } });
  });

  it('rejects a bad marker with Connection Not Synchronized', () => {
    const m = msg(4, 19);
    m[0] = 0;
    expect(decodeHeader(m)).toMatchObject({ ok: false, error: { code: 1, subcode: 1 } });
  });

  it('rejects a length field that disagrees with the buffer', () => {
    const m = msg(4, 19);
    m.writeUInt16BE(25, 16);
    expect(decodeHeader(m)).toMatchObject({ ok: false, error: { code: 1, subcode: 2, data: hex`0019` } });
  });

  it('allows UPDATE above 4096 only with extended messages, never OPEN (RFC 8654)', () => {
    expect(decodeHeader(msg(2, 5000))).toMatchObject({ ok: false, error: { code: 1, subcode: 2 } });
    const ext = { ...DEFAULT_CODEC_CONTEXT, extendedMessage: true };
    expect(decodeHeader(msg(2, 5000), ext)).toEqual({ ok: true, value: { type: 2, length: 5000 } });
    expect(decodeHeader(msg(1, 5000), ext)).toMatchObject({ ok: false, error: { code: 1, subcode: 2 } });
  });

  it('rejects a buffer shorter than a header', () => {
    expect(decodeHeader(hex`ffff`)).toMatchObject({ ok: false, error: { code: 1, subcode: 2 } });
  });
});
