// Runs the pure RIB (src/rib) on the event loop (DESIGN.md data flow,
// STYLE.md §5). Its inputs are typed calls from peer-events.ts (a session
// Established, an UPDATE, an End-of-RIB, a ROUTE-REFRESH, a session ended with
// its graceful-restart verdict, a socket writable again) and from the API and
// reload (origination, soft resets, policies). RIB work runs in slices, each
// a task of the one loop-turn budget (lib/loop-turns.ts; DESIGN.md, Event
// loop discipline: keepalives keep flowing); in each slice the ready UPDATEs are then pulled
// per peer while its socket is writable and the slice lasts, so a slow peer
// never makes the RIB buffer unboundedly and a fast one never holds the loop.
// Outputs: best-path changes handed on per slice, `onIdle` when the RIB has no
// work left (graceful restart's convergence waits for it), and max-prefix
// notices, which close the session with Cease / Maximum Number of Prefixes
// Reached (RFC 4486 §4). RFC 7313: a BoRR arms a refresh timer that purges the
// routes the peer did not re-advertise when no EoRR follows.

import type { BgpConfig } from '../config/schema.js';
import type { Clock, TimerHandle } from '../lib/clock.js';
import type { LogEvent, Logger } from '../lib/log.js';
import { loopTurns } from '../lib/loop-turns.js';
import { prefixToString, type Family } from '../lib/prefix.js';
import { afiSafiFamily, CEASE_MAX_PREFIXES, familyAfiSafi, maxPrefixCeaseData } from '../bgp/wire/index.js';
import type { DecodedUpdate } from '../bgp/wire/update.js';
import type { NegotiatedSession } from '../bgp/fsm/index.js';
import type { PeerSession } from '../bgp/session/index.js';
import { Rib, type FibChange, type PeerDownResult, type RibNotice } from '../rib/index.js';
import { exportDisabledPools, findPeerConfig, ribPeerSettings, ribSettingsFromConfig, type PeerConfig } from './peer-settings.js';

/**
 * Time one slice may take at most: RIB work, then pulling UPDATEs for
 * writable peers; never past the end of the loop turn it runs in.
 */

/** The reload plan's policy verdicts (config/diff.ts), as the runner takes them. */
export interface ReloadPolicyChanges {
  /** Neighbor or listen-range entries of the new config whose own import and/or export rules changed. */
  readonly peers: ReadonlyMap<PeerConfig, { readonly import: boolean; readonly export: boolean }>;
  /** Which side of the global rules (or ebgpRequiresPolicy) changed. */
  readonly global: { readonly import: boolean; readonly export: boolean };
}
export const SLICE_MS = 8;
/** Of the slice, the part RIB work may take before output gets its turn. */
const PROCESS_MS = 5;
/** Units of RIB work between clock checks inside a slice. */
const STEP = 256;
/** UPDATE messages pulled per peer between clock checks while its socket is writable. */
const PULL = 64;
/** Octets of UPDATEs handed to a peer's socket in one write. */
const WRITE_BYTES = 64 * 1024;
/**
 * RFC 7313 §4 leaves the wait for an EoRR after a BoRR to the implementation:
 * after this long the routes the peer has not re-advertised are purged anyway.
 */
export const REFRESH_STALE_MS = 5 * 60_000;

export interface RibRunnerOptions {
  readonly clock: Clock;
  readonly logger: Logger;
  /** Best-path changes, batched per slice (the daemon hands them to the FIB). */
  readonly onBestPathChanges?: (changes: readonly FibChange[]) => void;
  /** The RIB has no work left after a slice (and `false` when work arrives). */
  readonly onIdle?: (idle: boolean) => void;
  /** Wait for an EoRR after a BoRR, ms (default REFRESH_STALE_MS). */
  readonly refreshStaleMs?: number;
  /** The interface a one-hop session (our end `local`, theirs `peer`) runs over (the FIB's host context). */
  readonly interfaceFor?: (local: string, peer: string) => string | undefined;
}

export class RibRunner {
  readonly rib: Rib;
  private config: BgpConfig;
  /** The sessions UPDATEs are written to, by canonical address. */
  private readonly sessions = new Map<string, PeerSession>();
  private readonly restartTimers = new Map<string, TimerHandle>();
  /** RFC 7313 refresh timers, keyed by address and family. */
  private readonly refreshTimers = new Map<string, TimerHandle>();
  private scheduled = false;
  /** Where in the list of peers with output the next slice starts. */
  private flushFrom = 0;
  private busySince: number | undefined;
  private maxSliceMs = 0;

