// OPEN construction and negotiation: builds our OPEN from local settings and,
// from the peer's OPEN, validates it (RFC 4271 §6.2, RFC 6793 §4, RFC 6286
// §2.2, RFC 7607) and settles the session's capabilities (RFC 5492): hold and
// keepalive times (RFC 4271 §4.2, §10), families (RFC 4760 §8), 4-octet AS
// (RFC 6793), route refresh (RFC 2918, RFC 7313), extended messages (RFC 8654),
// ADD-PATH (RFC 7911 §4), graceful restart (RFC 4724 §3) and hostname (FQDN).
// Liberal in what it accepts: unknown capabilities are ignored; only what an
// RFC requires is rejected. Pure: no I/O.

import type { Family } from '../../lib/prefix.js';
import { v4Parse } from '../../lib/prefix.js';
import type { BgpConfig, ListenRangeConfig, NeighborConfig } from '../../config/schema.js';
import {
  AS_TRANS,
  afiSafiFamily,
  familyAfiSafi,
  type AddPathMode,
  type Capability,
  type CodecContext,
  type FamilyFlags,
  type OpenMessage,
} from '../wire/types.js';
import {
  ERR_OPEN,
  OPEN_BAD_BGP_ID,
  OPEN_BAD_PEER_AS,
  OPEN_UNACCEPTABLE_HOLD_TIME,
  OPEN_UNSUPPORTED_VERSION,
  fail,
  ok,
  wireError,
  type Decoded,
} from '../wire/errors.js';
import type { FsmConfig, LocalSettings, NegotiatedSession, PeerGracefulRestart } from './types.js';

const BGP_VERSION = 4;
/** Cisco's pre-standard ROUTE-REFRESH capability code, still sent by some speakers. */
const CAP_ROUTE_REFRESH_OLD = 128;
const ALL_FAMILIES: readonly Family[] = ['ipv4-unicast', 'ipv6-unicast'];

/** Our OPEN for a session (RFC 4271 §4.2, capabilities per RFC 5492 §4). */
export function buildOpen(local: LocalSettings): OpenMessage {
  const caps: Capability[] = [];
  // RFC 4760 §8: one Multiprotocol capability per family we carry.
  for (const family of local.families) caps.push({ kind: 'multiprotocol', code: 1, ...familyAfiSafi(family) });
  caps.push({ kind: 'route-refresh', code: 2 }); // RFC 2918 §3
  caps.push({ kind: 'enhanced-route-refresh', code: 70 }); // RFC 7313 §3
  if (local.extendedMessage) caps.push({ kind: 'extended-message', code: 6 }); // RFC 8654 §3
  const gr = local.gracefulRestart;
  if (gr) {
    // RFC 4724 §3: restart time (12 bits), R bit, F bit per family we carry.
    caps.push({
      kind: 'graceful-restart',
      code: 64,
      restarting: gr.restarting,
      notification: gr.notification ?? false,
      restartTime: Math.min(Math.max(gr.restartTime, 0), 4095),
      families: local.families.map((f) => ({ ...familyAfiSafi(f), forwardingState: gr.forwardingState.includes(f) })),
    });
  }
  caps.push({ kind: 'four-octet-as', code: 65, asn: local.asn }); // RFC 6793 §3, always sent
  const addPath = local.families
    .filter((f) => local.addPath?.[f] !== undefined)
    .map((f) => ({ ...familyAfiSafi(f), mode: local.addPath![f]! }));
  if (addPath.length > 0) caps.push({ kind: 'add-path', code: 69, families: addPath }); // RFC 7911 §4
  if (local.hostname !== undefined && local.hostname !== '')
    caps.push({ kind: 'fqdn', code: 73, hostname: local.hostname, domain: local.domain ?? '' });
  return {
    type: 'open',
    version: BGP_VERSION,
    myAs: local.asn > 0xffff ? AS_TRANS : local.asn, // RFC 6793 §4.1
    holdTime: local.holdTime,
    bgpId: local.routerId,
    capabilities: caps,
  };
}

/** The peer's real ASN: the 4-octet capability's when present, else My AS (RFC 6793 §4.1). */
function realPeerAsn(open: OpenMessage): number {
  const cap = open.capabilities.find((c) => c.kind === 'four-octet-as');
  return cap ? cap.asn : open.myAs;
}

function openError(subcode: number, reason: string, data?: Buffer) {
  return fail<NegotiatedSession>(wireError(ERR_OPEN, subcode, reason, data));
}

function asnMatches(expected: number | readonly number[], asn: number): boolean {
  return typeof expected === 'number' ? expected === asn : expected.includes(asn);
}

function familySet(families: Iterable<Family>): FamilyFlags {
  const set = new Set(families);
  return { 'ipv4-unicast': set.has('ipv4-unicast'), 'ipv6-unicast': set.has('ipv6-unicast') };
}

