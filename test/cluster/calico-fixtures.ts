// Calico resources in the JSON shapes libcalico-go stores in etcd v3, as
// (key, value) pairs: shared by the model tests, the etcd backend tests and
// the interop tests that write them with etcdctl.

export type Entry = readonly [string, string];

const R = '/calico/resources/v3/projectcalico.org';

const resource = (plural: string, kind: string, name: string, spec: unknown, labels?: Record<string, string>): Entry => [
  `${R}/${plural}/${name}`,
  JSON.stringify({ kind, apiVersion: 'projectcalico.org/v3', metadata: { name, ...(labels && { labels }), uid: `uid-${name}` }, spec }),
];

export const node = (name: string, ipv4: string | undefined, extra: { labels?: Record<string, string>; asNumber?: number; clusterId?: string; ipv6?: string } = {}): Entry =>
  resource(
    'nodes',
    'Node',
    name,
    {
      bgp: {
        ...(ipv4 && { ipv4Address: ipv4 }),
        ...(extra.ipv6 && { ipv6Address: extra.ipv6 }),
        ...(extra.asNumber !== undefined && { asNumber: extra.asNumber }),
        ...(extra.clusterId && { routeReflectorClusterID: extra.clusterId }),
      },
      orchRefs: [{ nodeName: name, orchestrator: 'k8s' }],
    },
    extra.labels,
  );

export const bgpConfiguration = (name: string, spec: Record<string, unknown>): Entry => resource('bgpconfigurations', 'BGPConfiguration', name, spec);
export const bgpPeer = (name: string, spec: Record<string, unknown>): Entry => resource('bgppeers', 'BGPPeer', name, spec);
export const bgpFilter = (name: string, spec: Record<string, unknown>): Entry => resource('bgpfilters', 'BGPFilter', name, spec);
export const ipPool = (name: string, spec: Record<string, unknown>): Entry =>
  resource('ippools', 'IPPool', name, { blockSize: 26, natOutgoing: true, nodeSelector: 'all()', ...spec });

export const affinityKey = (nodeName: string, cidr: string): string =>
  `/calico/ipam/v2/host/${nodeName}/ipv${cidr.includes(':') ? 6 : 4}/block/${cidr.replace('/', '-')}`;
export const affinity = (nodeName: string, cidr: string, state = 'confirmed', deleted = false): Entry => [
  affinityKey(nodeName, cidr),
  JSON.stringify({ state, deleted }),
];