  constructor(
    config: BgpConfig,
    private readonly opts: RibRunnerOptions,
  ) {
    this.config = config;
    this.rib = new Rib(ribSettingsFromConfig(config));
    this.rib.setConfigOrigins(config.originate);
    this.schedule();
  }

  /** A session exists: its UPDATEs go through it once it is Established. */
  register(session: PeerSession): void {
    this.sessions.set(session.address, session);
  }

  /** The session is gone for good (deconfigured, or a dynamic one closed). */
  unregister(session: PeerSession): void {
    if (this.sessions.get(session.address) !== session) return;
    this.sessions.delete(session.address);
    this.cancelRefreshTimers(session.address);
    this.restartTimers.get(session.address)?.cancel();
    this.restartTimers.delete(session.address);
  }

  /** RFC 4271 §8.2.2: Established. The RIB builds the peer's Adj-RIB-Out and queues the initial table. */
  peerUp(session: PeerSession, s: NegotiatedSession): void {
    const address = session.address;
    const local = session.transport()?.local;
    const iface = local !== undefined ? this.opts.interfaceFor?.(local, address) : undefined;
    const settings = ribPeerSettings(this.config, address, s, local, iface);
    const stale = this.rib.peerStats(address)?.stale ?? 0;
    this.rib.peerUp(settings);
    this.opts.logger.info(
      {
        event: 'rib-peer-up',
        peer: address,
        asn: s.peerAsn,
        families: [...s.families],
        ...(settings.localAddressV4 ? { nextHopV4: settings.localAddressV4 } : {}),
        ...(settings.localAddressV6 ? { nextHopV6: settings.localAddressV6 } : {}),
        ...(stale ? { staleRoutes: stale } : {}),
      },
      'peer added to the RIB',
    );
    this.schedule();
  }

  /** An UPDATE (RFC 4271 §9) with its RFC 7606 verdict. */
  update(address: string, u: DecodedUpdate): void {
    this.rib.update(address, u);
    this.schedule();
  }

  /** RFC 4724 §2: End-of-RIB for a family. */
  endOfRib(address: string, family: Family): void {
    this.rib.endOfRib(address, family);
    this.schedule();
  }

  /** RFC 2918 / RFC 7313 §4: a ROUTE-REFRESH from the peer; a BoRR arms the refresh timer, an EoRR disarms it. */
  routeRefresh(address: string, afi: number, safi: number, subtype: number): void {
    const family = afiSafiFamily(afi, safi);
    const action = family ? this.rib.routeRefresh(address, family, subtype) : 'ignored';
    const log = this.opts.logger;
    if (action === 'ignored') {
      log.debug({ event: 'route-refresh-ignored', peer: address, afi, safi, subtype }, 'ROUTE-REFRESH ignored');
      return;
    }
    const key = `${address} ${family!}`;
    if (action === 'begin' || action === 'end') {
      this.refreshTimers.get(key)?.cancel();
      this.refreshTimers.delete(key);
    }
    if (action === 'begin') {
      const timer = this.opts.clock.after(this.opts.refreshStaleMs ?? REFRESH_STALE_MS, () =>
        this.guard(() => {
          if (this.refreshTimers.get(key) !== timer) return;
          this.refreshTimers.delete(key);
          log.warn({ event: 'route-refresh-timeout', peer: address, family }, 'no End-of-Route-Refresh: stale routes purged');
          this.rib.refreshTimerFired(address, family!);
          this.schedule();
        }),
      );
      this.refreshTimers.set(key, timer);
    }
    log.debug({ event: `route-refresh-${action}` satisfies LogEvent, peer: address, family }, 'ROUTE-REFRESH received');
    this.schedule();
  }

  private cancelRefreshTimers(address: string): void {
    for (const [key, t] of this.refreshTimers)
      if (key.startsWith(`${address} `)) {
        t.cancel();
        this.refreshTimers.delete(key);
      }
  }

