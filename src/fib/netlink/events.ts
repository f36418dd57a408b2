// PURE: turns an rtnetlink message from a dump or a multicast notification
// (RTNLGRP_IPV4_ROUTE, RTNLGRP_IPV6_ROUTE, RTNLGRP_LINK, RTNLGRP_IPV*_IFADDR;
// RFC 3549 §2.3.3) into one typed event for the FIB's drift repair.
import * as C from './constants.js';
import { decodeAddress, decodeLink, type KernelAddress, type KernelLink } from './interfaces.js';
import { decodeRoute, type KernelRoute, type NlMessage, type NlResult } from './messages.js';

export type RtnlChange = 'new' | 'del';
export type RtnlEvent =
  | { readonly kind: 'route'; readonly change: RtnlChange; readonly route: KernelRoute }
  | { readonly kind: 'link'; readonly change: RtnlChange; readonly link: KernelLink }
  | { readonly kind: 'addr'; readonly change: RtnlChange; readonly address: KernelAddress };

/** The event a message carries; `null` for message types and families we do not model. */
export function decodeEvent(msg: NlMessage): NlResult<RtnlEvent | null> {
  switch (msg.type) {
    case C.RTM_NEWROUTE:
    case C.RTM_DELROUTE: {
      const r = decodeRoute(msg);
      if (!r.ok || r.value === null) return r as NlResult<null>;
      return { ok: true, value: { kind: 'route', change: msg.type === C.RTM_NEWROUTE ? 'new' : 'del', route: r.value } };
    }
    case C.RTM_NEWLINK:
    case C.RTM_DELLINK: {
      const l = decodeLink(msg);
      if (!l.ok) return l;
      return { ok: true, value: { kind: 'link', change: msg.type === C.RTM_NEWLINK ? 'new' : 'del', link: l.value } };
    }
    case C.RTM_NEWADDR:
    case C.RTM_DELADDR: {
      const a = decodeAddress(msg);
      if (!a.ok || a.value === null) return a as NlResult<null>;
      return { ok: true, value: { kind: 'addr', change: msg.type === C.RTM_NEWADDR ? 'new' : 'del', address: a.value } };
    }
    default:
      return { ok: true, value: null };
  }
}
