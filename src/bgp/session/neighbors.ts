// The set of BGP peers: one PeerSession per configured neighbor (a neighbor
// shut down in the config has none, but is listed as administratively down), plus dynamic
// sessions created when a connection arrives from inside a listen range
// (dynamic neighbors, as BIRD's and FRR's "bgp listen range"). It routes each
// accepted connection (RFC 4271 §8.2.1.1, passive establishment) to its
// session, refuses the rest with a `connection-rejected` log line, and applies
// a reloaded config: new neighbors start, removed ones get Cease / Peer
// De-configured, changed ones Cease / Other Configuration Change (RFC 4486 §4)
// and restart with the new settings.
// Graceful restart as the restarting speaker (RFC 4724 §4.1): the restart
// state (R bit, F bit per family) is asked of the owner each time FSM settings
// are built and pushed to the sessions by `refreshRestartState`; `stopAll`
// with `gracefulRestart` closes GR-negotiated sessions without a NOTIFICATION.

import { hostname as osHostname } from 'node:os';
import type { BgpConfig, ListenRangeConfig, NeighborConfig } from '../../config/schema.js';
import type { Clock } from '../../lib/clock.js';
import type { Family } from '../../lib/prefix.js';
import type { Logger } from '../../lib/log.js';
import { CEASE_ADMIN_SHUTDOWN, CEASE_OTHER_CONFIG_CHANGE, CEASE_PEER_DECONFIGURED } from '../wire/index.js';
import type { ConfigDiff, PeerChange } from '../../config/diff.js';
import { localSettingsFromConfig, type FsmConfig, type SessionState } from '../fsm/index.js';
import { findListenRange, type AcceptedConnection } from './listener.js';
import { normalizeAddress } from '../../lib/address.js';
import { PeerSession } from './peer-session.js';

export type PeerKind = 'configured' | 'dynamic';

export interface NeighborsOptions {
  readonly clock: Clock;
  readonly logger: Logger;
  /** Jitter source (RFC 4271 §10); Math.random by default. */
  readonly random?: () => number;
  /** Called for every session created (configured or dynamic) before it starts. */
  readonly onSession?: (session: PeerSession, kind: PeerKind) => void;
  /** Called when a session is removed (deconfigured, or a dynamic one went down). */
  readonly onSessionRemoved?: (session: PeerSession, kind: PeerKind) => void;
  /** Our RFC 4724 restart state for the OPENs built from now on; none: not restarting. */
  readonly restartState?: () => RestartState;
  /**
   * A configured neighbor an operator shut down through the API: a session made
   * for it again (a reload's reset) is not started, so the shutdown outlives it.
   */
  readonly heldDown?: (address: string) => boolean;
}

/** What our graceful restart capability says about us (RFC 4724 §3). */
export interface RestartState {
  /** R bit: we restarted and have not converged yet. */
  readonly restarting: boolean;
  /** F bit: families whose forwarding state (kernel routes) survived the restart. */
  readonly forwardingState: readonly Family[];
}

/** How `stopAll` ended the sessions. */
export interface StopOutcome {
  /** Closed without a NOTIFICATION: the peer keeps our routes as stale (RFC 4724 §4). */
  readonly gracefulRestart: readonly string[];
  /** Sent a Cease. */
  readonly ceased: readonly string[];
}

export interface PeerSummary {
  readonly address: string;
  readonly asn: number;
  readonly kind: PeerKind;
  readonly description?: string;
  readonly state: SessionState;
  readonly uptimeSeconds: number;
  /**
   * A configured neighbor with `shutdown: true`: listed (Idle) although it has
   * no session, like BIRD's `disabled` or FRR's `Idle (Admin)`; `get` finds none.
   */
  readonly adminShutdown?: true;
}

interface Entry {
  readonly session: PeerSession;
  readonly kind: PeerKind;
  /** The neighbor or listen range it was built from. */
  readonly config: NeighborConfig | ListenRangeConfig;
}

/** Ceiling of the ConnectRetry and IdleHold backoffs. */
const BACKOFF_CAP_MS = 120_000;

export class Neighbors {
  private readonly peers = new Map<string, Entry>();
  private config: BgpConfig;

  constructor(
    config: BgpConfig,
    private readonly opts: NeighborsOptions,
  ) {
    this.config = config;
  }

  /** Creates and starts a session for every configured neighbor not shut down. */
  startAll(): void {
    for (const n of this.config.neighbors) if (!n.shutdown) this.addConfigured(n);
  }

  get(address: string): PeerSession | undefined {
    return this.peers.get(normalizeAddress(address))?.session;
  }

