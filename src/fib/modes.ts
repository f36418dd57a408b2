// Encapsulation per IP pool: how a best path becomes a kernel route form, with
// the same meaning as Calico's ipipMode (CALICO.md, "Routes into the kernel"):
//   ipip        -> <block> via <node IP> dev tunl0 onlink        (Always)
//   direct      -> <block> via <node IP>, resolved by the kernel (Never)
//   crossSubnet -> direct when the node IP is on a subnet of this host, else ipip
//                  (the next-hop resolver's connected-subnet answer when the host
//                  context supplies it, so next-hop tracking and crossSubnet agree)
// plus a blackhole for the node's own blocks (not /32, /128), and the prefixes
// never programmed (pools with program: false, service CIDRs learned from
// others). IPIP (RFC 2003) carries IPv4 only, so IPv6 prefixes are always
// direct, whatever their pool says. IPv6 link-local next hops (RFC 4291 §2.5.6)
// need their interface. Pools are compiled once and matched longest prefix
// first; IPv4 stays in numbers. PURE: no I/O.

import {
  type PrefixKey,
  v4KeyAddress,
  v4KeyLength,
  v4KeyParse,
  v4Mask,
  v4Parse,
  v4ToString,
  v6KeyLength,
  v6KeyParse,
  v6Parse,
  v6ToString,
} from '../lib/prefix.js';
import type { FibConfig, IpPoolConfig } from '../config/schema.js';
import type { NextHopInput, SkipReason, UnresolvableReason } from './types.js';

export type EncapMode = 'ipip' | 'direct' | 'crossSubnet';

export interface LinkState {
  readonly ifindex: number;
  readonly up: boolean;
}

interface V4Entry<T> {
  readonly address: number;
  readonly mask: number;
  readonly len: number;
  readonly value: T;
}
interface V6Entry<T> {
  readonly hex: string;
  readonly len: number;
  readonly value: T;
}

/** Prefixes compiled for longest-match lookup: longest first, IPv4 as numbers. */
export interface PrefixMatcher<T> {
  readonly v4: readonly V4Entry<T>[];
  readonly v6: readonly V6Entry<T>[];
}

export interface PoolPolicy {
  readonly cidr: string;
  readonly mode: EncapMode;
  readonly program: boolean;
}

/** Everything resolveForm needs, compiled once per config or link change. */
export interface FormContext {
  readonly pools: PrefixMatcher<PoolPolicy>;
  readonly defaultMode: 'direct' | 'ipip';
  readonly serviceCidrs: PrefixMatcher<true>;
  /** ifname -> state, from the link dump/monitor. */
  readonly links: ReadonlyMap<string, LinkState>;
  /** Subnets of this host's own addresses (crossSubnet's "directly connected"), when no onLocalSubnet is given. */
  readonly localSubnets: PrefixMatcher<true>;
  /** crossSubnet's "is the node IP on a subnet of this host": the next-hop resolver's answer (next-hop-resolver.ts). */
  readonly onLocalSubnet?: (address: string) => boolean;
  readonly tunnelName: string;
}

export type RouteForm =
  | { readonly kind: 'ipip'; readonly gateway: string; readonly dev: string; readonly ifindex: number; readonly onlink: true }
  | { readonly kind: 'direct'; readonly gateway: string; readonly ifindex?: number }
  | { readonly kind: 'blackhole' }
  | { readonly kind: 'skip'; readonly reason: SkipReason }
  | { readonly kind: 'unresolvable'; readonly reason: UnresolvableReason };

/** Parses "addr/len", tolerating host bits (config is validated upstream). */
function parseLenient(text: string): PrefixKey | undefined {
  return text.includes(':') ? v6KeyParse(text, true) : v4KeyParse(text, true);
}

export function compilePrefixes<T>(items: readonly { readonly prefix: PrefixKey; readonly value: T }[]): PrefixMatcher<T> {
  const v4: V4Entry<T>[] = [];
  const v6: V6Entry<T>[] = [];
  for (const { prefix, value } of items) {
    if (typeof prefix === 'number') {
      const len = v4KeyLength(prefix);
      v4.push({ address: v4KeyAddress(prefix), mask: v4Mask(len), len, value });
    } else {
      v6.push({ hex: prefix.slice(0, 32), len: v6KeyLength(prefix), value });
    }
  }
  // Longest first: the first hit is the longest match. Stable, so equal
  // prefixes keep config order (the first one listed wins).
  v4.sort((a, b) => b.len - a.len);
  v6.sort((a, b) => b.len - a.len);
  return { v4, v6 };
}

function hexNibble(hex: string, i: number): number {
  return parseInt(hex[i]!, 16);
}

