// Helpers for the daemon to turn session facts into the API's peer object
// (schemas.ts PeerSchema): negotiated capabilities (RFC 6793 4-octet AS,
// RFC 2918/7313 route refresh, RFC 8654 extended messages, RFC 4724 graceful
// restart, RFC 7911 ADD-PATH per family), NOTIFICATIONs with their RFC 4271
// §4.5 names, and BGP Identifiers as dotted quads (RFC 4271 §4.2).

import type { NegotiatedSession } from '../bgp/fsm/types.js';
import { notificationName } from '../bgp/wire/errors.js';
import { v4ToString } from '../lib/prefix.js';
import type { ApiNotification, ApiPeer } from './schemas.js';

type Capabilities = NonNullable<ApiPeer['capabilities']>;

/** What the OPEN exchange settled, as the API shows it. */
export function capabilitiesOf(n: NegotiatedSession): Capabilities {
  const addPath: Record<string, 'receive' | 'send' | 'both'> = {};
  for (const f of n.families) {
    const rx = n.codec.addPathReceive[f];
    const tx = n.codec.addPathSend[f];
    if (rx || tx) addPath[f] = rx && tx ? 'both' : rx ? 'receive' : 'send';
  }
  return {
    families: [...n.families],
    fourOctetAs: n.codec.fourOctetAs,
    routeRefresh: n.routeRefresh,
    enhancedRouteRefresh: n.enhancedRouteRefresh,
    extendedMessage: n.codec.extendedMessage,
    gracefulRestart: n.gracefulRestart,
    ...(Object.keys(addPath).length > 0 ? { addPath } : {}),
  };
}

/** The negotiated facts of a peer object: router ID, hold and keepalive times, capabilities. */
export function negotiatedView(n: NegotiatedSession): Pick<ApiPeer, 'routerId' | 'keepaliveTime' | 'capabilities'> & { negotiatedHoldTime: number } {
  return { routerId: v4ToString(n.peerId), keepaliveTime: n.keepaliveTime, capabilities: capabilitiesOf(n), negotiatedHoldTime: n.holdTime };
}

/** A NOTIFICATION sent or received, named ("Cease / Administrative Shutdown"), with its RFC 9003 text. */
export function notificationView(
  direction: 'sent' | 'received',
  code: number,
  subcode: number,
  at: Date | number,
  message?: string,
): ApiNotification {
  return {
    direction,
    code,
    subcode,
    name: notificationName(code, subcode),
    ...(message !== undefined && message !== '' ? { message } : {}),
    at: new Date(at).toISOString(),
  };
}
