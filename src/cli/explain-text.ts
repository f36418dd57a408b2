// `bgp-ts explain` in words: one sentence per candidate path saying why it is
// best, shares the traffic, lost, or cannot be used at all, written from the
// API's structured answer (status, the RFC 4271 §9.1.2.2 / RFC 4456 §9 step
// that decided, the ineligibility reason, the paths' attributes) rather than
// from the RIB's terse debugging text. Every DecisionStep and IneligibleReason
// has a sentence (the Records below must be complete, and
// test/cli/explain-text.test.ts renders each one).

import type { ApiExplain, ApiRoute } from '../api/schemas.js';

/** The RIB's step and reason names (src/rib/decision/context.ts), repeated so the CLI imports only the API's types; the test checks them against the RIB's STEPS. */
type DecisionStep =
  | 'local-pref' | 'local-origin' | 'as-path-length' | 'origin' | 'med' | 'ebgp-over-ibgp'
  | 'igp-cost' | 'originator-id' | 'cluster-list-length' | 'peer-address' | 'path-id';
type IneligibleReason =
  | 'as-loop' | 'originator-id-is-self' | 'cluster-loop' | 'next-hop-unreachable' | 'policy-rejected'
  | 'next-hop-missing' | 'next-hop-unspecified' | 'next-hop-loopback' | 'next-hop-multicast' | 'next-hop-link-local' | 'next-hop-own-address';

type Candidate = ApiExplain['candidates'][number];

/** The step as a phrase after "chosen on": what was compared. */
export const STEP_PHRASE: Record<DecisionStep, string> = {
  'local-pref': 'the highest LOCAL_PREF',
  'local-origin': 'being originated by this node',
  'as-path-length': 'the shortest AS path',
  origin: 'the best ORIGIN (IGP, then EGP, then incomplete)',
  med: 'the lowest MED from the same neighbour AS',
  'ebgp-over-ibgp': 'being learned over eBGP',
  'igp-cost': 'the cheapest route to its next hop',
  'originator-id': 'the lowest router ID (a tie-breaker)',
  'cluster-list-length': 'the shortest CLUSTER_LIST (fewest route reflectors)',
  'peer-address': 'the lowest peer address (the last tie-breaker)',
  'path-id': 'the lowest ADD-PATH path ID (the last tie-breaker)',
};

const from = (r: ApiRoute) => (r.peer === 'local' ? 'this node' : r.peer);
const pathLength = (r: ApiRoute) => (r.asPath === '' ? 0 : r.asPath.split(' ').length);
const neighbourAs = (r: ApiRoute) => (r.asPath === '' ? undefined : r.asPath.split(' ')[0]);
const plural = (n: number, one: string) => `${n} ${one}${n === 1 ? '' : 's'}`;

/** Why a path lost at a step, against `best` (or, for MED, `rival`: the winner in its neighbour AS). */
export const LOST_SENTENCE: Record<DecisionStep, (r: ApiRoute, best: ApiRoute, rival: ApiRoute) => string> = {
  'local-pref': (r, b) => `Lost: its LOCAL_PREF ${r.localPref ?? 100} is lower than ${b.localPref ?? 100} on the best path via ${from(b)}.`,
  'local-origin': (r, b) =>
    r.peer === 'local'
      ? `Lost: it is originated here, but the best path via ${from(b)} won on an earlier step.`
      : `Lost: the best path is originated by this node, and a path this node originates wins over one learned from a peer.`,
  'as-path-length': (r, b) => `Lost: its AS path is longer (${plural(pathLength(r), 'AS')}) than the best path's via ${from(b)} (${plural(pathLength(b), 'AS')}).`,
  origin: (r, b) => `Lost: its ORIGIN ${r.origin} ranks below ${b.origin} on the best path via ${from(b)} (IGP, then EGP, then incomplete).`,
  med: (r, _b, x) =>
    `Lost: its MED ${r.med ?? 0} is higher than MED ${x.med ?? 0} on the path via ${from(x)}, from the same neighbour AS${neighbourAs(r) ? ` ${neighbourAs(r)}` : ''}.`,
  'ebgp-over-ibgp': (_r, b) => `Lost: it was learned over iBGP and the best path via ${from(b)} over eBGP, which wins.`,
  'igp-cost': (r, b) => `Lost: its next hop ${r.nextHop} costs more to reach than ${b.nextHop}, the best path's next hop.`,
  'originator-id': (_r, b) => `Lost on a tie-breaker: its originator (or peer) router ID is higher than that of the best path via ${from(b)}.`,
  'cluster-list-length': (r, b) =>
    `Lost: it passed through more route reflectors (CLUSTER_LIST of ${r.clusterList?.length ?? 0}) than the best path via ${from(b)} (${b.clusterList?.length ?? 0}).`,
  'peer-address': (r, b) => `Lost on the last tie-breaker: its peer address ${r.peer} is higher than ${b.peer}, the best path's.`,
  'path-id': (r, b) => `Lost on the last tie-breaker: its ADD-PATH path ID ${r.pathId ?? 0} is higher than ${b.pathId ?? 0} on the best path.`,
};

