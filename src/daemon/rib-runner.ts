// The shell that runs the pure RIB (src/rib) on the event loop and connects it
// to the BGP sessions (DESIGN.md data flow, STYLE.md §5). Session events
// become RIB inputs: Established → peerUp (with the next-hop-self addresses
// taken from the socket), UPDATE → update, ROUTE-REFRESH → routeRefresh
// (RFC 2918 request; RFC 7313 BoRR/EoRR, with a timer purging the stale routes
// if no EoRR follows a BoRR), down → peerDown with the RFC 4724 verdict and the restart timer
// for stale routes. RIB work runs in setImmediate slices of at most ~8 ms
// (DESIGN.md, Event loop discipline: keepalives keep flowing); in each slice
// the ready UPDATEs are then pulled per peer while its socket is writable and
// the slice's time lasts, so a slow peer never makes the RIB buffer
// unboundedly and a fast one never holds the loop. Max-prefix notices close
// the session with Cease / Maximum Number of Prefixes Reached (RFC 4486 §4,
// data = AFI, SAFI, limit). Event-loop delay is measured for the metrics.
//
// Next-hop-self addresses: the session's own local socket address gives the
// address of its family. For the other family (IPv6 routes over an IPv4
// session or the reverse) we use the neighbor's configured `localAddress` when
// it is of that family, else the first specific (not wildcard) listen address
// of that family, else, for IPv4 only, the router ID (Calico sets it to the
// node's IPv4 address). Without one, such routes are not sent to that peer
// (export reason `no-next-hop`): a wrong next hop would blackhole traffic.

import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { isIP } from 'node:net';
import type { BgpConfig, ListenRangeConfig, NeighborConfig } from '../config/schema.js';
import type { Clock, TimerHandle } from '../lib/clock.js';
import type { Logger } from '../lib/log.js';
import { prefixToString, v4Parse, type Family } from '../lib/prefix.js';
import { CEASE_MAX_PREFIXES, familyAfiSafi } from '../bgp/wire/index.js';
import type { NegotiatedSession } from '../bgp/fsm/index.js';
import { findListenRange, normalizeAddress, type PeerSession, type SessionDown } from '../bgp/session/index.js';
import { Rib, compileGlobalPolicies, makePeer, type FibChange, type RibNotice, type RibPeerSettings, type RibSettings } from '../rib/index.js';

/**
 * Time one slice may take before yielding to the event loop: RIB work, then
 * pulling UPDATEs for writable peers. Kept well under the 20 ms budget because
 * the session's input pacing and the FIB bridge take their own slices in the
 * same turn of the loop.
 */
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

export interface RibDriverOptions {
  readonly clock: Clock;
  readonly logger: Logger;
  /** Best-path changes, batched per slice (the daemon hands them to the FIB). */
  readonly onFibChanges?: (changes: readonly FibChange[]) => void;
  /** Wait for an EoRR after a BoRR, ms (default REFRESH_STALE_MS). */
  readonly refreshStaleMs?: number;
}

export interface DriverStats {
  readonly slices: number;
  /** Longest RIB slice so far, ms. */
  readonly maxSliceMs: number;
  /** Event-loop delay, ms (perf_hooks histogram since start). */
  readonly eventLoopDelayMaxMs: number;
  readonly eventLoopDelayP99Ms: number;
}

/** CIDRs of the pools with export off (ipPools[].disableExport, Calico disableBGPExport). */
function exportDisabledPools(c: BgpConfig): string[] {
  return c.ipPools.filter((p) => p.disableExport).map((p) => p.cidr);
}

export function ribSettingsFromConfig(c: BgpConfig): RibSettings {
  const clients = c.neighbors.some((n) => n.routeReflectorClient) || c.listenRanges.some((r) => r.routeReflectorClient);
  return {
    routerId: v4Parse(c.routerId)!,
    asn: c.asn,
    // RFC 4456 §7: a cluster ID configured or any client makes us a reflector; the ID defaults to the router ID.
    isReflector: c.clusterId !== undefined || clients,
    ...(c.clusterId !== undefined ? { clusterId: v4Parse(c.clusterId)! } : {}),
    clientToClient: c.clientToClientReflection,
    alwaysCompareMed: c.alwaysCompareMed,
    ecmp: c.fib.ecmp,
    serviceCidrs: c.serviceCidrs,
    exportDisabledPools: exportDisabledPools(c),
    policies: compileGlobalPolicies(c),
  };
}

