// Config -> what the RIB needs to know about itself and about one peer.
// Pure: a validated config (and, for a peer, what its session negotiated and
// the socket's local address) in, RIB settings out. The one place a peer's
// config entry is looked up by address, always canonical (lib/address.ts):
// a neighbor written "2001:DB8:0::2" is the session "2001:db8::2".
//
// Next-hop-self addresses (RFC 4271 §5.1.3): the session's own local socket
// address gives the address of its family. For the other family (IPv6 routes
// over an IPv4 session or the reverse) we use the neighbor's configured
// `localAddress` when it is of that family, else the first specific (not
// wildcard) listen address of that family, else, for IPv4 only, the router ID
// (Calico sets it to the node's IPv4 address). Without one, such routes are
// not sent to that peer (export reason `no-next-hop`): a wrong next hop would
// blackhole traffic.

import type { BgpConfig, ListenRangeConfig, NeighborConfig } from '../config/schema.js';
import { normalizeAddress } from '../lib/address.js';
import { v4Parse } from '../lib/prefix.js';
import { findListenRange } from '../bgp/session/listener.js';
import type { NegotiatedSession } from '../bgp/fsm/index.js';
import { compileGlobalPolicies, makePeer, type RibPeerSettings, type RibSettings } from '../rib/index.js';

/** A peer's config entry: the neighbor with this address, else the listen range containing it. */
export type PeerConfig = NeighborConfig | ListenRangeConfig;

/** The config entry for a (any-form) peer address: neighbor first, then the first listen range. */
export function findPeerConfig(config: BgpConfig, address: string): PeerConfig | undefined {
  const a = normalizeAddress(address);
  return config.neighbors.find((n) => normalizeAddress(n.address) === a) ?? findListenRange(config.listenRanges, a);
}

/** The configured neighbor (not a listen range) for a peer address. */
export function findNeighbor(config: BgpConfig, address: string): NeighborConfig | undefined {
  const a = normalizeAddress(address);
  return config.neighbors.find((n) => normalizeAddress(n.address) === a);
}

/** CIDRs of the pools with export off (ipPools[].disableExport, Calico disableBGPExport). */
export function exportDisabledPools(c: BgpConfig): string[] {
  return c.ipPools.filter((p) => p.disableExport).map((p) => p.cidr);
}

/** RFC 4456 §7: a cluster ID configured, or any client, makes us a reflector. */
export function isReflector(c: BgpConfig): boolean {
  return c.clusterId !== undefined || c.neighbors.some((n) => n.routeReflectorClient) || c.listenRanges.some((r) => r.routeReflectorClient);
}

export function ribSettingsFromConfig(c: BgpConfig): RibSettings {
  return {
    routerId: v4Parse(c.routerId)!,
    asn: c.asn,
    // RFC 4456 §7: the cluster ID defaults to the router ID.
    isReflector: isReflector(c),
    ...(c.clusterId !== undefined ? { clusterId: v4Parse(c.clusterId)! } : {}),
    clientToClient: c.clientToClientReflection,
    alwaysCompareMed: c.alwaysCompareMed,
    ecmp: c.fib.ecmp,
    serviceCidrs: c.serviceCidrs,
    exportDisabledPools: exportDisabledPools(c),
    policies: compileGlobalPolicies(c),
  };
}

/** Our next-hop-self address of one family for a session whose socket is of the other (see the header). */
function otherFamilyAddress(c: BgpConfig, pc: PeerConfig | undefined, want: 4 | 6): string | undefined {
  const fam = (a: string): 4 | 6 | 0 => (a.includes(':') ? 6 : v4Parse(a) !== undefined ? 4 : 0);
  const la = pc && 'localAddress' in pc ? pc.localAddress : undefined;
  if (la && fam(la) === want) return la;
  const listen = c.listen.addresses.find((a) => fam(a) === want && a !== '0.0.0.0' && a !== '::');
  return listen ?? (want === 4 ? c.routerId : undefined);
}

/** The RIB's settings for a session that reached Established (RFC 4271 §8.2.2). */
export function ribPeerSettings(c: BgpConfig, address: string, s: NegotiatedSession, localSocketAddress: string | undefined, iface?: string): RibPeerSettings {
  const pc = findPeerConfig(c, address);
  const local = normalizeAddress(localSocketAddress ?? '');
  const localFamily = local.includes(':') ? 6 : v4Parse(local) !== undefined ? 4 : 0;
  const v4 = localFamily === 4 ? local : otherFamilyAddress(c, pc, 4);
  const v6 = localFamily === 6 ? local : otherFamilyAddress(c, pc, 6);
  const gr = s.gracefulRestart ? s.peerGracefulRestart : undefined;
  return {
    peer: makePeer({
      address: normalizeAddress(address),
      asn: s.peerAsn,
      localAsn: s.localAsn,
      bgpId: s.peerId,
      rrClient: pc?.routeReflectorClient ?? false,
      allowOwnAs: pc?.allowAsIn ?? 0,
      // A one-hop session's interface: link-local next hops from it are usable (decision/next-hop.ts).
      ...(iface !== undefined ? { interface: iface } : {}),
    }),
    families: s.families,
    codec: s.codec,
    nextHopMode: pc?.nextHopMode ?? 'auto',
    ...(v4 ? { localAddressV4: v4 } : {}),
    ...(v6 ? { localAddressV6: v6 } : {}),
    enhancedRouteRefresh: s.enhancedRouteRefresh,
    ...(gr ? { gracefulRestart: { restartTime: gr.restartTime } } : {}),
    ...(pc?.maxPrefix ? { maxPrefix: { limit: pc.maxPrefix.limit, action: pc.maxPrefix.action } } : {}),
    ...(pc?.import ? { import: pc.import } : {}),
    ...(pc?.export ? { export: pc.export } : {}),
  };
}