  /**
   * Every peer: one summary per session, then the configured neighbors shut
   * down in the config (no session; Idle, adminShutdown), in config order.
   */
  list(): PeerSummary[] {
    const now = this.opts.clock.now();
    const shutDown: PeerSummary[] = [];
    for (const n of this.config.neighbors) {
      const address = normalizeAddress(n.address);
      // While a reload ceases it, its session is still the one listed.
      if (!n.shutdown || this.peers.has(address)) continue;
      shutDown.push({
        address,
        asn: n.asn,
        kind: 'configured',
        ...(n.description !== undefined ? { description: n.description } : {}),
        state: 'Idle',
        uptimeSeconds: 0,
        adminShutdown: true,
      });
    }
    const sessions = [...this.peers.values()].map((e): PeerSummary => {
      const since = e.session.establishedSince;
      return {
        address: e.session.address,
        asn: e.session.asn,
        kind: e.kind,
        ...(e.config.description !== undefined ? { description: e.config.description } : {}),
        state: e.session.state,
        uptimeSeconds: since === undefined ? 0 : Math.floor((now - since) / 1000),
      };
    });
    return [...sessions, ...shutDown];
  }

  /** Routes an accepted connection: configured neighbor, else listen range, else reject. */
  accept(c: AcceptedConnection): void {
    const entry = this.peers.get(c.remote);
    if (entry) return entry.session.acceptConnection(c.socket);
    const configured = this.config.neighbors.find((n) => normalizeAddress(n.address) === c.remote);
    if (configured) return this.reject(c, 'neighbor is administratively shut down');
    const range = findListenRange(this.config.listenRanges, c.remote);
    if (!range) return this.reject(c, 'no matching neighbor or listen range');
    const session = this.addDynamic(c.remote, range);
    session.acceptConnection(c.socket);
  }

  /**
   * Applies a new config with the reload diff's per-peer verdicts
   * (config/diff.ts): added neighbors start, removed ones (and dynamic
   * sessions whose range is gone) get Cease / Peer De-configured, shut down
   * ones Cease / Administrative Shutdown, `reset` verdicts (a change the OPEN
   * or the transport carries) Cease / Other Configuration Change and a
   * restart with the new settings; policy-only changes keep the session up.
   */
  async reload(config: BgpConfig, diff: Pick<ConfigDiff, 'neighbors' | 'listenRanges'>): Promise<void> {
    this.config = config;
    const verdict = new Map<NeighborConfig | ListenRangeConfig, PeerChange<NeighborConfig | ListenRangeConfig>['kind']>();
    for (const c of [...diff.neighbors, ...diff.listenRanges]) if (c.kind !== 'removed') verdict.set(c.next, c.kind);
    const all = new Map(config.neighbors.map((n) => [normalizeAddress(n.address), n]));
    const work: Promise<void>[] = [];
    for (const [address, e] of this.peers) {
      if (e.kind === 'dynamic') {
        const range = all.has(address) ? undefined : findListenRange(config.listenRanges, address);
        if (!range) work.push(this.remove(address, CEASE_PEER_DECONFIGURED));
        // A range added with a shorter prefix may now hold the session: a new range is a new peer config.
        else if (verdict.get(range) !== 'unchanged' && verdict.get(range) !== 'soft') work.push(this.remove(address, CEASE_OTHER_CONFIG_CHANGE));
        else this.peers.set(address, { ...e, config: range });
        continue;
      }
      const n = all.get(address);
      if (!n) work.push(this.remove(address, CEASE_PEER_DECONFIGURED));
      else if (n.shutdown) work.push(this.remove(address, CEASE_ADMIN_SHUTDOWN));
      else if (verdict.get(n) === 'reset') work.push(this.remove(address, CEASE_OTHER_CONFIG_CHANGE).then(() => void this.addConfigured(n)));
      else this.peers.set(address, { ...e, config: n });
    }
    await Promise.all(work);
    for (const [address, n] of all) if (!n.shutdown && !this.peers.has(address)) this.addConfigured(n);
  }

  /**
   * Stops every session and forgets them. With `gracefulRestart`, an Established
   * session that negotiated graceful restart (our capability and the peer's) is
   * closed without a NOTIFICATION (RFC 4724 §4: the peer retains our routes as
   * stale for our restart time); every other session gets a Cease (RFC 8203 text).
   */
  async stopAll(opts: { subcode?: number; text?: string; gracefulRestart?: boolean } = {}): Promise<StopOutcome> {
    const gracefulRestart: string[] = [];
    const ceased: string[] = [];
    const work = [...this.peers].map(([address, e]) => {
      if (opts.gracefulRestart && e.session.session?.gracefulRestart) {
        gracefulRestart.push(address);
        return this.remove(address, undefined, undefined, true);
      }
      ceased.push(address);
      return this.remove(address, opts.subcode, opts.text);
    });
    await Promise.all(work);
    return { gracefulRestart, ceased };
  }