/** Why a path cannot be used at all (RFC 4271 §9.1.2, RFC 4456 §8, import policy). */
export const INELIGIBLE_SENTENCE: Record<IneligibleReason, (r: ApiRoute) => string> = {
  'as-loop': () => 'Not usable: our own AS is in its AS path, so taking it would make a routing loop.',
  'originator-id-is-self': () => 'Not usable: its ORIGINATOR_ID is our own router ID, so it is our own route reflected back to us.',
  'cluster-loop': () => 'Not usable: our cluster ID is already in its CLUSTER_LIST, so it has looped back through this reflector.',
  'next-hop-unreachable': (r) => `Not usable: its next hop ${r.nextHop || '(none)'} cannot be reached (no route to it in the kernel's table).`,
  // RFC 4271 §5.1.3, §6.3: a NEXT_HOP that can never be forwarded to.
  'next-hop-missing': () => 'Not usable: it carries no next hop of its address family.',
  'next-hop-unspecified': (r) => `Not usable: its next hop ${r.nextHop} is the unspecified address.`,
  'next-hop-loopback': (r) => `Not usable: its next hop ${r.nextHop} is a loopback address, which names the peer's own host, not a router.`,
  'next-hop-multicast': (r) => `Not usable: its next hop ${r.nextHop} is a multicast or reserved address.`,
  'next-hop-link-local': (r) => `Not usable: its next hop ${r.nextHop} is link-local, and the session has no interface to use it on.`,
  'next-hop-own-address': (r) => `Not usable: its next hop ${r.nextHop} is one of our own addresses.`,
  'policy-rejected': () => 'Not usable: the import policy rejected it.',
};

/** The candidate's sentence; `text` from the API only for a step or reason this CLI does not know. */
export function candidateSentence(c: Candidate, all: readonly Candidate[]): string {
  const best = all.find((x) => x.status === 'best')?.route;
  if (c.status === 'ineligible') return c.ineligible && c.ineligible in INELIGIBLE_SENTENCE ? INELIGIBLE_SENTENCE[c.ineligible as IneligibleReason](c.route) : c.text;
  if (c.status === 'multipath') return `Also used: as good as the best path up to the IGP cost, so traffic is shared between them (ECMP).`;
  if (c.status === 'best') {
    if (c.step === 'only-path' || all.filter((x) => x.status !== 'ineligible').length === 1) return 'Best: it is the only usable path.';
    return c.step && c.step in STEP_PHRASE ? `Best: chosen on ${STEP_PHRASE[c.step as DecisionStep]}.` : c.text;
  }
  if (!best || !c.step || !(c.step in LOST_SENTENCE)) return c.text;
  // MED compares only within a neighbour AS: the rival is the lowest MED there.
  const sameAs = all.filter((x) => x !== c && x.status !== 'ineligible' && neighbourAs(x.route) === neighbourAs(c.route));
  const rival = [...sameAs].sort((x, y) => (x.route.med ?? 0) - (y.route.med ?? 0))[0]?.route ?? best;
  return LOST_SENTENCE[c.step as DecisionStep](c.route, best, rival);
}

/** The first line of `bgp-ts explain`. */
export function explainSummary(e: ApiExplain): string {
  const best = e.candidates.find((c) => c.status === 'best');
  if (!best) return `${e.prefix}: no usable path`;
  const n = e.candidates.length;
  const how = e.reason === 'only-path' || n === 1 ? 'the only usable path' : e.reason in STEP_PHRASE ? `chosen on ${STEP_PHRASE[e.reason as DecisionStep]}` : e.reason;
  return `${e.prefix}: best path via ${from(best.route)}, ${how} (${plural(n, 'candidate')})`;
}
