// Semantic checks on a schema-valid config: the rules a JSON Schema cannot
// express. Pure (no I/O); the loader turns findings into errors and warnings.
//
// Decisions recorded here:
// - A configured neighbor whose address also lies inside a listen range is
//   allowed: the exact neighbor entry wins for that address (as in BIRD and
//   FRR, where a configured peer takes precedence over a dynamic range).
// - Identical listen ranges are an error; nested ones are allowed and the
//   longest (most specific) range wins.
// - fib.protocol 186 (FRR/zebra) and 80 (Calico Felix) are rejected: the FIB
//   writer deletes stale routes of its own protocol at start and would wipe
//   another daemon's routes. 2..4 (kernel, boot, static) likewise. 12 (BIRD) is
//   allowed with a warning: it is the Calico drop-in setting.

import { canonicalIp } from './formats.js';
import { prefixLength, prefixParse, v4Contains, v4Parse, type PrefixKey } from '../lib/prefix.js';
import type { BgpConfig, ListenRangeConfig, NeighborConfig, PolicyRule } from './schema.js';

export interface Finding {
  readonly severity: 'error' | 'warning';
  readonly path: string;
  readonly message: string;
}

const FOREIGN_PROTOCOLS: Record<number, string> = {
  2: 'the kernel (RTPROT_KERNEL)',
  3: 'boot-time routes (RTPROT_BOOT)',
  4: 'static routes (RTPROT_STATIC)',
  80: 'Calico Felix',
  186: 'FRR/zebra',
};

export function semanticChecks(config: BgpConfig): Finding[] {
  const out: Finding[] = [];
  const error = (path: string, message: string) => out.push({ severity: 'error', path, message });
  const warn = (path: string, message: string) => out.push({ severity: 'warning', path, message });

  if (v4Parse(config.routerId) === 0) error('routerId', 'must not be 0.0.0.0 (RFC 6286 §2.1: a non-zero BGP Identifier)');
  if (config.clusterId !== undefined && v4Parse(config.clusterId) === 0) error('clusterId', 'must not be 0.0.0.0');

  // Neighbors: unique addresses, timer rules, RR clients are iBGP.
  const byAddress = new Map<string, number>();
  config.neighbors.forEach((n, i) => {
    const path = `neighbors[${i}]`;
    const addr = canonicalIp(n.address) ?? n.address;
    const first = byAddress.get(addr);
    if (first !== undefined) error(`${path}.address`, `${addr} is already configured as neighbors[${first}]`);
    else byAddress.set(addr, i);
    if (n.localAddress !== undefined && n.localAddress.includes(':') !== n.address.includes(':'))
      error(`${path}.localAddress`, `must be of the same address family as ${n.address}`);
    peerChecks(config, n, path, error, warn);
  });

  const rangeKeys = new Map<PrefixKey, number>();
  config.listenRanges.forEach((r, i) => {
    const path = `listenRanges[${i}]`;
    const key = prefixParse(r.prefix)!;
    const first = rangeKeys.get(key);
    if (first !== undefined) error(`${path}.prefix`, `${r.prefix} is already listed as listenRanges[${first}]`);
    else rangeKeys.set(key, i);
    peerChecks(config, r, path, error, warn);
  });
  if (config.listenRanges.length > 0 && !config.listen.enabled)
    warn('listenRanges', 'listen.enabled is false: no dynamic neighbor can connect');

  // RFC 4456 §7: a cluster ID only matters on a reflector, i.e. with clients.
  const hasClients = [...config.neighbors, ...config.listenRanges].some((p) => p.routeReflectorClient);
  if (config.clusterId !== undefined && !hasClients)
    warn('clusterId', 'no neighbor or listen range is a routeReflectorClient: the cluster ID has no effect');

  // IP pools must not overlap: a pod block must map to exactly one encapsulation mode.
  const pools = config.ipPools.map((p) => prefixParse(p.cidr)!);
  pools.forEach((a, i) => {
    for (let j = 0; j < i; j++) {
      if (overlaps(pools[j]!, a))
        error(`ipPools[${i}].cidr`, `${config.ipPools[i]!.cidr} overlaps ipPools[${j}] (${config.ipPools[j]!.cidr})`);
    }
  });

  const originated = new Map<PrefixKey, number>();
  config.originate.forEach((o, i) => {
    const key = prefixParse(o.prefix)!;
    const first = originated.get(key);
    if (first !== undefined) error(`originate[${i}].prefix`, `${o.prefix} is already originated by originate[${first}]`);
    else originated.set(key, i);
    if (pools.length > 0 && !pools.some((p) => overlaps(p, key) && prefixLength(p) <= prefixLength(key)))
      warn(`originate[${i}].prefix`, `${o.prefix} lies outside every ipPool`);
    communityChecks(o.communities, `originate[${i}].communities`, error);
  });

  policyChecks(config.import, 'import', error);
  policyChecks(config.export, 'export', error);

  const owner = FOREIGN_PROTOCOLS[config.fib.protocol];
  if (owner) error('fib.protocol', `${config.fib.protocol} belongs to ${owner}; bgp-ts would delete its routes (default 201)`);
  if (config.fib.protocol === 12)
    warn('fib.protocol', '12 is BIRD\'s protocol number: right for replacing BIRD inside Calico, wrong next to a running BIRD');

  if (config.api.token !== undefined && config.api.tokenFile !== undefined)
    error('api', 'set either token or tokenFile, not both');
  const listen = parseListen(config.api.listen);
  if (listen === 'invalid') error('api.listen', 'must be host:port, [v6-address]:port or "none"');
  else if (listen !== 'none' && !isLoopback(listen.host) && config.api.token === undefined && config.api.tokenFile === undefined)
    warn('api.listen', `${listen.host} is beyond loopback and no token is set: write endpoints will refuse every request`);
  return out;
}