export class RibDriver {
  readonly rib: Rib;
  private config: BgpConfig;
  private readonly sessions = new Map<string, PeerSession>();
  private readonly staleTimers = new Map<string, TimerHandle>();
  private readonly restartTimers = new Map<string, TimerHandle>();
  /** RFC 7313 refresh timers, keyed by address and family. */
  private readonly refreshTimers = new Map<string, TimerHandle>();
  private scheduled = false;
  private busySince: number | undefined;
  private slices = 0;
  private maxSliceMs = 0;
  private readonly delay: IntervalHistogram;

  constructor(
    config: BgpConfig,
    private readonly opts: RibDriverOptions,
  ) {
    this.config = config;
    this.rib = new Rib(ribSettingsFromConfig(config));
    this.delay = monitorEventLoopDelay({ resolution: 10 });
    this.delay.enable();
    this.rib.setConfigOrigins(config.originate);
    this.schedule();
  }

  /** Neighbors' onSession hook: wire one session to the RIB. */
  attach(session: PeerSession): void {
    const address = session.address;
    this.sessions.set(address, session);
    session.on('established', (s) => this.guard(() => this.up(session, s)));
    session.on('update', (u) => this.guard(() => {
      this.rib.update(address, u);
      this.schedule();
    }));
    session.on('route-refresh', (m) => this.guard(() => this.routeRefresh(address, m.afi, m.safi, m.subtype)));
    session.on('down', (d) => this.guard(() => this.down(session, d)));
    session.on('writable', () => this.guard(() => this.flush(address, this.opts.clock.now() + SLICE_MS)));
  }

  /** RFC 2918 / RFC 7313 §4: a ROUTE-REFRESH from the peer; a BoRR arms the refresh timer, an EoRR disarms it. */
  private routeRefresh(address: string, afi: number, safi: number, subtype: number): void {
    const family: Family | undefined = safi !== 1 ? undefined : afi === 1 ? 'ipv4-unicast' : afi === 2 ? 'ipv6-unicast' : undefined;
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
    log.debug({ event: `route-refresh-${action}`, peer: address, family }, 'ROUTE-REFRESH received');
    this.schedule();
  }

  private cancelRefreshTimers(address: string): void {
    for (const [key, t] of this.refreshTimers)
      if (key.startsWith(`${address} `)) {
        t.cancel();
        this.refreshTimers.delete(key);
      }
  }

  /** Neighbors' onSessionRemoved hook. */
  detach(session: PeerSession): void {
    if (this.sessions.get(session.address) !== session) return;
    this.sessions.delete(session.address);
    this.cancelRefreshTimers(session.address);
    this.restartTimers.get(session.address)?.cancel();
    this.restartTimers.delete(session.address);
  }

  private peerConfig(address: string): NeighborConfig | ListenRangeConfig | undefined {
    return this.config.neighbors.find((n) => normalizeAddress(n.address) === address) ?? findListenRange(this.config.listenRanges, address);
  }

