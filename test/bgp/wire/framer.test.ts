// Framer: TCP chunks to whole messages (RFC 4271 §4.1, §6.1; RFC 8654).
import { describe, expect, it } from 'vitest';
import { Framer } from '../../../src/bgp/wire/framer.js';
import { hex } from '../../helpers/hex.js';
import { FRR_STYLE_OPEN, KEEPALIVE_HEX, NOTIFICATION_SHUTDOWN, REAL_OPEN, ROUTE_REFRESH_V6, UPDATE_V4 } from './golden.js';

const GOLDEN = [KEEPALIVE_HEX, REAL_OPEN, FRR_STYLE_OPEN, NOTIFICATION_SHUTDOWN, ROUTE_REFRESH_V6, UPDATE_V4];
const STREAM = Buffer.concat(GOLDEN);

function feed(framer: Framer, chunks: Buffer[]): Buffer[] {
  const out: Buffer[] = [];
  for (const c of chunks) {
    const r = framer.push(c);
    expect(r.error).toBeUndefined();
    out.push(...r.messages);
  }
  return out;
}

describe('Framer', () => {
  it('returns each golden message split at every byte offset', () => {
    for (const msg of GOLDEN) {
      for (let cut = 0; cut <= msg.length; cut++) {
        const framer = new Framer();
        const got = feed(framer, [msg.subarray(0, cut), msg.subarray(cut)]);
        expect(got).toEqual([msg]);
        expect(framer.buffered).toBe(0);
      }
    }
  });

  it('returns the whole stream split at every pair of offsets', () => {
    for (let a = 0; a <= STREAM.length; a += 3) {
      for (let b = a; b <= STREAM.length; b += 7) {
        const got = feed(new Framer(), [STREAM.subarray(0, a), STREAM.subarray(a, b), STREAM.subarray(b)]);
        expect(got).toEqual(GOLDEN);
      }
    }
  });

  it('survives one byte at a time', () => {
    const chunks = [...STREAM].map((b) => Buffer.from([b]));
    expect(feed(new Framer(), chunks)).toEqual(GOLDEN);
  });

  it('returns several messages from one chunk as views of that chunk, without copying', () => {
    const chunk = Buffer.from(STREAM);
    const r = new Framer().push(chunk);
    expect(r.error).toBeUndefined();
    expect(r.messages).toEqual(GOLDEN);
    for (const m of r.messages) expect(m.buffer).toBe(chunk.buffer);
  });

  it('keeps a trailing partial message for the next chunk', () => {
    const framer = new Framer();
    const r = framer.push(Buffer.concat([KEEPALIVE_HEX, REAL_OPEN.subarray(0, 30)]));
    expect(r.messages).toEqual([KEEPALIVE_HEX]);
    expect(framer.buffered).toBe(30);
    expect(framer.push(REAL_OPEN.subarray(30)).messages).toEqual([REAL_OPEN]);
  });

  it('reports Connection Not Synchronized for a bad marker, after the good messages before it', () => {
    const garbage = hex`ffffffff ffffffff ffffffff fffffffe 0013 04   # last marker octet wrong`;
    const r = new Framer().push(Buffer.concat([KEEPALIVE_HEX, garbage]));
    expect(r.messages).toEqual([KEEPALIVE_HEX]);
    expect(r.error).toMatchObject({ code: 1, subcode: 1, action: 'session-reset' });
  });

  it('detects a bad marker that arrives split across chunks', () => {
    const framer = new Framer();
    expect(framer.push(hex`ffff 00`).error).toBeUndefined();
    expect(framer.push(hex`ffffffff ffffffff ffffffff ffff 0013 04`).error).toMatchObject({ code: 1, subcode: 1 });
  });

  it('stays failed after an error', () => {
    const framer = new Framer();
    expect(framer.push(Buffer.alloc(19)).error).toMatchObject({ code: 1, subcode: 1 });
    const again = framer.push(KEEPALIVE_HEX);
    expect(again.messages).toEqual([]);
    expect(again.error).toMatchObject({ code: 1, subcode: 1 });
  });

  it('reports Bad Message Length with the length field as data, below 19', () => {
    const r = new Framer().push(hex`ffffffff ffffffff ffffffff ffffffff 0012 04   # length 18`);
    expect(r.error).toMatchObject({ code: 1, subcode: 2, data: hex`0012` });
  });

  it('reports Bad Message Length above 4096 until extended messages are negotiated (RFC 8654)', () => {
    const big = Buffer.alloc(5000);
    big.fill(0xff, 0, 16);
    big.writeUInt16BE(5000, 16);
    big[18] = 2;
    expect(new Framer().push(big).error).toMatchObject({ code: 1, subcode: 2, data: hex`1388   # 5000` });
    const framer = new Framer();
    framer.setMaxLength(65535);
    const r = framer.push(big);
    expect(r.error).toBeUndefined();
    expect(r.messages).toEqual([big]);
  });

  it('accepts exactly 4096 octets and rejects 4097', () => {
    const at = (n: number) => {
      const b = Buffer.alloc(n);
      b.fill(0xff, 0, 16);
      b.writeUInt16BE(n, 16);
      b[18] = 2;
      return b;
    };
    expect(new Framer().push(at(4096)).messages).toHaveLength(1);
    expect(new Framer().push(at(4097)).error).toMatchObject({ code: 1, subcode: 2, data: hex`1001` });
  });
});
