// What every peer launcher (BIRD 2, FRR bgpd, GoBGP) offers the interop
// tests: one spec describing the router and its sessions, and one interface
// to start/stop it, announce and withdraw prefixes, read a session's RFC 4271
// state, and shut a session down with an RFC 8203 shutdown communication.

import type { Family } from '../../../src/lib/prefix.js';
import { ManagedProcess, spawnIn } from './processes.js';
import { pollUntil } from './exec.js';

export type PeerKind = 'bird' | 'frr' | 'gobgp';

/** RFC 4271 §8.2.2 state names, as bgp-ts logs them. */
export type BgpState = 'Idle' | 'Connect' | 'Active' | 'OpenSent' | 'OpenConfirm' | 'Established';

export interface PeerNeighbor {
  /** The remote (bgp-ts) address; identifies the session in every call. */
  readonly address: string;
  readonly asn: number;
  /** Our source address for the session. */
  readonly localAddress: string;
  /** Default both unicast families. */
  readonly families?: readonly Family[];
  /** Proposed hold time in seconds (default 9, so keepalives every 3 s). */
  readonly holdTime?: number;
  /** This router reflects routes to that neighbor as its RFC 4456 client. */
  readonly routeReflectorClient?: boolean;
  /** Advertise the RFC 4724 graceful restart capability on this session (restart time in seconds). */
  readonly gracefulRestart?: { readonly restartTime: number };
  /**
   * RFC 7911 ADD-PATH on this session's channels, BIRD's `add paths` values
   * (rx: receive several paths, tx: send several, on: both). Only BIRD reads
   * it; FRR 8.4 always offers receive, GoBGP neither unless configured.
   */
  readonly addPaths?: 'rx' | 'tx' | 'on';
  /** BFD for this session (RFC 5880/5882), intervals in ms; only BIRD reads it (`bfd on`). */
  readonly bfd?: { readonly intervalMs: number; readonly multiplier: number };
}

export interface PeerSpec {
  readonly routerId: string;
  readonly asn: number;
  /** Next hops put on the routes we originate, per family. */
  readonly nextHop: { readonly ipv4: string; readonly ipv6: string };
  readonly neighbors: readonly PeerNeighbor[];
  /** Prefixes announced from the start. */
  readonly routes?: readonly string[];
  /** RFC 4456 cluster ID when this router reflects (default: its router ID). */
  readonly clusterId?: string;
}

/** One path a peer holds in its RIB for a prefix, as it shows it. */
export interface ReceivedRoute {
  readonly prefix: string;
  /** The neighbor the path came from (the session's remote address); undefined for the router's own routes. */
  readonly from: string | undefined;
  /** The first (global) next-hop address. */
  readonly nextHop: string;
  readonly asPath: readonly number[];
  /** RFC 4456 ORIGINATOR_ID, dotted quad. */
  readonly originatorId?: string;
  /** RFC 4456 CLUSTER_LIST, dotted quads in wire order. */
  readonly clusterList?: readonly string[];
  readonly best: boolean;
  /** Held as stale while the neighbor restarts (RFC 4724 §4.2), where the peer shows it (FRR). */
  readonly stale?: boolean;
  /** The RFC 7911 path identifier it arrived with, where the peer shows it (FRR's addpathRxId). */
  readonly pathId?: number;
}

/** What a peer shows about the last NOTIFICATION it received on a session. */
export interface ReceivedNotification {
  /** The peer's own wording of code/subcode, e.g. "Cease/Administrative Shutdown". */
  readonly summary: string;
  /** The RFC 8203 shutdown communication, when the peer shows it. */
  readonly text?: string;
}

export interface PeerRouter {
  readonly kind: PeerKind;
  readonly spec: PeerSpec;
  /** Writes the config, starts the daemon, waits until its control socket answers. */
  start(): Promise<void>;
  /** Graceful stop (SIGTERM). */
  stop(): Promise<void>;
  /** SIGKILL: no NOTIFICATION, the kernel closes the TCP sessions. */
  kill(): Promise<void>;
  /** kill() then start(), keeping the announced routes. */
  restart(): Promise<void>;
  announce(prefix: string): Promise<void>;
  withdraw(prefix: string): Promise<void>;
  /** Drops a prefix from the config without telling the running daemon: it is gone after the next start (graceful-restart sweep tests). */
  forgetRoute(prefix: string): void;
  neighborState(address: string): Promise<BgpState | 'Unknown'>;
  /** Sends Cease/Administrative Shutdown with `text` (RFC 8203) and keeps the session down. */
  shutdownNeighbor(address: string, text: string): Promise<void>;
  /** Lets the session come back after shutdownNeighbor(). */
  enableNeighbor(address: string): Promise<void>;
  /** The last NOTIFICATION received on the session, if the peer exposes it. */
  lastNotificationReceived(address: string): Promise<ReceivedNotification | undefined>;
  /** Every path of `family` in the router's RIB learned from a BGP neighbor (not its own originations). */
  receivedRoutes(family: Family): Promise<ReceivedRoute[]>;
  /** Recent daemon output, for failure messages. */
  tail(n?: number): string;
}

export const familiesOf = (n: PeerNeighbor): readonly Family[] => n.families ?? ['ipv4-unicast', 'ipv6-unicast'];
export const isV6 = (prefixOrAddress: string): boolean => prefixOrAddress.includes(':');

/** The shared process half of a launcher: one daemon in one namespace. */
export abstract class PeerProcess {
  protected proc: ManagedProcess | undefined;
  protected readonly routes: Set<string>;

  constructor(
    readonly spec: PeerSpec,
    protected readonly ns: string,
    /** Private directory for this router's files (inside the topology's temp dir). */
    protected readonly dir: string,
  ) {
    this.routes = new Set(spec.routes ?? []);
  }

  protected abstract command(): { cmd: string; args: string[] };
  protected abstract writeConfig(): Promise<void>;
  /** Resolves once the control socket answers. */
  protected abstract probeReady(): Promise<boolean>;
  /** After the control socket answers (e.g. re-add routes through the CLI). */
  protected async afterStart(): Promise<void> {}
  protected afterExit(): void {}

  async start(): Promise<void> {
    if (this.proc?.running) throw new Error(`${this.constructor.name} already running`);
    await this.writeConfig();
    const { cmd, args } = this.command();
    const proc = spawnIn(this.ns, this.constructor.name, cmd, args);
    this.proc = proc;
    await pollUntil(
      async () => {
        if (!proc.running) throw new Error(`exited early (code ${proc.exitCode}):\n${proc.tail()}`);
        return this.probeReady();
      },
      { timeoutMs: 15_000, what: `${this.constructor.name} control socket` },
    ).catch((e: Error) => {
      throw new Error(`${e.message}\n${proc.tail()}`);
    });
    await this.afterStart();
  }

  forgetRoute(prefix: string): void {
    this.routes.delete(prefix);
  }

  async stop(): Promise<void> {
    await this.proc?.stop();
    this.afterExit();
  }

  async kill(): Promise<void> {
    await this.proc?.kill();
    this.afterExit();
  }

  async restart(): Promise<void> {
    await this.kill();
    await this.start();
  }

  tail(n = 40): string {
    return this.proc?.tail(n) ?? '';
  }
}
