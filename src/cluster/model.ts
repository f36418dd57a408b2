// The cluster model: Calico's resources in, the part of a node's config they
// imply out (an overlay in the config file's shape, merged onto the file by
// merge.ts), plus a record of what was supplied and why, for the API. PURE:
// no I/O, no clock; the same resources always give the same overlay, so a
// re-list after an outage yields a diff of nothing when nothing changed.
//
// Calico's rules, as its confd templates apply them (CALICO.md):
// - This node: spec.bgp.ipv4Address is the router ID, the listen address
//   (bindMode NodeIP) and the source address of every session; AS number =
//   node.spec.bgp.asNumber, else BGPConfiguration default's, else 64512;
//   routeReflectorClusterID makes this node a reflector with that cluster ID.
// - BGPConfiguration: `default` is cluster-wide; `node.<name>` overrides
//   listenPort, bindMode, communities and prefixAdvertisements for this node.
// - Own blocks: confirmed, not deleted affinities are announced (the FIB
//   blackholes originated prefixes inside a pool); pending and
//   pendingDeletion ones are not.
// - Pools: ipipMode Always -> ipip, CrossSubnet -> crossSubnet, else direct;
//   a VXLAN pool (vxlanMode not Never) is announced but never programmed
//   (Felix owns those routes). `disabled` only stops new allocations in
//   Calico, so a disabled pool still routes its existing blocks.
//   disableBGPExport -> disableExport. nodeSelector decides where Calico IPAM
//   allocates; routing ignores it (a pool's blocks route wherever they are).
// - Mesh (nodeToNodeMeshEnabled, default true): one iBGP neighbor per other
//   node with an address of the family, named Mesh_<ip>, ADD-PATH both,
//   graceful restart with nodeMeshMaxRestartTime (120 s). Passive toward a
//   peer whose IP is greater AS A STRING (meshPassive): the smaller string
//   waits, the greater dials. A reflector (cluster ID) leaves the mesh, and
//   nodes skip reflectors in theirs.
// - BGPPeer applies to this node when spec.node names it, spec.nodeSelector
//   selects it, or neither is set (global). Its target is peerIP + asNumber,
//   or every other node peerSelector selects (with that node's address and
//   AS); a node the peerSelector selects also peers with every node in the
//   BGPPeer's scope (Calico renders such a peering from both ends). A peer that is a Calico node gets the mesh's passive rule (both
//   sides render the same peering); an external one is dialled. On a
//   reflector an iBGP peer is a client unless it is a node with the same
//   cluster ID. A BGPPeer to an address the mesh already covers replaces the
//   mesh entry. filters name BGPFilters, turned into import/export rules.
// - Service IPs (serviceClusterIPs, serviceExternalIPs,
//   serviceLoadBalancerIPs) are announced and never programmed;
//   prefixAdvertisements add communities to announced prefixes they cover.

import { prefixParse, v4Contains, v4KeyParse, prefixLength } from '../lib/prefix.js';
import type { ClusterResources, Rejected } from './etcd-keys.js';
import type { BgpConfigurationResource, BgpFilterResource, BgpFilterRule, BgpPeerResource, IpPoolResource, NodeResource, SecretKeyRef } from './resources.js';
import { matches } from './selector.js';

export const DEFAULT_ASN = 64512;
export const DEFAULT_RESTART_TIME = 120;

type Family = 'ipv4-unicast' | 'ipv6-unicast';

/** A policy rule in the config's shape (schema.ts PolicyRuleSchema). */
export interface OverlayRule {
  readonly match?: { readonly prefix?: string; readonly matchOperator?: 'equal' | 'in' | 'notEqual' | 'notIn'; readonly ge?: number; readonly le?: number; readonly family?: Family };
  readonly action: 'accept' | 'reject';
}

/** A neighbor in the config's shape (schema.ts NeighborSchema, defaults left to the loader). */
export interface OverlayNeighbor {
  readonly address: string;
  readonly asn: number;
  readonly port?: number;
  readonly description: string;
  readonly passive: boolean;
  readonly localAddress?: string;
  readonly localAsn?: number;
  readonly families: readonly Family[];
  readonly routeReflectorClient?: boolean;
  readonly nextHopMode?: 'auto' | 'self' | 'keep';
  readonly keepaliveTime?: number;
  readonly ttlSecurity?: number;
  readonly allowAsIn?: number;
  readonly addPath?: 'both';
  /** TCP MD5 (RFC 2385), from a Secret the resource names. */
  readonly password?: string;
  readonly gracefulRestart: { readonly enabled: true; readonly restartTime: number };
  readonly import?: readonly OverlayRule[];
  readonly export?: readonly OverlayRule[];
}