  private up(session: PeerSession, s: NegotiatedSession): void {
    const address = session.address;
    const pc = this.peerConfig(address);
    const local = normalizeAddress(session.transport()?.local ?? '');
    const otherFamily = (want: 4 | 6): string | undefined => {
      const la = pc && 'localAddress' in pc ? pc.localAddress : undefined;
      if (la && isIP(la) === want) return la;
      const listen = this.config.listen.addresses.find((a) => isIP(a) === want && a !== '0.0.0.0' && a !== '::');
      return listen ?? (want === 4 ? this.config.routerId : undefined);
    };
    const v4 = isIP(local) === 4 ? local : otherFamily(4);
    const v6 = isIP(local) === 6 ? local : otherFamily(6);
    const gr = s.gracefulRestart ? s.peerGracefulRestart : undefined;
    const settings: RibPeerSettings = {
      peer: makePeer({
        address,
        asn: s.peerAsn,
        localAsn: s.localAsn,
        bgpId: s.peerId,
        rrClient: pc?.routeReflectorClient ?? false,
        allowOwnAs: pc?.allowAsIn ?? 0,
      }),
      families: s.families,
      codec: s.codec,
      nextHopMode: pc?.nextHopMode ?? 'auto',
      ...(v4 ? { localAddressV4: v4 } : {}),
      ...(v6 ? { localAddressV6: v6 } : {}),
      enhancedRouteRefresh: s.enhancedRouteRefresh,
      ...(gr ? { gracefulRestart: { restartTime: gr.restartTime } } : {}),
      ...(pc?.maxPrefix ? { maxPrefix: { limit: pc.maxPrefix.limit, action: pc.maxPrefix.action } } : {}),
      ...(pc?.import ? { import: pc.import } : {}),
      ...(pc?.export ? { export: pc.export } : {}),
    };
    const stale = this.rib.peerStats(address)?.stale ?? 0;
    this.rib.peerUp(settings);
    this.opts.logger.info(
      { event: 'rib-peer-up', peer: address, asn: s.peerAsn, families: [...s.families], ...(v4 ? { nextHopV4: v4 } : {}), ...(v6 ? { nextHopV6: v6 } : {}), ...(stale ? { staleRoutes: stale } : {}) },
      'peer added to the RIB',
    );
    this.schedule();
  }

  private down(session: PeerSession, d: SessionDown): void {
    if (!d.wasEstablished) return;
    const address = session.address;
    this.cancelRefreshTimers(address); // RFC 7313: a refresh does not outlive its session
    // RFC 4724 §4.2: routes are retained when the session ends without a NOTIFICATION
    // (a transport failure or a restart); a Cease we or the peer sent ends them.
    const graceful = d.notification === undefined && d.reason !== 'admin-stop' && d.reason !== 'deconfigured';
    const r = this.rib.peerDown(address, { graceful });
    if (r.restartTime !== undefined) {
      this.opts.logger.info({ event: 'stale-routes-kept', peer: address, routes: r.stale, restartTime: r.restartTime }, 'graceful restart: routes kept as stale');
      this.staleTimers.get(address)?.cancel();
      const timer = this.opts.clock.after(r.restartTime * 1000, () =>
        this.guard(() => {
          if (this.staleTimers.get(address) !== timer) return;
          this.staleTimers.delete(address);
          this.rib.staleTimerFired(address);
          this.schedule();
        }),
      );
      this.staleTimers.set(address, timer);
    }
    this.schedule();
  }

  /** Applies a reloaded config: origination list and, when rules changed, policies (soft reconfiguration). */
  reload(next: BgpConfig): void {
    const old = this.config;
    this.config = next;
    this.rib.setConfigOrigins(next.originate);
    const pools = exportDisabledPools(next);
    if (JSON.stringify(exportDisabledPools(old)) !== JSON.stringify(pools)) {
      this.rib.setExportDisabledPools(pools);
      this.opts.logger.info({ event: 'export-pools-reloaded', pools }, 'pools with export off changed: soft reconfiguration out');
    }
    const rules = (c: BgpConfig) =>
      JSON.stringify([c.import, c.export, c.ebgpRequiresPolicy, c.neighbors.map((n) => [n.address, n.import, n.export]), c.listenRanges.map((r) => [r.prefix, r.import, r.export])]);
    if (rules(old) !== rules(next)) {
      this.rib.setPolicies(compileGlobalPolicies(next), (address) => {
        const pc = this.peerConfig(address);
        return { import: pc?.import ?? [], export: pc?.export ?? [] };
      });
      this.opts.logger.info({ event: 'policy-reloaded' }, 'policies changed: soft reconfiguration in and out');
    }
    this.schedule();
  }

