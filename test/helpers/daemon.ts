// Daemon scaffolding shared by the in-process daemon tests: a config from YAML
// (the HTTP API off unless the test asks for it), daemons started with a
// recording logger and stopped after each test, and the log-line helpers.
import { afterEach } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import type { BgpConfig } from '../../src/config/schema.js';
import { startDaemon, type Daemon, type DaemonOptions } from '../../src/daemon/daemon.js';
import type { BestPathChange } from '../../src/fib/types.js';
import { prefixParse, type PrefixKey } from '../../src/lib/prefix.js';
import { recordingLogger } from './session.js';

export type Line = Record<string, unknown>;

/** A validated config; the HTTP API is off unless `api` (or the YAML names `api:` and `api` is not false). */
export function configOf(yaml: string, opts: { api?: boolean } = {}): BgpConfig {
  const r = parseConfig(yaml);
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return opts.api ? r.config : { ...r.config, api: { ...r.config.api, listen: 'none' } };
}

export interface TestDaemon {
  readonly d: Daemon;
  readonly lines: Line[];
  /** Best-path changes the daemon handed to the FIB, in order. */
  readonly fib: BestPathChange[];
}

/**
 * Registers an afterEach that stops every daemon (and runs every cleanup) the
 * test started, newest first; returns the starter.
 */
export function useDaemons(): {
  start(yaml: string, opts?: { api?: boolean } & Omit<DaemonOptions, 'logger'>): Promise<TestDaemon>;
  cleanup(fn: () => unknown): void;
} {
  const cleanups: (() => unknown)[] = [];
  afterEach(async () => {
    for (const f of cleanups.splice(0).reverse()) await f();
  });
  return {
    async start(yaml, opts = {}) {
      const { api, ...daemonOpts } = opts;
      const log = recordingLogger('debug');
      const fib: BestPathChange[] = [];
      const d = await startDaemon(configOf(yaml, { api: api ?? false }), { ...daemonOpts, logger: log.logger, onBestPathChanges: (x) => fib.push(...x) });
      cleanups.push(() => d.stop());
      return { d, lines: log.lines, fib };
    },
    cleanup: (fn) => void cleanups.push(fn),
  };
}

export const k = (t: string): PrefixKey => prefixParse(t)!;
export const events = (lines: Line[], event: string): Line[] => lines.filter((l) => l.event === event);
