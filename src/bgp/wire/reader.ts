// Bounds-checked cursor over a Buffer slice, for the codec's decoders. Reads
// never run past `end`: a read that would returns undefined, so a decoder turns
// a short field into a typed WireError instead of a RangeError (DESIGN.md, Codec).

export class ByteReader {
  pos: number;
  readonly end: number;

  constructor(
    readonly buf: Buffer,
    start = 0,
    end = buf.length,
  ) {
    this.pos = start;
    this.end = Math.min(end, buf.length);
  }

  remaining(): number {
    return this.end - this.pos;
  }

  u8(): number | undefined {
    if (this.pos + 1 > this.end) return undefined;
    return this.buf[this.pos++]!;
  }

  u16(): number | undefined {
    if (this.pos + 2 > this.end) return undefined;
    const v = this.buf.readUInt16BE(this.pos);
    this.pos += 2;
    return v;
  }

  u32(): number | undefined {
    if (this.pos + 4 > this.end) return undefined;
    const v = this.buf.readUInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  /** A view (not a copy) of the next n octets. */
  bytes(n: number): Buffer | undefined {
    if (n < 0 || this.pos + n > this.end) return undefined;
    const v = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }
}
