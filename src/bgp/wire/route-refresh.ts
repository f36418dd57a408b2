// ROUTE-REFRESH (RFC 2918 §3): AFI (2), Message Subtype (1; "Reserved" in
// RFC 2918, given meaning by RFC 7313 §3), SAFI (1). Subtypes: 0 normal
// request, 1 Beginning of Route Refresh (BoRR), 2 End of Route Refresh (EoRR).

import type { Decoded } from './errors.js';
import { ERR_ROUTE_REFRESH, RR_INVALID_LENGTH, fail, ok, wireError } from './errors.js';
import { writeHeader } from './header.js';
import type { RouteRefreshMessage } from './types.js';
import { HEADER_LENGTH, MSG_ROUTE_REFRESH } from './types.js';

export const RR_REQUEST = 0;
export const RR_BORR = 1;
export const RR_EORR = 2;

/**
 * Decodes a ROUTE-REFRESH body (4 octets; decodeHeader checks the length).
 * An unknown subtype (3..255) is returned as is: RFC 7313 §5 says to ignore
 * such a message, which is the receiver's decision, not a decoding error.
 */
export function decodeRouteRefresh(body: Buffer): Decoded<RouteRefreshMessage> {
  if (body.length !== 4) {
    return fail(wireError(ERR_ROUTE_REFRESH, RR_INVALID_LENGTH, `ROUTE-REFRESH body of ${body.length} octets`));
  }
  return ok({ type: 'route-refresh', afi: body.readUInt16BE(0), subtype: body[2]!, safi: body[3]! });
}

/** True for the subtypes RFC 7313 §5 says to act on (0, 1, 2). */
export function isKnownRouteRefreshSubtype(subtype: number): boolean {
  return subtype === RR_REQUEST || subtype === RR_BORR || subtype === RR_EORR;
}

/** Encodes a whole ROUTE-REFRESH; `subtype` defaults to 0 (a plain request). */
export function encodeRouteRefresh(m: { readonly afi: number; readonly safi: number; readonly subtype?: number }): Buffer {
  const buf = Buffer.allocUnsafe(HEADER_LENGTH + 4);
  writeHeader(buf, MSG_ROUTE_REFRESH, HEADER_LENGTH + 4);
  buf.writeUInt16BE(m.afi, 19);
  buf[21] = m.subtype ?? RR_REQUEST;
  buf[22] = m.safi;
  return buf;
}
