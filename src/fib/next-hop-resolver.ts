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

function routeKey(r: KernelRoute): string {
  return `${r.table}|${String(r.dst)}|${r.priority ?? 0}`;
}

export class NextHopResolver {
  /** dst prefix key → routes of that prefix (several tables or metrics), by identity key. */
  private readonly routes = new Map<PrefixKey, Map<string, KeptRoute>>();
  /** Connected subnets of our addresses → how many addresses make them. */
  private readonly subnets = new Map<PrefixKey, number>();
  /** Our own addresses, canonical text → count. */
  private readonly own = new Map<string, number>();
  private readonly tables: ReadonlySet<number>;

  constructor(private readonly opts: ResolverOptions) {
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
    const bump = (m: Map<string | PrefixKey, number>, k: string | PrefixKey, d: number): void => {
      const n = (m.get(k) ?? 0) + d;
      if (n <= 0) m.delete(k);
      else m.set(k, n);
    };
    const d = change === 'new' ? 1 : -1;
    const own = parse(a.address);
    bump(this.own, own && 'v4' in own ? String(own.v4) : a.address, d);
    bump(this.subnets, a.subnet, d);
    return true;
  }

  /** RFC 4271 §5.1.3 a: is `address` one of ours? */
  isOwn(address: string): boolean {
    const p = parse(address);
    return this.own.has(p && 'v4' in p ? String(p.v4) : address);
  }

  /** The connected subnet `address` lies on, if any. */
  connectedSubnet(address: string): PrefixKey | undefined {
    const p = parse(address);
    if (!p) return undefined;
    return this.longest(p, (k) => (this.subnets.has(k) ? k : undefined));
  }

  resolve(address: string, mode: ResolveMode): Resolution {
    const p = parse(address);
    if (!p) return UNREACHABLE;
    const subnet = this.longest(p, (k) => (this.subnets.has(k) ? k : undefined));
    if (mode === 'connected') return subnet !== undefined ? { reachable: true, metric: 0, via: `connected ${prefixText(subnet)}` } : UNREACHABLE;
    const best = this.longest(p, (k) => {
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

  /** The first (longest) prefix containing the address for which `hit` answers. */
  private longest<T>(p: { v4: number } | { v6: Buffer }, hit: (k: PrefixKey) => T | undefined): T | undefined {
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

  /** Kept routes (a figure for the API and tests). */
  size(): number {
    let n = 0;
    for (const m of this.routes.values()) n += m.size;
    return n;
  }
}