/** True when the 32-hex-digit address `hex` lies inside `entry`. */
function v6Within(hex: string, entry: { readonly hex: string; readonly len: number }): boolean {
  const full = entry.len >> 2;
  if (hex.slice(0, full) !== entry.hex.slice(0, full)) return false;
  const rest = entry.len & 3;
  if (rest === 0) return true;
  const mask = (0xf << (4 - rest)) & 0xf;
  return (hexNibble(hex, full) & mask) === (hexNibble(entry.hex, full) & mask);
}

/** Longest-match lookup of a prefix: the most specific entry containing it (or equal). */
export function matchPrefix<T>(m: PrefixMatcher<T>, prefix: PrefixKey): T | undefined {
  if (typeof prefix === 'number') {
    const address = v4KeyAddress(prefix);
    const len = v4KeyLength(prefix);
    for (const e of m.v4) if (len >= e.len && ((address & e.mask) >>> 0) === e.address) return e.value;
    return undefined;
  }
  const hex = prefix.slice(0, 32);
  const len = v6KeyLength(prefix);
  for (const e of m.v6) if (len >= e.len && v6Within(hex, e)) return e.value;
  return undefined;
}

export function compilePools(pools: readonly IpPoolConfig[]): PrefixMatcher<PoolPolicy> {
  const items: { prefix: PrefixKey; value: PoolPolicy }[] = [];
  for (const p of pools) {
    const prefix = parseLenient(p.cidr);
    if (prefix === undefined) continue; // the config loader rejects these first
    items.push({ prefix, value: { cidr: p.cidr, mode: p.mode ?? 'direct', program: p.program ?? true } });
  }
  return compilePrefixes(items);
}

export function compilePrefixSet(prefixes: readonly (string | PrefixKey)[]): PrefixMatcher<true> {
  const items: { prefix: PrefixKey; value: true }[] = [];
  for (const p of prefixes) {
    // Text ("10.0.0.0/8", "fd00::/64") or an already compiled key (number, or 32 hex digits + "/len").
    const prefix = typeof p === 'string' && !/^[0-9a-f]{32}\//.test(p) ? parseLenient(p) : p;
    if (prefix !== undefined) items.push({ prefix, value: true });
  }
  return compilePrefixes(items);
}

/** Builds the context from config plus what the link monitor knows about this host. */
export function compileFormContext(
  config: {
    readonly ipPools: readonly IpPoolConfig[];
    readonly serviceCidrs: readonly string[];
    readonly fib: Pick<FibConfig, 'defaultMode'> & { readonly nodeSubnets?: readonly string[] | undefined };
  },
  host: {
    readonly links: ReadonlyMap<string, LinkState>;
    readonly localSubnets: readonly (string | PrefixKey)[];
    readonly tunnelName?: string;
    readonly onLocalSubnet?: (address: string) => boolean;
  },
): FormContext {
  // fib.nodeSubnets (a datastore's Node prefix, or the operator's) decides crossSubnet alone when given.
  const given = config.fib.nodeSubnets !== undefined && config.fib.nodeSubnets.length > 0 ? compilePrefixSet(config.fib.nodeSubnets) : undefined;
  const ask = given
    ? (address: string): boolean => {
        const p = parseLenient(address.includes(':') ? `${address}/128` : `${address}/32`);
        return p !== undefined && matchPrefix(given, p) !== undefined;
      }
    : host.onLocalSubnet;
  // A context lives until the host's subnets change (it is compiled again then): ask once per next hop.
  const memo = new Map<string, boolean>();
  const onLocalSubnet = ask
    ? (address: string): boolean => {
        let v = memo.get(address);
        if (v === undefined) {
          if (memo.size > 65536) memo.clear();
          memo.set(address, (v = ask(address)));
        }
        return v;
      }
    : undefined;
  return {
    ...(onLocalSubnet ? { onLocalSubnet } : {}),
    pools: compilePools(config.ipPools),
    defaultMode: config.fib.defaultMode ?? 'direct',
    serviceCidrs: compilePrefixSet(config.serviceCidrs),
    links: host.links,
    localSubnets: compilePrefixSet(host.localSubnets),
    tunnelName: host.tunnelName ?? 'tunl0',
  };
}

// ------------------------------------------------------------ per prefix

/** The part of the decision that depends on the prefix only (done once per route, not per next hop). */
export type PrefixClass =
  | { readonly kind: 'program'; readonly mode: EncapMode }
  | { readonly kind: 'skip'; readonly reason: SkipReason };

