// Calico's datastore resources as bgp-ts reads them: typed shapes for Node,
// BGPConfiguration, BGPPeer, IPPool, BGPFilter and the IPAM block affinity,
// and a decoder per kind that checks every field we use and returns either the
// typed resource or an error naming the field ("spec.ipipMode: must be
// Always, CrossSubnet or Never, got 'Sometimes'"). PURE: JSON values in, data
// out; the datastore's key layout lives with its backend (etcd-keys.ts).
// Field meanings follow projectcalico.org/v3 (libcalico-go's api types);
// fields bgp-ts has no use for are ignored, not rejected.

import { canonicalIp, maskedPrefix } from '../config/formats.js';
import { prefixParse, prefixToString } from '../lib/prefix.js';
import { parseSelector, type Labels, type Selector } from './selector.js';

export type ResourceKind = 'Node' | 'BGPConfiguration' | 'BGPPeer' | 'IPPool' | 'BGPFilter';

export interface NodeResource {
  readonly kind: 'Node';
  readonly name: string;
  readonly labels: Labels;
  /** spec.bgp.ipv4Address split: the address and the subnet it sits in (CrossSubnet's "local subnet"). */
  readonly ipv4?: { readonly address: string; readonly subnet: string };
  readonly ipv6?: { readonly address: string; readonly subnet: string };
  readonly asNumber?: number;
  readonly routeReflectorClusterId?: string;
}

export interface ServiceCidr {
  readonly cidr: string;
}

export interface BgpConfigurationResource {
  readonly kind: 'BGPConfiguration';
  readonly name: string;
  readonly nodeToNodeMeshEnabled?: boolean;
  readonly asNumber?: number;
  readonly listenPort?: number;
  /** Seconds (a Go duration in the resource). */
  readonly nodeMeshMaxRestartTime?: number;
  readonly serviceClusterIPs: readonly string[];
  readonly serviceExternalIPs: readonly string[];
  readonly serviceLoadBalancerIPs: readonly string[];
  /** name -> "aa:nn" or "aa:nn:mm". */
  readonly communities: Readonly<Record<string, string>>;
  readonly prefixAdvertisements: readonly { readonly cidr: string; readonly communities: readonly string[] }[];
  readonly bindMode?: 'None' | 'NodeIP';
  /** spec.nodeMeshPassword.secretKeyRef (Kubernetes datastore only). */
  readonly nodeMeshPassword?: SecretKeyRef;
}

/** A key of a Secret in the configured namespace (Kubernetes datastore only). */
export interface SecretKeyRef {
  readonly name: string;
  readonly key: string;
}

/** What a decoder may accept beyond the etcd layout. */
export interface DecodeOptions {
  /** Secrets exist (Kubernetes): password.secretKeyRef is read, not rejected. */
  readonly secrets?: boolean;
}

export interface BgpPeerResource {
  readonly kind: 'BGPPeer';
  readonly name: string;
  readonly node?: string;
  readonly nodeSelector?: Selector;
  readonly peerIP?: { readonly address: string; readonly port?: number };
  readonly peerSelector?: Selector;
  readonly asNumber?: number;
  readonly nextHopMode?: 'auto' | 'self' | 'keep';
  readonly sourceAddress: 'UseNodeIP' | 'None';
  readonly maxRestartTime?: number;
  readonly keepaliveTime?: number;
  readonly ttlSecurity?: number;
  readonly numAllowedLocalASNumbers?: number;
  readonly localASNumber?: number;
  readonly filters: readonly string[];
  /** spec.password.secretKeyRef (Kubernetes datastore only). */
  readonly password?: SecretKeyRef;
}

export type IpipMode = 'Always' | 'CrossSubnet' | 'Never';

export interface IpPoolResource {
  readonly kind: 'IPPool';
  readonly name: string;
  readonly cidr: string;
  readonly ipipMode: IpipMode;
  readonly vxlanMode: IpipMode;
  readonly disabled: boolean;
  readonly disableBGPExport: boolean;
  readonly nodeSelector?: Selector;
}

export interface BgpFilterRule {
  readonly cidr?: string;
  readonly matchOperator?: 'Equal' | 'NotEqual' | 'In' | 'NotIn';
  readonly prefixLength?: { readonly min?: number; readonly max?: number };
  readonly action: 'Accept' | 'Reject';
}

export interface BgpFilterResource {
  readonly kind: 'BGPFilter';
  readonly name: string;
  readonly exportV4: readonly BgpFilterRule[];
  readonly importV4: readonly BgpFilterRule[];
  readonly exportV6: readonly BgpFilterRule[];
  readonly importV6: readonly BgpFilterRule[];
}

