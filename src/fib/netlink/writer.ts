// PURE: the append-only buffer the rtnetlink encoders write into. Netlink
// headers and attributes are in host byte order (little-endian on every
// target we run on); messages and attributes are padded to 4 octets
// (NLMSG_ALIGN / RTA_ALIGN, RFC 3549 §2.3.2).
import * as C from './constants.js';

export const align4 = (n: number): number => (n + 3) & ~3;

/** An append-only, growable buffer of netlink messages in host (LE) order. */
export class NlWriter {
  buf: Buffer;
  pos = 0;

  constructor(initial = 64 * 1024) {
    this.buf = Buffer.allocUnsafe(initial);
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  /** Starts a message; returns its offset for `end()`. */
  begin(type: number, flags: number, seq: number, pid = 0): number {
    this.ensure(C.NLMSG_HDRLEN);
    const at = this.pos;
    this.buf.writeUInt32LE(0, at);
    this.buf.writeUInt16LE(type, at + 4);
    this.buf.writeUInt16LE(flags, at + 6);
    this.buf.writeUInt32LE(seq >>> 0, at + 8);
    this.buf.writeUInt32LE(pid >>> 0, at + 12);
    this.pos += C.NLMSG_HDRLEN;
    return at;
  }

  /** Writes nlmsg_len for the message started at `at`. */
  end(at: number): void {
    this.buf.writeUInt32LE(this.pos - at, at);
  }

  /** Drops everything from `at` (a message that turned out invalid). */
  rewind(at: number): void {
    this.pos = at;
  }

  u8(v: number): void { this.ensure(1); this.buf[this.pos++] = v & 0xff; }
  u16(v: number): void { this.ensure(2); this.buf.writeUInt16LE(v, this.pos); this.pos += 2; }
  u32(v: number): void { this.ensure(4); this.buf.writeUInt32LE(v >>> 0, this.pos); this.pos += 4; }
  u32be(v: number): void { this.ensure(4); this.buf.writeUInt32BE(v >>> 0, this.pos); this.pos += 4; }
  bytes(b: Uint8Array): void { this.ensure(b.length); this.buf.set(b, this.pos); this.pos += b.length; }
  zero(n: number): void { this.ensure(n); this.buf.fill(0, this.pos, this.pos + n); this.pos += n; }

  /** Opens an rtattr; returns its offset for `attrEnd()`. */
  attrBegin(type: number): number {
    const at = this.pos;
    this.u16(0);
    this.u16(type);
    return at;
  }

  /** Closes an rtattr: writes rta_len (unpadded) and pads to 4 octets. */
  attrEnd(at: number): void {
    this.buf.writeUInt16LE(this.pos - at, at);
    this.zero(align4(this.pos) - this.pos);
  }

  attrU32(type: number, v: number): void {
    this.u16(8);
    this.u16(type);
    this.u32(v);
  }

  attrBytes(type: number, b: Uint8Array): void {
    const at = this.attrBegin(type);
    this.bytes(b);
    this.attrEnd(at);
  }

  /** A copy of the bytes written so far. */
  take(): Buffer {
    return Buffer.from(this.buf.subarray(0, this.pos));
  }
}
