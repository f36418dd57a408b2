// Objects in `kubectl get -o json`'s shape for the Kubernetes datastore's
// tests: v1 Nodes with Calico's annotations, crd.projectcalico.org/v1
// resources, BlockAffinities (spec.deleted a string), v1 Secrets (base64).

export const NODES = '/api/v1/nodes';
export const CRD = '/apis/crd.projectcalico.org/v1';
export const secretsPath = (ns = 'kube-system') => `/api/v1/namespaces/${ns}/secrets`;

export const kubeNode = (name: string, ip: string | undefined, opts: { labels?: Record<string, string>; annotations?: Record<string, string>; podCIDRs?: string[] } = {}) => ({
  apiVersion: 'v1',
  kind: 'Node',
  metadata: {
    name,
    uid: `uid-${name}`,
    creationTimestamp: '2026-01-01T00:00:00Z',
    labels: { 'kubernetes.io/hostname': name, ...opts.labels },
    annotations: { ...(ip !== undefined && { 'projectcalico.org/IPv4Address': `${ip}/24` }), 'node.alpha.kubernetes.io/ttl': '0', ...opts.annotations },
  },
  spec: { ...(opts.podCIDRs && { podCIDR: opts.podCIDRs[0], podCIDRs: opts.podCIDRs }) },
  status: { addresses: [...(ip !== undefined ? [{ type: 'InternalIP', address: ip }] : []), { type: 'Hostname', address: name }], conditions: [{ type: 'Ready', status: 'True' }] },
});

export const crd = (kind: string, name: string, spec: unknown) => ({ apiVersion: 'crd.projectcalico.org/v1', kind, metadata: { name, uid: `uid-${name}`, generation: 1, creationTimestamp: '2026-01-01T00:00:00Z' }, spec });

export const affinity = (node: string, cidr: string, state = 'confirmed', deleted = 'false') => crd('BlockAffinity', `${node}-${cidr.replace(/[./]/g, '-')}`, { node, cidr, state, deleted });

export const secret = (name: string, data: Record<string, string>, namespace = 'kube-system') => ({
  apiVersion: 'v1',
  kind: 'Secret',
  type: 'Opaque',
  metadata: { name, namespace, uid: `uid-${name}` },
  data: Object.fromEntries(Object.entries(data).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
});
