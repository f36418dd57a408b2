// The decision process for one prefix (RFC 4271 §9.1.2, RFC 4456 §9): an
// eligibility pass, then the named steps of steps.ts in order, each removing
// the candidates not tied for its best value. The result is independent of the
// order candidates are given in. The reason reported is the last step that
// removed anything: the one that separated the best path from the runner-up.
// Survivors of the steps up to IGP cost form the multipath (ECMP) set.

import type { Family } from '../../lib/prefix.js';
import type { Path } from '../route.js';
import type { DecisionContext, DecisionReason, DecisionStep, IneligibleReason } from './context.js';
import { checkEligibility } from './eligibility.js';
import { pathFamily } from './next-hop.js';
import { MULTIPATH_AFTER, STEPS, originatorIdOf } from './steps.js';

export interface IneligiblePath {
  readonly path: Path;
  readonly reason: IneligibleReason;
}

export interface Decision {
  readonly best: Path | undefined;
  readonly reason: DecisionReason;
  /** Best first; equal to the best through the IGP-cost step, same kind (eBGP/iBGP/local), capped at maxPaths. */
  readonly multipath: readonly Path[];
  readonly ineligible: readonly IneligiblePath[];
}

const NONE: readonly IneligiblePath[] = Object.freeze([]);

/** eBGP 0, iBGP 1, local 2: multipath never mixes kinds. */
function kindOf(r: Path): number {
  return r.peer.local ? 2 : r.peer.ibgp ? 1 : 0;
}

/** The total order of the steps after IGP cost, used to rank (and cap) the multipath set. */
function tieBreakCompare(a: Path, b: Path): number {
  const oa = originatorIdOf(a);
  const ob = originatorIdOf(b);
  if (oa !== ob) return oa < ob ? -1 : 1;
  if (a.attrs.clusterListLength !== b.attrs.clusterListLength) return a.attrs.clusterListLength - b.attrs.clusterListLength;
  if (a.peer.addressOrder !== b.peer.addressOrder) return a.peer.addressOrder < b.peer.addressOrder ? -1 : 1;
  return a.pathId - b.pathId;
}

/** Splits candidates into eligible (a fresh scratch array) and ineligible. */
function eligibleOf(candidates: readonly Path[], ctx: DecisionContext, family: Family): { c: Path[]; ineligible: IneligiblePath[] | undefined } {
  const c: Path[] = [];
  let ineligible: IneligiblePath[] | undefined;
  for (const r of candidates) {
    const why = checkEligibility(r, ctx, family);
    if (why === undefined) c.push(r);
    else (ineligible ??= []).push({ path: r, reason: why });
  }
  return { c, ineligible };
}

/** The family of a prefix's candidates when the caller does not name it. */
function familyOf(candidates: readonly Path[]): Family {
  return candidates.length > 0 ? pathFamily(candidates[0]!) : 'ipv4-unicast';
}

/** Runs the decision process over all candidates of one prefix (of `family`: which next hop counts). */
export function decideBest(candidates: readonly Path[], ctx: DecisionContext, family: Family = familyOf(candidates)): Decision {
  const { c, ineligible } = eligibleOf(candidates, ctx, family);
  const inel = ineligible ?? NONE;
  if (c.length === 0) return { best: undefined, reason: 'no-eligible-path', multipath: [], ineligible: inel };
  if (c.length === 1) return { best: c[0], reason: 'only-path', multipath: [c[0]!], ineligible: inel };

  let n = c.length;
  let reason: DecisionStep = STEPS[0]!.name;
  let multipath: Path[] | undefined;
  for (let s = 0; s < STEPS.length && n > 1; s++) {
    const step = STEPS[s]!;
    const kept = step.keep(c, n, ctx, family);
    if (kept < n) reason = step.name;
    n = kept;
    if (s === MULTIPATH_AFTER && n > 1 && ctx.maxPaths > 1) multipath = c.slice(0, n);
  }
  const best = c[0]!;
  if (!multipath) return { best, reason, multipath: [best], ineligible: inel };
  const kind = kindOf(best);
  const same = multipath.filter((r) => kindOf(r) === kind).sort(tieBreakCompare);
  if (same.length > ctx.maxPaths) same.length = ctx.maxPaths;
  return { best, reason, multipath: same, ineligible: inel };
}

