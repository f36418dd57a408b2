// Reload diff (DESIGN.md, Config): what a SIGHUP or POST /api/v1/config/reload
// must do to move the running daemon from `old` to `next` with the least
// disruption. Pure: it compares two validated configs and returns data.
//
// Per neighbor (keyed by canonical address) and per listen range (by prefix):
// - `reset`: a change the OPEN message or the transport carries (RFC 4271 §4.2
//   hold time, RFC 4760 families, RFC 7911 ADD-PATH, RFC 4724 graceful restart,
//   RFC 2385 MD5, RFC 5082 GTSM, AS numbers, addresses, port) or one that changes
//   the role of the session (route reflector client, admin shutdown): the session
//   is torn down and re-established.
// - `soft`: a policy change. Import rules -> soft-in (re-run import over
//   Adj-RIB-In, or ROUTE-REFRESH, RFC 2918); export rules, next-hop mode ->
//   soft-out (re-run export); description, maxPrefix, connectRetryTime -> neither.
// Global changes are folded into every peer's verdict (global import -> soft-in
// everywhere), except routerId / asn / listen, which need a full restart.

import { canonicalIp } from './formats.js';
import { prefixParse, prefixToString } from '../lib/prefix.js';
import type { BgpConfig, IpPoolConfig, ListenRangeConfig, NeighborConfig, OriginateConfig } from './schema.js';

/** Why a peer must be reset or refreshed: the config key that changed ("holdTime", "global import", ...). */
export type ChangeReason = string;

export type PeerChange<T> =
  | { readonly kind: 'added'; readonly key: string; readonly next: T }
  | { readonly kind: 'removed'; readonly key: string; readonly old: T }
  | { readonly kind: 'unchanged'; readonly key: string; readonly next: T }
  | { readonly kind: 'reset'; readonly key: string; readonly old: T; readonly next: T; readonly reasons: readonly ChangeReason[] }
  | {
      readonly kind: 'soft';
      readonly key: string;
      readonly old: T;
      readonly next: T;
      /** Re-run import policy over what the peer sent (soft reconfiguration inbound / ROUTE-REFRESH). */
      readonly softIn: boolean;
      /** Re-run export policy and re-advertise. */
      readonly softOut: boolean;
      readonly reasons: readonly ChangeReason[];
    };

export type NeighborChange = PeerChange<NeighborConfig>;
export type ListenRangeChange = PeerChange<ListenRangeConfig>;

export interface ListDiff<T> {
  readonly added: readonly T[];
  readonly removed: readonly T[];
  /** Same key, different settings: the new entry. */
  readonly changed: readonly T[];
}

export interface ConfigDiff {
  /** Global keys whose change needs the daemon restarted (every session drops). */
  readonly restartRequired: readonly ('routerId' | 'asn' | 'listen')[];
  readonly neighbors: readonly NeighborChange[];
  readonly listenRanges: readonly ListenRangeChange[];
  readonly originate: ListDiff<OriginateConfig>;
  readonly ipPools: ListDiff<IpPoolConfig>;
  readonly serviceCidrs: { readonly added: readonly string[]; readonly removed: readonly string[] };
  /** Global import/export rules or ebgpRequiresPolicy changed (the RIB's global policies). */
  readonly globalPolicyChanged: boolean;
  /** Which side of the global policies changed: import (every peer soft-in) and export (every group re-exported). */
  readonly globalPolicy: { readonly import: boolean; readonly export: boolean };
  /** The set of pools with export off (ipPools[].disableExport) changed: every peer is re-exported. */
  readonly exportDisabledPoolsChanged: boolean;
  /** Best paths must be recomputed (alwaysCompareMed changed). */
  readonly redecide: boolean;
  readonly fibChanged: boolean;
  readonly apiChanged: boolean;
  readonly logLevelChanged: boolean;
  /** True when nothing at all differs. */
  readonly empty: boolean;
}

/** Per-peer keys whose change resets the session. */
const RESET_KEYS = [
  'address', 'asn', 'port', 'localAddress', 'localAsn', 'passive', 'holdTime', 'keepaliveTime', 'families',
  'password', 'ttlSecurity', 'addPath', 'gracefulRestart', 'routeReflectorClient', 'shutdown', 'prefix',
] as const;
/** Per-peer keys that only need inbound policy re-run. */
const SOFT_IN_KEYS = ['import', 'allowAsIn'] as const;
/** Per-peer keys that only need outbound policy re-run. */
const SOFT_OUT_KEYS = ['export', 'nextHopMode'] as const;
// Everything else (description, maxPrefix, connectRetryTime) changes no session state.

/** Global keys that affect every peer's session or policy, and how. */
const GLOBAL_RESET = ['hostname'] as const; // FQDN capability is in the OPEN
const GLOBAL_SOFT_IN = ['import', 'ebgpRequiresPolicy', 'clusterId'] as const; // clusterId: RFC 4456 §8 loop check on receipt
const GLOBAL_SOFT_OUT = ['export', 'ebgpRequiresPolicy', 'clusterId', 'clientToClientReflection'] as const;

