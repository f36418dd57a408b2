// Shared shapes of the FIB: what the RIB wants (BestPathChange in, DesiredRoute
// out), what the kernel holds (KernelRoute, one rtnetlink route of any
// protocol), and the operations that move one towards the other (FibOp).
// Plain readonly data; the netlink codec (src/fib/netlink/messages.ts) maps
// KernelRoute to and from rtmsg + attributes (Linux rtnetlink(7); RFC 3549 §3.1.1
// describes the model). Next-hop addresses are canonical text: dotted quad for
// IPv4, RFC 5952 for IPv6, so comparing two routes compares strings.

import type { PrefixKey } from '../lib/prefix.js';
import type { KernelRoute as NlKernelRoute, NextHop as NlNextHop, RouteOp as NlRouteOp } from './netlink/messages.js';

/** rtm_type values we name; anything else decodes as 'other' and is never ours to write. */
export type RouteType = 'unicast' | 'blackhole' | 'unreachable' | 'prohibit' | 'local' | 'other';

/** Linux rtm_type numbers (include/uapi/linux/rtnetlink.h). */
export const RTN: Readonly<Record<Exclude<RouteType, 'other'>, number>> = {
  unicast: 1,
  local: 2,
  blackhole: 6,
  unreachable: 7,
  prohibit: 8,
};

/** One next hop of a kernel route: RTA_GATEWAY + RTA_OIF + RTNH_F_ONLINK, or one rtnexthop of RTA_MULTIPATH. */
export interface KernelNextHop {
  /** Gateway address, canonical text; absent on device-only routes. */
  readonly gateway?: string;
  /** Output interface; on a desired route, absent means "the kernel resolves it through the connected route". */
  readonly ifindex?: number;
  /** RTNH_F_ONLINK: the gateway is reachable on `ifindex` without a connected route (IPIP). */
  readonly onlink: boolean;
}

/** The fields that identify a route in a kernel table: (table, dst, tos=0, priority). */
export interface RouteIdentity {
  readonly prefix: PrefixKey;
  readonly table: number;
  /** rtm_protocol; ours is fib.protocol (default 201). */
  readonly protocol: number;
  /** RTA_PRIORITY; absent in a dump means 0 (IPv4); IPv6 routes always carry it (default 1024). */
  readonly metric: number;
}

/** A route as dumped or notified by the kernel (any protocol). */
export interface KernelRoute extends RouteIdentity {
  readonly type: RouteType;
  /** Empty for blackhole/unreachable/prohibit routes. */
  readonly nextHops: readonly KernelNextHop[];
}

/** Why a route the RIB selected is not programmed at all (by design). */
export type SkipReason =
  | 'pool-not-programmed' // ipPools[].program: false (Calico VXLAN / EnabledNoEncapOnly)
  | 'service-cidr' // inside serviceCidrs (kube-proxy's business)
  | 'host-route' // an own /32 or /128 block gets no blackhole (Calico)
  | 'local-no-blackhole'; // an own prefix that is announced but not blackholed

/** Why a route that should be programmed cannot be, right now (the writer reports it). */
export type UnresolvableReason =
  | 'tunnel-missing' // ipip needed, tunl0 absent
  | 'tunnel-down'
  | 'link-local-without-interface' // IPv6 fe80::/10 next hop with no interface given
  | 'interface-missing'
  | 'interface-down'
  | 'nexthop-family-mismatch' // e.g. an IPv4 prefix via an IPv6 next hop (RFC 8950), not programmed
  | 'nexthop-invalid'
  | 'no-nexthop';

/** A route bgp-ts wants in the kernel. `unresolvable` set: wanted but not installable. */
export interface DesiredRoute extends KernelRoute {
  readonly type: 'unicast' | 'blackhole';
  readonly unresolvable?: UnresolvableReason;
}

/** One next hop of a best path as the daemon hands it over (address as text). */
export interface NextHopInput {
  readonly address: string;
  /** Interface name; required for IPv6 link-local next hops. */
  readonly interface?: string;
}

/**
 * A best-path change from the RIB, converted by the daemon (src/fib must not
 * import src/rib). `nextHops` is the ECMP set (RFC 4271 §9.1.2 multipath);
 * `local` marks a prefix this node originates (its own IPAM block). Neither
 * present, or an empty set without `local`: the prefix is withdrawn.
 */
export interface BestPathChange {
  readonly prefix: PrefixKey;
  readonly nextHops?: readonly NextHopInput[];
  readonly local?: { readonly blackhole: boolean };
}

/** Why an operation is queued: RIB change, start/periodic reconcile, or a drift repair. */
export type FibOpCause = 'rib' | 'reconcile' | 'drift' | 'sweep';

/**
 * A kernel write. 'add' and 'replace' are both sent as RTM_NEWROUTE with
 * NLM_F_CREATE|NLM_F_REPLACE so a retry is always safe; the kind says what we
 * believed about the kernel. 'delete' is RTM_DELROUTE; ESRCH ("already gone")
 * counts as success.
 */
export type FibOp =
  | { readonly kind: 'add' | 'replace'; readonly route: DesiredRoute; readonly cause: FibOpCause }
  | { readonly kind: 'delete'; readonly route: RouteIdentity & { readonly type?: RouteType }; readonly cause: FibOpCause };

