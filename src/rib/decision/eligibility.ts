// The eligibility pass that runs before tie-breaking: RFC 4271 §9.1.2
// (AS loops, unresolvable next hops), RFC 4271 §5.1.3/§6.3 (semantically
// incorrect next hops, next-hop.ts), RFC 4456 §8 (our ORIGINATOR_ID, our
// CLUSTER_ID) and import policy. Each exclusion carries its reason so the API
// can say why a path is not even a candidate.

import { asPathCount } from '../attr-store.js';
import { reflectionLoop } from '../reflect.js';
import type { Family } from '../../lib/prefix.js';
import type { Path } from '../route.js';
import type { DecisionContext, IneligibleReason } from './context.js';
import { nextHopFault, pathFamily } from './next-hop.js';

/**
 * Returns why `route` may not take part in the decision for a prefix of
 * `family`, or undefined when it may. `family` defaults to the one the path's
 * next hops suggest (next-hop.ts pathFamily).
 */
export function checkEligibility(route: Path, ctx: DecisionContext, family: Family = pathFamily(route)): IneligibleReason | undefined {
  const peer = route.peer;
  if (!peer.local) {
    // RFC 4271 §9.1.2: our own AS in AS_PATH is a loop (allowing `allowOwnAs` occurrences).
    if (route.attrs.attrs.asPath && asPathCount(route.attrs, peer.localAsn) > peer.allowOwnAs) return 'as-loop';
    // RFC 4456 §8: ORIGINATOR_ID equal to our router ID, or our CLUSTER_ID in CLUSTER_LIST.
    const loop = reflectionLoop(route.attrs.attrs, ctx.routerId, ctx.clusterId);
    if (loop) return loop;
  }
  // RFC 4271 §6.3: a semantically incorrect NEXT_HOP: the route is ignored, the session kept.
  const fault = nextHopFault(route, family, ctx);
  if (fault) return fault;
  // RFC 4271 §9.1.2: a route whose NEXT_HOP cannot be resolved is excluded.
  if (ctx.nextHopReachable && !route.peer.local && !ctx.nextHopReachable(route, family)) return 'next-hop-unreachable';
  if (ctx.policyRejected && ctx.policyRejected(route)) return 'policy-rejected';
  return undefined;
}
