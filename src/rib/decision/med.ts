// The MED step, RFC 4271 §9.1.2.2 c. MED is only comparable between routes
// from the same neighbour AS, so it is not a total order (STYLE.md §8): three
// paths can beat each other in a cycle when compared pairwise. Instead of a
// comparator, candidates are grouped by neighbour AS and, inside each group,
// every route with a higher MED than another member is removed. The result is
// a set, independent of the order the candidates arrived in.

import type { Path } from '../route.js';
import type { DecisionContext } from './context.js';

/** RFC 4271 §9.1.2.2 c: a missing MULTI_EXIT_DISC counts as the lowest value, 0. */
export function medOf(route: Path): number {
  return route.attrs.attrs.med ?? 0;
}

/**
 * RFC 4271 §9.1.2.2 c: neighborAS(n) is the first AS of the path, or the
 * local AS when the route was originated inside our AS (empty path or a path
 * beginning with AS_SET).
 */
export function neighbourAsOf(route: Path): number {
  return route.attrs.neighbourAs ?? route.peer.localAsn;
}

/** Keeps, per neighbour AS group (or globally with always-compare-med), the lowest-MED routes; compacts c[0..n). */
export function keepLowestMedPerNeighbourAs(c: Path[], n: number, ctx: DecisionContext): number {
  let kept = 0;
  for (let i = 0; i < n; i++) {
    const r = c[i]!;
    const med = medOf(r);
    const nas = neighbourAsOf(r);
    let beaten = false;
    for (let j = 0; j < n && !beaten; j++) {
      const o = c[j]!;
      if (o === r || medOf(o) >= med) continue;
      beaten = ctx.alwaysCompareMed || neighbourAsOf(o) === nas;
    }
    // Survivors move to the front; c[kept..i) holds only eliminated routes, so the
    // comparison above still sees every original member (eliminated ones included,
    // which is what removal "from consideration" in one step means).
    if (!beaten) {
      if (kept !== i) {
        c[i] = c[kept]!;
        c[kept] = r;
      }
      kept++;
    }
  }
  return kept;
}