type Report = (path: string, message: string) => void;

function peerChecks(config: BgpConfig, p: NeighborConfig | ListenRangeConfig, path: string, error: Report, warn: Report): void {
  // RFC 4271 §4.2: the hold time is zero or at least three seconds.
  if (p.holdTime === 1 || p.holdTime === 2) error(`${path}.holdTime`, 'must be 0 or at least 3 (RFC 4271 §4.2)');
  if (p.keepaliveTime !== undefined) {
    if (p.holdTime === 0) warn(`${path}.keepaliveTime`, 'has no effect with holdTime 0 (no keepalives are sent)');
    else if (p.keepaliveTime >= p.holdTime) error(`${path}.keepaliveTime`, `must be less than holdTime (${p.holdTime})`);
  }
  const localAsn = 'localAsn' in p && p.localAsn !== undefined ? p.localAsn : config.asn;
  // RFC 4456 §1: reflection is among iBGP speakers only.
  if (p.routeReflectorClient && p.asn !== localAsn)
    error(`${path}.routeReflectorClient`, `only iBGP neighbors can be route reflector clients (asn ${p.asn} != local ${localAsn})`);
  if (p.maxPrefix?.restartDelay !== undefined && p.maxPrefix.action === 'warn')
    warn(`${path}.maxPrefix.restartDelay`, 'has no effect with action "warn"');
  policyChecks(p.import, `${path}.import`, error);
  policyChecks(p.export, `${path}.export`, error);
}

function policyChecks(rules: readonly PolicyRule[] | undefined, path: string, error: Report): void {
  rules?.forEach((r, i) => {
    const at = `${path}[${i}]`;
    const m = r.match;
    if (m) {
      const key = m.prefix === undefined ? undefined : prefixParse(m.prefix);
      const max = key === undefined ? 128 : typeof key === 'number' ? 32 : 128;
      const len = key === undefined ? 0 : prefixLength(key);
      if (m.ge !== undefined && (m.ge < len || m.ge > max)) error(`${at}.match.ge`, `must be ${len}..${max}`);
      if (m.le !== undefined && (m.le < len || m.le > max)) error(`${at}.match.le`, `must be ${len}..${max}`);
      if (m.ge !== undefined && m.le !== undefined && m.ge > m.le) error(`${at}.match`, `ge (${m.ge}) must not exceed le (${m.le})`);
      if ((m.ge !== undefined || m.le !== undefined || m.matchOperator !== undefined) && m.prefix === undefined)
        error(`${at}.match.prefix`, 'missing: ge, le and matchOperator apply to a prefix');
      if (key !== undefined && m.family !== undefined && (typeof key === 'number') !== (m.family === 'ipv4-unicast'))
        error(`${at}.match.family`, `${m.family} does not match the prefix ${m.prefix}`);
      communityChecks(m.communities, `${at}.match.communities`, error);
    }
    if (r.set && r.action === 'reject') error(`${at}.set`, 'has no effect on a rejected route');
    communityChecks(r.set?.addCommunities, `${at}.set.addCommunities`, error);
  });
}

/** RFC 1997 communities are two 16-bit halves; RFC 8092 large communities three 32-bit parts. */
function communityChecks(list: readonly string[] | undefined, path: string, error: Report): void {
  list?.forEach((c, i) => {
    const parts = c.split(':').map(Number);
    const limit = parts.length === 2 ? 0xffff : 0xffffffff;
    if (parts.some((p) => p > limit))
      error(`${path}[${i}]`, parts.length === 2 ? `"${c}": each half must be 0..65535 (RFC 1997)` : `"${c}": each part must be 0..4294967295 (RFC 8092)`);
  });
}

function overlaps(a: PrefixKey, b: PrefixKey): boolean {
  if (typeof a === 'number' && typeof b === 'number') return v4Contains(a, b) || v4Contains(b, a);
  if (typeof a === 'string' && typeof b === 'string') return v6Contains(a, b) || v6Contains(b, a);
  return false;
}

function v6Contains(outer: string, inner: string): boolean {
  const len = prefixLength(outer);
  if (prefixLength(inner) < len) return false;
  const bits = (key: string) => [...key.slice(0, 32)].map((h) => parseInt(h, 16).toString(2).padStart(4, '0')).join('');
  return bits(outer).slice(0, len) === bits(inner).slice(0, len);
}

/** api.listen text: "host:port", "[v6]:port" or "none". */
export function parseListen(text: string): { host: string; port: number } | 'none' | 'invalid' {
  if (text === 'none') return 'none';
  const m = /^\[([^\]]+)\]:(\d{1,5})$/.exec(text) ?? /^([^:[\]]+):(\d{1,5})$/.exec(text);
  if (!m) return 'invalid';
  const port = Number(m[2]);
  const host = canonicalIp(m[1]!);
  if (host === undefined || port > 65535) return 'invalid';
  return { host, port };
}

function isLoopback(host: string): boolean {
  return host === '::1' || (v4Parse(host) ?? 0) >>> 24 === 127;
}
