// Every reason `bgp-ts explain` can print reads as a sentence an operator
// understands: each decision step the RIB runs (src/rib/decision/steps.ts
// STEPS) and each ineligibility reason, rendered from an API answer, with no
// step slug, no "against" jargon, a capital letter and a full stop.

import { describe, expect, it } from 'vitest';
import type { ApiExplain, ApiRoute } from '../../src/api/schemas.js';
import { candidateSentence, explainSummary, INELIGIBLE_SENTENCE, LOST_SENTENCE, STEP_PHRASE } from '../../src/cli/explain-text.js';
import { formatExplain } from '../../src/cli/tables.js';
import { STEPS } from '../../src/rib/decision/steps.js';
import type { DecisionStep, IneligibleReason } from '../../src/rib/decision/context.js';

const route = (over: Partial<ApiRoute> = {}): ApiRoute => ({
  prefix: '10.244.1.0/26', family: 'ipv4-unicast', peer: '192.0.2.2', peerAsn: 65001, best: false,
  nextHop: '192.0.2.2', asPath: '65001', origin: 'igp', ...over,
});
type Candidate = ApiExplain['candidates'][number];
const best: Candidate = { route: route({ peer: '192.0.2.3', nextHop: '192.0.2.3', best: true, localPref: 200, med: 10, clusterList: ['192.0.2.9'] }), status: 'best', step: 'local-pref', text: 'best: decided at local-pref' };
// The hyphenated names (local-pref, as-loop, ...); "origin" and "med" are words too.
const SLUGS = [...STEPS.map((s) => s.name), ...Object.keys(INELIGIBLE_SENTENCE)].filter((s) => s.includes('-'));

function expectSentence(text: string) {
  expect(text).toMatch(/^[A-Z].*\.$/);
  expect(text).not.toMatch(/\bagainst\b|\bdecided at\b/);
  for (const slug of SLUGS) expect(text.includes(slug), `"${text}" names the slug ${slug}`).toBe(false);
}

describe('explain sentences', () => {
  it('every step the RIB runs has a phrase and a lost-sentence', () => {
    expect(Object.keys(STEP_PHRASE).sort()).toEqual(STEPS.map((s) => s.name).sort());
    expect(Object.keys(LOST_SENTENCE).sort()).toEqual(STEPS.map((s) => s.name).sort());
  });

  it.each(STEPS.map((s) => s.name))('lost at %s reads as a sentence', (step) => {
    const loser: Candidate = { route: route({ localPref: 100, med: 50 }), status: 'lost', step, text: `lost at ${step}: x against y` };
    const s = candidateSentence(loser, [best, loser]);
    expectSentence(s);
    expect(s).toMatch(/^Lost/);
  });

  it.each(STEPS.map((s) => s.name))('best chosen at %s reads as a sentence', (step) => {
    const b: Candidate = { ...best, step };
    const loser: Candidate = { route: route(), status: 'lost', step, text: '' };
    expectSentence(candidateSentence(b, [b, loser]));
  });

  it.each(Object.keys(INELIGIBLE_SENTENCE))('ineligible %s reads as a sentence', (reason) => {
    const c: Candidate = { route: route(), status: 'ineligible', ineligible: reason, text: `not eligible: ${reason}` };
    const s = candidateSentence(c, [best, c]);
    expectSentence(s);
    expect(s).toMatch(/^Not usable/);
  });

  it('multipath and the only path read as sentences', () => {
    const m: Candidate = { route: route(), status: 'multipath', text: 'multipath: equal to the best through IGP cost' };
    expectSentence(candidateSentence(m, [best, m]));
    const only: Candidate = { ...best, step: 'only-path' };
    expect(candidateSentence(only, [only])).toBe('Best: it is the only usable path.');
  });

  it('the case from the issue: a locally originated best path', () => {
    const local: Candidate = { route: route({ peer: 'local', nextHop: 'self', asPath: '', best: true }), status: 'best', step: 'local-origin', text: 'best: decided at local-origin' };
    const learned: Candidate = { route: route(), status: 'lost', step: 'local-origin', text: 'lost at local-origin: learned from a peer against originated locally of a path via local' };
    const e: ApiExplain = { prefix: '10.244.1.0/26', family: 'ipv4-unicast', reason: 'local-origin', summary: '', candidates: [local, learned] };
    expect(explainSummary(e)).toBe('10.244.1.0/26: best path via this node, chosen on being originated by this node (2 candidates)');
    const out = formatExplain(e);
    expect(out).toContain('Lost: the best path is originated by this node, and a path this node originates wins over one learned from a peer.');
    expect(out).not.toContain('against');
  });

  it('MED compares with the winner inside the same neighbour AS', () => {
    const sameAs: Candidate = { route: route({ peer: '192.0.2.4', med: 5 }), status: 'lost', step: 'igp-cost', text: '' };
    const loser: Candidate = { route: route({ med: 50 }), status: 'lost', step: 'med', text: '' };
    expect(candidateSentence(loser, [best, sameAs, loser])).toBe('Lost: its MED 50 is higher than MED 5 on the path via 192.0.2.4, from the same neighbour AS 65001.');
  });
});

// Compile-time: every IneligibleReason and DecisionStep of the RIB has a sentence (npm run typecheck fails otherwise).
const _ineligible: Record<IneligibleReason, unknown> = INELIGIBLE_SENTENCE;
const _steps: Record<DecisionStep, unknown> = LOST_SENTENCE;
void _ineligible;
void _steps;
