// Message dispatch: one whole framed message (from framer.ts) to a typed
// message, and any typed message to bytes. The header is checked first
// (RFC 4271 §6.1), then the body goes to the decoder of its type.

import type { Decoded } from './errors.js';
import { ERR_HEADER, ERR_OPEN, ERR_ROUTE_REFRESH, ERR_UPDATE, UPD_MALFORMED_ATTRIBUTE_LIST, fail, ok, wireError } from './errors.js';
import { decodeHeader } from './header.js';
import { KEEPALIVE_MESSAGE, encodeKeepalive } from './keepalive.js';
import { encodeNotification, decodeNotification } from './notification.js';
import { decodeOpen, encodeOpen } from './open.js';
import { decodeRouteRefresh, encodeRouteRefresh } from './route-refresh.js';
import type { BgpMessage, CodecContext, KeepaliveMessage, NotificationMessage, OpenMessage, RouteRefreshMessage } from './types.js';
import { HEADER_LENGTH, MAX_EXTENDED_MESSAGE_LENGTH, MAX_MESSAGE_LENGTH, MSG_KEEPALIVE, MSG_NOTIFICATION, MSG_OPEN, MSG_ROUTE_REFRESH, MSG_UPDATE } from './types.js';
import type { DecodedUpdate } from './update.js';
import { decodeUpdate, encodeUpdate } from './update.js';

export type InboundMessage = OpenMessage | NotificationMessage | KeepaliveMessage | RouteRefreshMessage | DecodedUpdate;

/** Per type, the NOTIFICATION a decoder that threw is answered with. */
const GUARD_ERRORS: Record<number, readonly [number, number]> = {
  [MSG_OPEN]: [ERR_OPEN, 0],
  [MSG_UPDATE]: [ERR_UPDATE, UPD_MALFORMED_ATTRIBUTE_LIST],
  [MSG_NOTIFICATION]: [ERR_HEADER, 0],
  [MSG_ROUTE_REFRESH]: [ERR_ROUTE_REFRESH, 0],
};

/**
 * Decodes one whole message (header included) as framed by Framer. Never
 * throws: the decoders bounds-check, and a last-resort guard turns any
 * exception that slips through into a session-reset error for that type.
 */
export function decodeMessage(msg: Buffer, ctx: CodecContext): Decoded<InboundMessage> {
  try {
    return dispatch(msg, ctx);
  } catch (e) {
    const type = msg[18] ?? 0;
    const [code, subcode] = GUARD_ERRORS[type] ?? [ERR_HEADER, 0];
    return fail(wireError(code, subcode, `decoder failed on type ${type} message: ${e instanceof Error ? e.message : String(e)}`));
  }
}

function dispatch(msg: Buffer, ctx: CodecContext): Decoded<InboundMessage> {
  const header = decodeHeader(msg, ctx);
  if (!header.ok) return header;
  const body = msg.subarray(HEADER_LENGTH, header.value.length);
  switch (header.value.type) {
    case MSG_OPEN:
      return decodeOpen(body);
    case MSG_NOTIFICATION:
      return decodeNotification(body);
    case MSG_KEEPALIVE:
      return ok(KEEPALIVE_MESSAGE);
    case MSG_ROUTE_REFRESH:
      return decodeRouteRefresh(body);
    default:
      // MSG_UPDATE: decodeHeader rejects every other type.
      return decodeUpdate(body, ctx);
  }
}

/** Maximum message length for a session (RFC 8654 §4). */
export function maxMessageLength(ctx: CodecContext): number {
  return ctx.extendedMessage ? MAX_EXTENDED_MESSAGE_LENGTH : MAX_MESSAGE_LENGTH;
}

/** Encodes any message, header included. */
export function encodeMessage(m: BgpMessage, ctx: CodecContext): Buffer {
  switch (m.type) {
    case 'open':
      return encodeOpen(m);
    case 'update':
      return encodeUpdate(m, ctx);
    case 'notification':
      return encodeNotification(m, maxMessageLength(ctx));
    case 'keepalive':
      return encodeKeepalive();
    case 'route-refresh':
      return encodeRouteRefresh(m);
  }
}

