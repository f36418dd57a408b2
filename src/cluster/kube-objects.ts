// Kubernetes API objects (what `kubectl get -o json` shows) turned into the
// resources the model reads, so the Kubernetes datastore means exactly what
// the etcd one does: one model, two readers. PURE: parsed JSON in, typed
// resources or an error naming the field out.
// - v1 Node: Calico keeps its node facts in annotations (libcalico-go's
//   K8sNodeToCalico): projectcalico.org/IPv4Address (a CIDR: address and
//   local subnet), IPv6Address, ASNumber, RouteReflectorClusterID; the labels
//   feed selectors. A node without the IPv4 annotation falls back to its
//   InternalIP address (status.addresses), with no subnet beyond itself.
//   spec.podCIDRs (else spec.podCIDR) are its blocks under host-local IPAM.
// - crd.projectcalico.org/v1 BGPConfiguration, BGPPeer, IPPool, BGPFilter:
//   the spec is the projectcalico.org/v3 spec, decoded by resources.ts with
//   Secrets allowed (password.secretKeyRef, nodeMeshPassword).
// - BlockAffinity: spec.node, spec.cidr, spec.state, spec.deleted (a string
//   "true"/"false" in the CRD).
// - Secret: data values are base64 (RFC 4648 §4).

import { decodeAffinity, decodeResource, type BlockAffinity, type Decoded, type NodeResource, type Resource, type ResourceKind } from './resources.js';

export type KubeKind = ResourceKind | 'BlockAffinity';

/** Where each kind lives in the API (list and watch paths). */
export const KUBE_PATHS: Readonly<Record<KubeKind, string>> = {
  Node: '/api/v1/nodes',
  BGPConfiguration: '/apis/crd.projectcalico.org/v1/bgpconfigurations',
  BGPPeer: '/apis/crd.projectcalico.org/v1/bgppeers',
  IPPool: '/apis/crd.projectcalico.org/v1/ippools',
  BGPFilter: '/apis/crd.projectcalico.org/v1/bgpfilters',
  BlockAffinity: '/apis/crd.projectcalico.org/v1/blockaffinities',
};

export const ANNOTATION = {
  ipv4: 'projectcalico.org/IPv4Address',
  ipv6: 'projectcalico.org/IPv6Address',
  asNumber: 'projectcalico.org/ASNumber',
  clusterId: 'projectcalico.org/RouteReflectorClusterID',
} as const;