export function diffConfig(old: BgpConfig, next: BgpConfig): ConfigDiff {
  const restartRequired = (['routerId', 'asn', 'listen'] as const).filter((k) => !deepEqual(old[k], next[k]));
  const changed = (k: keyof BgpConfig) => !deepEqual(old[k], next[k]);
  const global: GlobalEffect = {
    reset: GLOBAL_RESET.filter(changed).map((k) => `global ${k}`),
    softIn: GLOBAL_SOFT_IN.filter(changed).map((k) => `global ${k}`),
    softOut: GLOBAL_SOFT_OUT.filter(changed).map((k) => `global ${k}`),
  };
  const neighbors = diffPeers(old.neighbors, next.neighbors, (n) => canonicalIp(n.address) ?? n.address, global);
  const listenRanges = diffPeers(old.listenRanges, next.listenRanges, (r) => canonicalPrefix(r.prefix), global);
  const originate = diffList(old.originate, next.originate, (o) => canonicalPrefix(o.prefix));
  const ipPools = diffList(old.ipPools, next.ipPools, (p) => canonicalPrefix(p.cidr));
  const oldCidrs = new Set(old.serviceCidrs);
  const nextCidrs = new Set(next.serviceCidrs);
  const serviceCidrs = {
    added: next.serviceCidrs.filter((c) => !oldCidrs.has(c)),
    removed: old.serviceCidrs.filter((c) => !nextCidrs.has(c)),
  };
  return {
    restartRequired,
    neighbors,
    listenRanges,
    originate,
    ipPools,
    serviceCidrs,
    globalPolicyChanged: changed('import') || changed('export') || changed('ebgpRequiresPolicy'),
    globalPolicy: { import: changed('import') || changed('ebgpRequiresPolicy'), export: changed('export') || changed('ebgpRequiresPolicy') },
    exportDisabledPoolsChanged: !deepEqual(exportDisabled(old), exportDisabled(next)),
    redecide: changed('alwaysCompareMed'),
    fibChanged: changed('fib'),
    apiChanged: changed('api'),
    logLevelChanged: changed('log'),
    empty: deepEqual(old, next),
  };
}

const exportDisabled = (c: BgpConfig): string[] => c.ipPools.filter((p) => p.disableExport).map((p) => canonicalPrefix(p.cidr));

interface GlobalEffect {
  readonly reset: readonly string[];
  readonly softIn: readonly string[];
  readonly softOut: readonly string[];
}

function diffPeers<T extends NeighborConfig | ListenRangeConfig>(
  old: readonly T[],
  next: readonly T[],
  keyOf: (p: T) => string,
  global: GlobalEffect,
): PeerChange<T>[] {
  const before = new Map(old.map((p) => [keyOf(p), p]));
  const out: PeerChange<T>[] = [];
  const seen = new Set<string>();
  for (const n of next) {
    const key = keyOf(n);
    seen.add(key);
    const o = before.get(key);
    out.push(o === undefined ? { kind: 'added', key, next: n } : classify(key, o, n, global));
  }
  for (const o of old) {
    const key = keyOf(o);
    if (!seen.has(key)) out.push({ kind: 'removed', key, old: o });
  }
  return out;
}

/** The verdict for one peer present in both configs. */
export function classify<T extends NeighborConfig | ListenRangeConfig>(key: string, old: T, next: T, global: GlobalEffect = NO_GLOBAL): PeerChange<T> {
  const differs = (k: string) => !deepEqual((old as Record<string, unknown>)[k], (next as Record<string, unknown>)[k]);
  const reset = [...RESET_KEYS.filter((k) => k !== 'address' && differs(k)), ...global.reset];
  if (reset.length > 0) return { kind: 'reset', key, old, next, reasons: reset };
  const softIn = [...SOFT_IN_KEYS.filter(differs), ...global.softIn];
  const softOut = [...SOFT_OUT_KEYS.filter(differs), ...global.softOut];
  const other = Object.keys({ ...old, ...next }).filter(
    (k) => differs(k) && !(SOFT_IN_KEYS as readonly string[]).includes(k) && !(SOFT_OUT_KEYS as readonly string[]).includes(k),
  );
  if (softIn.length === 0 && softOut.length === 0 && other.length === 0) return { kind: 'unchanged', key, next };
  return {
    kind: 'soft',
    key,
    old,
    next,
    softIn: softIn.length > 0,
    softOut: softOut.length > 0,
    reasons: [...new Set([...softIn, ...softOut, ...other])],
  };
}

function canonicalPrefix(text: string): string {
  const key = prefixParse(text);
  return key === undefined ? text : prefixToString(key);
}

const NO_GLOBAL: GlobalEffect = { reset: [], softIn: [], softOut: [] };

function diffList<T>(old: readonly T[], next: readonly T[], keyOf: (t: T) => string): ListDiff<T> {
  const before = new Map(old.map((t) => [keyOf(t), t]));
  const after = new Set(next.map(keyOf));
  const added: T[] = [];
  const changed: T[] = [];
  for (const t of next) {
    const o = before.get(keyOf(t));
    if (o === undefined) added.push(t);
    else if (!deepEqual(o, t)) changed.push(t);
  }
  return { added, removed: old.filter((t) => !after.has(keyOf(t))), changed };
}

/** Structural equality of plain config data (objects, arrays, scalars); key order does not matter. */
export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  if (Array.isArray(a)) {
    const bb = b as unknown[];
    return a.length === bb.length && a.every((v, i) => deepEqual(v, bb[i]));
  }
  const ka = Object.keys(a).filter((k) => (a as Record<string, unknown>)[k] !== undefined);
  const kb = Object.keys(b).filter((k) => (b as Record<string, unknown>)[k] !== undefined);
  return ka.length === kb.length && ka.every((k) => deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}