export type AffinityState = 'confirmed' | 'pending' | 'pendingDeletion';

export interface BlockAffinity {
  readonly node: string;
  readonly cidr: string;
  readonly state: AffinityState;
  readonly deleted: boolean;
}

export type Resource = NodeResource | BgpConfigurationResource | BgpPeerResource | IpPoolResource | BgpFilterResource;

export type Decoded<T> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: string };

/** Thrown inside a decoder only; decodeResource turns it into a value. */
class FieldError extends Error {}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const got = (v: unknown) => (typeof v === 'string' ? `'${v}'` : JSON.stringify(v));

function obj(o: Obj, path: string, key: string): Obj | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (!isObj(v)) throw new FieldError(`${path}${key}: must be an object, got ${got(v)}`);
  return v;
}
function str(o: Obj, path: string, key: string): string | undefined {
  const v = o[key];
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string') throw new FieldError(`${path}${key}: must be a string, got ${got(v)}`);
  return v;
}
function bool(o: Obj, path: string, key: string): boolean | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') throw new FieldError(`${path}${key}: must be true or false, got ${got(v)}`);
  return v;
}
function int(o: Obj, path: string, key: string, min: number, max: number): number | undefined {
  const v = o[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw new FieldError(`${path}${key}: must be an integer ${min}..${max}, got ${got(v)}`);
  return v;
}
function oneOf<T extends string>(o: Obj, path: string, key: string, values: readonly T[]): T | undefined {
  const v = str(o, path, key);
  if (v === undefined) return undefined;
  if (!values.includes(v as T)) throw new FieldError(`${path}${key}: must be ${values.join(', ').replace(/, ([^,]*)$/, ' or $1')}, got '${v}'`);
  return v as T;
}
function list(o: Obj, path: string, key: string): unknown[] {
  const v = o[key];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new FieldError(`${path}${key}: must be a list, got ${got(v)}`);
  return v;
}
/** An AS number: an integer, or Calico's dotted "a.b" form (RFC 5396 asdot). */
function asn(o: Obj, path: string, key: string): number | undefined {
  const v = o[key];
  if (typeof v === 'string' && /^\d+\.\d+$/.test(v)) {
    const [hi, lo] = v.split('.').map(Number) as [number, number];
    if (hi <= 65535 && lo <= 65535 && hi * 65536 + lo > 0) return hi * 65536 + lo;
  }
  return int(o, path, key, 1, 4294967295);
}
function prefix(text: string, where: string): string {
  const strict = prefixParse(text);
  if (strict !== undefined) return prefixToString(strict);
  const masked = text.includes('/') ? maskedPrefix(text) : undefined;
  throw new FieldError(masked === undefined ? `${where}: not an IP prefix, got '${text}'` : `${where}: host bits set in '${text}' (did you mean ${masked}?)`);
}
/** "10.0.0.1/24": the address and its subnet (host bits may be set, as Calico writes node addresses). */
function addressInSubnet(text: string, where: string): { address: string; subnet: string } {
  const [addr, len] = text.split('/');
  const address = canonicalIp(addr ?? '');
  const subnet = maskedPrefix(len === undefined ? `${addr}/${addr!.includes(':') ? 128 : 32}` : text);
  if (address === undefined || subnet === undefined) throw new FieldError(`${where}: not an address with a prefix length, got '${text}'`);
  return { address, subnet };
}
function selector(o: Obj, path: string, key: string): Selector | undefined {
  const text = str(o, path, key);
  if (text === undefined) return undefined;
  const r = parseSelector(text);
  if (!r.ok) throw new FieldError(`${path}${key}: selector ${got(text)} does not parse: ${r.error}`);
  return r.selector;
}
/** A Go duration ("120s", "1m30s", "2h", "500ms") in whole seconds, rounded up. */
export function durationSeconds(text: string): number | undefined {
  if (!/^(\d+(\.\d+)?(h|m|s|ms))+$/.test(text)) return undefined;
  let ms = 0;
  for (const m of text.matchAll(/(\d+(?:\.\d+)?)(h|ms|m|s)/g)) ms += Number(m[1]) * { h: 3_600_000, m: 60_000, s: 1000, ms: 1 }[m[2] as 'h']!;
  return Math.ceil(ms / 1000);
}
function duration(o: Obj, path: string, key: string, max: number): number | undefined {
  const text = str(o, path, key);
  if (text === undefined) return undefined;
  const s = durationSeconds(text);
  if (s === undefined || s > max) throw new FieldError(`${path}${key}: must be a duration such as "120s" up to ${max}s, got '${text}'`);
  return s;
}
function labels(meta: Obj): Labels {
  const l = obj(meta, 'metadata.', 'labels') ?? {};
  for (const [k, v] of Object.entries(l)) if (typeof v !== 'string') throw new FieldError(`metadata.labels.${k}: must be a string, got ${got(v)}`);
  return l as Labels;
}

/**
 * Decodes one v3 resource (the JSON Calico stores). `kind` is the kind the key
 * names; `name` the key's last segment, which metadata.name must match when set.
 */
export function decodeResource(kind: ResourceKind, name: string, json: unknown, opts: DecodeOptions = {}): Decoded<Resource> {
  try {
    if (!isObj(json)) throw new FieldError(`the value must be a JSON object, got ${got(json)}`);
    if (json['kind'] !== undefined && json['kind'] !== kind) throw new FieldError(`kind: must be ${kind}, got ${got(json['kind'])}`);
    const meta = obj(json, '', 'metadata') ?? {};
    const metaName = str(meta, 'metadata.', 'name');
    if (metaName !== undefined && metaName !== name) throw new FieldError(`metadata.name: '${metaName}' does not match the key's name '${name}'`);
    const spec = obj(json, '', 'spec') ?? {};
    return { ok: true, value: DECODERS[kind](name, spec, meta, opts) };
  } catch (e) {
    if (e instanceof FieldError) return { ok: false, error: e.message };
    throw e;
  }
}

const DECODERS: Record<ResourceKind, (name: string, spec: Obj, meta: Obj, opts: DecodeOptions) => Resource> = {
  Node(name, spec, meta) {
    const bgp = obj(spec, 'spec.', 'bgp') ?? {};
    const v4 = str(bgp, 'spec.bgp.', 'ipv4Address');
    const v6 = str(bgp, 'spec.bgp.', 'ipv6Address');
    const ipv4 = v4 === undefined ? undefined : addressInSubnet(v4, 'spec.bgp.ipv4Address');
    if (ipv4 && ipv4.address.includes(':')) throw new FieldError(`spec.bgp.ipv4Address: not an IPv4 address, got '${v4}'`);
    const ipv6 = v6 === undefined ? undefined : addressInSubnet(v6, 'spec.bgp.ipv6Address');
    if (ipv6 && !ipv6.address.includes(':')) throw new FieldError(`spec.bgp.ipv6Address: not an IPv6 address, got '${v6}'`);
    const cid = str(bgp, 'spec.bgp.', 'routeReflectorClusterID');
    if (cid !== undefined && (cid.includes(':') || canonicalIp(cid) === undefined))
      throw new FieldError(`spec.bgp.routeReflectorClusterID: must be an IPv4 address (RFC 4456 cluster ID), got '${cid}'`);
    return { kind: 'Node', name, labels: labels(meta), ipv4, ipv6, asNumber: asn(bgp, 'spec.bgp.', 'asNumber'), routeReflectorClusterId: cid };
  },
  BGPConfiguration(name, spec, _meta, opts) {
    const cidrs = (key: string) =>
      list(spec, 'spec.', key).map((e, i) => {
        const where = `spec.${key}[${i}]`;
        if (!isObj(e) || typeof e['cidr'] !== 'string') throw new FieldError(`${where}.cidr: must be a prefix string, got ${got(isObj(e) ? e['cidr'] : e)}`);
        return prefix(e['cidr'], `${where}.cidr`);
      });
    const communities: Record<string, string> = {};
    list(spec, 'spec.', 'communities').forEach((e, i) => {
      const where = `spec.communities[${i}]`;
      if (!isObj(e) || typeof e['name'] !== 'string' || typeof e['value'] !== 'string') throw new FieldError(`${where}: must have a string name and value`);
      if (!COMMUNITY.test(e['value'])) throw new FieldError(`${where}.value: must be "aa:nn" or "aa:nn:mm", got '${e['value']}'`);
      communities[e['name']] = e['value'];
    });
    const prefixAdvertisements = list(spec, 'spec.', 'prefixAdvertisements').map((e, i) => {
      const where = `spec.prefixAdvertisements[${i}]`;
      if (!isObj(e) || typeof e['cidr'] !== 'string') throw new FieldError(`${where}.cidr: must be a prefix string`);
      const values = list(e, `${where}.`, 'communities').map((c, j) => {
        const v = typeof c === 'string' ? (communities[c] ?? c) : undefined;
        if (v === undefined || !COMMUNITY.test(v)) throw new FieldError(`${where}.communities[${j}]: ${got(c)} is neither a community value nor a name in spec.communities`);
        return v;
      });
      return { cidr: prefix(e['cidr'], `${where}.cidr`), communities: values };
    });
    return {
      kind: 'BGPConfiguration',
      name,
      nodeToNodeMeshEnabled: bool(spec, 'spec.', 'nodeToNodeMeshEnabled'),
      asNumber: asn(spec, 'spec.', 'asNumber'),
      listenPort: int(spec, 'spec.', 'listenPort', 1, 65535),
      nodeMeshMaxRestartTime: duration(spec, 'spec.', 'nodeMeshMaxRestartTime', 4095),
      serviceClusterIPs: cidrs('serviceClusterIPs'),
      serviceExternalIPs: cidrs('serviceExternalIPs'),
      serviceLoadBalancerIPs: cidrs('serviceLoadBalancerIPs'),
      communities,
      prefixAdvertisements,
      bindMode: oneOf(spec, 'spec.', 'bindMode', ['None', 'NodeIP'] as const),
      ...(opts.secrets && { nodeMeshPassword: secretKeyRef(spec, 'nodeMeshPassword') }),
    };
  },
  BGPPeer(name, spec, _meta, opts) {
    if (!opts.secrets && obj(spec, 'spec.', 'password') !== undefined)
      throw new FieldError('spec.password: secretKeyRef needs Kubernetes Secrets, which an etcd datastore does not have; set the neighbor password in the config file');
    const peerText = str(spec, 'spec.', 'peerIP');
    const peerSelector = selector(spec, 'spec.', 'peerSelector');
    const node = str(spec, 'spec.', 'node');
    const nodeSelector = selector(spec, 'spec.', 'nodeSelector');
    if (node !== undefined && nodeSelector !== undefined) throw new FieldError('spec.node and spec.nodeSelector: set at most one');
    if ((peerText === undefined) === (peerSelector === undefined)) throw new FieldError('spec.peerIP and spec.peerSelector: set exactly one');
    const asNumber = asn(spec, 'spec.', 'asNumber');
    if (peerText !== undefined && asNumber === undefined) throw new FieldError('spec.asNumber: required with spec.peerIP');
    const keep = bool(spec, 'spec.', 'keepOriginalNextHop');
    const mode = oneOf(spec, 'spec.', 'nextHopMode', ['Auto', 'Self', 'Keep'] as const);
    return {
      kind: 'BGPPeer',
      name,
      node,
      nodeSelector,
      peerIP: peerText === undefined ? undefined : peerAddress(peerText),
      peerSelector,
      asNumber,
      nextHopMode: mode !== undefined ? (mode.toLowerCase() as 'auto') : keep ? 'keep' : undefined,
      sourceAddress: oneOf(spec, 'spec.', 'sourceAddress', ['UseNodeIP', 'None'] as const) ?? 'UseNodeIP',
      maxRestartTime: duration(spec, 'spec.', 'maxRestartTime', 4095),
      keepaliveTime: duration(spec, 'spec.', 'keepaliveTime', 21845),
      ttlSecurity: int(spec, 'spec.', 'ttlSecurity', 0, 254) || undefined,
      numAllowedLocalASNumbers: int(spec, 'spec.', 'numAllowedLocalASNumbers', 0, 10),
      localASNumber: asn(spec, 'spec.', 'localASNumber'),
      filters: list(spec, 'spec.', 'filters').map((f, i) => {
        if (typeof f !== 'string' || f === '') throw new FieldError(`spec.filters[${i}]: must be a BGPFilter name, got ${got(f)}`);
        return f;
      }),
      ...(opts.secrets && { password: secretKeyRef(spec, 'password') }),
    };
  },
  IPPool(name, spec) {
    const cidr = str(spec, 'spec.', 'cidr');
    if (cidr === undefined) throw new FieldError('spec.cidr: required');
    const modes = ['Always', 'CrossSubnet', 'Never'] as const;
    return {
      kind: 'IPPool',
      name,
      cidr: prefix(cidr, 'spec.cidr'),
      ipipMode: oneOf(spec, 'spec.', 'ipipMode', modes) ?? 'Never',
      vxlanMode: oneOf(spec, 'spec.', 'vxlanMode', modes) ?? 'Never',
      disabled: bool(spec, 'spec.', 'disabled') ?? false,
      disableBGPExport: bool(spec, 'spec.', 'disableBGPExport') ?? false,
      nodeSelector: selector(spec, 'spec.', 'nodeSelector'),
    };
  },
  BGPFilter(name, spec) {
    const rules = (key: string, v6: boolean) =>
      list(spec, 'spec.', key).map((r, i): BgpFilterRule => {
        const where = `spec.${key}[${i}].`;
        if (!isObj(r)) throw new FieldError(`spec.${key}[${i}]: must be an object`);
        for (const unsupported of ['source', 'interface'])
          if (r[unsupported] !== undefined) throw new FieldError(`${where}${unsupported}: not supported by bgp-ts yet`);
        const cidr = str(r, where, 'cidr');
        const p = cidr === undefined ? undefined : prefix(cidr, `${where}cidr`);
        if (p !== undefined && p.includes(':') !== v6) throw new FieldError(`${where}cidr: '${cidr}' is not an IPv${v6 ? 6 : 4} prefix`);
        const pl = obj(r, where, 'prefixLength');
        const maxLen = v6 ? 128 : 32;
        return {
          cidr: p,
          matchOperator: oneOf(r, where, 'matchOperator', ['Equal', 'NotEqual', 'In', 'NotIn'] as const),
          prefixLength: pl && { min: int(pl, `${where}prefixLength.`, 'min', 0, maxLen), max: int(pl, `${where}prefixLength.`, 'max', 0, maxLen) },
          action: oneOf(r, where, 'action', ['Accept', 'Reject'] as const) ?? fail(`${where}action: required (Accept or Reject)`),
        };
      });
    return { kind: 'BGPFilter', name, exportV4: rules('exportV4', false), importV4: rules('importV4', false), exportV6: rules('exportV6', true), importV6: rules('importV6', true) };
  },
};

const COMMUNITY = /^\d+:\d+(:\d+)?$/;

/** spec.<key>.secretKeyRef: {name, key}; undefined when spec.<key> is absent. */
function secretKeyRef(spec: Obj, key: string): SecretKeyRef | undefined {
  const o = obj(spec, 'spec.', key);
  if (o === undefined) return undefined;
  const ref = obj(o, `spec.${key}.`, 'secretKeyRef');
  if (ref === undefined) throw new FieldError(`spec.${key}: only secretKeyRef is supported`);
  const name = str(ref, `spec.${key}.secretKeyRef.`, 'name');
  const k = str(ref, `spec.${key}.secretKeyRef.`, 'key');
  if (name === undefined || k === undefined) throw new FieldError(`spec.${key}.secretKeyRef: name and key are required`);
  return { name, key: k };
}

function fail(message: string): never {
  throw new FieldError(message);
}

/** "10.0.0.1", "10.0.0.1:1790", "2001:db8::1", "[2001:db8::1]:1790". */
function peerAddress(text: string): { address: string; port?: number } {
  const m = /^\[([^\]]+)\]:(\d+)$/.exec(text) ?? (/^([^:]+):(\d+)$/.exec(text) as RegExpExecArray | null);
  const address = canonicalIp(m ? m[1]! : text);
  const port = m ? Number(m[2]) : undefined;
  if (address === undefined || (port !== undefined && (port < 1 || port > 65535))) throw new FieldError(`spec.peerIP: must be an IP address with an optional :port, got '${text}'`);
  return port === undefined ? { address } : { address, port };
}

