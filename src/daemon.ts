// The composition root (DESIGN.md, Layout): builds the running daemon from a
// validated config. For now it wires the BGP side only: the listener
// (RFC 4271 §8.2.1.1 passive establishment) and one PeerSession per
// configured neighbor, plus dynamic neighbors from listen ranges. The RIB, FIB
// and API attach here later through `Neighbors`' session hooks.
// Lifecycle: stop() sends Cease / Administrative Shutdown with the RFC 8203
// text "bgp-ts shutting down" to every peer and closes the listeners;
// reload() applies neighbor changes (RFC 4486 Cease subcodes 3 and 6).

import type { BgpConfig } from './config/schema.js';
import { systemClock, type Clock } from './lib/clock.js';
import type { Logger } from './lib/log.js';
import { CEASE_ADMIN_SHUTDOWN } from './bgp/wire/errors.js';
import { BgpListener } from './bgp/session/listener.js';
import { Neighbors, type NeighborsOptions, type PeerSummary } from './bgp/session/neighbors.js';
import type { PeerSession } from './bgp/session/peer-session.js';

export const SHUTDOWN_TEXT = 'bgp-ts shutting down';

export interface Daemon {
  /** Cease every session (RFC 8203 text), close listeners; resolves when done. */
  stop(opts?: { reason?: string }): Promise<void>;
  /** Applies a new validated config. */
  reload(config: BgpConfig): Promise<void>;
  /** One summary per session (configured and dynamic). */
  sessions(): PeerSummary[];
  /** The session for a peer address, if any. */
  peer(address: string): PeerSession | undefined;
  /** The bound listen port (useful with `listen.port: 0`), or undefined when not listening. */
  readonly listenPort: number | undefined;
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
}

export async function startDaemon(config: BgpConfig, opts: DaemonOptions): Promise<Daemon> {
  const logger = opts.logger;
  const clock = opts.clock ?? systemClock;
  let current = config;
  const neighbors = new Neighbors(config, {
    clock,
    logger,
    ...(opts.random ? { random: opts.random } : {}),
    ...(opts.onSession ? { onSession: opts.onSession } : {}),
    ...(opts.onSessionRemoved ? { onSessionRemoved: opts.onSessionRemoved } : {}),
  });

  const listen = async (c: BgpConfig): Promise<BgpListener | undefined> => {
    if (!c.listen.enabled || c.listen.addresses.length === 0) return undefined;
    const l = new BgpListener({
      addresses: c.listen.addresses,
      port: c.listen.port,
      logger,
      onConnection: (conn) => neighbors.accept(conn),
    });
    const bound = await l.start();
    logger.info({ event: 'listening', addresses: bound.addresses, port: bound.port }, `listening on port ${bound.port}`);
    return l;
  };

  let listener = await listen(config);
  neighbors.startAll();
  logger.info(
    { event: 'daemon-started', routerId: config.routerId, asn: config.asn, ...(opts.configPath ? { configPath: opts.configPath } : {}) },
    'bgp-ts started',
  );

  let stopping: Promise<void> | undefined;
  return {
    get listenPort() {
      return listener?.port;
    },
    sessions: () => neighbors.list(),
    peer: (address) => neighbors.get(address),
    stop(stopOpts = {}) {
      stopping ??= (async () => {
        logger.info({ event: 'daemon-stopping', ...(stopOpts.reason ? { reason: stopOpts.reason } : {}) }, 'stopping');
        // No new connections first, then a Cease to every peer (RFC 8203 shutdown communication).
        await listener?.close();
        listener = undefined;
        await neighbors.stopAll({ subcode: CEASE_ADMIN_SHUTDOWN, text: SHUTDOWN_TEXT });
        logger.info({ event: 'daemon-stopped' }, 'stopped');
      })();
      return stopping;
    },
    async reload(next) {
      if (stopping) return;
      const old = current;
      current = next;
      if (JSON.stringify(old.listen) !== JSON.stringify(next.listen)) {
        await listener?.close();
        listener = undefined;
        try {
          listener = await listen(next);
        } catch (err) {
          logger.error({ event: 'listener-error', err: (err as Error).message }, 'cannot listen with the new settings');
        }
      }
      await neighbors.reload(next);
    },
  };
}
