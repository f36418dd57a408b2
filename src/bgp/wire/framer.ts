// Framer: turns the TCP byte stream of one BGP connection into whole messages
// (RFC 4271 §4.1). It checks only what framing needs: the all-ones marker
// (§6.1 Connection Not Synchronized) and the Length field (19..max, §6.1 Bad
// Message Length, data = the 2-octet length). Per-type checks are header.ts's.
//
// Cost: when a chunk holds whole messages they are returned as subarray views
// of the chunk, with no copy. A message split across chunks is copied once
// into a buffer of its exact length, allocated as soon as its header is
// complete, so a long message arriving in many small chunks costs O(length).

import type { WireError } from './errors.js';
import { ERR_HEADER, HDR_BAD_LENGTH, HDR_NOT_SYNCHRONIZED, wireError } from './errors.js';
import { markerValid } from './header.js';
import { HEADER_LENGTH, MAX_MESSAGE_LENGTH } from './types.js';

export interface FramerOutput {
  /** Whole messages, header included, in arrival order. */
  readonly messages: Buffer[];
  /** Set when the stream is broken; the connection must be closed after sending it. */
  readonly error?: WireError;
}

export class Framer {
  private maxLength: number;
  /** Octets of an incomplete header carried over from earlier chunks. */
  private readonly head = Buffer.allocUnsafe(HEADER_LENGTH);
  private headFilled = 0;
  /** The message being assembled once its header is known, and how much of it is filled. */
  private partial: Buffer | undefined;
  private partialFilled = 0;
  private failed: WireError | undefined;

  /** `maxLength`: 4096, or 65535 once extended messages are negotiated (RFC 8654). */
  constructor(maxLength: number = MAX_MESSAGE_LENGTH) {
    this.maxLength = maxLength;
  }

  /** RFC 8654 §4: raise the bound once both sides advertised extended messages. */
  setMaxLength(n: number): void {
    this.maxLength = n;
  }

  /** Octets held for a message not yet complete. */
  get buffered(): number {
    return this.partial ? this.partialFilled : this.headFilled;
  }

  push(chunk: Buffer): FramerOutput {
    const messages: Buffer[] = [];
    if (this.failed) return { messages, error: this.failed };
    let off = 0;
    while (off < chunk.length) {
      if (this.partial) {
        // Continue a message whose header arrived earlier.
        const n = Math.min(this.partial.length - this.partialFilled, chunk.length - off);
        chunk.copy(this.partial, this.partialFilled, off, off + n);
        this.partialFilled += n;
        off += n;
        if (this.partialFilled < this.partial.length) break;
        messages.push(this.partial);
        this.partial = undefined;
        this.partialFilled = 0;
        continue;
      }
      if (this.headFilled > 0 || chunk.length - off < HEADER_LENGTH) {
        // Assemble a header that straddles chunks.
        const n = Math.min(HEADER_LENGTH - this.headFilled, chunk.length - off);
        chunk.copy(this.head, this.headFilled, off, off + n);
        this.headFilled += n;
        off += n;
        if (this.headFilled < HEADER_LENGTH) break;
        this.headFilled = 0;
        const length = this.checkHeader(this.head, 0);
        if (length < 0) return { messages, error: this.failed! };
        this.partial = Buffer.allocUnsafe(length);
        this.head.copy(this.partial, 0);
        this.partialFilled = HEADER_LENGTH;
        if (length === HEADER_LENGTH) {
          messages.push(this.partial);
          this.partial = undefined;
          this.partialFilled = 0;
        }
        continue;
      }
      // Fast path: a whole header is in this chunk.
      const length = this.checkHeader(chunk, off);
      if (length < 0) return { messages, error: this.failed! };
      if (chunk.length - off >= length) {
        messages.push(chunk.subarray(off, off + length));
        off += length;
        continue;
      }
      this.partial = Buffer.allocUnsafe(length);
      chunk.copy(this.partial, 0, off);
      this.partialFilled = chunk.length - off;
      off = chunk.length;
    }
    return { messages };
  }

  /** The message length from a header at `off`, or -1 after recording the error. */
  private checkHeader(buf: Buffer, off: number): number {
    // RFC 4271 §6.1: a marker that is not all ones means we lost synchronization.
    if (!markerValid(buf, off)) {
      this.failed = wireError(ERR_HEADER, HDR_NOT_SYNCHRONIZED, 'marker is not all ones');
      return -1;
    }
    const length = buf.readUInt16BE(off + 16);
    // RFC 4271 §6.1: Length below 19 or above the maximum; data = the Length field.
    if (length < HEADER_LENGTH || length > this.maxLength) {
      this.failed = wireError(
        ERR_HEADER,
        HDR_BAD_LENGTH,
        `length field ${length} outside ${HEADER_LENGTH}..${this.maxLength}`,
        Buffer.from(buf.subarray(off + 16, off + 18)),
      );
      return -1;
    }
    return length;
  }
}
