// Calico's etcd v3 key layout (libcalico-go's model paths), decoded into the
// resource set the model reads. PURE: (key, value) pairs in, typed resources
// and per-key rejections out. The backend watches exactly two prefixes:
//   /calico/resources/v3/projectcalico.org/<plural>/<name>   v3 resources (JSON)
//   /calico/ipam/v2/host/<node>/ipv4|ipv6/block/<a.b.c.d-len>   this node's block affinities
// Anything else under those prefixes (kinds we have no use for) is ignored.

import { decodeAffinity, decodeResource, type BlockAffinity, type BgpConfigurationResource, type BgpFilterResource, type BgpPeerResource, type IpPoolResource, type NodeResource, type ResourceKind } from './resources.js';

export const RESOURCES_PREFIX = '/calico/resources/v3/projectcalico.org/';
export const affinityPrefix = (node: string): string => `/calico/ipam/v2/host/${node}/`;

const PLURALS: Readonly<Record<string, ResourceKind>> = {
  nodes: 'Node',
  bgpconfigurations: 'BGPConfiguration',
  bgppeers: 'BGPPeer',
  ippools: 'IPPool',
  bgpfilters: 'BGPFilter',
};

export interface Rejected {
  /** The datastore key of the resource that was skipped. */
  readonly key: string;
  readonly error: string;
}

/** Everything the model reads, by resource name. */
export interface ClusterResources {
  readonly nodes: ReadonlyMap<string, NodeResource>;
  readonly bgpConfigurations: ReadonlyMap<string, BgpConfigurationResource>;
  readonly bgpPeers: ReadonlyMap<string, BgpPeerResource>;
  readonly ipPools: ReadonlyMap<string, IpPoolResource>;
  readonly bgpFilters: ReadonlyMap<string, BgpFilterResource>;
  /** This node's block affinities (any state). */
  readonly affinities: readonly BlockAffinity[];
  readonly rejected: readonly Rejected[];
  /**
   * Secrets the resources' secretKeyRefs name, by name: data key -> value
   * (Kubernetes only; absent: a datastore without Secrets).
   */
  readonly secrets?: ReadonlyMap<string, ReadonlyMap<string, string>>;
}

/** Decodes every entry; a bad one is rejected with its key, the rest apply. */
export function resourcesFromEntries(entries: Iterable<readonly [string, string]>, nodeName: string): ClusterResources {
  const maps = { Node: new Map(), BGPConfiguration: new Map(), BGPPeer: new Map(), IPPool: new Map(), BGPFilter: new Map() } as Record<ResourceKind, Map<string, unknown>>;
  const affinities: BlockAffinity[] = [];
  const rejected: Rejected[] = [];
  const own = affinityPrefix(nodeName);
  for (const [key, value] of entries) {
    if (key.startsWith(RESOURCES_PREFIX)) {
      const [plural, name, ...rest] = key.slice(RESOURCES_PREFIX.length).split('/');
      const kind = PLURALS[plural ?? ''];
      if (kind === undefined || rest.length > 0 || !name) continue;
      let json: unknown;
      try {
        json = JSON.parse(value);
      } catch (e) {
        rejected.push({ key, error: `the value is not JSON: ${(e as Error).message}` });
        continue;
      }
      const r = decodeResource(kind, name, json);
      if (r.ok) maps[kind].set(name, r.value);
      else rejected.push({ key, error: r.error });
    } else if (key.startsWith(own)) {
      const m = /^ipv[46]\/block\/(.+)$/.exec(key.slice(own.length));
      if (!m) continue;
      const dash = m[1]!.lastIndexOf('-');
      const cidr = dash < 0 ? m[1]! : `${m[1]!.slice(0, dash)}/${m[1]!.slice(dash + 1)}`;
      const a = decodeAffinity(nodeName, cidr, value);
      if (a.ok) affinities.push(a.value);
      else rejected.push({ key, error: a.error });
    }
  }
  return {
    nodes: maps.Node as Map<string, NodeResource>,
    bgpConfigurations: maps.BGPConfiguration as Map<string, BgpConfigurationResource>,
    bgpPeers: maps.BGPPeer as Map<string, BgpPeerResource>,
    ipPools: maps.IPPool as Map<string, IpPoolResource>,
    bgpFilters: maps.BGPFilter as Map<string, BgpFilterResource>,
    affinities,
    rejected,
  };
}
