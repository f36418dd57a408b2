// RFC 6793 §4.2.3: how a NEW (4-octet) speaker rebuilds the real AS path and
// aggregator from an OLD (2-octet) peer's AS_PATH/AGGREGATOR, where ASNs above
// 65535 appear as AS_TRANS, and the AS4_PATH/AS4_AGGREGATOR that carry them.

import type { AsPathSegment } from '../types.js';
import { AS_CONFED_SEQUENCE, AS_SEQUENCE, AS_SET, AS_TRANS } from '../types.js';
import type { AttributeAccumulator } from './spec.js';

/** Path length as RFC 4271 §9.1.2.2 (a) counts it: an AS_SET is 1, confederation segments 0. */
export function asPathLength(segments: readonly AsPathSegment[]): number {
  let n = 0;
  for (const s of segments) {
    if (s.type === AS_SEQUENCE) n += s.asns.length;
    else if (s.type === AS_SET) n += 1;
  }
  return n;
}

/**
 * Folds AS4_PATH into AS_PATH: keep the leading (|AS_PATH| - |AS4_PATH|) ASNs
 * of AS_PATH, then append AS4_PATH (RFC 6793 §4.2.3).
 */
export function mergeAs4Path(asPath: readonly AsPathSegment[], as4Path: readonly AsPathSegment[]): readonly AsPathSegment[] {
  const keep = asPathLength(asPath) - asPathLength(as4Path);
  // RFC 6793 §4.2.3: an AS4_PATH longer than AS_PATH is ignored.
  if (keep < 0) return asPath;
  const out: AsPathSegment[] = [];
  let budget = keep;
  for (const s of asPath) {
    if (s.type >= AS_CONFED_SEQUENCE) {
      out.push(s); // confederation segments count 0 and stay in front
      continue;
    }
    if (budget === 0) break;
    if (s.type === AS_SET) {
      out.push(s);
      budget -= 1;
    } else {
      const take = Math.min(budget, s.asns.length);
      out.push(take === s.asns.length ? s : { type: AS_SEQUENCE, asns: s.asns.slice(0, take) });
      budget -= take;
    }
  }
  // Join the seam between the kept AS_PATH head and AS4_PATH when both sides are sequences.
  const last = out[out.length - 1];
  const first = as4Path[0];
  if (last && first && last.type === AS_SEQUENCE && first.type === AS_SEQUENCE && last.asns.length + first.asns.length <= 255) {
    out[out.length - 1] = { type: AS_SEQUENCE, asns: [...last.asns, ...first.asns] };
    for (let i = 1; i < as4Path.length; i++) out.push(as4Path[i]!);
  } else out.push(...as4Path);
  return out;
}

/** Applies RFC 6793 §4.2.3 to the attributes of one UPDATE from a 2-octet peer, in place. */
export function applyAs4(into: AttributeAccumulator): void {
  let as4Path = into.as4Path;
  const as4Aggregator = into.as4Aggregator;
  delete into.as4Path;
  delete into.as4Aggregator;
  if (as4Aggregator && into.aggregator) {
    if (into.aggregator.asn !== AS_TRANS) {
      // AGGREGATOR names a real 2-octet ASN: the AS4_* attributes are stale; ignore both.
      as4Path = undefined;
    } else {
      into.aggregator = as4Aggregator;
    }
  }
  if (as4Path && into.asPath) into.asPath = mergeAs4Path(into.asPath, as4Path) as AsPathSegment[];
}
