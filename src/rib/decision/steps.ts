// The ordered tie-breaking steps of the decision process: RFC 4271 §9.1.2.2
// a)-g) as modified by RFC 4456 §9. Each step removes from consideration the
// candidates that are not tied for the best value it looks at (elimination,
// not a comparator: see med.ts), compacting the survivors to the front of a
// scratch array. `value` says what the step compared, in words for explain().

import type { Family } from '../../lib/prefix.js';
import type { Path } from '../route.js';
import type { DecisionContext, DecisionStep } from './context.js';
import { keepLowestMedPerNeighbourAs, medOf, neighbourAsOf } from './med.js';

export interface Step {
  readonly name: DecisionStep;
  /** Keeps the survivors of c[0..n) in c[0..result); the others end up in c[result..n). */
  readonly keep: (c: Path[], n: number, ctx: DecisionContext, family: Family) => number;
  /** The quantity compared, in words ("LOCAL_PREF 100"). */
  readonly value: (r: Path, ctx: DecisionContext, family: Family) => string;
  /** For explain(): the survivor a loser is compared with when not the best (same neighbour AS for MED). */
  readonly rival?: (loser: Path, survivors: readonly Path[], ctx: DecisionContext) => Path;
}

/** Keeps the candidates with the lowest `key`; stable partition of c[0..n). */
function keepMin(c: Path[], n: number, key: (r: Path) => number): number {
  let min = Infinity;
  for (let i = 0; i < n; i++) {
    const k = key(c[i]!);
    if (k < min) min = k;
  }
  let kept = 0;
  for (let i = 0; i < n; i++) {
    const r = c[i]!;
    if (key(r) === min) {
      if (kept !== i) {
        c[i] = c[kept]!;
        c[kept] = r;
      }
      kept++;
    }
  }
  return kept;
}

/** RFC 4271 §9.1.1: the degree of preference; LOCAL_PREF, or the default when absent. */
export function localPrefOf(r: Path, ctx: DecisionContext): number {
  return r.attrs.attrs.localPref ?? ctx.defaultLocalPref;
}

/** RFC 4271 §9.1.2.2 e: unknown cost sorts after every known cost; originated routes cost 0. */
export function igpCostOf(r: Path, ctx: DecisionContext, family: Family): number {
  if (!ctx.igpCost || r.peer.local) return 0;
  return ctx.igpCost(r, family) ?? Infinity;
}

/** RFC 4456 §9: ORIGINATOR_ID, when present, stands in for the advertiser's BGP Identifier. */
export function originatorIdOf(r: Path): number {
  return r.attrs.attrs.originatorId ?? r.peer.bgpId;
}

const ORIGIN_NAMES = ['IGP', 'EGP', 'INCOMPLETE'];

function dotted(n: number): string {
  return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
}

export const STEPS: readonly Step[] = [
  {
    // RFC 4271 §9.1.2.1/§9.1.1: highest degree of preference. LOCAL_PREF received
    // over eBGP is dropped at intern time (§5.1.5), so eBGP routes get the default
    // unless import policy set one.
    name: 'local-pref',
    keep: (c, n, ctx) => keepMin(c, n, (r) => -localPrefOf(r, ctx)),
    value: (r, ctx) => `LOCAL_PREF ${localPrefOf(r, ctx)}`,
  },
  {
    // Not in RFC 4271 (a local preference choice, as in FRR and BIRD's protocol
    // preference): a route we originate beats one learned for the same prefix.
    name: 'local-origin',
    keep: (c, n) => keepMin(c, n, (r) => (r.peer.local ? 0 : 1)),
    value: (r) => (r.peer.local ? 'originated locally' : 'learned from a peer'),
  },
  {
    // RFC 4271 §9.1.2.2 a: fewest AS numbers in AS_PATH (AS_SET counts 1).
    name: 'as-path-length',
    keep: (c, n) => keepMin(c, n, (r) => r.attrs.asPathLength),
    value: (r) => `AS_PATH length ${r.attrs.asPathLength}`,
  },
  {
    // RFC 4271 §9.1.2.2 b: lowest ORIGIN (IGP < EGP < INCOMPLETE).
    name: 'origin',
    keep: (c, n) => keepMin(c, n, (r) => r.attrs.attrs.origin ?? 2),
    value: (r) => `ORIGIN ${ORIGIN_NAMES[r.attrs.attrs.origin ?? 2]}`,
  },
  {
    // RFC 4271 §9.1.2.2 c: lowest MED among routes from the same neighbour AS.
    name: 'med',
    keep: keepLowestMedPerNeighbourAs,
    value: (r) => `MED ${medOf(r)} from neighbour AS ${neighbourAsOf(r)}`,
    rival: (loser, survivors, ctx) =>
      survivors.find((s) => ctx.alwaysCompareMed || neighbourAsOf(s) === neighbourAsOf(loser)) ?? survivors[0]!,
  },
  {
    // RFC 4271 §9.1.2.2 d: prefer routes learned over eBGP to those learned over iBGP.
    name: 'ebgp-over-ibgp',
    keep: (c, n) => keepMin(c, n, (r) => (r.peer.ibgp ? 1 : 0)),
    value: (r) => (r.peer.ibgp ? 'learned over iBGP' : 'learned over eBGP'),
  },
  {
    // RFC 4271 §9.1.2.2 e: lowest interior cost to the NEXT_HOP.
    name: 'igp-cost',
    keep: (c, n, ctx, family) => (ctx.igpCost ? keepMin(c, n, (r) => igpCostOf(r, ctx, family)) : n),
    value: (r, ctx, family) => `IGP cost ${igpCostOf(r, ctx, family)}`,
  },
  {
    // RFC 4271 §9.1.2.2 f, RFC 4456 §9: lowest BGP Identifier, ORIGINATOR_ID standing in for it.
    name: 'originator-id',
    keep: (c, n) => keepMin(c, n, originatorIdOf),
    value: (r) => `originator/router ID ${dotted(originatorIdOf(r))}`,
  },
  {
    // RFC 4456 §9: inserted between f) and g), the shorter CLUSTER_LIST wins.
    name: 'cluster-list-length',
    keep: (c, n) => keepMin(c, n, (r) => r.attrs.clusterListLength),
    value: (r) => `CLUSTER_LIST length ${r.attrs.clusterListLength}`,
  },
  {
    // RFC 4271 §9.1.2.2 g: lowest peer address.
    name: 'peer-address',
    keep: (c, n) => {
      let min = c[0]!.peer.addressOrder;
      for (let i = 1; i < n; i++) if (c[i]!.peer.addressOrder < min) min = c[i]!.peer.addressOrder;
      return keepMin(c, n, (r) => (r.peer.addressOrder === min ? 0 : 1));
    },
    value: (r) => `peer address ${r.peer.address}`,
  },
  {
    // RFC 7911 leaves the choice among several paths from one peer open; the lowest
    // path identifier makes it deterministic.
    name: 'path-id',
    keep: (c, n) => keepMin(c, n, (r) => r.pathId),
    value: (r) => `path ID ${r.pathId}`,
  },
];

/** Index of the last step whose survivors form the multipath (ECMP) set: RFC 4271 §9.1.2.2 e. */
export const MULTIPATH_AFTER = STEPS.findIndex((s) => s.name === 'igp-cost');
