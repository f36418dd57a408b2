// Long-running processes started by the interop harness (routers, bgp-ts)
// and the cleanup registry that guarantees none outlives the test run.
//
// Every process is spawned with `detached: true`, so it leads its own process
// group; `ip netns exec` execs the command in place, so the PID we hold is the
// daemon's own and killing the group (-pid) reaches it and any children.
// Namespaces and temp directories register here too. On normal exit, SIGINT
// and SIGTERM the registry kills what is left and removes what was created,
// synchronously, so an interrupted run leaves no stray namespace.

import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { rmSync } from 'node:fs';
import { createInterface } from 'node:readline';

export type StreamName = 'stdout' | 'stderr';

export interface OutputLine {
  readonly stream: StreamName;
  readonly text: string;
  readonly at: number;
}

/** A spawned daemon: its output lines, exit, and signals to its process group. */
export class ManagedProcess {
  readonly pid: number;
  readonly lines: OutputLine[] = [];
  exitCode: number | null = null;
  exitSignal: NodeJS.Signals | null = null;
  readonly exited: Promise<void>;
  private readonly child: ChildProcess;
  private readonly listeners = new Set<(line: OutputLine) => void>();

  constructor(
    readonly label: string,
    cmd: string,
    args: readonly string[],
  ) {
    this.child = spawn(cmd, args as string[], { detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    if (this.child.pid === undefined) throw new Error(`${label}: could not spawn ${cmd}`);
    this.pid = this.child.pid;
    live.add(this);
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        this.exitCode = code;
        this.exitSignal = signal;
        live.delete(this);
        resolve();
      });
    });
    for (const stream of ['stdout', 'stderr'] as const) {
      const rl = createInterface({ input: this.child[stream]! });
      rl.on('line', (text) => {
        const line = { stream, text, at: Date.now() };
        this.lines.push(line);
        for (const l of this.listeners) l(line);
      });
    }
  }

  get running(): boolean {
    return this.exitCode === null && this.exitSignal === null;
  }

  onLine(listener: (line: OutputLine) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Sends `signal` to the whole process group. */
  signal(signal: NodeJS.Signals): void {
    if (!this.running) return;
    try {
      process.kill(-this.pid, signal);
    } catch {
      // already gone
    }
  }

  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the process exited. */
  async stop(graceMs = 10_000): Promise<void> {
    if (!this.running) return;
    this.signal('SIGTERM');
    const timer = setTimeout(() => this.signal('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
    this.signal('SIGKILL'); // stragglers in the group
  }

  async kill(): Promise<void> {
    this.signal('SIGKILL');
    await this.exited;
  }

  /** The last `n` lines, for failure messages. */
  tail(n = 40): string {
    return this.lines
      .slice(-n)
      .map((l) => `[${this.label} ${l.stream}] ${l.text}`)
      .join('\n');
  }
}

const live = new Set<ManagedProcess>();
const namespaces = new Set<string>();
const directories = new Set<string>();
const extraCleanups = new Set<() => void>();

export function registerNamespace(ns: string): void {
  installHandlers();
  namespaces.add(ns);
}

export function unregisterNamespace(ns: string): void {
  namespaces.delete(ns);
}

export function registerDirectory(dir: string): void {
  installHandlers();
  directories.add(dir);
}

export function unregisterDirectory(dir: string): void {
  directories.delete(dir);
}

/** A synchronous cleanup step run on exit/interrupt (e.g. FRR's crash-log dir). */
export function registerCleanup(fn: () => void): () => void {
  installHandlers();
  extraCleanups.add(fn);
  return () => extraCleanups.delete(fn);
}

/** Spawns `cmd` inside namespace `ns` as a managed process. */
export function spawnIn(ns: string, label: string, cmd: string, args: readonly string[]): ManagedProcess {
  installHandlers();
  return new ManagedProcess(label, 'ip', ['netns', 'exec', ns, cmd, ...args]);
}

/** Kills everything still registered and removes namespaces and directories. Synchronous. */
export function cleanupEverythingSync(): void {
  for (const p of live) {
    try {
      process.kill(-p.pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
  live.clear();
  for (const fn of extraCleanups) {
    try {
      fn();
    } catch {
      // best effort
    }
  }
  extraCleanups.clear();
  for (const ns of namespaces) {
    try {
      execFileSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
    } catch {
      // already gone
    }
  }
  namespaces.clear();
  for (const dir of directories) rmSync(dir, { recursive: true, force: true });
  directories.clear();
}

let installed = false;
function installHandlers(): void {
  if (installed) return;
  installed = true;
  process.once('exit', cleanupEverythingSync);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const handler = (): void => {
      cleanupEverythingSync();
      process.removeListener(sig, handler);
      process.kill(process.pid, sig);
    };
    process.on(sig, handler);
  }
}
