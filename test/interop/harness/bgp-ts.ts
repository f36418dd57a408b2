// The daemon under test: writes a YAML config, runs `node dist/cli.js daemon
// --config FILE` inside a namespace, and turns its stdout (pino JSON, one
// event per line, field `event`: DESIGN.md's log contract) into a list of
// events the tests wait on. Lines that are not JSON are kept for failure
// messages.

import { existsSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';
import type { ManagedProcess } from './processes.js';
import { spawnIn } from './processes.js';
import { runIn } from './exec.js';

export const REPO_ROOT = resolve(import.meta.dirname, '..', '..', '..');
export const CLI_PATH = join(REPO_ROOT, 'dist', 'cli.js');

/** One parsed log line. */
export interface LogEvent {
  readonly event?: string;
  readonly level?: string | number;
  readonly [field: string]: unknown;
}

/** The config subset the interop tests write (keys as in src/config/schema.ts). */
export interface DaemonConfig {
  readonly routerId: string;
  readonly asn: number;
  readonly listen?: { addresses?: string[]; port?: number };
  readonly neighbors?: ReadonlyArray<Record<string, unknown> & { address: string; asn: number }>;
  readonly listenRanges?: ReadonlyArray<Record<string, unknown> & { prefix: string; asn: number }>;
  readonly [key: string]: unknown;
}

/** A path as GET /api/v1/routes shows it (src/api/schemas.ts RouteSchema, the fields the tests read). */
export interface DaemonRoute {
  readonly prefix: string;
  readonly family: string;
  /** The peer's address, or "local" for originated routes. */
  readonly peer: string;
  readonly best: boolean;
  readonly stale?: boolean;
  readonly nextHop: string;
  /** Text, e.g. "64512 64513". */
  readonly asPath: string;
  readonly originatorId?: string;
  readonly clusterList?: readonly string[];
}

export type EventPredicate = (e: LogEvent) => boolean;

/** Matches an event by name and a subset of its fields. */
export const eventIs =
  (event: string, fields: Record<string, unknown> = {}): EventPredicate =>
  (e) =>
    e.event === event && Object.entries(fields).every(([k, v]) => e[k] === v);

export class BgpTsDaemon {
  readonly events: LogEvent[] = [];
  private proc: ManagedProcess | undefined;
  private waiters = new Set<() => void>();
  /** Output of earlier runs (restart), for failure messages. */
  private history: string[] = [];

  constructor(
    readonly ns: string,
    private readonly dir: string,
    public config: DaemonConfig,
  ) {}

  get configPath(): string {
    return join(this.dir, 'bgp-ts.yaml');
  }

  get pid(): number | undefined {
    return this.proc?.pid;
  }

  get running(): boolean {
    return this.proc?.running ?? false;
  }

  /** Writes the config (debug logging, FIB and API off unless given) and starts; resolves on `daemon-started`. */
  async start(): Promise<void> {
    if (this.proc?.running) throw new Error('bgp-ts already running');
    if (!existsSync(CLI_PATH)) throw new Error(`${CLI_PATH} missing: run npm run build`);
    await this.writeConfig();
    const proc = spawnIn(this.ns, 'bgp-ts', process.execPath, [CLI_PATH, 'daemon', '--config', this.configPath]);
    this.proc = proc;
    proc.onLine((line) => {
      if (line.stream !== 'stdout') return;
      let parsed: unknown;
      try {
        parsed = JSON.parse(line.text);
      } catch {
        return;
      }
      if (parsed === null || typeof parsed !== 'object') return;
      this.events.push(parsed as LogEvent);
      for (const w of this.waiters) w();
    });
    void proc.exited.then(() => {
      for (const w of this.waiters) w();
    });
    await this.waitForEvent(eventIs('daemon-started'), 15_000, this.events.length);
  }

  /** Writes `config` (debug logging, FIB and API off unless given) to the config file. */
  async writeConfig(): Promise<void> {
    const config = { log: { level: 'debug' }, fib: { enabled: false }, api: { listen: 'none' }, ...this.config };
    await writeFile(this.configPath, stringify(config));
  }

  /** Writes the current `config` and sends SIGHUP; resolves on `config-reloaded`. */
  async reload(): Promise<void> {
    if (!this.proc?.running) throw new Error('bgp-ts not running');
    await this.writeConfig();
    const since = this.mark();
    this.proc.signal('SIGHUP');
    await this.waitForEvent((e) => e.event === 'config-reloaded' || e.event === 'config-reload-rejected' || e.event === 'config-reload-failed', 10_000, since).then((e) => {
      if (e.event !== 'config-reloaded') throw new Error(`reload: ${JSON.stringify(e)}`);
    });
  }

  /** Index of the next event; pass it as `since` to wait only for later events. */
  mark(): number {
    return this.events.length;
  }

  find(predicate: EventPredicate, since = 0): LogEvent | undefined {
    return this.events.slice(since).find(predicate);
  }

  filter(predicate: EventPredicate, since = 0): LogEvent[] {
    return this.events.slice(since).filter(predicate);
  }

  /**
   * Resolves with the first event at index >= `since` matching `predicate`;
   * rejects on timeout, or when the daemon exits while `failOnExit` is set.
   */
  waitForEvent(predicate: EventPredicate, timeoutMs: number, since = 0, failOnExit = true): Promise<LogEvent> {
    return new Promise((resolvePromise, reject) => {
      let checked = since;
      const check = (): void => {
        for (; checked < this.events.length; checked++) {
          const e = this.events[checked]!;
          if (predicate(e)) {
            done();
            resolvePromise(e);
            return;
          }
        }
        if (failOnExit && this.proc && !this.proc.running) {
          done();
          reject(new Error(`bgp-ts exited (code ${this.proc.exitCode}, signal ${this.proc.exitSignal}) before the awaited event\n${this.tail()}`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`timed out after ${timeoutMs} ms waiting for a bgp-ts event; last output:\n${this.tail()}`));
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        this.waiters.delete(check);
      };
      this.waiters.add(check);
      check();
    });
  }

  /** SIGTERM; resolves with the exit code once the process is gone (SIGKILL after 10 s). */
  async stop(): Promise<number | null> {
    const proc = this.proc;
    if (!proc) return null;
    await proc.stop(10_000);
    this.history.push(proc.tail(60));
    return proc.exitCode;
  }

  async kill(): Promise<void> {
    const proc = this.proc;
    if (!proc) return;
    await proc.kill();
    this.history.push(proc.tail(60));
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  /**
   * GET on the daemon's HTTP API (config `api.listen`, e.g. "127.0.0.1:9179",
   * reached with curl inside the namespace); the parsed JSON body.
   */
  async apiGet<T = unknown>(path: string): Promise<T> {
    const listen = (this.config['api'] as { listen?: string } | undefined)?.listen;
    if (!listen || listen === 'none') throw new Error('bgp-ts API not enabled in this config (api.listen)');
    const host = listen.startsWith('[') || !listen.includes(':') || listen.split(':').length === 2 ? listen : `[${listen}]`;
    const { stdout } = await runIn(this.ns, 'curl', ['-sS', '--fail-with-body', '--max-time', '5', `http://${host}${path}`]);
    return JSON.parse(stdout) as T;
  }

  /** Every path bgp-ts holds for `prefix` (exact match), through the API. */
  async routes(prefix: string): Promise<DaemonRoute[]> {
    const page = await this.apiGet<{ routes: DaemonRoute[] }>(`/api/v1/routes?prefix=${encodeURIComponent(prefix)}&limit=1000`);
    return page.routes;
  }

  tail(n = 60): string {
    return this.proc?.tail(n) ?? this.history.at(-1) ?? '';
  }
}