  /** Runs RIB work soon (idempotent). */
  schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.guard(() => this.slice()));
  }

  private slice(): void {
    this.scheduled = false;
    const clock = this.opts.clock;
    const start = clock.now();
    this.busySince ??= start;
    while (this.rib.hasWork() && clock.now() - start < PROCESS_MS) this.rib.process(STEP);
    const changes = this.rib.takeFibChanges();
    if (changes.length > 0) this.fibChanges(changes);
    for (const n of this.rib.takeNotices()) this.notice(n);
    let more = false;
    for (const address of this.rib.pendingPeers()) more = this.flush(address, start + SLICE_MS) || more;
    const elapsed = clock.now() - start;
    this.slices++;
    if (elapsed > this.maxSliceMs) this.maxSliceMs = elapsed;
    if (this.rib.hasWork() || more) return this.schedule();
    if (this.busySince !== undefined) {
      const t = this.rib.totals();
      this.opts.logger.info(
        { event: 'rib-converged', durationMs: Math.round(clock.now() - this.busySince), routes: t.routes, paths: t.paths, attributeSets: t.attributeSets, maxSliceMs: Math.round(this.maxSliceMs * 10) / 10 },
        'RIB converged',
      );
      this.busySince = undefined;
    }
  }

  private fibChanges(changes: FibChange[]): void {
    const log = this.opts.logger;
    if (log.isLevelEnabled('debug'))
      for (const c of changes.slice(0, 1000))
        log.debug(
          { event: 'best-path-changed', prefix: prefixToString(c.prefix), paths: c.paths.map((p) => p.peer.address), ...(c.local ? { local: true } : {}) },
          c.paths.length === 0 ? 'no route' : 'best path changed',
        );
    this.opts.onFibChanges?.(changes);
  }

  /**
   * Pulls ready UPDATEs for one peer while its socket takes them, until
   * `deadline` (clock ms). Returns true when it stopped at the deadline with
   * the socket still writable and more to send (the caller runs another slice).
   */
  flush(address: string, deadline: number): boolean {
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
        if (this.opts.clock.now() >= deadline) break;
      }
      if (parts.length > 0) session.sendRawMany(parts);
      if (!more) {
        // Nothing more now, yet some owed (a step that skipped this peer's own routes): another turn.
        const owed = session.writable && this.rib.hasPendingUpdates(address);
        if (owed) this.schedule();
        return owed;
      }
      if (this.opts.clock.now() >= deadline) {
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

  /** RFC 4486 §4: Cease / Maximum Number of Prefixes Reached, data AFI (2), SAFI (1), upper bound (4). */
  private closeForMaxPrefix(address: string, family: Family, limit: number): void {
    const session = this.sessions.get(address);
    if (!session) return;
    const { afi, safi } = familyAfiSafi(family);
    const data = Buffer.alloc(7);
    data.writeUInt16BE(afi, 0);
    data[2] = safi;
    data.writeUInt32BE(limit >>> 0, 3);
    void session.stop({ subcode: CEASE_MAX_PREFIXES, reason: 'max-prefix', data });
    const pc = this.peerConfig(address);
    const delay = pc?.maxPrefix?.restartDelay;
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

  stats(): DriverStats {
    const ns = 1e6;
    return {
      slices: this.slices,
      maxSliceMs: this.maxSliceMs,
      eventLoopDelayMaxMs: this.delay.max / ns,
      eventLoopDelayP99Ms: this.delay.percentile(99) / ns,
    };
  }

  close(): void {
    this.delay.disable();
    for (const t of [...this.staleTimers.values(), ...this.restartTimers.values(), ...this.refreshTimers.values()]) t.cancel();
    this.refreshTimers.clear();
    this.staleTimers.clear();
    this.restartTimers.clear();
  }

  /** A failure in a handler is logged; the daemon keeps running. */
  private guard(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.opts.logger.error({ event: 'rib-error', err: (err as Error).stack }, 'RIB handler failed');
    }
  }
}