  /** Rebuilds every session's FSM settings, e.g. after the restart state changed (R bit cleared). */
  refreshRestartState(): void {
    for (const e of this.peers.values()) e.session.setFsmConfig(this.fsmConfig(e.config, e.kind === 'dynamic'));
  }

  /** FSM settings for a neighbor or listen range. */
  fsmConfig(peer: NeighborConfig | ListenRangeConfig, dynamic: boolean): FsmConfig {
    const retryMs = 'connectRetryTime' in peer ? peer.connectRetryTime * 1000 : 5000;
    return {
      local: localSettingsFromConfig(this.config, peer, { hostname: osHostname(), ...this.opts.restartState?.() }),
      peerAsn: peer.asn,
      passive: dynamic || ('passive' in peer && peer.passive),
      connectRetryMs: retryMs,
      connectRetryMaxMs: Math.max(retryMs, BACKOFF_CAP_MS),
      idleHoldMs: Math.min(retryMs, 5000),
      idleHoldMaxMs: BACKOFF_CAP_MS,
      // A dynamic session is removed when it goes down; the peer reconnects to a fresh one.
      allowAutomaticStart: !dynamic,
      random: this.opts.random ?? Math.random,
    };
  }

  private addConfigured(n: NeighborConfig): PeerSession {
    const address = normalizeAddress(n.address);
    const session = new PeerSession({
      address,
      port: n.port,
      ...(n.localAddress ? { localAddress: n.localAddress } : {}),
      ...(n.password !== undefined || n.ttlSecurity !== undefined
        ? { security: { ...(n.password !== undefined ? { password: n.password } : {}), ...(n.ttlSecurity !== undefined ? { ttlSecurity: n.ttlSecurity } : {}) } }
        : {}),
      asn: n.asn,
      fsm: this.fsmConfig(n, false),
      clock: this.opts.clock,
      logger: this.opts.logger,
    });
    this.peers.set(address, {
      session,
      kind: 'configured',
      config: n,
    });
    this.opts.onSession?.(session, 'configured');
    if (!this.opts.heldDown?.(address)) session.start();
    return session;
  }

  private addDynamic(address: string, range: ListenRangeConfig): PeerSession {
    const session = new PeerSession({
      address,
      port: 179,
      asn: range.asn,
      fsm: this.fsmConfig(range, true),
      clock: this.opts.clock,
      logger: this.opts.logger,
    });
    const entry: Entry = { session, kind: 'dynamic', config: range };
    this.peers.set(address, entry);
    this.opts.logger.info({ event: 'dynamic-peer', peer: address, asn: range.asn, range: range.prefix }, 'dynamic neighbor accepted');
    const drop = (): void => {
      // Removed once it goes down; a later connection from the range starts afresh.
      if (this.peers.get(address) !== entry) return;
      this.peers.delete(address);
      queueMicrotask(() => {
        this.opts.onSessionRemoved?.(session, 'dynamic');
        session.dispose();
      });
    };
    session.on('down', drop);
    // RFC 4271 §8.2.2: a connection lost in OpenSent goes back to Active with no
    // session-down. A dynamic session never dials, so it has nothing to wait for
    // there: without this, every probe that closes early left one behind for good.
    session.on('state', (from, to) => {
      if (to === 'Active' && from !== 'Idle' && session.connectionCount === 0) drop();
    });
    this.opts.onSession?.(session, 'dynamic');
    session.start();
    return session;
  }

  private async remove(address: string, subcode?: number, text?: string, silent = false): Promise<void> {
    const e = this.peers.get(address);
    if (!e) return;
    this.peers.delete(address);
    await e.session.stop({
      ...(silent ? { silent: true, reason: 'graceful-restart' as const } : {}),
      ...(subcode !== undefined ? { subcode } : {}),
      ...(text !== undefined ? { text } : {}),
      ...(subcode === CEASE_PEER_DECONFIGURED ? { reason: 'deconfigured' as const } : {}),
      ...(subcode === CEASE_OTHER_CONFIG_CHANGE ? { reason: 'config-change' as const } : {}),
    });
    this.opts.onSessionRemoved?.(e.session, e.kind);
    e.session.dispose();
  }

  private reject(c: AcceptedConnection, reason: string): void {
    // Like BIRD and FRR: close without a NOTIFICATION (no OPEN was exchanged; RFC 4486 §4 is optional).
    this.opts.logger.warn({ event: 'connection-rejected', remote: c.remote, reason }, `connection from ${c.remote} rejected: ${reason}`);
    c.socket.destroy();
  }
}
