// NOTIFICATION (RFC 4271 §4.5): error code, subcode, data. For Cease /
// Administrative Shutdown and Administrative Reset the data may hold a
// shutdown communication (RFC 8203, length raised to 255 by RFC 9003 §2):
// one length octet, then that many octets of UTF-8.

import type { Decoded } from './errors.js';
import { CEASE_ADMIN_RESET, CEASE_ADMIN_SHUTDOWN, ERR_CEASE, notificationName, ok } from './errors.js';
import { writeHeader } from './header.js';
import type { NotificationMessage } from './types.js';
import { HEADER_LENGTH, MAX_MESSAGE_LENGTH, MSG_NOTIFICATION } from './types.js';

/** RFC 9003 §2: the shutdown communication is at most 255 octets. */
export const MAX_SHUTDOWN_COMMUNICATION = 255;

const utf8 = new TextDecoder('utf-8', { fatal: true });

function carriesShutdownCommunication(code: number, subcode: number): boolean {
  return code === ERR_CEASE && (subcode === CEASE_ADMIN_SHUTDOWN || subcode === CEASE_ADMIN_RESET);
}

/**
 * Reads an RFC 8203/9003 shutdown communication from NOTIFICATION data.
 * Undefined when absent (empty data or length 0), when the length runs past
 * the data, or when the text is not valid UTF-8 (RFC 8203 §4: log, carry on).
 */
export function decodeShutdownCommunication(data: Buffer): string | undefined {
  if (data.length < 1) return undefined;
  const len = data[0]!;
  if (len === 0 || 1 + len > data.length) return undefined;
  try {
    return utf8.decode(data.subarray(1, 1 + len));
  } catch {
    return undefined;
  }
}

/** Length octet + UTF-8, cut at 255 octets without splitting a character. */
export function encodeShutdownCommunication(text: string): Buffer {
  let bytes = Buffer.from(text, 'utf8');
  if (bytes.length > MAX_SHUTDOWN_COMMUNICATION) {
    let end = MAX_SHUTDOWN_COMMUNICATION;
    // Back up over UTF-8 continuation octets (10xxxxxx) to a character start.
    while (end > 0 && (bytes[end]! & 0xc0) === 0x80) end--;
    bytes = bytes.subarray(0, end);
  }
  const out = Buffer.allocUnsafe(1 + bytes.length);
  out[0] = bytes.length;
  bytes.copy(out, 1);
  return out;
}

/**
 * Decodes a NOTIFICATION body (after the header; at least 2 octets, which
 * decodeHeader guarantees). Every code/subcode is accepted: a NOTIFICATION is
 * never answered with another (RFC 4271 §6.4).
 */
export function decodeNotification(body: Buffer): Decoded<NotificationMessage> {
  const code = body[0] ?? 0;
  const subcode = body[1] ?? 0;
  const data = Buffer.from(body.subarray(2));
  const shutdownMessage = carriesShutdownCommunication(code, subcode) ? decodeShutdownCommunication(data) : undefined;
  return ok(
    shutdownMessage === undefined
      ? { type: 'notification', code, subcode, data }
      : { type: 'notification', code, subcode, data, shutdownMessage },
  );
}

export interface NotificationInput {
  readonly code: number;
  readonly subcode: number;
  readonly data?: Buffer;
  /** For Cease subcodes 2 and 4: encoded as the data field, replacing `data`. */
  readonly shutdownMessage?: string;
}

/**
 * Encodes a whole NOTIFICATION. Accepts a NotificationMessage or a WireError
 * as is. Data that would push the message past `maxLength` is cut short, so
 * the result is always a legal message.
 */
export function encodeNotification(n: NotificationInput, maxLength: number = MAX_MESSAGE_LENGTH): Buffer {
  let data = n.data ?? Buffer.alloc(0);
  if (n.shutdownMessage !== undefined && carriesShutdownCommunication(n.code, n.subcode)) {
    data = encodeShutdownCommunication(n.shutdownMessage);
  }
  const room = maxLength - HEADER_LENGTH - 2;
  if (data.length > room) data = data.subarray(0, room);
  const total = HEADER_LENGTH + 2 + data.length;
  const buf = Buffer.allocUnsafe(total);
  writeHeader(buf, MSG_NOTIFICATION, total);
  buf[19] = n.code;
  buf[20] = n.subcode;
  data.copy(buf, 21);
  return buf;
}

/** One line for logs and the API, e.g. `Cease / Administrative Shutdown: "maintenance"`. */
export function formatNotification(n: NotificationInput): string {
  const name = notificationName(n.code, n.subcode);
  if (n.shutdownMessage !== undefined) return `${name}: ${JSON.stringify(n.shutdownMessage)}`;
  if (n.data && n.data.length > 0) {
    const shown = n.data.subarray(0, 32).toString('hex');
    return `${name} (data ${shown}${n.data.length > 32 ? '…' : ''})`;
  }
  return name;
}

/**
 * RFC 4486 §4: the data of Cease / Maximum Number of Prefixes Reached: AFI
 * (2 octets), SAFI (1), and the configured upper bound (4).
 */
export function maxPrefixCeaseData(afi: number, safi: number, limit: number): Buffer {
  const data = Buffer.alloc(7);
  data.writeUInt16BE(afi, 0);
  data[2] = safi;
  data.writeUInt32BE(limit >>> 0, 3);
  return data;
}