/** Families the peer announced via Multiprotocol capabilities; none → IPv4 unicast (RFC 4760 §8). */
export function peerFamilies(open: OpenMessage): Family[] {
  const out = new Set<Family>();
  let sawMp = false;
  for (const c of open.capabilities) {
    if (c.kind !== 'multiprotocol') continue;
    sawMp = true;
    const f = afiSafiFamily(c.afi, c.safi);
    if (f) out.add(f);
  }
  if (!sawMp) out.add('ipv4-unicast');
  return ALL_FAMILIES.filter((f) => out.has(f));
}

function addPathModes(open: OpenMessage): Map<Family, AddPathMode> {
  const modes = new Map<Family, AddPathMode>();
  for (const c of open.capabilities) {
    if (c.kind !== 'add-path') continue;
    for (const entry of c.families) {
      const f = afiSafiFamily(entry.afi, entry.safi);
      if (f) modes.set(f, entry.mode);
    }
  }
  return modes;
}

const canSend = (m: AddPathMode | undefined) => m === 'send' || m === 'both';
const canReceive = (m: AddPathMode | undefined) => m === 'receive' || m === 'both';

/**
 * Validates the peer's OPEN against our settings and settles the session, or
 * returns the OPEN Message Error to send. `localOpen` defaults to buildOpen(local).
 */
export function negotiate(
  local: LocalSettings,
  expectedPeerAsn: number | readonly number[],
  peerOpen: OpenMessage,
  localOpen: OpenMessage = buildOpen(local),
): Decoded<NegotiatedSession> {
  // RFC 4271 §6.2: data is the largest version we support, 2 octets.
  if (peerOpen.version !== BGP_VERSION)
    return openError(OPEN_UNSUPPORTED_VERSION, `unsupported BGP version ${peerOpen.version}`, Buffer.from([0, BGP_VERSION]));

  const fourOctet = peerOpen.capabilities.find((c) => c.kind === 'four-octet-as');
  const peerAsn = realPeerAsn(peerOpen);
  // RFC 7607 §2: AS 0 in an OPEN is Bad Peer AS (either field).
  if (peerOpen.myAs === 0 || peerAsn === 0) return openError(OPEN_BAD_PEER_AS, 'peer AS 0');
  // RFC 6793 §4.1: a 4-octet-only ASN must be represented by AS_TRANS in My AS.
  if (fourOctet && fourOctet.asn > 0xffff && peerOpen.myAs !== AS_TRANS)
    return openError(OPEN_BAD_PEER_AS, `My AS ${peerOpen.myAs} is not AS_TRANS for 4-octet AS ${fourOctet.asn}`);
  // RFC 4271 §6.2: the peer's AS must be the one configured.
  if (!asnMatches(expectedPeerAsn, peerAsn))
    return openError(OPEN_BAD_PEER_AS, `peer AS ${peerAsn}, expected ${String(expectedPeerAsn)}`);

  // RFC 4271 §6.2, §4.2: hold time 0, or at least 3 seconds.
  if (peerOpen.holdTime === 1 || peerOpen.holdTime === 2)
    return openError(OPEN_UNACCEPTABLE_HOLD_TIME, `hold time ${peerOpen.holdTime}`);

  const ibgp = peerAsn === local.asn;
  // RFC 6286 §2.2: the identifier is any non-zero value; for iBGP it must differ from ours.
  if (peerOpen.bgpId === 0) return openError(OPEN_BAD_BGP_ID, 'BGP identifier 0');
  if (ibgp && peerOpen.bgpId === local.routerId)
    return openError(OPEN_BAD_BGP_ID, 'iBGP peer has our BGP identifier');

  // RFC 4271 §4.2, §10: hold time is the smaller of the two; keepalive a third of it.
  const holdTime = Math.min(local.holdTime, peerOpen.holdTime);
  const third = Math.floor(holdTime / 3);
  const keepaliveTime = holdTime === 0 ? 0 : Math.max(1, Math.min(local.keepaliveTime ?? third, third));

  const theirFamilies = new Set(peerFamilies(peerOpen));
  const families = ALL_FAMILIES.filter((f) => local.families.includes(f) && theirFamilies.has(f));

  const has = (kind: Capability['kind']) => peerOpen.capabilities.some((c) => c.kind === kind);
  const routeRefresh = has('route-refresh') || peerOpen.capabilities.some((c) => c.code === CAP_ROUTE_REFRESH_OLD);

  // RFC 7911 §4: path IDs flow from a side that can send to a side that can receive.
  const theirAddPath = addPathModes(peerOpen);
  const addPathReceive = familySet(
    families.filter((f) => canReceive(local.addPath?.[f]) && canSend(theirAddPath.get(f))),
  );
  const addPathSend = familySet(families.filter((f) => canSend(local.addPath?.[f]) && canReceive(theirAddPath.get(f))));

  const codec: CodecContext = {
    fourOctetAs: fourOctet !== undefined,
    extendedMessage: local.extendedMessage && has('extended-message'),
    addPathReceive,
    addPathSend,
    // RFC 7313 §5: with enhanced route refresh, a ROUTE-REFRESH of the wrong length is its own error (7/1).
    ...(has('enhanced-route-refresh') ? { enhancedRouteRefresh: true } : {}),
  };

  let peerGracefulRestart: PeerGracefulRestart | undefined;
  const grCap = peerOpen.capabilities.find((c) => c.kind === 'graceful-restart');
  if (grCap) {
    // RFC 4724 §3: families the peer lists, kept only where the session carries them.
    const grFamilies: { family: Family; forwardingState: boolean }[] = [];
    for (const entry of grCap.families) {
      const f = afiSafiFamily(entry.afi, entry.safi);
      if (f && families.includes(f)) grFamilies.push({ family: f, forwardingState: entry.forwardingState });
    }
    peerGracefulRestart = {
      restartTime: grCap.restartTime,
      restarting: grCap.restarting,
      notification: grCap.notification,
      families: grFamilies,
    };
  }
  const fqdn = peerOpen.capabilities.find((c) => c.kind === 'fqdn');

  const session: NegotiatedSession = {
    localAsn: local.asn,
    localId: local.routerId,
    peerAsn,
    peerId: peerOpen.bgpId,
    ibgp,
    holdTime,
    keepaliveTime,
    families,
    codec,
    routeRefresh,
    enhancedRouteRefresh: has('enhanced-route-refresh'),
    gracefulRestart: local.gracefulRestart !== undefined && grCap !== undefined,
    ...(peerGracefulRestart ? { peerGracefulRestart } : {}),
    ...(fqdn ? { peerHostname: { hostname: fqdn.hostname, domain: fqdn.domain } } : {}),
    localOpen,
    peerOpen,
  };
  return ok(session);
}

