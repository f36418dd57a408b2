// Every graceful-restart verdict and timer of the daemon, in one place
// (RFC 4724). Two roles:
//
// Receiving speaker (§4.2): when an Established session ends, restartVerdict()
// decides once whether the peer's routes are retained as stale: graceful
// restart negotiated (both sides advertised it) and the session ended without
// a NOTIFICATION (a transport failure or the peer restarting); a Cease either
// side sent, our admin stop or a deconfiguration ends them. That one verdict
// feeds the RIB (stale marks), the restart timer armed here (the peer's
// advertised Restart Time; on expiry the RIB sweeps), and readiness (a peer
// within its restart time does not hold /readyz back).
//
// Restarting speaker (§4.1): when the FIB adopted our kernel routes of a
// previous run, our OPENs carry R = 1 and F = 1 for each preserved family
// until the RIB has converged: End-of-RIB (§2) received from every configured
// graceful-restart neighbor for each family it negotiated and the RIB idle
// after it, or the convergence timer (their longest restart time, 120 s by
// default). Then the FIB sweeps what the RIB no longer wants and R/F clear for
// later OPENs.

import type { BgpConfig } from '../config/schema.js';
import type { Clock, TimerHandle } from '../lib/clock.js';
import type { Logger } from '../lib/log.js';
import { normalizeAddress } from '../lib/address.js';
import type { Family } from '../lib/prefix.js';
import type { NegotiatedSession } from '../bgp/fsm/index.js';
import type { SessionDown } from '../bgp/session/index.js';
import type { RestartState } from '../bgp/session/neighbors.js';

/** Default wait for End-of-RIB after our restart when no neighbor names a restart time (RFC 4724 §4.1). */
export const DEFAULT_CONVERGE_MS = 120_000;

/** What an Established session's end means for the peer's routes (RFC 4724 §4.2). */
export type RestartVerdict =
  | { readonly graceful: false }
  | { readonly graceful: true; /** The peer's advertised Restart Time, seconds. */ readonly restartTime: number };

const NOT_GRACEFUL: RestartVerdict = { graceful: false };
const NOT_RESTARTING: RestartState = { restarting: false, forwardingState: [] };

/** RFC 4724 §4.2: the one rule for "are the peer's routes retained?". */
export function restartVerdict(down: SessionDown, negotiated: NegotiatedSession | undefined): RestartVerdict {
  if (!down.wasEstablished || !negotiated?.gracefulRestart || !negotiated.peerGracefulRestart) return NOT_GRACEFUL;
  if (down.notification !== undefined || down.reason === 'admin-stop' || down.reason === 'deconfigured') return NOT_GRACEFUL;
  return { graceful: true, restartTime: negotiated.peerGracefulRestart.restartTime };
}

/** Whether the config has graceful-restart neighbors whose End-of-RIB a restart waits for. */
export function restartPeers(config: BgpConfig): string[] {
  return config.neighbors.filter((n) => n.gracefulRestart?.enabled).map((n) => normalizeAddress(n.address));
}

export interface GracefulRestartOptions {
  readonly clock: Clock;
  readonly logger: Logger;
  /** The RIB converged after our restart: sweep the FIB's stale routes of the last run. */
  readonly sweepFib: (why: 'end-of-rib' | 'timer') => void;
  /** Our restart state changed (R bit cleared): OPENs built from now on say so. */
  readonly restartStateChanged: () => void;
  /** A peer's restart timer ran out (RFC 4724 §4.2): its still-stale routes go. */
  readonly staleTimerFired: (address: string) => void;
  /** Override of the convergence timer (ms); default: longest configured restart time, or 120 s. */
  readonly convergeTimeoutMs?: number;
}

export class GracefulRestart {
  private state: RestartState = NOT_RESTARTING;
  /** Waiting for the RIB to converge after our restart (kept kernel routes). */
  private converging = false;
  private convergeTimer: TimerHandle | undefined;
  /** GR neighbors whose End-of-RIB we wait for: address -> families still owed (undefined: not up yet). */
  private readonly awaitingEor = new Map<string, Set<Family> | undefined>();
  private ribIdle = true;
  /** Receiving side: per peer down gracefully, when the restart time it advertised runs out (clock ms). */
  private readonly restartUntil = new Map<string, number>();
  /** Receiving side: per peer, the restart timer for its stale routes in the RIB. */
  private readonly staleTimers = new Map<string, TimerHandle>();

  constructor(private readonly opts: GracefulRestartOptions) {}

  // ------------------------------------------------------------ restarting speaker (§4.1)

