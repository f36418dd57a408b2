// Precedence between the config file and the datastore (DESIGN.md, Cluster
// datastores: the file is the base). PURE. The merge works on the file as
// written (before the loader's defaults), so "the operator pinned it" means
// "the key is in the file":
//   1. Keys the datastore never supplies (api, log, fib but 6., policy, timers,
//      listenRanges, datastore, ...) come from the file only.
//   2. routerId, asn, clusterId: the file's value when the file has the key,
//      else the datastore's.
//   3. listen: per sub-key, the file's when set (addresses, port, enabled),
//      else the datastore's (bindMode NodeIP addresses, listenPort).
//   4. neighbors (by address), originate (by prefix), ipPools (by cidr): the
//      file's entries, then the datastore's whose key the file does not
//      already have: an operator's neighbor entry replaces the datastore's
//      for that address, whole.
//   5. serviceCidrs: the union, the file's first.
//   6. fib.nodeSubnets (crossSubnet's local subnets): the file's when set,
//      else the datastore's (the prefixes of the Node's addresses).
// The result is raw config text for the ordinary loader (schema + checks), so
// a merged config is validated exactly like a file.

import { canonicalIp } from '../config/formats.js';
import { prefixParse, prefixToString } from '../lib/prefix.js';
import type { ClusterOverlay } from './model.js';

type Raw = Record<string, unknown>;

const isObj = (v: unknown): v is Raw => typeof v === 'object' && v !== null && !Array.isArray(v);
const addrKey = (v: unknown) => (typeof v === 'string' ? (canonicalIp(v) ?? v) : String(v));
const prefixKey = (v: unknown) => {
  if (typeof v !== 'string') return String(v);
  const p = prefixParse(v);
  return p === undefined ? v : prefixToString(p);
};

/** Appends `extra` entries whose key is not in `base`. */
function union(base: unknown, extra: readonly Raw[], field: string, key: (v: unknown) => string): unknown[] {
  const list = Array.isArray(base) ? [...(base as unknown[])] : [];
  const seen = new Set(list.map((e) => (isObj(e) ? key(e[field]) : '')));
  for (const e of extra) if (!seen.has(key(e[field]))) list.push(e);
  return list;
}

/** The file's raw config with the datastore's overlay merged under the rules above. */
export function mergeOverlay(file: Readonly<Raw>, overlay: ClusterOverlay): Raw {
  const out: Raw = { ...file };
  for (const k of ['routerId', 'asn', 'clusterId'] as const) if (out[k] === undefined && overlay[k] !== undefined) out[k] = overlay[k];
  if (overlay.listen !== undefined) out['listen'] = { ...overlay.listen, ...(isObj(file['listen']) ? file['listen'] : {}) };
  out['neighbors'] = union(file['neighbors'], overlay.neighbors as unknown as Raw[], 'address', addrKey);
  out['originate'] = union(file['originate'], overlay.originate as unknown as Raw[], 'prefix', prefixKey);
  out['ipPools'] = union(file['ipPools'], overlay.ipPools as unknown as Raw[], 'cidr', prefixKey);
  const services = Array.isArray(file['serviceCidrs']) ? [...(file['serviceCidrs'] as unknown[])] : [];
  const seen = new Set(services.map(prefixKey));
  for (const s of overlay.serviceCidrs) if (!seen.has(prefixKey(s))) services.push(s);
  out['serviceCidrs'] = services;
  if (overlay.nodeSubnets !== undefined) {
    const fib = isObj(file['fib']) ? file['fib'] : {};
    if (fib['nodeSubnets'] === undefined) out['fib'] = { ...fib, nodeSubnets: [...overlay.nodeSubnets] };
  }
  return out;
}
