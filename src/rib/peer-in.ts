// One peer's state in the RIB, shared by the modules that split the facade
// (rib-peers.ts lifecycle, rib-ingest.ts, rib-jobs.ts): its Adj-RIB-In (which
// outlives the session while its routes are stale, RFC 4724 §4.2), its
// policies, and its place in an update group while established. Types only.

import type { Family } from '../bgp/wire/types.js';
import type { PrefixKey } from '../lib/prefix.js';
import type { AdjRibIn } from './adj-rib-in.js';
import type { GroupMember } from './group-member.js';
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
  /** Its place in an update group while the session is established. */
  out: GroupMember | undefined;
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
