// The session's side of the log contract (DESIGN.md, Logs): pino JSON lines,
// each with a string `event` field and the peer's address and ASN. An interop
// test parses these lines, so field names are fixed: peer-state,
// session-established, session-down, notification-received/-sent,
// update-received, message-error, connection-rejected.
// update-received splits an UPDATE per family (RFC 4271 §4.3 IPv4 fields,
// RFC 4760 MP_REACH/MP_UNREACH) and recognises End-of-RIB (RFC 4724 §2).
// Messages name the peer too ("peer 10.0.0.2 (AS 64512): Idle -> Active"), and
// capabilities the codec keeps opaque are named by their IANA code.

import type { Logger } from '../../lib/log.js';
import { prefixToString, v4ToString, type Family } from '../../lib/prefix.js';
import { capabilityName, notificationName, type Capability, type NotificationMessage, type UpdateMessage, type WireError } from '../wire/index.js';
import type { DecodedUpdate } from '../wire/update.js';
import type { NegotiatedSession } from '../fsm/index.js';

/** Prefixes listed per line; the counts carry the full numbers. */
export const MAX_LOGGED_PREFIXES = 1000;

export interface PeerLogFields {
  readonly peer: string;
  readonly asn: number;
}

/** A state change (RFC 4271 §8.2.2 names), with the peer named in the message too. */
export function logStateChange(log: Logger, who: PeerLogFields, from: string, to: string): void {
  log.info({ event: 'peer-state', ...who, from, to }, `peer ${who.peer} (AS ${who.asn}): ${from} -> ${to}`);
}

/**
 * Capability codes the codec keeps as opaque bytes, named for the log (IANA
 * "Capability Codes"); the rest stay `capability-N(hex)`.
 */
const UNPARSED_CAPABILITIES: Readonly<Record<number, string>> = {
  5: 'extended-next-hop', // RFC 8950
  7: 'bgpsec', // RFC 8205
  8: 'multiple-labels', // RFC 8277
  9: 'bgp-role', // RFC 9234
  67: 'dynamic-capability',
  71: 'long-lived-graceful-restart', // RFC 9494
  128: 'route-refresh-cisco', // pre-standard route refresh
};

/** A capability as the session-established line shows it. */
export function capabilityLabel(c: Capability): string {
  if (c.kind !== 'unknown') return capabilityName(c);
  const name = UNPARSED_CAPABILITIES[c.code];
  return name ? `${name}(code ${c.code}${c.value.length > 0 ? ` ${c.value.toString('hex')}` : ''})` : capabilityName(c);
}

export function notificationFields(n: NotificationMessage): {
  code: number;
  subcode: number;
  name: string;
  text?: string;
} {
  return {
    code: n.code,
    subcode: n.subcode,
    name: notificationName(n.code, n.subcode),
    ...(n.shutdownMessage !== undefined ? { text: n.shutdownMessage } : {}),
  };
}

export function logNotification(log: Logger, who: PeerLogFields, direction: 'sent' | 'received', n: NotificationMessage): void {
  const f = notificationFields(n);
  log.warn({ event: `notification-${direction}`, ...who, ...f }, `NOTIFICATION ${direction}: ${f.name}${f.text ? ` "${f.text}"` : ''}`);
}

export function logMessageError(log: Logger, who: PeerLogFields, e: WireError): void {
  log.warn({ event: 'message-error', peer: who.peer, asn: who.asn, code: e.code, subcode: e.subcode, reason: e.reason }, `bad message: ${e.reason}`);
}

export function logEstablished(log: Logger, who: PeerLogFields, s: NegotiatedSession): void {
  log.info(
    {
      event: 'session-established',
      ...who,
      holdTime: s.holdTime,
      keepaliveTime: s.keepaliveTime,
      families: [...s.families],
      capabilities: s.peerOpen.capabilities.map(capabilityLabel),
      remoteId: v4ToString(s.peerId),
      ...(s.peerHostname ? { remoteHostname: s.peerHostname.hostname } : {}),
    },
    'session established',
  );
}

