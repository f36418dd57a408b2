// The one logger factory: pino JSON, one event per line, with structured
// fields (peer address, ASN) rather than text. Pretty output is the operator's
// choice (pipe through pino-pretty); the daemon never formats for humans.

import { pino, type Logger, type LevelWithSilent } from 'pino';

export type { Logger };

/**
 * Every `event` a log line may carry: one name per thing that happened, the
 * same string in the logs, the docs and anything that counts or filters them.
 * test/lib/log.test.ts fails when code logs an event missing here.
 */
export const LOG_EVENTS = [
  'api-error', 'api-listen-failed', 'api-listening', 'api-unauthorized',
  'best-path-changed',
  'bfd-error', 'bfd-state-changed', 'bfd-timers-changed',
  'cluster-applied', 'cluster-apply-failed', 'cluster-apply-rejected',
  'config-applied', 'config-change-deferred', 'config-reload-failed', 'config-reload-rejected', 'config-reloaded', 'config-warning',
  'connect-failed',
  'connection-down', 'connection-rejected',
  'datastore-not-synced', 'datastore-resource-rejected', 'datastore-secret-unreadable', 'datastore-synced', 'datastore-unreachable', 'datastore-watch-cancelled',
  'daemon-start-failed', 'daemon-started', 'daemon-stop-failed', 'daemon-stop-forced', 'daemon-stopped', 'daemon-stopping',
  'drain',
  'dynamic-peer',
  'end-of-rib-received',
  'export-pools-reloaded',
  'fib-conflict', 'fib-converging', 'fib-drift-repair', 'fib-dry-run', 'fib-forms-changed', 'fib-host-reload-failed', 'fib-monitor-error', 'fib-monitor-overrun', 'fib-reconcile-failed', 'fib-reconciled', 'fib-stale-sweep', 'fib-start-failed', 'fib-stopped', 'fib-tunnel-available', 'fib-tunnel-create-failed', 'fib-tunnel-created', 'fib-tunnel-unavailable', 'fib-write-failed',
  'fsm-error',
  'initial-table-queued',
  'listener-error',
  'listening',
  'max-prefix',
  'message-error',
  'next-hop-changed', 'next-hop-invalid', 'next-hop-tracking',
  'notification-received', 'notification-sent',
  'peer-soft-reset', 'peer-state',
  'policy-reloaded',
  'prefix-announced', 'prefix-withdrawn',
  'refresh-stale-swept',
  'restart-complete', 'restart-converging', 'restart-timer-expired',
  'restarting',
  'rib-converged', 'rib-error', 'rib-peer-up',
  'route-refresh-begin', 'route-refresh-end', 'route-refresh-ignored', 'route-refresh-resend', 'route-refresh-timeout',
  'security-error',
  'session-down', 'sessions-left-for-restart', 'session-error', 'session-established',
  'stale-routes-kept', 'stale-routes-swept',
  'update-received',
] as const;

export type LogEvent = (typeof LOG_EVENTS)[number];

export interface LogOptions {
  readonly level?: LevelWithSilent;
  /** File descriptor or path; stdout by default. */
  readonly destination?: number | string;
}

export function createLogger(opts: LogOptions = {}): Logger {
  const dest = pino.destination({ dest: opts.destination ?? 1, sync: true });
  return pino(
    {
      level: opts.level ?? 'info',
      base: { name: 'bgp-ts' },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    dest,
  );
}

/** A logger that drops everything (tests, dry runs). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