export function classifyPrefix(prefix: PrefixKey, ctx: FormContext): PrefixClass {
  const pool = matchPrefix(ctx.pools, prefix);
  if (pool && !pool.program) return { kind: 'skip', reason: 'pool-not-programmed' };
  // Service ranges are kube-proxy's (Calico: not programmed when learned); an own
  // service announcement gets no blackhole either.
  if (matchPrefix(ctx.serviceCidrs, prefix)) return { kind: 'skip', reason: 'service-cidr' };
  return { kind: 'program', mode: pool ? pool.mode : ctx.defaultMode };
}

/** Blackhole for an own block; Calico installs none for /32 and /128 blocks. */
export function localForm(prefix: PrefixKey, blackhole: boolean, ctx: FormContext): RouteForm {
  const cls = classifyPrefix(prefix, ctx);
  if (cls.kind === 'skip') return cls;
  if (!blackhole) return { kind: 'skip', reason: 'local-no-blackhole' };
  const len = typeof prefix === 'number' ? v4KeyLength(prefix) : v6KeyLength(prefix);
  if (len === (typeof prefix === 'number' ? 32 : 128)) return { kind: 'skip', reason: 'host-route' };
  return { kind: 'blackhole' };
}

// ------------------------------------------------------------ per next hop

type ParsedNextHop =
  | { readonly v4: true; readonly text: string; readonly address: number }
  | { readonly v4: false; readonly text: string; readonly linkLocal: boolean }
  | undefined;

// Next hops are few (one per node) while routes are many: parse each text once.
const parsed = new Map<string, ParsedNextHop>();

function parseNextHop(address: string): ParsedNextHop {
  let p = parsed.get(address);
  if (p !== undefined || parsed.has(address)) return p;
  if (address.includes(':')) {
    const bytes = v6Parse(address);
    // RFC 4291 §2.5.6: link-local is fe80::/10.
    p = bytes ? { v4: false, text: v6ToString(bytes), linkLocal: bytes[0] === 0xfe && (bytes[1]! & 0xc0) === 0x80 } : undefined;
  } else {
    const v = v4Parse(address);
    p = v === undefined ? undefined : { v4: true, text: v4ToString(v), address: v };
  }
  if (parsed.size > 65536) parsed.clear();
  parsed.set(address, p);
  return p;
}

/** How one next hop of a programmed prefix is reached, given the prefix's mode. */
export function resolveNextHop(prefix: PrefixKey, mode: EncapMode, nextHop: NextHopInput, ctx: FormContext): RouteForm {
  const nh = parseNextHop(nextHop.address);
  if (!nh) return { kind: 'unresolvable', reason: 'nexthop-invalid' };
  const v4Prefix = typeof prefix === 'number';
  if (nh.v4 !== v4Prefix) return { kind: 'unresolvable', reason: 'nexthop-family-mismatch' };
  if (!nh.v4) {
    // IPv6: always direct (IPIP is IPv4 in IPv4 only). A link-local gateway is
    // meaningless without its interface (RFC 4291 §2.5.6).
    if (!nh.linkLocal) return { kind: 'direct', gateway: nh.text };
    if (!nextHop.interface) return { kind: 'unresolvable', reason: 'link-local-without-interface' };
    const link = ctx.links.get(nextHop.interface);
    if (!link) return { kind: 'unresolvable', reason: 'interface-missing' };
    if (!link.up) return { kind: 'unresolvable', reason: 'interface-down' };
    return { kind: 'direct', gateway: nh.text, ifindex: link.ifindex };
  }
  let encap = mode;
  if (encap === 'crossSubnet') {
    const local = ctx.onLocalSubnet ? ctx.onLocalSubnet(nh.text) : matchPrefix(ctx.localSubnets, nh.address * 64 + 32) !== undefined;
    encap = local ? 'direct' : 'ipip';
  }
  if (encap === 'direct') return { kind: 'direct', gateway: nh.text };
  const tunnel = ctx.links.get(ctx.tunnelName);
  if (!tunnel) return { kind: 'unresolvable', reason: 'tunnel-missing' };
  if (!tunnel.up) return { kind: 'unresolvable', reason: 'tunnel-down' };
  return { kind: 'ipip', gateway: nh.text, dev: ctx.tunnelName, ifindex: tunnel.ifindex, onlink: true };
}

/**
 * The form of one (prefix, next hop) pair. `nextHop: null` means the prefix is
 * this node's own block (originated locally): a blackhole, unless skipped.
 */
export function resolveForm(prefix: PrefixKey, nextHop: NextHopInput | null, ctx: FormContext): RouteForm {
  if (nextHop === null) return localForm(prefix, true, ctx);
  const cls = classifyPrefix(prefix, ctx);
  if (cls.kind === 'skip') return cls;
  return resolveNextHop(prefix, cls.mode, nextHop, ctx);
}
