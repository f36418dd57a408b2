// PURE: next-hop resolution against the kernel's routing table (RFC 4271
// §9.1.2: a route whose NEXT_HOP is not resolvable is excluded; §9.1.2.2 e:
// the interior cost to it). Fed, not polled: a dump at start, then the FIB's
// netlink monitor's route and address notifications. It keeps the routes of
// the tables the FIB reads, except our own (our protocol number: a BGP route
// never resolves a BGP next hop, so nothing loops), and the host's addresses.
//
// Two ways to resolve, as BIRD's `gateway direct` / `gateway recursive` and
// FRR's NHT: `connected` (a one-hop eBGP peer's next hop, RFC 4271 §5.1.3 b /
// §6.3 b) must lie on a subnet of one of our addresses; `recursive` (iBGP and
// multihop eBGP) takes the longest-prefix match among the kept unicast
// routes, connected subnets included. The kernel accepted a gateway route only
// with its gateway reachable, so a matching route already closes the
// recursion; a blackhole, unreachable or prohibit route resolves nothing. A
// default route counts (as BIRD, which Calico runs, resolves over it; FRR
// would need `ip nht resolve-via-default`).
//
// The metric reported for §9.1.2.2 e is the resolving route's priority
// (RTA_PRIORITY, the kernel metric) and 0 on a connected subnet.
//
// The address half, ConnectedSubnets (our addresses and the subnets they
// make), is one object shared by the FIB's host context and the resolver, so
// "is this node on my subnet" has one answer: crossSubnet's direct-or-IPIP
// choice (modes.ts) and a one-hop peer's connected next hop ask the same
// thing. Addresses are kept by identity (ifindex, address, length), so a
// repeated RTM_NEWADDR (an IPv6 lifetime update, the dump after subscribing)
// changes nothing. Host-scope addresses (127.0.0.1/8, ::1) are our own but
// make no neighbour's subnet.

import type { KernelAddress } from './netlink/interfaces.js';
import type { KernelRoute } from './netlink/messages.js';
import { prefixToString as prefixText, v4Key, v4Parse, v6KeyFromBytes, v6Parse, type PrefixKey } from '../lib/prefix.js';

export type ResolveMode = 'connected' | 'recursive';

export interface Resolution {
  readonly reachable: boolean;
  /** RFC 4271 §9.1.2.2 e: the resolving route's metric; 0 on a connected subnet. */
  readonly metric?: number;
  /** What resolved it, for explain and logs: "connected 10.0.0.0/24", "route 10.9.0.0/24 via 10.0.0.2". */
  readonly via?: string;
}

export interface ResolverOptions {
  /** The tables the FIB reads (fib.table). */
  readonly tables: readonly number[];
  /** Our route protocol number: those routes never resolve a next hop. */
  readonly protocol: number;
}

interface KeptRoute {
  readonly usable: boolean;
  readonly metric: number;
  readonly text: string;
}

const UNREACHABLE: Resolution = Object.freeze({ reachable: false });

/** ifa_scope RT_SCOPE_HOST (254). */
const SCOPE_HOST = 254;