/** Kernel-default metric when none is configured: IPv4 0, IPv6 1024 (ip6_route_add). */
export function defaultMetric(prefix: PrefixKey): number {
  return typeof prefix === 'number' ? 0 : 1024;
}

/**
 * The coalescing key of an operation: the prefix itself when the route sits at
 * the family's default metric (the normal case, so IPv4 keys stay numbers),
 * else "prefix@metric" so a delete at another metric is not swallowed by an
 * add at ours.
 */
export type FibOpKey = PrefixKey;

export function fibOpKey(route: RouteIdentity): FibOpKey {
  return route.metric === defaultMetric(route.prefix) ? route.prefix : `${route.prefix}@${route.metric}`;
}

// ------------------------------------------------------------ the writer

/** A route whose last write the kernel refused (GET /api/v1/fib shows these). */
export interface FailedRoute {
  readonly prefix: PrefixKey;
  readonly metric: number;
  readonly kind: FibOp['kind'];
  readonly errno: number;
  readonly since: number;
  readonly attempts: number;
  readonly retryAt: number | undefined;
}

export interface FibCounters {
  readonly adds: number;
  readonly replaces: number;
  readonly deletes: number;
  /** Kernel refusals (each failed attempt). */
  readonly errors: number;
  /** Routes re-written because someone else removed or changed them. */
  readonly driftRepairs: number;
  readonly reconciles: number;
}

export interface FibSnapshot {
  /** Our routes as the writer knows the kernel holds them. */
  readonly installed: readonly KernelRoute[];
  /** Keys with writes not yet acknowledged. */
  readonly pending: number;
  readonly failed: readonly FailedRoute[];
  /** Wanted but not installable, with the reason. */
  readonly unresolvable: readonly { readonly prefix: PrefixKey; readonly reason: UnresolvableReason }[];
  readonly counters: FibCounters;
}

/**
 * What the daemon drives: the kernel writer (netlink) and the dry-run writer
 * (no I/O) both implement it. apply() queues and returns at once; sync()
 * reconciles the whole table against the kernel (at start, on demand, and to
 * sweep stale routes after a restart with keepStale: false).
 */
export interface FibWriter {
  apply(ops: readonly FibOp[]): void;
  sync(desired: ReadonlyMap<PrefixKey, DesiredRoute>, opts: { readonly keepStale: boolean }): Promise<FibSyncResult>;
  snapshot(): FibSnapshot;
  close(): Promise<void>;
}

/** Counts of one reconcile (the full lists stay inside the writer). */
export interface FibSyncResult {
  readonly added: number;
  readonly replaced: number;
  readonly deleted: number;
  readonly adopted: number;
  readonly kept: number;
  readonly unresolvable: number;
  readonly conflicts: number;
}

// ------------------------------------------------------------ netlink mapping

const NAMED_TYPES: ReadonlySet<string> = new Set(['unicast', 'blackhole', 'unreachable', 'prohibit', 'local']);

/** A route decoded by netlink/messages.ts in the FIB's shape (metric defaulted, next hops as one list). */
export function fromNetlinkRoute(r: NlKernelRoute): KernelRoute {
  const type = (NAMED_TYPES.has(r.type) ? r.type : 'other') as RouteType;
  let nextHops: KernelNextHop[];
  if (r.multipath && r.multipath.length > 0) {
    nextHops = r.multipath.map((h) => ({ gateway: h.gateway, ifindex: h.oif, onlink: h.onlink === true }));
  } else if (r.gateway !== undefined || r.oif !== undefined) {
    nextHops = [{ gateway: r.gateway, ifindex: r.oif, onlink: r.onlink }];
  } else nextHops = [];
  return {
    prefix: r.dst,
    table: r.table,
    protocol: r.protocol,
    metric: r.priority ?? defaultMetric(r.dst),
    type,
    nextHops,
  };
}

/**
 * A FibOp as a netlink request. Installs are always sent as 'replace'
 * (NLM_F_CREATE|NLM_F_REPLACE, DESIGN.md: retries are safe); a single next hop
 * goes in RTA_GATEWAY/RTA_OIF/rtm_flags, several in RTA_MULTIPATH.
 */
export function toNetlinkOp(op: FibOp): NlRouteOp {
  const r = op.route;
  // Literal objects of one shape each (no spreads): this runs once per kernel write.
  if (op.kind === 'delete') {
    return { op: 'delete', route: { dst: r.prefix, table: r.table, protocol: r.protocol, priority: r.metric } };
  }
  const route = op.route;
  if (route.type === 'blackhole') return { op: 'replace', route: { dst: r.prefix, table: r.table, protocol: r.protocol, priority: r.metric, type: 'blackhole' } };
  if (route.nextHops.length === 1) {
    const h = route.nextHops[0]!;
    return {
      op: 'replace',
      route: { dst: r.prefix, table: r.table, protocol: r.protocol, priority: r.metric, type: 'unicast', gateway: h.gateway, oif: h.ifindex, onlink: h.onlink },
    };
  }
  const multipath: NlNextHop[] = route.nextHops.map((h) => ({ gateway: h.gateway, oif: h.ifindex, onlink: h.onlink }));
  return { op: 'replace', route: { dst: r.prefix, table: r.table, protocol: r.protocol, priority: r.metric, type: 'unicast', multipath } };
}