/** Extra facts the caller knows at start-up that the config does not hold. */
export interface LocalSettingsExtras {
  /** Hostname for the FQDN capability when the config has none (the shell passes os.hostname()). */
  readonly hostname?: string;
  /** We restarted within the restart window (RFC 4724 R bit). */
  readonly restarting?: boolean;
  /** Families whose forwarding state we kept across a restart (RFC 4724 F bit). */
  readonly forwardingState?: readonly Family[];
  /** RFC 8654; default true. */
  readonly extendedMessage?: boolean;
}

/** LocalSettings for one neighbor or listen range from the validated config. */
export function localSettingsFromConfig(
  config: BgpConfig,
  peer: NeighborConfig | ListenRangeConfig,
  extras: LocalSettingsExtras = {},
): LocalSettings {
  const routerId = v4Parse(config.routerId);
  if (routerId === undefined) throw new Error(`routerId ${config.routerId} is not an IPv4 address`);
  const families = peer.families ?? ALL_FAMILIES;
  const mode = peer.addPath;
  const addPath: Partial<Record<Family, AddPathMode>> = {};
  if (mode !== undefined && mode !== 'none') for (const f of families) addPath[f] = mode;
  const hostname = config.hostname ?? extras.hostname;
  const gr = peer.gracefulRestart;
  return {
    asn: ('localAsn' in peer ? peer.localAsn : undefined) ?? config.asn,
    routerId,
    holdTime: peer.holdTime ?? 90,
    ...(peer.keepaliveTime !== undefined ? { keepaliveTime: peer.keepaliveTime } : {}),
    families,
    ...(gr?.enabled
      ? {
          gracefulRestart: {
            restartTime: gr.restartTime,
            restarting: extras.restarting ?? false,
            forwardingState: extras.forwardingState ?? [],
          },
        }
      : {}),
    ...(Object.keys(addPath).length > 0 ? { addPath } : {}),
    ...(hostname !== undefined ? { hostname, domain: '' } : {}),
    extendedMessage: extras.extendedMessage ?? true,
  };
}

/** FsmConfig for one neighbor or listen range (listen ranges are always passive). */
export function fsmConfigFromConfig(
  config: BgpConfig,
  peer: NeighborConfig | ListenRangeConfig,
  random: () => number,
  extras: LocalSettingsExtras = {},
): FsmConfig {
  const isNeighbor = 'address' in peer;
  const connectRetryMs = (isNeighbor ? peer.connectRetryTime : 5) * 1000;
  return {
    local: localSettingsFromConfig(config, peer, extras),
    peerAsn: peer.asn,
    passive: isNeighbor ? peer.passive : true,
    connectRetryMs,
    connectRetryMaxMs: Math.max(120_000, connectRetryMs), // RFC 4271 §10: 120 s suggested ConnectRetryTime
    idleHoldMs: connectRetryMs,
    idleHoldMaxMs: Math.max(120_000, connectRetryMs),
    allowAutomaticStart: true,
    random,
  };
}
