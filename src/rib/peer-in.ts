// One peer's inbound state in the RIB (RFC 4271 §3.2 Adj-RIB-In plus what the
// facade tracks beside it: policies, max-prefix, End-of-RIB and refresh marks).
// It outlives its session while the peer's routes are stale (RFC 4724 §4.2).

import type { Family, PrefixKey } from '../lib/prefix.js';
import type { AdjRibIn } from './adj-rib-in.js';
import type { PeerOut } from './peer-out.js';
import type { Policy } from './policy/index.js';
import type { PeerInfo } from './route.js';
import type { RibPeerSettings } from './rib-types.js';

/** One peer's inbound state; outlives its session while routes are stale (RFC 4724). */
export interface PeerIn {
  readonly peer: PeerInfo;
  readonly adjIn: AdjRibIn;
  settings: RibPeerSettings;
  importPolicy: Policy;
  exportPolicy: Policy;
  out: PeerOut | undefined;
  /** Max-prefix close issued: further UPDATEs are ignored until the session is gone. */
  closing: boolean;
  warned: Set<Family>;
  eorReceived: Set<Family>;
  /** Families with a BoRR received and no EoRR yet (RFC 7313 §4). */
  refreshing: Set<Family>;
  /** Keys (prefix, or prefix#pathId) import policy rejected, with per-family counts. */
  rejected: Set<PrefixKey>;
  rejectedCount: [number, number];
}