/** An affinity value: `{"state":"confirmed","deleted":false}`; "" is the legacy form of confirmed. */
export function decodeAffinity(node: string, cidr: string, value: string): Decoded<BlockAffinity> {
  try {
    const c = prefix(cidr, 'the block in the key');
    if (value.trim() === '') return { ok: true, value: { node, cidr: c, state: 'confirmed', deleted: false } };
    let json: unknown;
    try {
      json = JSON.parse(value);
    } catch (e) {
      throw new FieldError(`the value is not JSON: ${(e as Error).message}`);
    }
    if (!isObj(json)) throw new FieldError(`the value must be a JSON object, got ${got(json)}`);
    const state = oneOf(json, '', 'state', ['confirmed', 'pending', 'pendingDeletion'] as const) ?? 'confirmed';
    // the Kubernetes CRD spells deleted as a string; accept both
    const d = json['deleted'];
    if (d !== undefined && d !== null && typeof d !== 'boolean' && d !== 'true' && d !== 'false') throw new FieldError(`deleted: must be true or false, got ${got(d)}`);
    return { ok: true, value: { node, cidr: c, state, deleted: d === true || d === 'true' } };
  } catch (e) {
    if (e instanceof FieldError) return { ok: false, error: e.message };
    throw e;
  }
}
