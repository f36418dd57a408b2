// The composition root (DESIGN.md, Layout): builds the running daemon from a
// validated config and wires the parts, each owning its own facts:
// - Neighbors (bgp/session): one PeerSession per configured neighbor plus
//   dynamic ones from listen ranges, fed by the listener (RFC 4271 §8.2.1.1);
// - peer-events.ts: the one subscriber per session, turning its events into
//   calls on the RIB runner, graceful restart and the peer history;
// - rib-runner.ts: the pure RIB in bounded slices; best-path changes leave
//   through rib-to-fib.ts into the FIB service (fib/fib-service.ts: kernel or
//   dry-run writer, chosen by fib/factory.ts);
// - graceful-restart.ts: every RFC 4724 verdict and timer (restart state in
//   our OPENs, End-of-RIB awaited after our restart, stale timers);
// - api-adapter.ts: what the HTTP API reads and asks; reload.ts applies a
//   ReloadPlan (SIGHUP or the API).
// Lifecycle: stop() closes the listeners; a session that negotiated graceful
// restart (RFC 4724, our capability and the peer's) is closed without a
// NOTIFICATION so the peer keeps our routes as stale while we restart (§4),
// and our kernel routes stay for the next run; every other peer gets Cease /
// Administrative Shutdown with the RFC 8203 text "bgp-ts shutting down".
// Reload: changes the RIB cannot take live (routerId, asn, cluster ID,
// reflector role, ECMP, the FIB writer) reject the reload and keep the
// running config; otherwise the plan is applied part by part.

import type { BgpConfig } from '../config/schema.js';
import { loadConfigFile, formatConfigErrors } from '../config/load.js';
import { planReload } from '../config/reload-plan.js';
import { systemClock, type Clock } from '../lib/clock.js';
import type { Logger } from '../lib/log.js';
import { normalizeAddress } from '../lib/address.js';
import { packageVersion } from '../lib/version.js';
import { CEASE_ADMIN_RESET, CEASE_ADMIN_SHUTDOWN } from '../bgp/wire/errors.js';
import { BgpListener } from '../bgp/session/listener.js';
import { listenerSecurityFromConfig } from '../bgp/session/socket-options.js';
import { Neighbors, type NeighborsOptions, type PeerSummary } from '../bgp/session/neighbors.js';
import type { PeerSession } from '../bgp/session/peer-session.js';
import type { Rib } from '../rib/index.js';
import { FibService } from '../fib/fib-service.js';
import { createFibWriter } from '../fib/factory.js';
import type { BestPathChange } from '../fib/types.js';
import { startApi, type RunningApi } from '../api/server.js';
import { buildApiDeps, type DaemonControl } from './api-adapter.js';
import { findNeighbor } from './peer-settings.js';
import { GracefulRestart, restartPeers } from './graceful-restart.js';
import { attachPeer, detachPeer, type PeerEventSinks } from './peer-events.js';
import { PeerHistory } from './peer-history.js';
import type { ClusterSync } from './cluster-sync.js';
import { applyReloadPlan } from './reload.js';
import { RibRunner } from './rib-runner.js';
import { NextHopFaultLog, nextHopTables, startNextHopTracking, type NextHopTracking } from './next-hop-tracking.js';
import { loopTurns } from '../lib/loop-turns.js';
import { toBestPathChange } from './rib-to-fib.js';
import { BfdCoupling } from './bfd-coupling.js';
import { defaultBfdService } from '../bfd/service.js';

export const SHUTDOWN_TEXT = 'bgp-ts shutting down';

