// The BFD service's vocabulary, shared by the worker, the main thread, the
// daemon coupling (RFC 5882) and the API: what a session is asked to be
// (BfdSessionSpec, times in milliseconds as in the config), the state changes
// that cross from the worker, and the snapshot the API shows. Plain data.

import type { BfdDiagnostic, BfdDropReason, BfdState } from './packet.js';

/** One single-hop session (RFC 5881) toward a BGP peer. */
export interface BfdSessionSpec {
  /** The peer's address: the session's key. */
  readonly peer: string;
  /** Our source address (default: the kernel's choice for the route to the peer). */
  readonly localAddress?: string;
  /** RequiredMinRxInterval, ms. */
  readonly minRx: number;
  /** DesiredMinTxInterval once Up, ms. */
  readonly minTx: number;
  /** DetectMult. */
  readonly multiplier: number;
  /** Created for a dynamic neighbor of a listen range (removed with it). */
  readonly dynamic?: boolean;
}

/** A state change of one session, the only thing the worker reports unasked. */
export interface BfdStateChange {
  readonly peer: string;
  readonly from: BfdState;
  readonly to: BfdState;
  readonly diagnostic: BfdDiagnostic;
  /** The peer's C bit in its last packet (RFC 5882 §4.3.2). */
  readonly remoteCpi: boolean;
  /**
   * bfd.RemoteSessionState when the change happened: AdminDown means the peer
   * took the session down on purpose, not a path failure (RFC 5882 §3.2).
   */
  readonly remoteState: BfdState;
  /** Wall-clock ms. */
  readonly at: number;
}

/** One session as GET /api/v1/bfd shows it; intervals in ms. */
export interface BfdSessionView {
  readonly peer: string;
  readonly localAddress?: string;
  readonly state: BfdState;
  readonly remoteState: BfdState;
  /** bfd.LocalDiag: the reason of the latest state change. */
  readonly diagnostic: BfdDiagnostic;
  /** The reason of the latest change to Down or AdminDown. */
  readonly lastDownDiagnostic: BfdDiagnostic;
  /**
   * Why the session is not Up, when it is not (engine.ts downReason):
   * no-packets-from-peer (BFD missing or off there), peer-admin-down,
   * administratively-down, waiting-for-peer, or the last Down diagnostic.
   */
  readonly downReason?: string;
  readonly localDiscriminator: number;
  readonly remoteDiscriminator: number;
  readonly multiplier: number;
  readonly remoteMultiplier: number;
  readonly desiredMinTxMs: number;
  readonly requiredMinRxMs: number;
  readonly remoteMinRxMs: number;
  readonly remoteMinTxMs: number;
  /** Negotiated transmit interval (RFC 5880 §6.8.7, before jitter); 0 when the peer wants none. */
  readonly txIntervalMs: number;
  /** Negotiated receive interval: max(our RequiredMinRx, the peer's DesiredMinTx). */
  readonly rxIntervalMs: number;
  /** RFC 5880 §6.8.4; 0 before the peer was heard. */
  readonly detectionTimeMs: number;
  readonly remoteCpi: boolean;
  readonly polling: boolean;
  readonly uptimeSeconds: number;
  readonly lastChangeSeconds: number;
  /** Up → Down transitions. */
  readonly flaps: number;
  /** Changes to Down (from Init or Up) by diagnostic. */
  readonly downsByDiagnostic: Readonly<Record<string, number>>;
  readonly packetsIn: number;
  readonly packetsOut: number;
  readonly sendErrors: number;
  /** Worst gap between two periodic packets we sent while Up, ms. */
  readonly maxTxGapMs: number;
  readonly sourcePort: number;
}

export interface BfdSnapshot {
  readonly sessions: readonly BfdSessionView[];
  /** Datagrams received on port 3784. */
  readonly received: number;
  /** Dropped datagrams by reason (RFC 5880 §6.8.6, RFC 5881 §5). */
  readonly dropped: Partial<Record<BfdDropReason, number>>;
}

/** What the daemon uses: the BFD sessions, wherever they run. */
export interface BfdService {
  add(spec: BfdSessionSpec): void;
  /** New timers, applied by Poll / Final (RFC 5880 §6.8.3). */
  update(spec: BfdSessionSpec): void;
  /** Removes the session, telling the peer AdminDown for a Detection Time first (RFC 5880 §6.8.16). */
  remove(peer: string): void;
  /** AdminDown (true) or back to Down (false), e.g. while the BGP peer is shut down. */
  adminDown(peer: string, down: boolean): void;
  /** The last state reported for a peer (synchronous: kept on this side). */
  stateOf(peer: string): BfdState | undefined;
  onStateChange(listener: (change: BfdStateChange) => void): () => void;
  snapshot(): Promise<BfdSnapshot>;
  /** Every session AdminDown (sent on in parallel for at most about 1 s, engine.ts STOP_BUDGET_MS), sockets closed, the worker ended. */
  stop(): Promise<void>;
}
