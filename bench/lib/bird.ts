// BIRD 2 as the benchmarks' point of comparison: `bird -f -c CONF -s SOCK -P
// PIDFILE`, in a network namespace (`ip netns exec`) or, for the loopback
// benches, in this one, with the open-file soft limit raised to the hard limit
// (thousands of sessions need thousands of descriptors; Node raises its own,
// BIRD does not). Started under the interop harness's process registry, so
// nothing outlives the run; up once `birdc show status` says "Daemon is up"
// (birdc talks over the unix socket, which works from outside the namespace).
// Shared by the fan-out, reflect and BGP -> kernel benches: each writes its
// own bird.conf, this file only runs it.

import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pollUntil, run } from '../../test/interop/harness/exec.js';
import { ManagedProcess, registerDirectory, spawnIn } from '../../test/interop/harness/processes.js';

/** Exec with the open-file soft limit raised to the hard limit (sh keeps the PID: `exec`). */
export const withFileLimit = (argv: readonly string[]): string[] => ['-c', 'ulimit -n "$(ulimit -Hn)"; exec "$@"', 'sh', ...argv];

export interface RunningBird {
  readonly proc: ManagedProcess;
  /** BIRD's own PID (sh and `ip netns exec` exec in place), for /proc figures. */
  readonly pid: number;
  /** `birdc -s SOCK ARGS...`: its stdout. */
  birdc(...args: string[]): Promise<string>;
  stop(): Promise<void>;
}

/**
 * Writes `config` to DIR/bird.conf and runs BIRD on it, in namespace `ns` or
 * (undefined) in this one. Resolves once BIRD is up; on failure BIRD is
 * stopped and the error carries its last output lines.
 */
export async function startBirdDaemon(ns: string | undefined, dir: string, config: string): Promise<RunningBird> {
  const conf = join(dir, 'bird.conf');
  const sock = join(dir, 'bird.ctl');
  writeFileSync(conf, config);
  const argv = withFileLimit(['bird', '-f', '-c', conf, '-s', sock, '-P', join(dir, 'bird.pid')]);
  let proc: ManagedProcess;
  if (ns !== undefined) proc = spawnIn(ns, 'bird', 'sh', argv);
  else {
    registerDirectory(dir); // installs the registry's exit handlers, and removes the directory on an interrupt
    proc = new ManagedProcess('bird', 'sh', argv);
  }
  const birdc = async (...args: string[]): Promise<string> => (await run('birdc', ['-s', sock, ...args])).stdout;
  try {
    await pollUntil(async () => proc.running && (await birdc('show', 'status')).includes('Daemon is up'), { timeoutMs: 30_000, intervalMs: 200, what: 'BIRD up' });
  } catch (e) {
    await proc.stop(2000);
    throw new Error(`${(e as Error).message}\n${proc.tail()}`);
  }
  return { proc, pid: proc.pid, birdc, stop: () => proc.stop(10_000) };
}
