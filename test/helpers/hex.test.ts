// The annotated-hex helper every wire test relies on.
import { describe, expect, it } from 'vitest';
import { fromHex, hex, toHex } from './hex.js';

describe('hex helper', () => {
  it('strips # and // comments, whitespace, : and |', () => {
    const b = hex`
      ff 00   # first two
      0a:0b   // next two
      |c0|
    `;
    expect([...b]).toEqual([0xff, 0x00, 0x0a, 0x0b, 0xc0]);
  });

  it('interpolates values as text', () => {
    expect([...hex`${'0102'} 03`]).toEqual([1, 2, 3]);
  });

  it('rejects odd digit counts and stray characters', () => {
    expect(() => fromHex('abc')).toThrow(/odd/);
    expect(() => fromHex('zz')).toThrow(/stray/);
  });

  it('toHex is the inverse of fromHex', () => {
    const b = Buffer.from(Array.from({ length: 40 }, (_, i) => i * 7));
    const text = toHex(b);
    expect(text.split('\n')).toHaveLength(3);
    expect(text.startsWith('00 07 0e 15')).toBe(true);
    expect(fromHex(text)).toEqual(b);
  });
});
