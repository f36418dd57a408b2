// The composition root (DESIGN.md, Layout): builds the running daemon from a
// validated config. It wires the listener (RFC 4271 §8.2.1.1 passive
// establishment), one PeerSession per configured neighbor plus dynamic
// neighbors from listen ranges, and the RIB (src/rib through the RibDriver
// shell: sessions ↔ RIB, bounded work slices) through `Neighbors`' session
// hooks. Best-path changes leave through `onBestPathChanges` in the FIB's
// input shape (prefix, ECMP next hops, local/blackhole), and into the FIB
// bridge (src/fib/fib-service.ts: kernel or dry-run writer, chosen by
// src/fib/factory.ts), which the API reads for /api/v1/fib and readiness.
// Lifecycle: stop() closes the listeners; a session that negotiated graceful
// restart (RFC 4724, our capability and the peer's) is closed without a
// NOTIFICATION so the peer keeps our routes as stale while we restart (§4),
// and our kernel routes stay for the next run; every other peer gets Cease /
// Administrative Shutdown with the RFC 8203 text "bgp-ts shutting down".
// Start as the restarting speaker (RFC 4724 §4.1): when the FIB adopted our
// kernel routes of a previous run, our OPENs carry R = 1 and F = 1 for each
// family with adopted routes, until the FIB has converged (End-of-RIB from
// every GR peer, or the restart timer: its stale sweep); then R and F clear
// for later OPENs. Our End-of-RIB after the initial table comes from the RIB.
// reload() applies neighbor changes (RFC 4486 Cease subcodes 3 and 6).
// Reload (src/config/reload-plan.ts): changes the RIB cannot take live
// (routerId, asn, cluster ID, reflector role, ECMP, the FIB writer) reject
// the reload and keep the running config; otherwise untouched peers keep
// their sessions, policy changes soft-refresh (import → soft-in over the kept
// Adj-RIB-In, export → re-export), `originate` announces/withdraws, `listen`
// rebinds, `api` restarts the HTTP API, `log.level` applies at once.

import type { BgpConfig } from '../config/schema.js';
import { systemClock, type Clock } from '../lib/clock.js';
import type { Logger } from '../lib/log.js';
import { CEASE_ADMIN_RESET, CEASE_ADMIN_SHUTDOWN } from '../bgp/wire/errors.js';
import { normalizeAddress } from '../lib/address.js';
import { BgpListener } from '../bgp/session/listener.js';
import { listenerSecurityFromConfig } from '../bgp/session/socket-options.js';
import { Neighbors, type NeighborsOptions, type PeerSummary, type RestartState } from '../bgp/session/neighbors.js';
import type { PeerSession } from '../bgp/session/peer-session.js';
import { RibDriver } from './rib-runner.js';
import { ApiCore } from './api-adapter.js';
import { startApi, type RunningApi } from '../api/server.js';
import { loadConfigFile } from '../config/load.js';
import type { FibChange, Rib } from '../rib/index.js';
import type { PrefixKey } from '../lib/prefix.js';
import { endOfRibFamily } from '../bgp/wire/eor.js';
import { FibBridge } from '../fib/fib-service.js';
import { createFibWriter } from '../fib/factory.js';
import { planReload } from '../config/reload-plan.js';
import { formatConfigErrors } from '../config/load.js';
import type { ApiDeps } from '../api/deps.js';

export const SHUTDOWN_TEXT = 'bgp-ts shutting down';