export type ExplainStatus = 'best' | 'multipath' | 'lost' | 'ineligible';

/** Why each candidate did or did not win, for the API's explain endpoint. */
export interface CandidateExplanation {
  readonly path: Path;
  readonly status: ExplainStatus;
  /** The step that removed it ('lost'), or that decided ('best'). */
  readonly step?: DecisionReason;
  readonly ineligible?: IneligibleReason;
  /** One sentence in words. */
  readonly text: string;
}

const INELIGIBLE_TEXT: Record<IneligibleReason, string> = {
  'as-loop': 'not eligible: our AS number is in AS_PATH (RFC 4271 §9.1.2)',
  'originator-id-is-self': 'not eligible: ORIGINATOR_ID is our own router ID (RFC 4456 §8)',
  'cluster-loop': 'not eligible: our CLUSTER_ID is in CLUSTER_LIST (RFC 4456 §8)',
  'next-hop-missing': 'not eligible: no next hop of the prefix\'s family (RFC 4271 §5.1.3, RFC 4760 §3)',
  'next-hop-unspecified': 'not eligible: the next hop is the unspecified address (RFC 4271 §6.3)',
  'next-hop-loopback': 'not eligible: the next hop is a loopback address (RFC 4271 §6.3)',
  'next-hop-multicast': 'not eligible: the next hop is a multicast or reserved address (RFC 4271 §6.3)',
  'next-hop-link-local': 'not eligible: the next hop is link-local and the session has no interface to use it on (RFC 4271 §6.3)',
  'next-hop-own-address': 'not eligible: the next hop is one of our own addresses (RFC 4271 §5.1.3 a)',
  'next-hop-unreachable': 'not eligible: no route to the next hop in the kernel\'s tables (RFC 4271 §9.1.2)',
  'policy-rejected': 'not eligible: rejected by import policy',
};

/** Replays the decision process and reports, for each candidate, where it dropped out and against what. */
export function explain(candidates: readonly Path[], ctx: DecisionContext, family: Family = familyOf(candidates)): CandidateExplanation[] {
  const decision = decideBest(candidates, ctx, family);
  const out: CandidateExplanation[] = [];
  for (const { path, reason } of decision.ineligible)
    out.push({ path, status: 'ineligible', ineligible: reason, text: INELIGIBLE_TEXT[reason] });
  const { c } = eligibleOf(candidates, ctx, family);
  let n = c.length;
  const lost: CandidateExplanation[] = [];
  for (let s = 0; s < STEPS.length && n > 1; s++) {
    const step = STEPS[s]!;
    const kept = step.keep(c, n, ctx, family);
    const survivors = c.slice(0, kept);
    for (let i = kept; i < n; i++) {
      const loser = c[i]!;
      if (decision.multipath.includes(loser)) continue;
      // The best path survives every step, so it is the natural rival, except for MED
      // whose comparison is only within a neighbour AS.
      const rival = step.rival ? step.rival(loser, survivors, ctx) : decision.best!;
      lost.push({
        path: loser,
        status: 'lost',
        step: step.name,
        text: `lost at ${step.name}: ${step.value(loser, ctx, family)} against ${step.value(rival, ctx, family)} of a path via ${rival.peer.address}`,
      });
    }
    n = kept;
  }
  if (decision.best) {
    const b = decision.best;
    out.push({
      path: b,
      status: 'best',
      step: decision.reason,
      text: decision.reason === 'only-path' ? 'best: the only eligible path' : `best: decided at ${decision.reason}`,
    });
    for (const m of decision.multipath)
      if (m !== b) out.push({ path: m, status: 'multipath', text: 'multipath: equal to the best through IGP cost' });
  }
  return out.concat(lost);
}