  /**
   * An Established session ended. `graceful` is graceful-restart.ts's verdict
   * (RFC 4724 §4.2): the routes stay as stale; else they are withdrawn.
   */
  peerDown(address: string, graceful: boolean): PeerDownResult {
    this.cancelRefreshTimers(address); // RFC 7313: a refresh does not outlive its session
    const r = this.rib.peerDown(address, { graceful });
    if (r.restartTime !== undefined)
      this.opts.logger.info({ event: 'stale-routes-kept', peer: address, routes: r.stale, restartTime: r.restartTime }, 'graceful restart: routes kept as stale');
    this.schedule();
    return r;
  }

  /** RFC 4724 §4.2: the peer's restart timer ran out; what is still stale goes. */
  staleTimerFired(address: string): void {
    this.rib.staleTimerFired(address);
    this.schedule();
  }

  /** The session's out queue drained after backpressure: pull more UPDATEs now. */
  writable(address: string): void {
    this.flush(address, loopTurns.deadline(SLICE_MS));
  }

  /**
   * Reload: the origination list, pools with export off, and the policies the
   * plan names as changed: `policies.peers` holds the soft verdicts of the
   * neighbors and listen ranges whose import or export rules changed (keyed by
   * their entry in `next`), `policies.global` which side of the global rules did.
   */
  reload(next: BgpConfig, changes: { readonly pools: boolean; readonly policies: ReloadPolicyChanges }): void {
    this.config = next;
    this.rib.setConfigOrigins(next.originate);
    if (changes.pools) {
      const pools = exportDisabledPools(next);
      this.rib.setExportDisabledPools(pools);
      this.opts.logger.info({ event: 'export-pools-reloaded', pools }, 'pools with export off changed: soft reconfiguration out');
    }
    const { peers, global } = changes.policies;
    if (peers.size > 0 || global.import || global.export) {
      this.rib.setPolicies(
        ribSettingsFromConfig(next).policies!,
        (address) => {
          const pc = findPeerConfig(next, address);
          const verdict = pc === undefined ? undefined : peers.get(pc);
          if (verdict === undefined) return undefined;
          return { ...(verdict.import ? { import: pc!.import ?? [] } : {}), ...(verdict.export ? { export: pc!.export ?? [] } : {}) };
        },
        global,
      );
      this.opts.logger.info({ event: 'policy-reloaded' }, 'policies changed: soft reconfiguration in and out');
    }
    this.schedule();
  }

