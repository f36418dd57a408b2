// BFD coupled to BGP (RFC 5882): which peers get a BFD session (a neighbor's
// or listen range's `bfd` block, timers defaulting to the top-level `bfd`),
// and what a BFD state change does to the peer's BGP session.
// - RFC 5882 §4.2 / §3.2: BFD is not required for BGP to come up: a session is
//   never held back waiting for BFD, and a peer without BFD still peers.
// - RFC 5882 §3.2: a BFD session that goes from Up to Down tells BGP the
//   forwarding path is gone: the BGP session is closed at once with Cease /
//   BFD Down (RFC 9384, subcode 10) and its routes are withdrawn (another
//   ECMP or backup path takes over in the FIB). The session then restarts as
//   after any automatic stop. AdminDown from the peer (§6.8.16 of RFC 5880,
//   diagnostic 3 with the peer's state AdminDown) is not a failure: nothing
//   happens to BGP.
// - RFC 5882 §4.3.2: with graceful restart negotiated and the peer's C bit
//   clear (its BFD shares fate with its control plane), the failure may be
//   the peer restarting: the session is closed without a NOTIFICATION so the
//   routes are kept as stale (RFC 4724 §4.2 helper). With the C bit set the
//   forwarding plane failed: Cease / BFD Down, routes withdrawn.
// - RFC 5880 §6.8.16: a peer shut down by the operator, a removed neighbor
//   and the daemon's stop send AdminDown first, so the far side counts no failure.
// - Reload: changed timers go to the running session (Poll / Final, RFC 5880
//   §6.8.3), never a reset.

import type { PeerSession } from '../bgp/session/peer-session.js';
import { CEASE_BFD_DOWN } from '../bgp/wire/errors.js';
import type { BfdService, BfdSessionSpec, BfdSnapshot, BfdStateChange } from '../bfd/types.js';
import { findListenRange } from '../bgp/session/listener.js';
import type { BgpConfig, ListenRangeConfig, NeighborConfig } from '../config/schema.js';
import { normalizeAddress } from '../lib/address.js';
import type { Logger } from '../lib/log.js';
import type { ApiDeps, ApiPeer } from '../api/deps.js';
import type { BfdState } from '../bfd/packet.js';

export interface BfdCouplingOptions {
  /** Called once, when the first peer wants BFD (the worker thread starts then). */
  readonly createService: () => BfdService;
  readonly logger: Logger;
  /** The BGP session of a peer, if any. */
  readonly session: (address: string) => PeerSession | undefined;
}

type PeerWithBfd = Pick<NeighborConfig | ListenRangeConfig, 'bfd'> & { readonly localAddress?: string };

/** The BFD session a peer's config asks for, or undefined when BFD is off for it. */
export function bfdSpecFor(config: BgpConfig, peer: PeerWithBfd, address: string): BfdSessionSpec | undefined {
  const b = peer.bfd;
  if (!b || !b.enabled) return undefined;
  return {
    peer: normalizeAddress(address),
    ...(peer.localAddress !== undefined ? { localAddress: peer.localAddress } : {}),
    minRx: b.minRx ?? config.bfd.minRx,
    minTx: b.minTx ?? config.bfd.minTx,
    multiplier: b.multiplier ?? config.bfd.multiplier,
  };
}

/** What a BFD state change does to the BGP session (RFC 5882 §3.2, §4.3.2); pure, for tests and the log. */
export type BfdVerdict = 'none' | 'cease-bfd-down' | 'graceful-restart-helper';

export function verdictFor(change: BfdStateChange, bgp: { established: boolean; gracefulRestart: boolean }): BfdVerdict {
  // Only a failure of a session that was Up counts (RFC 5882 §3.2); AdminDown from the peer is no failure.
  if (change.from !== 'Up' || change.to !== 'Down') return 'none';
  if (change.diagnostic !== 'control-detection-time-expired' && change.diagnostic !== 'neighbor-signaled-down') return 'none';
  // RFC 5882 §3.2: the peer signalling AdminDown (its shutdown, its BFD turned off for us, its
  // daemon stopping) says nothing about the path: "SHOULD NOT indicate a connectivity failure".
  if (change.remoteState === 'AdminDown') return 'none';
  if (!bgp.established) return 'none';
  // RFC 5882 §4.3.2: C bit clear + graceful restart: maybe a control-plane restart; help it.
  if (bgp.gracefulRestart && !change.remoteCpi) return 'graceful-restart-helper';
  return 'cease-bfd-down';
}

export class BfdCoupling {
  /** Peer address → the spec running, for reload diffs. */
  private readonly running = new Map<string, BfdSessionSpec>();
  private service: BfdService | undefined;

  constructor(private readonly opts: BfdCouplingOptions) {}

  private get svc(): BfdService {
    if (!this.service) {
      this.service = this.opts.createService();
      this.service.onStateChange((c) => this.onChange(c));
    }
    return this.service;
  }

  /** The API's deps with GET /api/v1/bfd and the peer object's `bfd: {state}` added. */
  apiDeps(deps: ApiDeps): ApiDeps {
    const withBfd = (p: ApiPeer): ApiPeer => {
      const state = this.stateOf(p.address);
      return state === undefined ? p : { ...p, bfd: { state } };
    };
    return {
      ...deps,
      peers: async () => (await deps.peers()).map(withBfd),
      peer: async (a) => {
        const p = await deps.peer(a);
        return p && withBfd(p);
      },
      bfd: () => this.snapshot(),
    };
  }