/** What the datastore supplies, in the config file's shape. */
export interface ClusterOverlay {
  readonly routerId?: string;
  readonly asn?: number;
  readonly clusterId?: string;
  readonly listen?: { readonly addresses?: readonly string[]; readonly port?: number };
  readonly neighbors: readonly OverlayNeighbor[];
  readonly originate: readonly { readonly prefix: string; readonly communities?: readonly string[] }[];
  readonly ipPools: readonly { readonly cidr: string; readonly mode: 'ipip' | 'direct' | 'crossSubnet'; readonly program: boolean; readonly disableExport: boolean }[];
  readonly serviceCidrs: readonly string[];
  /** The prefixes of this Node's ipv4Address / ipv6Address: crossSubnet's local subnets (fib.nodeSubnets). */
  readonly nodeSubnets?: readonly string[];
}

/** What was supplied and why: the body of GET /api/v1/cluster's `supplied`. */
export interface ClusterSupplied {
  readonly node: { readonly name: string; readonly found: boolean; readonly ipv4?: string; readonly ipv6?: string; readonly subnet?: string; readonly asn: number; readonly clusterId?: string };
  readonly blocks: readonly { readonly cidr: string; readonly state: string; readonly announced: boolean }[];
  readonly pools: readonly { readonly name: string; readonly cidr: string; readonly mode: string; readonly program: boolean; readonly disableExport: boolean }[];
  readonly mesh: { readonly enabled: boolean; readonly reason: string; readonly peers: readonly { readonly node: string; readonly address: string; readonly passive: boolean }[] };
  readonly bgpPeers: readonly { readonly name: string; readonly matched: boolean; readonly why: string; readonly addresses: readonly string[] }[];
  readonly serviceCidrs: readonly string[];
  readonly rejected: readonly Rejected[];
}

export interface ClusterDesired {
  readonly overlay: ClusterOverlay;
  readonly supplied: ClusterSupplied;
}

/** Calico's mesh rule: passive toward a peer whose address is greater as a string ("10.0.0.5" > "10.0.0.10"). */
export const meshPassive = (self: string, peer: string): boolean => peer > self;

const familyOf = (address: string): Family => (address.includes(':') ? 'ipv6-unicast' : 'ipv4-unicast');

/** The node's addresses, one per family it has. */
function addresses(n: NodeResource): string[] {
  return [n.ipv4?.address, n.ipv6?.address].filter((a): a is string => a !== undefined);
}