export interface Daemon {
  /** Close listeners; GR sessions without a NOTIFICATION (RFC 4724 §4), the rest with a Cease (RFC 8203 text). */
  stop(opts?: { reason?: string }): Promise<void>;
  /** Applies a new validated config as a diff; rejected (running config kept) when it needs a restart. */
  reload(config: BgpConfig): Promise<ReloadOutcome>;
  /** One summary per session (configured and dynamic), then the neighbors shut down in the config (adminShutdown, no session). */
  sessions(): PeerSummary[];
  /** The session for a peer address (any form), if any. */
  peer(address: string): PeerSession | undefined;
  /** The bound listen port (useful with `listen.port: 0`), or undefined when not listening. */
  readonly listenPort: number | undefined;
  /** The RIB facade (read it; act through the daemon and the API). */
  readonly rib: Rib;
  readonly runner: RibRunner;
  /** The FIB service (kernel or dry-run writer). */
  readonly fib: FibService;
  /** Next-hop tracking against the kernel's tables; undefined unless the FIB writes the kernel. */
  readonly nextHops: NextHopTracking | undefined;
  /** Originates a prefix (text) with communities; the API's announcements endpoint. */
  announce(prefix: string, communities?: readonly string[]): DaemonActionResult;
  withdraw(prefix: string): DaemonActionResult;
  /** Hard reset (Cease / Administrative Reset, RFC 4486) or soft: 'in' from the kept Adj-RIB-In, 'out' re-export. */
  resetPeer(address: string, soft?: 'in' | 'out'): Promise<DaemonActionResult>;
  /** The HTTP API's base URL when it listens (config `api.listen`, not "none"). */
  readonly apiUrl: string | undefined;
}

export type ReloadOutcome =
  | { readonly ok: true; readonly changes: readonly string[]; readonly deferred: readonly string[] }
  | { readonly ok: false; readonly errors: readonly string[] };

export type DaemonActionResult =
  | { readonly ok: true }
  | { readonly ok: false; readonly error: 'not-found' | 'conflict' | 'invalid' | 'unavailable'; readonly message: string };

export interface DaemonOptions {
  readonly logger: Logger;
  readonly configPath?: string;
  readonly clock?: Clock;
  /** Jitter source; Math.random by default. */
  readonly random?: () => number;
  /** Hooks for whoever else wants to see sessions come and go (tests). */
  readonly onSession?: NeighborsOptions['onSession'];
  readonly onSessionRemoved?: NeighborsOptions['onSessionRemoved'];
  /** Best-path changes in the FIB's input shape, batched per RIB slice (tests). */
  readonly onBestPathChanges?: (changes: readonly BestPathChange[]) => void;
  /** /readyz: how long a configured peer may take to reach Established (default 120 s). */
  readonly peerGraceMs?: number;
  /** Open the FIB's netlink sockets in this network namespace (tests). */
  readonly fibNetns?: string;
  /** The cluster datastore: reloads merge it onto the file, and its changes arrive as reloads (cluster-sync.ts). */
  readonly cluster?: ClusterSync;
}

