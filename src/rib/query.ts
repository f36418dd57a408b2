// The RIB's reads for the API (pure, synchronous): which (prefix, path) rows a
// route query selects, best path first per prefix, and one prefix's decision
// explained per candidate (RFC 4271 §9.1.2, the step that decided). The API
// formats these; it never walks the Loc-RIB itself.

import { prefixFamily, prefixParse, v4Contains, v4Key, v4Parse, v6KeyParse, type Family, type PrefixKey } from '../lib/prefix.js';
import type { CandidateExplanation } from './decision/decide.js';
import type { DecisionReason, IneligibleReason } from './decision/context.js';
import { checkEligibility } from './decision/eligibility.js';
import type { Path } from './route.js';
import type { Rib } from './rib.js';

/** What to list: one prefix (exact, longest match of an address or prefix, or its subnets) or all; filters. */
export interface RouteQuery {
  readonly prefix?: string;
  readonly match?: 'exact' | 'longest' | 'subnets';
  readonly family?: Family;
  readonly best?: boolean;
  readonly peer?: string;
}

export interface RouteRow {
  readonly prefix: PrefixKey;
  readonly path: Path;
  readonly best: boolean;
  /** Not best, but in the ECMP set. */
  readonly multipath: boolean;
  /** Held as stale while the peer restarts (RFC 4724). */
  readonly stale: boolean;
  /** Why the path takes no part in the decision (a bad or unresolvable next hop, a loop, policy). */
  readonly ineligible?: IneligibleReason;
}

export interface PrefixExplanation {
  readonly prefix: PrefixKey;
  readonly best: Path | undefined;
  readonly reason: DecisionReason | 'no-eligible-path';
  readonly candidates: readonly (CandidateExplanation & { readonly multipath: boolean; readonly stale: boolean })[];
}

/** The prefixes a query names, in Loc-RIB order. */
function queryPrefixes(rib: Rib, q: RouteQuery): Iterable<PrefixKey> {
  const loc = rib.locRib;
  if (q.prefix === undefined) return (function* () { for (const [p] of loc.bestRoutes(q.family)) yield p; })();
  const exact = prefixParse(q.prefix);
  const match = q.match ?? (exact !== undefined ? 'exact' : 'longest');
  const addr = exact ?? (q.prefix.includes(':') ? v6KeyParse(`${q.prefix}/128`) : v4Parse(q.prefix) !== undefined ? v4Key(v4Parse(q.prefix)!, 32) : undefined);
  if (addr === undefined) return [];
  if (match === 'exact') return [addr];
  if (match === 'subnets')
    return (function* () {
      for (const [p] of loc.bestRoutes(prefixFamily(addr)))
        if (typeof p === 'number' && typeof addr === 'number' ? v4Contains(addr, p) : p === addr) yield p;
    })();
  if (typeof addr !== 'number') return loc.candidates(addr).length > 0 ? [addr] : [];
  // Longest match: walk the lengths down from the address's own.
  const base = Math.floor(addr / 64);
  for (let len = addr % 64; len >= 0; len--) {
    const k = v4Key(len === 0 ? 0 : (base & (0xffffffff << (32 - len))) >>> 0, len);
    if (loc.candidates(k).length > 0) return [k];
  }
  return [];
}

/** Every (prefix, path) row the query selects, best path first per prefix. */
export function* selectRoutes(rib: Rib, q: RouteQuery): Generator<RouteRow> {
  const loc = rib.locRib;
  for (const prefix of queryPrefixes(rib, q)) {
    if (q.family && prefixFamily(prefix) !== q.family) continue;
    const best = loc.best(prefix);
    const multipath = loc.multipath(prefix);
    const list = [...loc.candidates(prefix)].sort((x, y) => (x === best ? -1 : y === best ? 1 : 0));
    for (const path of list) {
      const isBest = path === best;
      if (q.best && !isBest) continue;
      if (q.peer !== undefined && path.peer.address !== q.peer) continue;
      const ineligible = isBest ? undefined : checkEligibility(path, loc.ctx, prefixFamily(prefix));
      yield { prefix, path, best: isBest, multipath: !isBest && multipath.includes(path), stale: rib.isStale(path, prefix), ...(ineligible ? { ineligible } : {}) };
    }
  }
}

/** RFC 4271 §9.1.2 for one prefix, per candidate; undefined when it has none. */
export function explainPrefix(rib: Rib, prefix: PrefixKey): PrefixExplanation | undefined {
  const cands = rib.explain(prefix);
  if (cands.length === 0) return undefined;
  const best = rib.locRib.best(prefix);
  const multipath = rib.locRib.multipath(prefix);
  return {
    prefix,
    best,
    reason: rib.locRib.reason(prefix) ?? 'no-eligible-path',
    candidates: cands.map((c) => ({ ...c, multipath: c.path !== best && multipath.includes(c.path), stale: rib.isStale(c.path, prefix) })),
  };
}