export interface Daemon {
  /** Close listeners; GR sessions without a NOTIFICATION (RFC 4724 §4), the rest with a Cease (RFC 8203 text). */
  stop(opts?: { reason?: string }): Promise<void>;
  /** Applies a new validated config as a diff; rejected (running config kept) when it needs a restart. */
  reload(config: BgpConfig): Promise<ReloadOutcome>;
  /** One summary per session (configured and dynamic). */
  sessions(): PeerSummary[];
  /** The session for a peer address, if any. */
  peer(address: string): PeerSession | undefined;
  /** The bound listen port (useful with `listen.port: 0`), or undefined when not listening. */
  readonly listenPort: number | undefined;
  /** The RIB facade (read it; act through the daemon and the API). */
  readonly rib: Rib;
  readonly driver: RibDriver;
  /** The FIB bridge (kernel or dry-run writer). */
  readonly fib: FibBridge;
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

/** A best-path change in the FIB's input shape (src/fib/types.ts BestPathChange). */
export interface BestPathUpdate {
  readonly prefix: PrefixKey;
  /** The ECMP next hops; absent or empty without `local`: the prefix is withdrawn. */
  readonly nextHops?: readonly { readonly address: string }[];
  /** A prefix this node originates: blackhole it locally (Calico's own blocks). */
  readonly local?: { readonly blackhole: boolean };
}

const LOCAL_BLACKHOLE = { blackhole: true } as const;
const LOCAL_NO_BLACKHOLE = { blackhole: false } as const;
const NO_NEXT_HOPS: readonly { readonly address: string }[] = [];
/** One next-hop list per interned attribute set (STYLE.md §6) and family: a million routes from one node share it. */
const singleHop: Record<'v4' | 'v6', WeakMap<object, readonly { readonly address: string }[]>> = { v4: new WeakMap(), v6: new WeakMap() };

/** FibChange (RIB) → the FIB's input: next hop per path of the multipath set, by the prefix's family. */
export function toBestPathUpdate(c: FibChange): BestPathUpdate {
  if (c.local) return { prefix: c.prefix, local: c.blackhole ? LOCAL_BLACKHOLE : LOCAL_NO_BLACKHOLE };
  const v4 = typeof c.prefix === 'number';
  if (c.paths.length === 0) return { prefix: c.prefix, nextHops: NO_NEXT_HOPS };
  if (c.paths.length === 1) {
    // The common case: the list is shared by every route with this attribute set (never mutated).
    const attrs = c.paths[0]!.attrs;
    const cache = singleHop[v4 ? 'v4' : 'v6'];
    let hops = cache.get(attrs);
    if (!hops) {
      const address = v4 ? attrs.nextHopV4 : attrs.nextHopV6;
      hops = address === undefined ? NO_NEXT_HOPS : [{ address }];
      cache.set(attrs, hops);
    }
    return { prefix: c.prefix, nextHops: hops };
  }
  const nextHops: { address: string }[] = [];
  for (const p of c.paths) {
    const address = v4 ? p.attrs.nextHopV4 : p.attrs.nextHopV6;
    if (address !== undefined && !nextHops.some((n) => n.address === address)) nextHops.push({ address });
  }
  return { prefix: c.prefix, nextHops };
}

export interface DaemonOptions {
  readonly logger: Logger;
  readonly configPath?: string;
  readonly clock?: Clock;
  /** Jitter source; Math.random by default. */
  readonly random?: () => number;
  /** Hooks for whoever consumes sessions (the RIB, the API). */
  readonly onSession?: NeighborsOptions['onSession'];
  readonly onSessionRemoved?: NeighborsOptions['onSessionRemoved'];
  /** Best-path changes for the FIB, batched per RIB slice. */
  readonly onBestPathChanges?: (changes: readonly BestPathUpdate[]) => void;
  /** /readyz: how long a configured peer may take to reach Established (default 120 s). */
  readonly peerGraceMs?: number;
  /** Open the FIB's netlink sockets in this network namespace (tests). */
  readonly fibNetns?: string;
}

export async function startDaemon(config: BgpConfig, opts: DaemonOptions): Promise<Daemon> {
  const logger = opts.logger;
  const clock = opts.clock ?? systemClock;
  let current = config;
  const onBest = opts.onBestPathChanges;
  // RFC 4724 §4.1: what our OPENs say about a restart; set once the FIB has reconciled.
  let restartState: RestartState = { restarting: false, forwardingState: [] };
  // The FIB: kernel writer when allowed, else dry run (the factory logs why).
  const fib = new FibBridge({
    config,
    logger,
    clock,
    backend: await createFibWriter(config, { logger, clock, ...(opts.fibNetns ? { netns: opts.fibNetns } : {}) }),
    ribBusy: () => driver.rib.hasWork(),
    normalize: normalizeAddress,
    onConverged: (why) => {
      if (!restartState.restarting) return;
      // Converged: later OPENs (a session reset) no longer claim a restart.
      restartState = { restarting: false, forwardingState: [] };
      neighbors.refreshRestartState();
      logger.info({ event: 'restart-complete', reason: why }, 'graceful restart complete: R bit cleared');
    },
  });
  const driver = new RibDriver(config, {
    clock,
    logger,
    onFibChanges: (changes: readonly FibChange[]) => {
      if (!fib.wantsBestPathChanges && !onBest) return;
      const updates = changes.map(toBestPathUpdate);
      fib.bestPathChanges(updates);
      onBest?.(updates);
    },
  });
  // fib.enabled false and nobody else listening: the RIB builds no per-prefix FIB
  // changes at all, unless debug logging wants a best-path-changed line for each.
  const recordBestPaths = (): void =>
    driver.rib.setFibChanges(fib.wantsBestPathChanges || onBest !== undefined || logger.isLevelEnabled('debug'));
  recordBestPaths();
  // RFC 4724: the FIB keeps routes of the last run until End-of-RIB from every graceful-restart peer.
  const fibTrack = (session: PeerSession): void => {
    session.on('established', (s) => fib.peerEstablished(session.address, s.families));
    session.on('update', (u) => {
      const family = endOfRibFamily(u.update);
      if (family) fib.endOfRib(session.address, family);
    });
  };
  // Set once the daemon object exists (the API core calls back into it).
  let apiCore: ApiCore | undefined;
  const neighbors = new Neighbors(config, {
    clock,
    logger,
    ...(opts.random ? { random: opts.random } : {}),
    restartState: () => restartState,
    onSession: (session, kind) => {
      driver.attach(session);
      fibTrack(session);
      apiCore?.track(session, kind);
      opts.onSession?.(session, kind);
    },
    onSessionRemoved: (session, kind) => {
      driver.detach(session);
      apiCore?.untrack(session);
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

  try {
    await fib.start();
  } catch (err) {
    logger.error({ event: 'fib-start-failed', err: (err as Error).message }, 'FIB could not reconcile with the kernel at start');
  }
  const preserved = fib.preservedFamilies();
  if (preserved.length > 0) {
    restartState = { restarting: true, forwardingState: preserved };
    logger.info({ event: 'restarting', forwardingState: preserved }, 'kernel routes of the last run adopted: OPENs carry the graceful restart R bit');
  }
  let listener = await listen(config);
  neighbors.startAll();
  logger.info(
    { event: 'daemon-started', routerId: config.routerId, asn: config.asn, ...(opts.configPath ? { configPath: opts.configPath } : {}) },
    'bgp-ts started',
  );

  let stopping: Promise<void> | undefined;
  let api: RunningApi | undefined;
  let apiDeps: ApiDeps | undefined;
  // An API restart after an `api` change runs beside the reload request that caused it.
  let apiRestart: Promise<void> = Promise.resolve();
  let reloading: Promise<unknown> = Promise.resolve();
  const startHttpApi = async (c: BgpConfig): Promise<void> => {
    if (!apiDeps) return;
    try {
      api = await startApi(apiDeps, c.api, { logger });
      if (api) logger.info({ event: 'api-listening', url: api.url }, `API on ${api.url}`);
    } catch (err) {
      // The API is for operators; routing goes on without it.
      logger.error({ event: 'api-listen-failed', listen: c.api.listen, err: (err as Error).message }, 'cannot start the HTTP API');
    }
  };
  const applyReload = async (next: BgpConfig): Promise<ReloadOutcome> => {
    if (stopping) return { ok: false, errors: ['the daemon is stopping'] };
    const old = current;
    const plan = planReload(old, next);
    if (plan.blockers.length > 0) {
      const errors = formatConfigErrors(plan.blockers);
      logger.error({ event: 'config-reload-rejected', errors }, 'config reload rejected; keeping the running config');
      return { ok: false, errors };
    }
    current = next;
    if (old.log.level !== next.log.level) {
      logger.level = next.log.level;
      recordBestPaths();
    }
    if (JSON.stringify(old.listen) !== JSON.stringify(next.listen)) {
      await listener?.close();
      listener = undefined;
      try {
        listener = await listen(next);
      } catch (err) {
        logger.error({ event: 'listener-error', err: (err as Error).message }, 'cannot listen with the new settings');
      }
    }
    listener?.setSecurity(listenerSecurityFromConfig(next)); // keys added, changed, removed
    // Removed neighbors get Cease / Peer De-configured (RFC 4486 §4) without text: RFC 9003 §2
    // defines the shutdown communication for Administrative Shutdown and Reset only.
    await neighbors.reload(next);
    driver.reload(next);
    fib.reload(next);
    if (plan.diff.apiChanged) {
      const running = api;
      api = undefined;
      apiRestart = apiRestart.then(async () => {
        await running?.close();
        if (!stopping) await startHttpApi(next);
      });
    }
    for (const d of plan.deferred) logger.warn({ event: 'config-change-deferred', change: d }, d);
    logger.info({ event: 'config-applied', changes: plan.changes }, `config applied: ${plan.changes.length} change(s)`);
    return { ok: true, changes: plan.changes, deferred: plan.deferred };
  };
  const daemon: Daemon = {
    get apiUrl() {
      return api?.url;
    },
    get listenPort() {
      return listener?.port;
    },
    rib: driver.rib,
    driver,
    fib,
    sessions: () => neighbors.list(),
    peer: (address) => neighbors.get(address),
    announce(prefix, communities = []) {
      const r = driver.rib.announce(prefix, communities);
      driver.schedule();
      if (r.ok) logger.info({ event: 'prefix-announced', prefix, communities }, 'prefix announced');
      return r;
    },
    withdraw(prefix) {
      const r = driver.rib.withdraw(prefix);
      driver.schedule();
      if (r.ok) logger.info({ event: 'prefix-withdrawn', prefix }, 'prefix withdrawn');
      return r;
    },
    async resetPeer(address, soft) {
      const session = neighbors.get(address);
      if (!session) return { ok: false, error: 'not-found', message: `no peer ${address}` };
      if (soft) {
        if (!driver.rib.softReset(normalizeAddress(address), soft)) return { ok: false, error: 'unavailable', message: `peer ${address} is not Established` };
        driver.schedule();
        logger.info({ event: 'peer-soft-reset', peer: session.address, direction: soft }, `soft reset ${soft}`);
        return { ok: true };
      }
      await session.stop({ subcode: CEASE_ADMIN_RESET, reason: 'admin-reset' });
      if (neighbors.get(address) === session) session.start();
      return { ok: true };
    },
    stop(stopOpts = {}) {
      stopping ??= (async () => {
        logger.info({ event: 'daemon-stopping', ...(stopOpts.reason ? { reason: stopOpts.reason } : {}) }, 'stopping');
        // No new connections first, then a Cease to every peer (RFC 8203 shutdown communication).
        await listener?.close();
        listener = undefined;
        await reloading.catch(() => undefined);
        await apiRestart;
        await api?.close();
        api = undefined;
        // Before the Ceases withdraw everything: with graceful restart our kernel
        // routes stay for the next run to adopt (RFC 4724 §4.1), else they go.
        await fib.stop({ keepRoutes: current.neighbors.some((n) => n.gracefulRestart?.enabled === true) });
        // RFC 4724 §4: sessions that negotiated GR close without a NOTIFICATION (we send N = 0),
        // the rest get a Cease.
        const out = await neighbors.stopAll({ subcode: CEASE_ADMIN_SHUTDOWN, text: SHUTDOWN_TEXT, gracefulRestart: true });
        if (out.gracefulRestart.length > 0)
          logger.info(
            { event: 'daemon-stopping', gracefulRestart: out.gracefulRestart.length, peers: out.gracefulRestart, ceased: out.ceased.length },
            `${out.gracefulRestart.length} session(s) left for graceful restart (no NOTIFICATION)`,
          );
        driver.close();
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

  apiCore = new ApiCore({
    fibStats: () => fib.fibStats(),
    clock,
    ...(opts.peerGraceMs !== undefined ? { peerGraceMs: opts.peerGraceMs } : {}),
    rib: driver.rib,
    config: () => current,
    sessions: () => neighbors.list(),
    peer: (a) => neighbors.get(a),
    announce: (p, c) => daemon.announce(p, c),
    withdraw: (p) => daemon.withdraw(p),
    resetPeer: (a, soft) => daemon.resetPeer(a, soft),
    async shutdownPeer(address, message) {
      const session = neighbors.get(address);
      if (!session) return { ok: false, error: 'not-found', message: `no peer ${address}` };
      await session.stop({ subcode: CEASE_ADMIN_SHUTDOWN, ...(message !== undefined ? { text: message } : {}) });
      return { ok: true };
    },
    async enablePeer(address) {
      const session = neighbors.get(address);
      if (!session) return { ok: false, error: 'not-found', message: `no peer ${address}` };
      session.start();
      return { ok: true };
    },
    async reloadConfig() {
      if (!opts.configPath) return { ok: false, errors: ['the daemon was started without a config file'] };
      const loaded = await loadConfigFile(opts.configPath);
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
  });
  for (const s of neighbors.list()) {
    const session = neighbors.get(s.address);
    if (session) apiCore.track(session, s.kind);
  }
  const deps = apiCore.deps();
  apiDeps = {
    ...deps,
    fib: (q) => fib.view(q),
    ready: async () => {
      const r = await deps.ready();
      const reasons = [...r.reasons, ...fib.readyReasons()];
      return { ready: reasons.length === 0, reasons };
    },
  };
  await startHttpApi(config);
  return daemon;
}