  /**
   * After the FIB's first reconcile. `keptStale`: it kept our routes of a
   * previous run while the RIB converges (graceful-restart neighbors are
   * configured); `preserved`: the families of which it really found some
   * (kernel mode): our F bits, and R = 1 with them.
   */
  begin(config: BgpConfig, keptStale: boolean, preserved: readonly Family[]): void {
    if (preserved.length > 0) {
      this.state = { restarting: true, forwardingState: preserved };
      this.opts.logger.info({ event: 'restarting', forwardingState: preserved }, 'kernel routes of the last run adopted: OPENs carry the graceful restart R bit');
    }
    if (!keptStale) return;
    const peers = restartPeers(config);
    this.converging = true;
    for (const p of peers) this.awaitingEor.set(p, undefined);
    const restart = Math.max(...config.neighbors.filter((n) => n.gracefulRestart?.enabled).map((n) => n.gracefulRestart!.restartTime));
    const ms = this.opts.convergeTimeoutMs ?? (Number.isFinite(restart) ? restart * 1000 : DEFAULT_CONVERGE_MS);
    this.opts.logger.info({ event: 'restart-converging', peers, timeoutMs: ms }, 'waiting for End-of-RIB from every graceful-restart neighbor or the restart timer');
    this.convergeTimer = this.opts.clock.after(ms, () => this.converged('timer'));
    this.check();
  }

  /** RFC 4724 §4.1: what our OPENs say about a restart now. */
  restartState(): RestartState {
    return this.state;
  }

  /** The RIB finished its queued work (after a batch of inputs); with every End-of-RIB in, we have converged. */
  setRibIdle(idle: boolean): void {
    this.ribIdle = idle;
    if (idle) this.check();
  }

  private check(): void {
    if (this.converging && this.awaitingEor.size === 0 && this.ribIdle) this.converged('end-of-rib');
  }

  private converged(why: 'end-of-rib' | 'timer'): void {
    if (!this.converging) return;
    this.converging = false;
    this.convergeTimer?.cancel();
    if (why === 'timer' && this.awaitingEor.size > 0)
      this.opts.logger.warn({ event: 'restart-timer-expired', waitingFor: [...this.awaitingEor.keys()] }, 'restart timer ran out before every End-of-RIB arrived');
    this.awaitingEor.clear();
    this.opts.sweepFib(why);
    if (!this.state.restarting) return;
    // Converged: later OPENs (a session reset) no longer claim a restart.
    this.state = NOT_RESTARTING;
    this.opts.restartStateChanged();
    this.opts.logger.info({ event: 'restart-complete', reason: why }, 'graceful restart complete: R bit cleared');
  }

  // ------------------------------------------------------------ per peer

  /** A session reached Established: a GR neighbor we wait for now owes End-of-RIB per family; a restart timer stops. */
  peerEstablished(address: string, families: readonly Family[]): void {
    this.cancelStaleTimer(address);
    this.restartUntil.delete(address);
    if (this.converging && this.awaitingEor.has(address)) this.awaitingEor.set(address, new Set(families));
  }

  /** RFC 4724 §2: End-of-RIB received from a peer for a family. */
  endOfRib(address: string, family: Family): void {
    const owed = this.awaitingEor.get(address);
    if (!this.converging || !owed) return;
    owed.delete(family);
    if (owed.size === 0) this.awaitingEor.delete(address);
    // The routes that came before it are still being processed: check() runs again when the RIB is idle.
    this.ribIdle = false;
  }

  /**
   * An Established session ended: the verdict for its routes. When they are
   * kept, call staleRoutesKept with what the RIB kept to arm the restart timer.
   */
  peerDown(address: string, down: SessionDown, negotiated: NegotiatedSession | undefined): RestartVerdict {
    const v = restartVerdict(down, negotiated);
    if (v.graceful) this.restartUntil.set(address, this.opts.clock.now() + v.restartTime * 1000);
    else this.restartUntil.delete(address);
    return v;
  }

  /** The RIB kept the peer's routes as stale: its restart timer runs (RFC 4724 §4.2). */
  staleRoutesKept(address: string, restartTime: number): void {
    this.cancelStaleTimer(address);
    const ms = restartTime * 1000;
    const timer = this.opts.clock.after(ms, () => {
      if (this.staleTimers.get(address) !== timer) return;
      this.staleTimers.delete(address);
      this.opts.staleTimerFired(address);
    });
    this.staleTimers.set(address, timer);
  }

  /** Readiness: the peer went down gracefully and is within the restart time it advertised, so it may come back. */
  withinRestartTime(address: string): boolean {
    return this.restartTimeLeft(address) !== undefined;
  }

  /** Seconds left of the restart time of a peer that went down gracefully (API and CLI), or undefined. */
  restartTimeLeft(address: string): number | undefined {
    const until = this.restartUntil.get(address);
    const left = until === undefined ? 0 : until - this.opts.clock.now();
    return left > 0 ? left / 1000 : undefined;
  }

  /** The session is gone for good (deconfigured, dynamic closed): no timer, no window. */
  peerRemoved(address: string): void {
    this.cancelStaleTimer(address);
    this.restartUntil.delete(address);
  }

  private cancelStaleTimer(address: string): void {
    this.staleTimers.get(address)?.cancel();
    this.staleTimers.delete(address);
  }

  close(): void {
    this.convergeTimer?.cancel();
    for (const t of this.staleTimers.values()) t.cancel();
    this.staleTimers.clear();
  }
}