/** Address bytes (4 or 16) of text, IPv4-mapped IPv6 as IPv4; undefined when no address. */
function parse(text: string): { v4: number } | { v6: Buffer } | undefined {
  if (!text.includes(':')) {
    const v4 = v4Parse(text);
    return v4 === undefined ? undefined : { v4 };
  }
  const b = v6Parse(text);
  if (!b) return undefined;
  if (b.subarray(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff) return { v4: b.readUInt32BE(12) };
  return { v6: b };
}

/** A canonical key for an address: IPv4 (and IPv4-mapped) as its number, IPv6 as hex. */
function ownKey(text: string): string | undefined {
  const p = parse(text);
  return p === undefined ? undefined : 'v4' in p ? String(p.v4) : p.v6.toString('hex');
}

/** The longest prefix of the address for which `hit` answers. */
function longest<T>(p: { v4: number } | { v6: Buffer }, hit: (k: PrefixKey) => T | undefined): T | undefined {
  if ('v4' in p) {
    for (let len = 32; len >= 0; len--) {
      const masked = len === 0 ? 0 : (p.v4 & (0xffffffff << (32 - len))) >>> 0;
      const h = hit(v4Key(masked, len));
      if (h !== undefined) return h;
    }
    return undefined;
  }
  for (let len = 128; len >= 0; len--) {
    const h = hit(v6KeyFromBytes(p.v6, 0, len));
    if (h !== undefined) return h;
  }
  return undefined;
}

/** Our addresses and their subnets (RFC 4271 §5.1.3 a own address; §5.1.3 b / §6.3 b connected subnet). */
export class ConnectedSubnets {
  /** `${ifindex}/${address}/${length}` -> the address. */
  private readonly addresses = new Map<string, KernelAddress>();
  private readonly subnets = new Map<PrefixKey, number>();
  private readonly own = new Map<string, number>();

  /** An address notification or dump entry; true when our addresses or subnets changed. */
  address(change: 'new' | 'del', a: KernelAddress): boolean {
    const id = `${a.index}/${a.address}/${a.prefixLength}`;
    const had = this.addresses.get(id);
    if (change === 'new') {
      if (had && had.scope === a.scope && had.subnet === a.subnet) return false;
      if (had) this.count(had, -1);
      this.addresses.set(id, a);
      this.count(a, 1);
      return true;
    }
    if (!had) return false;
    this.addresses.delete(id);
    this.count(had, -1);
    return true;
  }

  /** Forgets every address (before a re-dump). */
  clear(): void {
    this.addresses.clear();
    this.subnets.clear();
    this.own.clear();
  }

  private count(a: KernelAddress, d: number): void {
    const bump = <K>(m: Map<K, number>, k: K): void => {
      const n = (m.get(k) ?? 0) + d;
      if (n <= 0) m.delete(k);
      else m.set(k, n);
    };
    bump(this.own, ownKey(a.address) ?? a.address);
    if (a.scope !== SCOPE_HOST) bump(this.subnets, a.subnet);
  }

  /** RFC 4271 §5.1.3 a: is `address` one of ours? */
  isOwn(address: string): boolean {
    const k = ownKey(address);
    return k !== undefined && this.own.has(k);
  }

  hasSubnet(k: PrefixKey): boolean {
    return this.subnets.has(k);
  }

  /** The (longest) connected subnet `address` lies on, if any: crossSubnet's and a one-hop peer's question. */
  connectedSubnet(address: string): PrefixKey | undefined {
    const p = parse(address);
    return p && longest(p, (k) => (this.subnets.has(k) ? k : undefined));
  }

  /** Addresses known. */
  size(): number {
    return this.addresses.size;
  }
}

function routeKey(r: KernelRoute): string {
  return `${r.table}|${String(r.dst)}|${r.priority ?? 0}`;
}

export class NextHopResolver {
  /** dst prefix key → routes of that prefix (several tables or metrics), by identity key. */
  private readonly routes = new Map<PrefixKey, Map<string, KeptRoute>>();
  private readonly tables: ReadonlySet<number>;

  /** `subnets`: the host context's, when the FIB keeps one (shared, see above); else a private one. */
  constructor(
    private readonly opts: ResolverOptions,
    readonly subnets: ConnectedSubnets = new ConnectedSubnets(),
  ) {
    this.tables = new Set(opts.tables);
  }

  /** A route notification or dump entry; returns true when the kept table changed. */
  route(change: 'new' | 'del', r: KernelRoute): boolean {
    if (!this.tables.has(r.table) || r.protocol === this.opts.protocol) return false;
    const key = routeKey(r);
    let at = this.routes.get(r.dst);
    if (change === 'del') {
      if (!at?.delete(key)) return false;
      if (at.size === 0) this.routes.delete(r.dst);
      return true;
    }
    if (!at) this.routes.set(r.dst, (at = new Map()));
    const via = r.gateway ?? r.multipath?.find((h) => h.gateway)?.gateway;
    at.set(key, { usable: r.type === 'unicast', metric: r.priority ?? 0, text: `${r.type === 'unicast' ? 'route' : r.type} ${prefixText(r.dst)}${via ? ` via ${via}` : ''}` });
    return true;
  }

  /** An address notification or dump entry; returns true when our addresses or subnets changed. */
  address(change: 'new' | 'del', a: KernelAddress): boolean {
    return this.subnets.address(change, a);
  }

  /** RFC 4271 §5.1.3 a: is `address` one of ours? */
  isOwn(address: string): boolean {
    return this.subnets.isOwn(address);
  }

  /** The connected subnet `address` lies on, if any. */
  connectedSubnet(address: string): PrefixKey | undefined {
    return this.subnets.connectedSubnet(address);
  }

  resolve(address: string, mode: ResolveMode): Resolution {
    const p = parse(address);
    if (!p) return UNREACHABLE;
    const subnet = longest(p, (k) => (this.subnets.hasSubnet(k) ? k : undefined));
    if (mode === 'connected') return subnet !== undefined ? { reachable: true, metric: 0, via: `connected ${prefixText(subnet)}` } : UNREACHABLE;
    const best = longest(p, (k) => {
      const at = this.routes.get(k);
      if (subnet === k) return { usable: true, metric: 0, text: `connected ${prefixText(k)}` };
      if (!at) return undefined;
      let pick: KeptRoute | undefined;
      for (const r of at.values()) if (!pick || r.metric < pick.metric) pick = r;
      return pick;
    });
    if (!best?.usable) return UNREACHABLE;
    return { reachable: true, metric: best.metric, via: best.text };
  }

  /** Replaces every kept route with a fresh dump (after the monitor lost notifications). */
  replaceRoutes(routes: readonly KernelRoute[]): void {
    this.routes.clear();
    for (const r of routes) this.route('new', r);
  }

  /** Kept routes (a figure for the API and tests). */
  size(): number {
    let n = 0;
    for (const m of this.routes.values()) n += m.size;
    return n;
  }
}
