// The knobs and lookups the decision process needs (RFC 4271 §9.1), and the
// string unions it reports with: ineligibility reasons, decision steps. Shared
// by the API, logs and metrics, so the names are part of the contract.

import type { Family, PrefixKey } from '../../lib/prefix.js';
import type { Path } from '../route.js';

/** Why a candidate was excluded before the tie-breaking steps (RFC 4271 §9.1.2, RFC 4456 §8). */
export type IneligibleReason =
  | 'as-loop'
  | 'originator-id-is-self'
  | 'cluster-loop'
  // RFC 4271 §5.1.3 / §6.3: a semantically incorrect NEXT_HOP (next-hop.ts).
  | 'next-hop-missing'
  | 'next-hop-unspecified'
  | 'next-hop-loopback'
  | 'next-hop-multicast'
  | 'next-hop-link-local'
  | 'next-hop-own-address'
  // RFC 4271 §9.1.2: no route to the NEXT_HOP in the kernel's tables (next-hop tracking).
  | 'next-hop-unreachable'
  | 'policy-rejected';

/** The named tie-breaking steps, in the order they run (see steps.ts). */
export type DecisionStep =
  | 'local-pref'
  | 'local-origin'
  | 'as-path-length'
  | 'origin'
  | 'med'
  | 'ebgp-over-ibgp'
  | 'igp-cost'
  | 'originator-id'
  | 'cluster-list-length'
  | 'peer-address'
  | 'path-id';

/** What decided: the step that separated best from the runner-up, or why there was no contest. */
export type DecisionReason = DecisionStep | 'only-path' | 'no-eligible-path';

export interface DecisionContext {
  /** Our BGP Identifier (RFC 4456 §8 ORIGINATOR_ID loop check). */
  readonly routerId: number;
  /** Set only when we reflect (RFC 4456 §7/§8 CLUSTER_LIST loop check). */
  readonly clusterId?: number;
  /** Compare MED across neighbour ASes too (RFC 4271 §9.1.2.2 c allows it as policy). */
  readonly alwaysCompareMed: boolean;
  /** Largest multipath (ECMP) set; 1 disables multipath. */
  readonly maxPaths: number;
  /** Degree of preference when LOCAL_PREF is absent (RFC 4271 §9.1.1); 100 by convention. */
  readonly defaultLocalPref: number;
  /** RFC 4271 §5.1.3 a / §6.3: is this (canonical) address one of ours? Absent = none known. */
  readonly ownAddress?: (address: string) => boolean;
  /** RFC 4271 §9.1.2: is the next hop (of `family`'s prefixes) resolvable? Absent = always. */
  readonly nextHopReachable?: (route: Path, family: Family) => boolean;
  /** RFC 4271 §9.1.2.2 e: IGP cost to the next hop; undefined = unknown (least preferred). Absent = step skipped. */
  readonly igpCost?: (route: Path, family: Family) => number | undefined;
  /**
   * RFC 4271 §6.3: "the error SHOULD be logged": called by LocRib.update for
   * each incoming candidate whose NEXT_HOP is semantically incorrect (the shell
   * logs it, rate-limited). The path is kept, ineligible; the session stays.
   */
  readonly nextHopFaultSeen?: (route: Path, family: Family, reason: IneligibleReason, prefix: PrefixKey) => void;
  /** Import policy verdict, for routes kept but rejected (soft reconfiguration). Absent = none rejected. */
  readonly policyRejected?: (route: Path) => boolean;
}

export const DEFAULT_DECISION_CONTEXT: DecisionContext = {
  routerId: 0,
  alwaysCompareMed: false,
  maxPaths: 1,
  defaultLocalPref: 100,
};
