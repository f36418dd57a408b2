// Small command helpers for the interop harness: run a command (optionally
// inside a network namespace) and collect its output, and poll a condition
// until it holds instead of sleeping a fixed time. No BGP here.

import { execFile } from 'node:child_process';

export interface RunResult {
  readonly stdout: string;
  readonly stderr: string;
  readonly code: number;
}

export interface RunOptions {
  /** Kill the command after this many milliseconds (default 10 s). */
  readonly timeoutMs?: number;
  /** Resolve with a non-zero exit code instead of rejecting. */
  readonly allowFailure?: boolean;
  readonly input?: string;
}

/** Runs a command to completion; rejects on a non-zero exit unless allowFailure. */
export function run(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      cmd,
      args as string[],
      { timeout: opts.timeoutMs ?? 10_000, maxBuffer: 64 * 1024 * 1024, encoding: 'utf8' },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        if (err && !opts.allowFailure) {
          reject(new Error(`${cmd} ${args.join(' ')} failed (${err.message.trim()}): ${stderr.trim() || stdout.trim()}`));
          return;
        }
        resolve({ stdout, stderr, code });
      },
    );
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

/** Runs a command inside network namespace `ns` (`ip netns exec`). */
export function runIn(ns: string, cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  return run('ip', ['netns', 'exec', ns, cmd, ...args], opts);
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export interface PollOptions {
  readonly timeoutMs: number;
  readonly intervalMs?: number;
  /** Names the awaited condition in the timeout error. */
  readonly what: string;
}

/**
 * Calls `probe` until it returns a value other than undefined/false, and
 * returns that value. Exceptions from the probe count as "not yet"; the last
 * one is quoted in the timeout error.
 */
export async function pollUntil<T>(probe: () => Promise<T | undefined | false> | T | undefined | false, opts: PollOptions): Promise<T> {
  const deadline = Date.now() + opts.timeoutMs;
  let lastError: unknown;
  let lastValue: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined && v !== false) return v;
      lastValue = v;
    } catch (e) {
      lastError = e;
    }
    if (Date.now() >= deadline) {
      const detail = lastError instanceof Error ? `: ${lastError.message}` : lastValue !== undefined ? ` (last: ${String(lastValue)})` : '';
      throw new Error(`timed out after ${opts.timeoutMs} ms waiting for ${opts.what}${detail}`);
    }
    await sleep(opts.intervalMs ?? 250);
  }
}

/** Runs `probe` every `intervalMs` until stopped; counts samples and misses (a route that must never disappear). */
export function sampler(probe: () => Promise<boolean>, intervalMs: number): { stop: () => Promise<{ samples: number; misses: number }> } {
  let running = true;
  let samples = 0;
  let misses = 0;
  const loop = (async () => {
    while (running) {
      samples++;
      if (!(await probe().catch(() => false))) misses++;
      await sleep(intervalMs);
    }
  })();
  return {
    stop: async () => {
      running = false;
      await loop;
      return { samples, misses };
    },
  };
}