export function desiredFromResources(res: ClusterResources, nodeName: string): ClusterDesired {
  const rejected: Rejected[] = [...res.rejected];
  const global = res.bgpConfigurations.get('default');
  const local = res.bgpConfigurations.get(`node.${nodeName}`);
  const self = res.nodes.get(nodeName);
  const asnOf = (n: NodeResource | undefined) => n?.asNumber ?? global?.asNumber ?? DEFAULT_ASN;
  const myAsn = asnOf(self);
  const clusterId = self?.routeReflectorClusterId;
  const pick = <K extends keyof BgpConfigurationResource>(k: K): BgpConfigurationResource[K] | undefined => local?.[k] ?? global?.[k];
  const restartTime = global?.nodeMeshMaxRestartTime ?? DEFAULT_RESTART_TIME;
  const ownAddress = (family: Family) => (family === 'ipv4-unicast' ? self?.ipv4?.address : self?.ipv6?.address);
  /** Which node owns an address, for peers that turn out to be Calico nodes. */
  const nodeByAddress = new Map<string, NodeResource>();
  for (const n of res.nodes.values()) for (const a of addresses(n)) nodeByAddress.set(a, n);

  /** A secretKeyRef's value, or why it has none (the Secret or its key is missing). */
  const secret = (ref: SecretKeyRef): { ok: true; value: string } | { ok: false; error: string } => {
    const s = res.secrets?.get(ref.name);
    if (s === undefined) return { ok: false, error: `Secret '${ref.name}' not found (or not readable)` };
    const v = s.get(ref.key);
    return v === undefined || v === '' ? { ok: false, error: `Secret '${ref.name}' has no key '${ref.key}'` } : { ok: true, value: v };
  };
  let meshPassword: string | undefined;
  if (global?.nodeMeshPassword !== undefined) {
    const p = secret(global.nodeMeshPassword);
    // the mesh stays (without a password: its sessions fail until the Secret appears) rather than go
    if (p.ok) meshPassword = p.value;
    else rejected.push({ key: 'bgpconfigurations/default', error: `spec.nodeMeshPassword: ${p.error}; mesh sessions have no password` });
  }

  // ---- mesh
  const meshOn = global?.nodeToNodeMeshEnabled ?? true;
  const meshReason = !meshOn
    ? 'nodeToNodeMeshEnabled is false'
    : self === undefined
      ? `node ${nodeName} is not in the datastore`
      : clusterId !== undefined
        ? `this node is a route reflector (cluster ID ${clusterId}) and leaves the mesh`
        : 'nodeToNodeMeshEnabled';
  const byAddress = new Map<string, OverlayNeighbor>();
  const meshPeers: { node: string; address: string; passive: boolean }[] = [];
  if (meshOn && self !== undefined && clusterId === undefined) {
    for (const other of [...res.nodes.values()].sort((a, b) => (a.name < b.name ? -1 : 1))) {
      if (other.name === nodeName || other.routeReflectorClusterId !== undefined) continue;
      for (const address of addresses(other)) {
        const family = familyOf(address);
        const mine = ownAddress(family);
        if (mine === undefined || address === mine) continue;
        const passive = meshPassive(mine, address);
        meshPeers.push({ node: other.name, address, passive });
        byAddress.set(address, {
          address,
          asn: asnOf(other),
          description: `Mesh_${address}`,
          passive,
          localAddress: mine,
          families: [family],
          addPath: 'both',
          ...(meshPassword !== undefined && { password: meshPassword }),
          gracefulRestart: { enabled: true, restartTime },
        });
      }
    }
  }

  // ---- BGPPeers
  const bgpPeers: { name: string; matched: boolean; why: string; addresses: string[] }[] = [];
  for (const peer of [...res.bgpPeers.values()].sort((a, b) => (a.name < b.name ? -1 : 1))) {
    let scope = peerScope(peer, nodeName, self);
    // Calico renders a peerSelector peering from both ends: a node the peerSelector selects
    // peers with every node in the BGPPeer's scope (how a reflector meets its clients)
    const reverse = !scope.matched && peer.peerSelector !== undefined && self !== undefined && matches(peer.peerSelector, self.labels);
    if (reverse) scope = { matched: true, why: 'spec.peerSelector selects this node: peering with the nodes in its scope' };
    if (!scope.matched) {
      bgpPeers.push({ name: peer.name, matched: false, why: scope.why, addresses: [] });
      continue;
    }
    const rules = filterRules(peer, res.bgpFilters);
    if (!rules.ok) {
      rejected.push({ key: `bgppeers/${peer.name}`, error: rules.error });
      bgpPeers.push({ name: peer.name, matched: false, why: rules.error, addresses: [] });
      continue;
    }
    const password = peer.password === undefined ? undefined : secret(peer.password);
    if (password !== undefined && !password.ok) {
      const error = `spec.password: ${password.error}`;
      rejected.push({ key: `bgppeers/${peer.name}`, error });
      bgpPeers.push({ name: peer.name, matched: false, why: error, addresses: [] });
      continue;
    }
    const targets: { address: string; asn: number; port?: number; node?: NodeResource }[] = [];
    if (peer.peerIP !== undefined) targets.push({ ...peer.peerIP, asn: peer.asNumber!, node: nodeByAddress.get(peer.peerIP.address) });
    else
      for (const n of res.nodes.values()) {
        if (n.name === nodeName) continue;
        const selected = matches(peer.peerSelector!, n.labels) || (self !== undefined && matches(peer.peerSelector!, self.labels) && peerScope(peer, n.name, n).matched);
        if (selected) for (const address of addresses(n)) targets.push({ address, asn: asnOf(n), node: n });
      }
    const used: string[] = [];
    for (const t of targets) {
      const family = familyOf(t.address);
      const mine = ownAddress(family);
      if (t.address === mine) continue;
      const ibgp = t.asn === (peer.localASNumber ?? myAsn);
      const client = clusterId !== undefined && ibgp && t.node?.routeReflectorClusterId !== clusterId;
      const kind = peer.node !== undefined || peer.nodeSelector !== undefined ? 'Node' : 'Global';
      byAddress.set(t.address, {
        address: t.address,
        asn: t.asn,
        ...(t.port !== undefined && { port: t.port }),
        description: `${kind}_${t.address}`,
        passive: t.node !== undefined && mine !== undefined ? meshPassive(mine, t.address) : false,
        ...(peer.sourceAddress === 'UseNodeIP' && mine !== undefined && { localAddress: mine }),
        ...(peer.localASNumber !== undefined && { localAsn: peer.localASNumber }),
        families: [family],
        ...(client && { routeReflectorClient: true }),
        ...(peer.nextHopMode !== undefined && { nextHopMode: peer.nextHopMode }),
        ...(peer.keepaliveTime !== undefined && { keepaliveTime: peer.keepaliveTime }),
        ...(peer.ttlSecurity !== undefined && { ttlSecurity: peer.ttlSecurity }),
        ...(peer.numAllowedLocalASNumbers !== undefined && { allowAsIn: peer.numAllowedLocalASNumbers }),
        addPath: 'both',
        ...(password?.ok && { password: password.value }),
        gracefulRestart: { enabled: true, restartTime: peer.maxRestartTime ?? DEFAULT_RESTART_TIME },
        ...(rules.imports.length > 0 && { import: rules.imports.filter((r) => r.match?.family === family) }),
        ...(rules.exports.length > 0 && { export: rules.exports.filter((r) => r.match?.family === family) }),
      });
      used.push(t.address);
    }
    bgpPeers.push({ name: peer.name, matched: true, why: scope.why, addresses: used });
  }

  // ---- pools, blocks, service IPs
  const pools = [...res.ipPools.values()].sort((a, b) => (a.name < b.name ? -1 : 1)).map(poolConfig);
  const services = [...new Set([...(global?.serviceClusterIPs ?? []), ...(global?.serviceExternalIPs ?? []), ...(global?.serviceLoadBalancerIPs ?? [])])];
  const adverts = pick('prefixAdvertisements') ?? [];
  const communitiesFor = (prefix: string) => {
    const out: string[] = [];
    for (const a of adverts) if (covers(a.cidr, prefix)) for (const c of a.communities) if (!out.includes(c)) out.push(c);
    return out.length > 0 ? { communities: out } : {};
  };
  const blocks = [...res.affinities].sort((a, b) => (a.cidr < b.cidr ? -1 : 1)).map((a) => ({ cidr: a.cidr, state: a.deleted ? 'deleted' : a.state, announced: a.state === 'confirmed' && !a.deleted }));
  const originate = [...blocks.filter((b) => b.announced).map((b) => b.cidr), ...services].map((prefix) => ({ prefix, ...communitiesFor(prefix) }));

  const bindNodeIp = pick('bindMode') === 'NodeIP' && self !== undefined && addresses(self).length > 0;
  const port = pick('listenPort');
  const nodeSubnets = [self?.ipv4?.subnet, self?.ipv6?.subnet].filter((x): x is string => x !== undefined);
  const overlay: ClusterOverlay = {
    ...(self?.ipv4 && { routerId: self.ipv4.address }),
    ...(self !== undefined && { asn: myAsn }),
    ...(clusterId !== undefined && { clusterId }),
    ...((bindNodeIp || port !== undefined) && { listen: { ...(bindNodeIp && { addresses: addresses(self) }), ...(port !== undefined && { port }) } }),
    neighbors: [...byAddress.values()],
    originate,
    ipPools: pools.map(({ name: _n, ...p }) => p),
    serviceCidrs: services,
    ...(nodeSubnets.length > 0 && { nodeSubnets }),
  };
  return {
    overlay,
    supplied: {
      node: {
        name: nodeName,
        found: self !== undefined,
        ...(self?.ipv4 && { ipv4: self.ipv4.address, subnet: self.ipv4.subnet }),
        ...(self?.ipv6 && { ipv6: self.ipv6.address }),
        asn: myAsn,
        ...(clusterId !== undefined && { clusterId }),
      },
      blocks,
      pools,
      mesh: { enabled: meshPeers.length > 0, reason: meshReason, peers: meshPeers },
      bgpPeers,
      serviceCidrs: services,
      rejected,
    },
  };
}