  /** Runs RIB work soon (idempotent). */
  schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    if (this.busySince === undefined) this.opts.onIdle?.(false);
    loopTurns.schedule(this.runSlice);
  }

  private readonly runSlice = (): void => this.guard(() => this.slice());

  private slice(): void {
    this.scheduled = false;
    const clock = this.opts.clock;
    this.busySince ??= clock.now();
    // Deadlines in CPU time (performance.now), whatever clock drives the timers.
    const start = performance.now();
    const end = loopTurns.deadline(SLICE_MS);
    const processEnd = Math.min(end, start + PROCESS_MS);
    while (this.rib.hasWork() && performance.now() < processEnd) this.rib.process(STEP);
    const changes = this.rib.takeFibChanges();
    if (changes.length > 0) this.bestPathChanges(changes);
    for (const n of this.rib.takeNotices()) this.notice(n);
    let more = false;
    // Output until the slice's deadline, starting where the last slice stopped (a
    // thousand peers' writes do not fit one slice; none waits for ever).
    const peers = this.rib.pendingPeers();
    for (let i = 0; i < peers.length; i++) {
      const at = (this.flushFrom + i) % peers.length;
      if (performance.now() >= end) {
        this.flushFrom = at;
        more = true;
        break;
      }
      more = this.flush(peers[at]!, end) || more;
    }
    const elapsed = performance.now() - start;
    if (elapsed > this.maxSliceMs) this.maxSliceMs = elapsed;
    if (this.rib.hasWork() || more) return this.schedule();
    if (this.busySince !== undefined) {
      const t = this.rib.totals();
      this.opts.logger.info(
        { event: 'rib-converged', durationMs: Math.round(clock.now() - this.busySince), routes: t.routes, paths: t.paths, attributeSets: t.attributeSets, maxSliceMs: Math.round(this.maxSliceMs * 10) / 10 },
        'RIB converged',
      );
      this.busySince = undefined;
      this.opts.onIdle?.(true);
    }
  }

  private bestPathChanges(changes: FibChange[]): void {
    const log = this.opts.logger;
    if (log.isLevelEnabled('debug'))
      for (const c of changes.slice(0, 1000))
        log.debug(
          { event: 'best-path-changed', prefix: prefixToString(c.prefix), paths: c.paths.map((p) => p.peer.address), ...(c.local ? { local: true } : {}) },
          c.paths.length === 0 ? 'no route' : 'best path changed',
        );
    this.opts.onBestPathChanges?.(changes);
  }

  /**
   * Pulls ready UPDATEs for one peer while its socket takes them, until
   * `deadline` (performance.now() ms). Returns true when it stopped at the deadline with
   * the socket still writable and more to send (the caller runs another slice).
   */
  private flush(address: string, deadline: number): boolean {
    const session = this.sessions.get(address);
    if (!session) return false;
    // One write per peer per turn (issue 9): what the RIB gives goes out as one
    // buffer of up to WRITE_BYTES (the group's shared UPDATEs are not copied before).
    while (session.writable) {
      const parts: Buffer[] = [];
      let bytes = 0;
      let more = true;
      while (bytes < WRITE_BYTES) {
        const batch = this.rib.takeUpdates(address, PULL);
        if (batch.length === 0) {
          more = false;
          break;
        }
        for (const m of batch) {
          parts.push(m);
          bytes += m.length;
        }
        if (performance.now() >= deadline) break;
      }
      if (parts.length > 0) session.sendRawMany(parts);
      if (!more) {
        // Nothing more now, yet some owed (a step that skipped this peer's own routes): another turn.
        const owed = session.writable && this.rib.hasPendingUpdates(address);
        if (owed) this.schedule();
        return owed;
      }
      if (performance.now() >= deadline) {
        if (session.writable) this.schedule();
        return session.writable;
      }
    }
    return false;
  }

  private notice(n: RibNotice): void {
    const log = this.opts.logger;
    switch (n.type) {
      case 'max-prefix': {
        log.warn({ event: 'max-prefix', peer: n.address, family: n.family, limit: n.limit, count: n.count, action: n.action }, `peer sent more than ${n.limit} prefixes`);
        if (n.action === 'close') this.closeForMaxPrefix(n.address, n.family, n.limit);
        return;
      }
      case 'stale-swept':
        log.info({ event: 'stale-routes-swept', peer: n.address, routes: n.count }, 'graceful restart: stale routes removed');
        return;
      case 'refresh-stale-swept':
        log.info({ event: 'refresh-stale-swept', peer: n.address, family: n.family, routes: n.count, reason: n.reason }, 'route refresh: routes not re-advertised removed');
        return;
      case 'end-of-rib-received':
        log.debug({ event: 'end-of-rib-received', peer: n.address, family: n.family }, 'End-of-RIB received');
        return;
      case 'initial-table-queued':
        log.debug({ event: 'initial-table-queued', peer: n.address, prefixes: n.prefixes }, 'initial table queued');
        return;
    }
  }

  /** RFC 4486 §4: Cease / Maximum Number of Prefixes Reached; back after `restartDelay` if configured. */
  private closeForMaxPrefix(address: string, family: Family, limit: number): void {
    const session = this.sessions.get(address);
    if (!session) return;
    const { afi, safi } = familyAfiSafi(family);
    void session.stop({ subcode: CEASE_MAX_PREFIXES, reason: 'max-prefix', data: maxPrefixCeaseData(afi, safi, limit) });
    const delay = findPeerConfig(this.config, address)?.maxPrefix?.restartDelay;
    if (delay === undefined || delay === 0) return; // down until an operator resets it
    this.restartTimers.get(address)?.cancel();
    this.restartTimers.set(
      address,
      this.opts.clock.after(delay * 1000, () => {
        this.restartTimers.delete(address);
        if (this.sessions.get(address) === session) session.start();
      }),
    );
  }

  close(): void {
    for (const t of [...this.restartTimers.values(), ...this.refreshTimers.values()]) t.cancel();
    this.refreshTimers.clear();
    this.restartTimers.clear();
  }

  /** A failure in a handler is logged; the daemon keeps running. */
  guard(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.opts.logger.error({ event: 'rib-error', err: (err as Error).stack }, 'RIB handler failed');
    }
  }
}