export async function startDaemon(config: BgpConfig, opts: DaemonOptions): Promise<Daemon> {
  const logger = opts.logger;
  const clock = opts.clock ?? systemClock;
  let current = config;
  const onBest = opts.onBestPathChanges;
  const backend = await createFibWriter(config, { logger, clock, ...(opts.fibNetns ? { netns: opts.fibNetns } : {}) });
  const fib = new FibService({ config, logger, backend });
  const restart: GracefulRestart = new GracefulRestart({
    clock,
    logger,
    sweepFib: (why) => fib.sweepStale(why),
    restartStateChanged: () => neighbors.refreshRestartState(),
    staleTimerFired: (address) => runner.staleTimerFired(address),
  });
  const runner: RibRunner = new RibRunner(config, {
    clock,
    logger,
    onBestPathChanges: (changes) => {
      if (!fib.wantsBestPathChanges && !onBest) return;
      const updates = changes.map(toBestPathChange);
      fib.bestPathChanges(updates);
      onBest?.(updates);
    },
    onIdle: (idle) => restart.setRibIdle(idle),
    interfaceFor: (local, peer) => backend.host.interfaceFor(local, peer),
  });
  // fib.enabled false and nobody else listening: the RIB builds no per-prefix FIB
  // changes at all, unless debug logging wants a best-path-changed line for each.
  const recordBestPaths = (): void => runner.rib.setFibChanges(fib.wantsBestPathChanges || onBest !== undefined || logger.isLevelEnabled('debug'));
  recordBestPaths();
  const history = new PeerHistory(clock);
  const sinks: PeerEventSinks = { runner, restart, history };
  // BFD (RFC 5880/5881) in a worker thread, coupled to the sessions per RFC 5882 (bfd-coupling.ts).
  const bfd = new BfdCoupling({
    logger,
    session: (a) => neighbors.get(a),
    createService: () => defaultBfdService({ onError: (message, peer) => logger.error({ event: 'bfd-error', ...(peer ? { peer } : {}), err: message }, message) }),
  });
  // Configured neighbors an operator shut down through the API: kept down across a
  // reload that resets their session (it is made again, not started), until enabled,
  // removed from the config or shut down there.
  const heldDown = new Set<string>();
  const neighbors: Neighbors = new Neighbors(config, {
    clock,
    logger,
    heldDown: (address) => heldDown.has(address),
    ...(opts.random ? { random: opts.random } : {}),
    restartState: () => restart.restartState(),
    onSession: (session, kind) => {
      attachPeer(session, kind, sinks);
      if (kind === 'configured' && heldDown.has(session.address)) history.markShutdown(session, true);
      if (kind === 'dynamic') bfd.dynamicPeer(session.address, true);
      opts.onSession?.(session, kind);
    },
    onSessionRemoved: (session, kind) => {
      detachPeer(session, sinks);
      if (kind === 'dynamic') bfd.dynamicPeer(session.address, false);
      opts.onSessionRemoved?.(session, kind);
    },
  });

  const listen = async (c: BgpConfig): Promise<BgpListener | undefined> => {
    if (!c.listen.enabled || c.listen.addresses.length === 0) return undefined;
    const l = new BgpListener({
      addresses: c.listen.addresses,
      port: c.listen.port,
      logger,
      onConnection: (conn) => neighbors.accept(conn),
      security: listenerSecurityFromConfig(c), // TCP MD5 keys and GTSM per neighbor / listen range
    });
    const bound = await l.start();
    logger.info({ event: 'listening', addresses: bound.addresses, port: bound.port }, `listening on port ${bound.port}`);
    return l;
  };

  // RFC 4724 §4.1: with graceful-restart neighbors our kernel routes of the last run stay until the RIB converged.
  const keepStale = restartPeers(config).length > 0;
  try {
    await fib.start({ keepStale });
  } catch (err) {
    logger.error({ event: 'fib-start-failed', err: (err as Error).message }, 'FIB could not reconcile with the kernel at start');
  }
  // RFC 4271 §9.1.2: next hops resolve against the kernel's tables (kernel mode only; a dry run resolves all).
  const nextHops = backend.kernelFeed ? await startNextHopTracking(backend.kernelFeed, { rib: runner.rib, turns: loopTurns, logger, tables: nextHopTables(config.fib.table), protocol: config.fib.protocol, changed: () => runner.schedule() }) : undefined;
  // Without tracking the validity rules still apply (RFC 4271 §6.3): a wrong next hop is logged all the same.
  if (!nextHops) runner.rib.setNextHopLookups({ nextHopFaultSeen: new NextHopFaultLog(logger).seen });
  restart.begin(config, fib.isConverging, fib.preservedFamilies());
  let listener = await listen(config);
  bfd.apply(config); // RFC 5882 §4.2: BGP does not wait for BFD
  neighbors.startAll();
  logger.info(
    { event: 'daemon-started', routerId: config.routerId, asn: config.asn, ...(opts.configPath ? { configPath: opts.configPath } : {}) },
    'bgp-ts started',
  );

  let stopping: Promise<void> | undefined;
  let api: RunningApi | undefined;
  // An API restart after an `api` change runs beside the reload request that caused it.
  let apiRestart: Promise<void> = Promise.resolve();
  let reloading: Promise<unknown> = Promise.resolve();
  const startHttpApi = async (c: BgpConfig): Promise<void> => {
    try {
      // fastify logs the bound address itself, as event api-listening (api/server.ts): one line per event.
      api = await startApi(apiDeps, c.api, { logger });
    } catch (err) {
      // The API is for operators; routing goes on without it.
      logger.error({ event: 'api-listen-failed', listen: c.api.listen, err: (err as Error).message }, 'cannot start the HTTP API');
    }
  };
  const applyReload = async (next: BgpConfig): Promise<ReloadOutcome> => {
    if (stopping) return { ok: false, errors: ['the daemon is stopping'] };
    const plan = planReload(current, next);
    if (plan.blockers.length > 0) {
      const errors = formatConfigErrors(plan.blockers);
      logger.error({ event: 'config-reload-rejected', errors }, 'config reload rejected; keeping the running config');
      return { ok: false, errors };
    }
    current = next;
    // BFD first: a neighbor removed or shut down tells its BFD peer AdminDown before our
    // Cease (RFC 5880 §6.8.16); new timers go by Poll / Final (§6.8.3), never a reset
    bfd.apply(next);
    await applyReloadPlan(next, plan, {
      logger,
      neighbors,
      runner,
      fib,
      logLevelChanged: recordBestPaths,
      rebindListener: async (c) => {
        await listener?.close();
        listener = undefined;
        try {
          listener = await listen(c);
        } catch (err) {
          logger.error({ event: 'listener-error', err: (err as Error).message }, 'cannot listen with the new settings');
        }
      },
      updateListenerSecurity: (c) => listener?.setSecurity(listenerSecurityFromConfig(c)),
      restartApi: (c) => {
        const running = api;
        api = undefined;
        apiRestart = apiRestart.then(async () => {
          await running?.close();
          if (!stopping) await startHttpApi(c);
        });
      },
    });
    for (const a of heldDown) if (findNeighbor(next, a)?.shutdown ?? true) heldDown.delete(a);
    for (const d of plan.deferred) logger.warn({ event: 'config-change-deferred', change: d }, d);
    logger.info({ event: 'config-applied', changes: plan.changes }, `config applied: ${plan.changes.length} change(s)`);
    return { ok: true, changes: plan.changes, deferred: plan.deferred };
  };
  /** A neighbor shut down in the config has no session: operators are told so instead of "no peer". */
  const shutInConfig = (address: string): boolean => findNeighbor(current, address)?.shutdown === true;
  const shutInConfigText = (address: string) => `peer ${address} is shut down in the config (neighbors[].shutdown: true); set it to false and reload`;
  const control: DaemonControl = {
    announce(prefix, communities = []) {
      const r = runner.rib.announce(prefix, communities);
      runner.schedule();
      if (r.ok) logger.info({ event: 'prefix-announced', prefix, communities }, 'prefix announced');
      return r;
    },
    withdraw(prefix) {
      const r = runner.rib.withdraw(prefix);
      runner.schedule();
      if (r.ok) logger.info({ event: 'prefix-withdrawn', prefix }, 'prefix withdrawn');
      return r;
    },
    async resetPeer(address, soft) {
      const session = neighbors.get(address);
      if (!session && shutInConfig(address)) return { ok: false, error: 'conflict', message: shutInConfigText(address) };
      if (!session) return { ok: false, error: 'not-found', message: `no peer ${address}` };
      if (soft) {
        if (!runner.rib.softReset(session.address, soft)) return { ok: false, error: 'unavailable', message: `peer ${address} is not Established` };
        runner.schedule();
        logger.info({ event: 'peer-soft-reset', peer: session.address, direction: soft }, `soft reset ${soft}`);
        return { ok: true };
      }
      await session.stop({ subcode: CEASE_ADMIN_RESET, reason: 'admin-reset' });
      if (neighbors.get(address) === session) session.start();
      return { ok: true };
    },
    async shutdownPeer(address, message) {
      const session = neighbors.get(address);
      if (!session && shutInConfig(address)) return { ok: true, detail: `peer ${address} is already shut down in the config (neighbors[].shutdown: true)` };
      if (!session) return { ok: false, error: 'not-found', message: `no peer ${address}` };
      bfd.adminDown(address, true); // RFC 5880 §6.8.16
      if (findNeighbor(current, address)) heldDown.add(address);
      await session.stop({ subcode: CEASE_ADMIN_SHUTDOWN, ...(message !== undefined ? { text: message } : {}) });
      return { ok: true };
    },
    async enablePeer(address) {
      const session = neighbors.get(address);
      if (!session && shutInConfig(address)) return { ok: false, error: 'conflict', message: shutInConfigText(address) };
      if (!session) return { ok: false, error: 'not-found', message: `no peer ${address}` };
      bfd.adminDown(address, false);
      heldDown.delete(address);
      session.start();
      return { ok: true };
    },
    async reloadConfig() {
      if (!opts.configPath) return { ok: false, errors: ['the daemon was started without a config file'] };
      const loaded = opts.cluster ? await opts.cluster.load() : await loadConfigFile(opts.configPath);
      if (!loaded.ok) {
        const errors = formatConfigErrors(loaded.errors);
        logger.error({ event: 'config-reload-rejected', configPath: opts.configPath, source: 'api', errors }, 'config reload rejected; keeping the running config');
        return { ok: false, errors };
      }
      const r = await daemon.reload(loaded.config);
      if (!r.ok) return r;
      logger.info({ event: 'config-reloaded', configPath: opts.configPath, source: 'api' }, 'config reloaded');
      return { ok: true, changes: [...r.changes, ...r.deferred] };
    },
  };
  const daemon: Daemon = {
    get apiUrl() {
      return api?.url;
    },
    get listenPort() {
      return listener?.port;
    },
    rib: runner.rib,
    runner,
    fib,
    nextHops,
    sessions: () => neighbors.list(),
    peer: (address) => neighbors.get(normalizeAddress(address)),
    announce: (prefix, communities) => control.announce(prefix, communities ?? []),
    withdraw: (prefix) => control.withdraw(prefix),
    resetPeer: (address, soft) => control.resetPeer(address, soft),
    stop(stopOpts = {}) {
      stopping ??= (async () => {
        logger.info({ event: 'daemon-stopping', ...(stopOpts.reason ? { reason: stopOpts.reason } : {}) }, 'stopping');
        await opts.cluster?.stop();
        // No new connections first, then a Cease to every peer (RFC 8203 shutdown communication).
        await listener?.close();
        listener = undefined;
        await reloading.catch(() => undefined);
        await apiRestart;
        await api?.close();
        api = undefined;
        // Before the Ceases withdraw everything: with graceful restart our kernel
        // routes stay for the next run to adopt (RFC 4724 §4.1), else they go.
        await fib.stop({ keepRoutes: restartPeers(current).length > 0 });
        // AdminDown to every BFD peer first (RFC 5880 §6.8.16): our Cease is no path failure. All
        // sessions send it in parallel for min(Detection Time, 1 s) (bfd/engine.ts STOP_BUDGET_MS),
        // so this waits at most about 1 s however many sessions run, not a Detection Time each.
        await bfd.stop();
        // RFC 4724 §4: sessions that negotiated GR close without a NOTIFICATION (we send N = 0),
        // the rest get a Cease.
        const out = await neighbors.stopAll({ subcode: CEASE_ADMIN_SHUTDOWN, text: SHUTDOWN_TEXT, gracefulRestart: true });
        if (out.gracefulRestart.length > 0)
          logger.info(
            { event: 'sessions-left-for-restart', gracefulRestart: out.gracefulRestart.length, peers: out.gracefulRestart, ceased: out.ceased.length },
            `${out.gracefulRestart.length} session(s) left for graceful restart (no NOTIFICATION)`,
          );
        runner.close();
        restart.close();
        logger.info({ event: 'daemon-stopped' }, 'stopped');
      })();
      return stopping;
    },
    reload(next) {
      // One reload at a time (SIGHUP and the API may race).
      const r = reloading.catch(() => undefined).then(() => applyReload(next));
      reloading = r;
      return r;
    },
  };

  const apiDeps = bfd.apiDeps(buildApiDeps({
    clock,
    rib: runner.rib,
    history,
    restart,
    fib,
    control,
    version: packageVersion(),
    config: () => current,
    sessions: () => neighbors.list(),
    peer: (a) => neighbors.get(a),
    ...(opts.peerGraceMs !== undefined ? { peerGraceMs: opts.peerGraceMs } : {}),
    ...(opts.cluster ? { cluster: opts.cluster } : {}),
  }));
  opts.cluster?.attach((next) => daemon.reload(next));
  await startHttpApi(config);
  return daemon;
}