  /** Every session for GET /api/v1/bfd; undefined when BFD never ran. */
  snapshot(): Promise<BfdSnapshot> | undefined {
    return this.service?.snapshot();
  }

  /** Configured neighbors at start and after a reload: add, retime (Poll / Final) or remove sessions. */
  apply(config: BgpConfig): void {
    this.configRef = config;
    const wanted = new Map<string, BfdSessionSpec>();
    for (const n of config.neighbors) {
      if (n.shutdown) continue; // administratively down: no BFD (a running session is told AdminDown as it goes)
      const spec = bfdSpecFor(config, n, n.address);
      if (spec) wanted.set(spec.peer, spec);
    }
    for (const [peer, spec] of [...this.running]) {
      if (spec.dynamic) {
        // A listen range's bfd block (or the defaults) may have changed too.
        const range = findListenRange(config.listenRanges, peer);
        const next = range && bfdSpecFor(config, range, peer);
        if (next && !wanted.has(peer)) wanted.set(peer, { ...next, dynamic: true });
        else if (!next) this.remove(peer);
      } else if (!wanted.has(peer)) this.remove(peer);
    }
    for (const spec of wanted.values()) this.ensure(spec);
  }

  private configRef: BgpConfig | undefined;

  /** A dynamic neighbor from a listen range came (or went): its range's `bfd` decides. */
  dynamicPeer(address: string, present: boolean): void {
    const peer = normalizeAddress(address);
    if (!present) {
      if (this.running.get(peer)?.dynamic) this.remove(peer);
      return;
    }
    const range = this.configRef && findListenRange(this.configRef.listenRanges, peer);
    if (!range || !this.configRef) return;
    const spec = bfdSpecFor(this.configRef, range, peer);
    if (spec) this.ensure({ ...spec, dynamic: true });
  }

  /** The peer was shut down (true) or enabled again (false) by the operator: AdminDown (RFC 5880 §6.8.16). */
  adminDown(address: string, down: boolean): void {
    const peer = normalizeAddress(address);
    if (this.running.has(peer)) this.svc.adminDown(peer, down);
  }

  /** The BFD state for the peer object (`bfd: {state}`), when BFD runs for it. */
  stateOf(address: string): BfdState | undefined {
    const peer = normalizeAddress(address);
    return this.running.has(peer) ? (this.service?.stateOf(peer) ?? 'Down') : undefined;
  }

  /** Daemon stop: every session AdminDown (sent on for at most 1 s, in parallel), then the worker ends. */
  async stop(): Promise<void> {
    this.running.clear();
    const service = this.service;
    this.service = undefined;
    await service?.stop();
  }

  private ensure(spec: BfdSessionSpec): void {
    const old = this.running.get(spec.peer);
    if (!old) {
      this.svc.add(spec);
    } else if (old.localAddress !== spec.localAddress) {
      this.svc.remove(spec.peer);
      this.svc.add(spec);
    } else if (old.minRx !== spec.minRx || old.minTx !== spec.minTx || old.multiplier !== spec.multiplier) {
      this.svc.update(spec); // RFC 5880 §6.8.3: Poll / Final, the session stays Up
      this.opts.logger.info({ event: 'bfd-timers-changed', peer: spec.peer, minRx: spec.minRx, minTx: spec.minTx, multiplier: spec.multiplier }, 'BFD timers changed (Poll/Final)');
    }
    this.running.set(spec.peer, spec);
  }

  private remove(peer: string): void {
    this.running.delete(peer);
    this.svc.remove(peer); // sends AdminDown first (RFC 5880 §6.8.16)
  }

  private onChange(c: BfdStateChange): void {
    const session = this.opts.session(c.peer);
    const negotiated = session?.session; // set while Established
    const verdict = verdictFor(c, { established: negotiated !== undefined, gracefulRestart: negotiated?.gracefulRestart ?? false });
    const level = c.to === 'Up' || verdict === 'none' ? 'info' : 'warn';
    this.opts.logger[level](
      { event: 'bfd-state-changed', peer: c.peer, from: c.from, to: c.to, diagnostic: c.diagnostic, remoteCpi: c.remoteCpi, remoteState: c.remoteState, action: verdict },
      `BFD ${c.from} -> ${c.to} (${c.diagnostic})`,
    );
    if (!session || verdict === 'none') return;
    if (verdict === 'cease-bfd-down') {
      // RFC 9384: Cease / BFD Down; the routes go with the session (no stale retention after a NOTIFICATION).
      void session.stop({ subcode: CEASE_BFD_DOWN, reason: 'bfd-down' }).then(() => {
        if (this.opts.session(c.peer) === session) session.start();
      });
    } else {
      // RFC 5882 §4.3.2 with RFC 4724 §4.2: close without a NOTIFICATION; the routes stay stale for the restart time.
      void session.stop({ silent: true, reason: 'bfd-down' }).then(() => {
        if (this.opts.session(c.peer) === session) session.start();
      });
    }
  }
}