function peerScope(peer: BgpPeerResource, nodeName: string, self: NodeResource | undefined): { matched: boolean; why: string } {
  if (peer.node !== undefined) return peer.node === nodeName ? { matched: true, why: `spec.node is ${nodeName}` } : { matched: false, why: `spec.node is ${peer.node}` };
  if (peer.nodeSelector !== undefined) {
    if (self === undefined) return { matched: false, why: `spec.nodeSelector: node ${nodeName} is not in the datastore` };
    return matches(peer.nodeSelector, self.labels) ? { matched: true, why: 'spec.nodeSelector selects this node' } : { matched: false, why: 'spec.nodeSelector does not select this node' };
  }
  return { matched: true, why: 'global (no node or nodeSelector)' };
}

function poolConfig(p: IpPoolResource): ClusterSupplied['pools'][number] & { mode: 'ipip' | 'direct' | 'crossSubnet' } {
  const vxlan = p.vxlanMode !== 'Never';
  const mode = vxlan ? 'direct' : p.ipipMode === 'Always' ? 'ipip' : p.ipipMode === 'CrossSubnet' ? 'crossSubnet' : 'direct';
  return { name: p.name, cidr: p.cidr, mode, program: !vxlan, disableExport: p.disableBGPExport };
}

/** True when `outer` contains `inner` (same family). */
function covers(outer: string, inner: string): boolean {
  if (outer.includes(':') !== inner.includes(':')) return false;
  if (!outer.includes(':')) return v4Contains(v4KeyParse(outer)!, v4KeyParse(inner)!);
  const o = prefixParse(outer)!;
  const i = prefixParse(inner)!;
  const len = prefixLength(o);
  if (prefixLength(i) < len) return false;
  return bitsEqual(String(o), String(i), len);
}

