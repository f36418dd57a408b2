// KEEPALIVE (RFC 4271 §4.4): a header alone, 19 octets. Sent every hold/3
// seconds (§4.4) by the session; the message itself is one shared buffer.

import { writeHeader } from './header.js';
import type { KeepaliveMessage } from './types.js';
import { HEADER_LENGTH, MSG_KEEPALIVE } from './types.js';

function makeKeepalive(): Buffer {
  const buf = Buffer.alloc(HEADER_LENGTH);
  writeHeader(buf, MSG_KEEPALIVE, HEADER_LENGTH);
  return buf;
}

/** The one KEEPALIVE every session writes. Shared: never modify it. */
export const KEEPALIVE: Buffer = makeKeepalive();

export const KEEPALIVE_MESSAGE: KeepaliveMessage = Object.freeze({ type: 'keepalive' });

/** The KEEPALIVE message (a shared constant buffer). */
export function encodeKeepalive(): Buffer {
  return KEEPALIVE;
}