interface FamilyLine {
  announced: string[];
  withdrawn: string[];
  announcedCount: number;
  withdrawnCount: number;
  nextHop?: string;
  endOfRib?: Family;
}

function add(list: string[], keys: readonly (number | string)[]): void {
  for (const k of keys) {
    if (list.length >= MAX_LOGGED_PREFIXES) return;
    list.push(prefixToString(k));
  }
}

/** Per family: announced and withdrawn prefixes, next hop, End-of-RIB. */
export function updateSummary(u: UpdateMessage): Map<Family, FamilyLine> {
  const out = new Map<Family, FamilyLine>();
  const line = (f: Family): FamilyLine => {
    let l = out.get(f);
    if (!l) out.set(f, (l = { announced: [], withdrawn: [], announcedCount: 0, withdrawnCount: 0 }));
    return l;
  };
  const a = u.attributes;
  const hasAttributes = Object.keys(a).length > 0;
  // RFC 4724 §2: IPv4 End-of-RIB is an UPDATE with nothing in it at all.
  if (!hasAttributes && u.withdrawn.prefixes.length === 0 && u.nlri.prefixes.length === 0) {
    line('ipv4-unicast').endOfRib = 'ipv4-unicast';
    return out;
  }
  if (u.withdrawn.prefixes.length > 0) {
    const l = line('ipv4-unicast');
    add(l.withdrawn, u.withdrawn.prefixes);
    l.withdrawnCount += u.withdrawn.prefixes.length;
  }
  if (u.nlri.prefixes.length > 0) {
    const l = line('ipv4-unicast');
    add(l.announced, u.nlri.prefixes);
    l.announcedCount += u.nlri.prefixes.length;
    if (a.nextHop !== undefined) l.nextHop = a.nextHop;
  }
  if (a.mpReach) {
    const l = line(a.mpReach.family);
    add(l.announced, a.mpReach.nlri.prefixes);
    l.announcedCount += a.mpReach.nlri.prefixes.length;
    l.nextHop = a.mpReach.nextHop;
  }
  if (a.mpUnreach) {
    const f = a.mpUnreach.nlri.family;
    const l = line(f);
    add(l.withdrawn, a.mpUnreach.nlri.prefixes);
    l.withdrawnCount += a.mpUnreach.nlri.prefixes.length;
    // RFC 4724 §2: an MP_UNREACH_NLRI with no withdrawn routes and nothing else is End-of-RIB.
    const only = Object.keys(a).filter((k) => (a as Record<string, unknown>)[k] !== undefined).length === 1;
    if (only && a.mpUnreach.nlri.prefixes.length === 0 && u.nlri.prefixes.length === 0) l.endOfRib = f;
  }
  return out;
}

/** update-received lines (debug), or warn lines when RFC 7606 treat-as-withdraw applied. */
export function logUpdate(log: Logger, who: PeerLogFields, d: DecodedUpdate): void {
  const taw = d.treatAsWithdraw;
  for (const e of d.discarded) logMessageError(log, who, e);
  if (!taw && !log.isLevelEnabled('debug')) return;
  const asPath = d.update.attributes.asPath?.flatMap((s) => s.asns);
  for (const [family, l] of updateSummary(d.update)) {
    const base = { event: 'update-received', ...who, family, ...(asPath ? { asPath } : {}) };
    if (taw) {
      // RFC 7606 §2: every NLRI of the UPDATE is handled as withdrawn.
      const withdrawn = [...l.withdrawn, ...l.announced].slice(0, MAX_LOGGED_PREFIXES);
      log.warn(
        { ...base, announced: [], withdrawn, announcedCount: 0, withdrawnCount: l.withdrawnCount + l.announcedCount, treatAsWithdraw: taw.reason },
        'UPDATE treated as withdraw',
      );
    } else {
      log.debug({ ...base, ...l }, 'UPDATE received');
    }
  }
}