/** IPv6 prefix keys are hex strings of the address (lib/prefix.ts): compare the first `len` bits. */
function bitsEqual(a: string, b: string, len: number): boolean {
  const hex = (s: string) => s.replace(/\/.*$/, '');
  const x = BigInt(`0x${hex(a).slice(0, 32) || '0'}`);
  const y = BigInt(`0x${hex(b).slice(0, 32) || '0'}`);
  const shift = BigInt(128 - len);
  return x >> shift === y >> shift;
}

type FilterRules = { ok: true; imports: OverlayRule[]; exports: OverlayRule[] } | { ok: false; error: string };

/** BGPFilter rules, in the order the peer names its filters (first match wins across them, as in Calico). */
function filterRules(peer: BgpPeerResource, filters: ReadonlyMap<string, BgpFilterResource>): FilterRules {
  const imports: OverlayRule[] = [];
  const exports: OverlayRule[] = [];
  for (const name of peer.filters) {
    const f = filters.get(name);
    if (f === undefined) return { ok: false, error: `spec.filters: BGPFilter '${name}' does not exist (or was rejected)` };
    imports.push(...f.importV4.map((r) => rule(r, 'ipv4-unicast')), ...f.importV6.map((r) => rule(r, 'ipv6-unicast')));
    exports.push(...f.exportV4.map((r) => rule(r, 'ipv4-unicast')), ...f.exportV6.map((r) => rule(r, 'ipv6-unicast')));
  }
  return { ok: true, imports, exports };
}

function rule(r: BgpFilterRule, family: Family): OverlayRule {
  const op = r.matchOperator && ({ Equal: 'equal', NotEqual: 'notEqual', In: 'in', NotIn: 'notIn' } as const)[r.matchOperator];
  return {
    match: {
      family,
      ...(r.cidr !== undefined && { prefix: r.cidr }),
      ...(op !== undefined && { matchOperator: op }),
      ...(r.prefixLength?.min !== undefined && { ge: r.prefixLength.min }),
      ...(r.prefixLength?.max !== undefined && { le: r.prefixLength.max }),
    },
    action: r.action === 'Accept' ? 'accept' : 'reject',
  };
}
