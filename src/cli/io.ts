// The CLI's io contract: where output goes and how signals arrive. `process`
// in production (src/cli.ts), fakes in tests. Only src/cli.ts touches argv
// and process.exit; everything under src/cli/ talks through this.
import type { LevelWithSilent } from 'pino';
import type { Logger } from '../lib/log.js';
import type { BgpConfig } from '../config/schema.js';
import type { ClusterSync } from '../daemon/cluster-sync.js';

/** What the daemon module (src/daemon/daemon.ts) provides; the CLI only needs this much of it. */
export interface DaemonHandle {
  stop(opts?: { reason?: string }): Promise<void>;
  /** Applies a config; `ok: false` when the daemon refused it (it logs why and keeps the running config). */
  reload(config: BgpConfig): Promise<{ ok: boolean } | void>;
}
export type StartDaemon = (config: BgpConfig, opts: { logger: Logger; configPath: string; cluster?: ClusterSync }) => Promise<DaemonHandle>;

/** Where output goes and how signals arrive; `process` in production, fakes in tests. */
export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  onSignal(signal: 'SIGTERM' | 'SIGINT' | 'SIGHUP', handler: () => void): void;
  offSignal(signal: 'SIGTERM' | 'SIGINT' | 'SIGHUP', handler: () => void): void;
  createLogger(level: LevelWithSilent): Logger;
  startDaemon(): Promise<StartDaemon>;
  /** Environment for BGP_TS_TOKEN / BGP_TS_API; process.env when absent. */
  env?: Readonly<Record<string, string | undefined>>;
  /** HTTP client for the API commands; global fetch when absent. */
  fetch?: typeof fetch;
}

