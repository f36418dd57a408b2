// The eligibility pass that runs before tie-breaking: RFC 4271 §9.1.2
// (AS loops, unresolvable next hops), RFC 4456 §8 (our ORIGINATOR_ID, our
// CLUSTER_ID) and import policy. Each exclusion carries its reason so the API
// can say why a path is not even a candidate.

import { asPathCount } from '../attr-store.js';
import { reflectionLoop } from '../reflect.js';
import type { Path } from '../route.js';
import type { DecisionContext, IneligibleReason } from './context.js';

/** Returns why `route` may not take part in the decision, or undefined when it may. */
export function checkEligibility(route: Path, ctx: DecisionContext): IneligibleReason | undefined {
  const peer = route.peer;
  if (!peer.local) {
    // RFC 4271 §9.1.2: our own AS in AS_PATH is a loop (allowing `allowOwnAs` occurrences).
    if (route.attrs.attrs.asPath && asPathCount(route.attrs, peer.localAsn) > peer.allowOwnAs) return 'as-loop';
    // RFC 4456 §8: ORIGINATOR_ID equal to our router ID, or our CLUSTER_ID in CLUSTER_LIST.
    const loop = reflectionLoop(route.attrs.attrs, ctx.routerId, ctx.clusterId);
    if (loop) return loop;
  }
  // RFC 4271 §9.1.2.1: a route whose NEXT_HOP cannot be resolved is excluded.
  if (ctx.nextHopReachable && !ctx.nextHopReachable(route)) return 'next-hop-unreachable';
  if (ctx.policyRejected && ctx.policyRejected(route)) return 'policy-rejected';
  return undefined;
}
