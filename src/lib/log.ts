// The one logger factory: pino JSON, one event per line, with structured
// fields (peer address, ASN) rather than text. Pretty output is the operator's
// choice (pipe through pino-pretty); the daemon never formats for humans.

import { pino, type Logger, type LevelWithSilent } from 'pino';

export type { Logger };

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
