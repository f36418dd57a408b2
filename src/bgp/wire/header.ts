// BGP message header (RFC 4271 §4.1): 16-octet all-ones marker, 2-octet
// length, 1-octet type. decodeHeader applies the per-type length rules of
// RFC 4271 §6.1 and RFC 7313 §5; the marker and the 19..max bound are the
// framer's job (framer.ts), but decodeHeader re-checks them so a message that
// did not come through the framer is still judged correctly.

import type { Decoded } from './errors.js';
import {
  ERR_HEADER,
  ERR_ROUTE_REFRESH,
  HDR_BAD_LENGTH,
  HDR_BAD_TYPE,
  HDR_NOT_SYNCHRONIZED,
  RR_INVALID_LENGTH,
  fail,
  ok,
  wireError,
} from './errors.js';
import type { CodecContext } from './types.js';
import {
  HEADER_LENGTH,
  MAX_EXTENDED_MESSAGE_LENGTH,
  MAX_MESSAGE_LENGTH,
  MSG_KEEPALIVE,
  MSG_NOTIFICATION,
  MSG_OPEN,
  MSG_ROUTE_REFRESH,
  MSG_UPDATE,
} from './types.js';

export interface MessageHeader {
  readonly type: number;
  /** Total message length, header included. */
  readonly length: number;
}

/** Minimum total length per message type (RFC 4271 §4.2-§4.4, RFC 2918 §3). */
export const MIN_LENGTH: Readonly<Record<number, number>> = {
  [MSG_OPEN]: 29,
  [MSG_UPDATE]: 23,
  [MSG_NOTIFICATION]: 21,
  [MSG_KEEPALIVE]: 19,
  [MSG_ROUTE_REFRESH]: 23,
};

/** True when the first 16 octets of `buf` from `offset` are all ones (RFC 4271 §4.1). */
export function markerValid(buf: Buffer, offset = 0): boolean {
  for (let i = offset; i < offset + 16; i++) if (buf[i] !== 0xff) return false;
  return true;
}

/** Writes marker, length and type into the first 19 octets of `buf`. */
export function writeHeader(buf: Buffer, type: number, totalLength: number): void {
  buf.fill(0xff, 0, 16);
  buf.writeUInt16BE(totalLength, 16);
  buf[18] = type;
}

/** A 19-octet header for a message whose body is `bodyLength` octets. */
export function encodeHeader(type: number, bodyLength: number): Buffer {
  const buf = Buffer.allocUnsafe(HEADER_LENGTH);
  writeHeader(buf, type, HEADER_LENGTH + bodyLength);
  return buf;
}

/** A whole-message buffer with the header written; the body starts at offset 19. */
export function allocMessage(type: number, bodyLength: number): Buffer {
  const buf = Buffer.alloc(HEADER_LENGTH + bodyLength);
  writeHeader(buf, type, HEADER_LENGTH + bodyLength);
  return buf;
}

function lengthData(length: number): Buffer {
  const d = Buffer.alloc(2);
  d.writeUInt16BE(length & 0xffff);
  return d;
}

/**
 * Checks the header of one whole message `msg` (header included) against
 * RFC 4271 §6.1: marker, length within bounds and consistent with `msg`, and
 * the per-type minimum (exact for KEEPALIVE and ROUTE-REFRESH).
 */
export function decodeHeader(msg: Buffer, ctx?: CodecContext): Decoded<MessageHeader> {
  if (msg.length < HEADER_LENGTH) {
    return fail(wireError(ERR_HEADER, HDR_BAD_LENGTH, `message of ${msg.length} octets is shorter than a header`, lengthData(msg.length)));
  }
  // RFC 4271 §6.1: a marker that is not all ones is Connection Not Synchronized.
  if (!markerValid(msg)) return fail(wireError(ERR_HEADER, HDR_NOT_SYNCHRONIZED, 'marker is not all ones'));
  const length = msg.readUInt16BE(16);
  const type = msg[18]!;
  const max = ctx?.extendedMessage ? MAX_EXTENDED_MESSAGE_LENGTH : MAX_MESSAGE_LENGTH;
  // RFC 4271 §6.1: Bad Message Length carries the erroneous Length field as data.
  if (length < HEADER_LENGTH || length > max || length !== msg.length) {
    return fail(wireError(ERR_HEADER, HDR_BAD_LENGTH, `length field ${length} (message ${msg.length} octets, max ${max})`, lengthData(length)));
  }
  const min = MIN_LENGTH[type];
  // RFC 4271 §6.1: an unrecognised Type is Bad Message Type, data = the type octet.
  if (min === undefined) return fail(wireError(ERR_HEADER, HDR_BAD_TYPE, `unknown message type ${type}`, Buffer.from([type])));
  const exact = type === MSG_KEEPALIVE || type === MSG_ROUTE_REFRESH;
  if (length < min || (exact && length !== min)) {
    if (type === MSG_ROUTE_REFRESH && ctx?.enhancedRouteRefresh) {
      // RFC 7313 §5: with enhanced route refresh, a ROUTE-REFRESH of the wrong
      // length is ROUTE-REFRESH Message Error / Invalid Message Length and the
      // data is the complete message.
      return fail(wireError(ERR_ROUTE_REFRESH, RR_INVALID_LENGTH, `ROUTE-REFRESH of ${length} octets`, Buffer.from(msg)));
    }
    return fail(wireError(ERR_HEADER, HDR_BAD_LENGTH, `type ${type} message of ${length} octets`, lengthData(length)));
  }
  // RFC 8654 §3: OPEN and KEEPALIVE never exceed 4096 octets, extended or not.
  if (type === MSG_OPEN && length > MAX_MESSAGE_LENGTH) {
    return fail(wireError(ERR_HEADER, HDR_BAD_LENGTH, `OPEN of ${length} octets`, lengthData(length)));
  }
  return ok({ type, length });
}