/** A Node as the model takes it, plus its pod CIDRs (host-local IPAM's blocks). */
export interface KubeNode {
  readonly resource: NodeResource;
  readonly podCIDRs: readonly string[];
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const got = (v: unknown) => (typeof v === 'string' ? `'${v}'` : JSON.stringify(v));

/** metadata.name of an API object, or undefined when it has none. */
export function objectName(o: unknown): string | undefined {
  const meta = isObj(o) ? o['metadata'] : undefined;
  const name = isObj(meta) ? meta['name'] : undefined;
  return typeof name === 'string' && name !== '' ? name : undefined;
}

function fail<T>(error: string): Decoded<T> {
  return { ok: false, error };
}

/** A v1 Node in the v3 Node's shape, decoded by resources.ts (same checks, same errors). */
export function nodeFromKube(o: unknown): Decoded<KubeNode> {
  if (!isObj(o)) return fail(`the object must be a JSON object, got ${got(o)}`);
  const name = objectName(o);
  if (name === undefined) return fail('metadata.name: required');
  const meta = o['metadata'] as Obj;
  const ann = isObj(meta['annotations']) ? (meta['annotations'] as Obj) : {};
  const spec = isObj(o['spec']) ? (o['spec'] as Obj) : {};
  const status = isObj(o['status']) ? (o['status'] as Obj) : {};
  const bgp: Obj = {};
  const a = (k: string): unknown => ann[k];
  if (a(ANNOTATION.ipv4) !== undefined) bgp['ipv4Address'] = a(ANNOTATION.ipv4);
  if (a(ANNOTATION.ipv6) !== undefined) bgp['ipv6Address'] = a(ANNOTATION.ipv6);
  if (a(ANNOTATION.clusterId) !== undefined) bgp['routeReflectorClusterID'] = a(ANNOTATION.clusterId);
  const asn = a(ANNOTATION.asNumber);
  if (asn !== undefined) bgp['asNumber'] = typeof asn === 'string' && /^\d+$/.test(asn) ? Number(asn) : asn;
  if (bgp['ipv4Address'] === undefined || bgp['ipv6Address'] === undefined) {
    const addrs = Array.isArray(status['addresses']) ? (status['addresses'] as unknown[]) : [];
    for (const e of addrs) {
      if (!isObj(e) || e['type'] !== 'InternalIP' || typeof e['address'] !== 'string') continue;
      const v6 = e['address'].includes(':');
      const key = v6 ? 'ipv6Address' : 'ipv4Address';
      if (bgp[key] === undefined) bgp[key] = `${e['address']}/${v6 ? 128 : 32}`;
    }
  }
  const r = decodeResource('Node', name, { metadata: { name, labels: meta['labels'] }, spec: { bgp } });
  if (!r.ok) return fail(annotationError(r.error));
  const cidrs = Array.isArray(spec['podCIDRs']) ? (spec['podCIDRs'] as unknown[]) : spec['podCIDR'] !== undefined ? [spec['podCIDR']] : [];
  for (const [i, c] of cidrs.entries()) if (typeof c !== 'string') return fail(`spec.podCIDRs[${i}]: must be a string, got ${got(c)}`);
  return { ok: true, value: { resource: r.value as NodeResource, podCIDRs: cidrs as string[] } };
}

/** resources.ts names v3 fields; on a v1 Node they are annotations. */
function annotationError(error: string): string {
  return error
    .replace('spec.bgp.ipv4Address', `metadata.annotations['${ANNOTATION.ipv4}'] (or the InternalIP)`)
    .replace('spec.bgp.ipv6Address', `metadata.annotations['${ANNOTATION.ipv6}'] (or the InternalIP)`)
    .replace('spec.bgp.asNumber', `metadata.annotations['${ANNOTATION.asNumber}']`)
    .replace('spec.bgp.routeReflectorClusterID', `metadata.annotations['${ANNOTATION.clusterId}']`);
}

/** A crd.projectcalico.org/v1 object of one of the model's kinds. */
export function crdFromKube(kind: ResourceKind, o: unknown): Decoded<Resource> {
  const name = objectName(o);
  if (name === undefined) return fail('metadata.name: required');
  const apiVersion = isObj(o) ? o['apiVersion'] : undefined;
  if (apiVersion !== undefined && apiVersion !== 'crd.projectcalico.org/v1') return fail(`apiVersion: must be crd.projectcalico.org/v1, got ${got(apiVersion)}`);
  return decodeResource(kind, name, o, { secrets: true });
}

/** A BlockAffinity CRD: whose block, which, and its state. */
export function affinityFromKube(o: unknown): Decoded<BlockAffinity> {
  const name = objectName(o);
  if (name === undefined) return fail('metadata.name: required');
  const spec = isObj(o) && isObj(o['spec']) ? (o['spec'] as Obj) : undefined;
  if (spec === undefined) return fail('spec: required');
  const node = spec['node'];
  const cidr = spec['cidr'];
  if (typeof node !== 'string' || node === '') return fail(`spec.node: must be a node name, got ${got(node)}`);
  if (typeof cidr !== 'string') return fail(`spec.cidr: must be a prefix string, got ${got(cidr)}`);
  const r = decodeAffinity(node, cidr, JSON.stringify({ state: spec['state'] ?? 'confirmed', deleted: spec['deleted'] ?? 'false' }));
  return r.ok ? r : fail(r.error.replace(/^(state|deleted):/, 'spec.$1:').replace('the block in the key', 'spec.cidr'));
}

/** The node name a BlockAffinity object belongs to, without decoding the rest (most are other nodes'). */
export function affinityNode(o: unknown): string | undefined {
  const spec = isObj(o) ? o['spec'] : undefined;
  const node = isObj(spec) ? spec['node'] : undefined;
  return typeof node === 'string' ? node : undefined;
}

/** A v1 Secret's data, base64-decoded. */
export function secretFromKube(o: unknown): Decoded<ReadonlyMap<string, string>> {
  if (!isObj(o)) return fail(`the object must be a JSON object, got ${got(o)}`);
  const data = o['data'] ?? {};
  if (!isObj(data)) return fail(`data: must be an object, got ${got(data)}`);
  const out = new Map<string, string>();
  for (const [k, v] of Object.entries(data)) {
    if (typeof v !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(v)) return fail(`data.${k}: must be base64, got ${got(v)}`);
    out.set(k, Buffer.from(v, 'base64').toString('utf8'));
  }
  const sd = o['stringData'];
  if (isObj(sd)) for (const [k, v] of Object.entries(sd)) if (typeof v === 'string') out.set(k, v);
  return { ok: true, value: out };
}
