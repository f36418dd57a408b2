// The etcd v3 backend for Calico's datastore (STYLE.md §12b: list, watch,
// resync into the pure model). It lists the two prefixes Calico's confd reads
// for one node (etcd-keys.ts) at one revision, hands the whole key set to the
// model, then watches both prefixes from the next revision and re-runs the
// model on every batch of events. Only a changed result is published, so the
// daemon applies a difference and nothing else.
//
// Failure is never a withdrawal: when etcd goes away (the watch stream breaks,
// a list fails) the last key set stays as it was, `status()` reports
// "unreachable since", and a re-list is retried with jittered exponential
// backoff (1 s doubling to 30 s). A watch etcd cancels, typically "mvcc:
// required revision has been compacted", also triggers a re-list. A re-list
// replaces the key set only once both prefixes were read at the same revision.
//
// Client: the `etcd3` npm package (gRPC via @grpc/grpc-js, the etcd protos,
// auth token refresh, TLS credentials, multiplexed watch stream).

import { readFileSync } from 'node:fs';
import { Etcd3, type IOptions, type Watcher } from 'etcd3';
import type { DatastoreConfig } from '../config/schema.js';
import type { Logger } from '../lib/log.js';
import { affinityPrefix, RESOURCES_PREFIX, resourcesFromEntries } from './etcd-keys.js';
import { datastoreNodeName, type DatastoreBackend, type DatastoreStatus } from './backend.js';
import { desiredFromResources, type ClusterDesired } from './model.js';

export interface EtcdBackendOptions {
  readonly config: DatastoreConfig;
  /** Called with each new desired state (after the first list, then on every change). */
  readonly onDesired: (desired: ClusterDesired) => void;
  readonly log: Logger;
  /** Backoff bounds in ms (tests shorten them). */
  readonly backoff?: { readonly initialMs: number; readonly maxMs: number };
  /** Time allowed for one list, ms. */
  readonly listTimeoutMs?: number;
  /** Awaited between a list and its watch (tests compact etcd there). */
  readonly afterList?: (revision: number) => Promise<void>;
}

/** etcd3 client options from the config key; file errors name the key. */
export function etcdClientOptions(c: DatastoreConfig, read: (path: string) => Buffer = (p) => readFileSync(p)): IOptions {
  const file = (key: 'caFile' | 'certFile' | 'keyFile') => {
    const path = c[key];
    if (path === undefined) return undefined;
    try {
      return read(path);
    } catch (e) {
      throw new Error(`datastore.${key}: cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  };
  const ca = file('caFile');
  const cert = file('certFile');
  const key = file('keyFile');
  if ((cert === undefined) !== (key === undefined)) throw new Error('datastore.certFile and datastore.keyFile: set both or neither');
  if ((c.username === undefined) !== (c.password === undefined)) throw new Error('datastore.username and datastore.password: set both or neither');
  const endpoints = c.endpoints ?? ['http://127.0.0.1:2379'];
  const tls = endpoints.some((e) => e.startsWith('https:'));
  if (!tls && (ca || cert)) throw new Error('datastore.caFile/certFile: TLS files need https:// endpoints');
  return {
    hosts: endpoints.map((e) => e.replace(/\/$/, '')),
    ...(tls && { credentials: { rootCertificate: ca ?? Buffer.alloc(0), ...(cert && { certChain: cert }), ...(key && { privateKey: key }) } }),
    ...(c.username !== undefined && { auth: { username: c.username, password: c.password! } }),
    dialTimeout: 3000,
    // a partition (no TCP reset) must still break the watch: gRPC keepalive pings
    grpcOptions: { 'grpc.keepalive_time_ms': 10_000, 'grpc.keepalive_timeout_ms': 5_000, 'grpc.keepalive_permit_without_calls': 1 },
  };
}

const textOf = (b: Buffer | string | undefined) => (b === undefined ? '' : b.toString());

export class EtcdBackend implements DatastoreBackend {
  private client: Etcd3 | undefined;
  private watchers: Watcher[] = [];
  private entries = new Map<string, string>();
  private current: ClusterDesired | undefined;
  private published = '';
  private connected = false;
  private unreachableSince: Date | undefined;
  private lastError: string | undefined;
  private revision: number | undefined;
  private lastSync: Date | undefined;
  private lastResyncMs: number | undefined;
  private lastResync: string | undefined;
  private resyncs = 0;
  private retryTimer: NodeJS.Timeout | undefined;
  private delayMs: number;
  private stopped = false;
  /** Increments per list attempt; stale callbacks from an older attempt are ignored. */
  private generation = 0;
  private readonly nodeName: string;
  private readonly backoff: { readonly initialMs: number; readonly maxMs: number };
  private readonly clientOptions: IOptions;

  /** Throws an Error naming the datastore key when the TLS files or credentials are unusable. */
  constructor(private readonly opts: EtcdBackendOptions) {
    this.clientOptions = etcdClientOptions(opts.config);
    this.nodeName = datastoreNodeName(opts.config);
    this.backoff = opts.backoff ?? { initialMs: 1000, maxMs: 30_000 };
    this.delayMs = this.backoff.initialMs;
  }

  start(): void {
    this.client = new Etcd3(this.clientOptions);
    void this.resync('start');
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    await this.dropWatchers();
    this.client?.close();
  }

  desired(): ClusterDesired | undefined {
    return this.current;
  }

  status(): DatastoreStatus {
    return {
      type: 'etcdv3',
      endpoints: this.opts.config.endpoints ?? ['http://127.0.0.1:2379'],
      nodeName: this.nodeName,
      connected: this.connected,
      ...(this.unreachableSince && { unreachableSince: this.unreachableSince }),
      ...(this.lastError !== undefined && { lastError: this.lastError }),
      ...(this.revision !== undefined && { revision: this.revision }),
      ...(this.lastSync && { lastSync: this.lastSync }),
      resyncs: this.resyncs,
      ...(this.lastResyncMs !== undefined && { lastResyncMs: this.lastResyncMs }),
      ...(this.lastResync !== undefined && { lastResync: this.lastResync }),
      keys: this.entries.size,
    };
  }

  /** Lists both prefixes at one revision, swaps the key set in, publishes, and watches from there. */
  private async resync(why: string): Promise<void> {
    if (this.stopped || this.client === undefined) return;
    const gen = ++this.generation;
    await this.dropWatchers();
    const t0 = performance.now();
    try {
      const client = this.client;
      const first = await this.withTimeout(client.getAll().prefix(RESOURCES_PREFIX).exec());
      const rev = Number(first.header.revision);
      const second = await this.withTimeout(client.getAll().prefix(affinityPrefix(this.nodeName)).revision(rev).exec());
      if (gen !== this.generation || this.stopped) return;
      const entries = new Map<string, string>();
      for (const kv of [...first.kvs, ...second.kvs]) entries.set(textOf(kv.key), textOf(kv.value));
      this.entries = entries;
      this.revision = rev;
      this.publish();
      this.lastResyncMs = performance.now() - t0;
      this.resyncs++;
      this.lastSync = new Date();
      this.lastResync = why;
      this.markUp();
      this.opts.log.info({ event: 'datastore-synced', why, revision: rev, keys: entries.size, ms: Math.round(this.lastResyncMs) });
      await this.opts.afterList?.(rev);
      await this.watchFrom(rev + 1, gen);
    } catch (e) {
      if (gen !== this.generation || this.stopped) return;
      this.markDown(e, why);
    }
  }

  private withTimeout<T>(p: Promise<T>): Promise<T> {
    const ms = this.opts.listTimeoutMs ?? 10_000;
    let timer: NodeJS.Timeout | undefined;
    return Promise.race([
      p.finally(() => clearTimeout(timer)),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer from etcd within ${ms} ms`)), ms);
      }),
    ]);
  }

  private async watchFrom(startRevision: number, gen: number): Promise<void> {
    const client = this.client!;
    for (const prefix of [RESOURCES_PREFIX, affinityPrefix(this.nodeName)]) {
      // watcher() attaches at once; listeners go on before etcd can answer (a compacted start
      // revision is cancelled in the very first response)
      const w = client.watch().prefix(prefix).startRevision(String(startRevision)).watcher();
      this.watchers.push(w);
      const created = new Promise<void>((resolve, reject) => {
        w.once('connected', () => resolve());
        w.once('error', reject);
      });
      created.catch(() => undefined);
      w.on('data', (res) => {
        if (gen !== this.generation) return;
        for (const ev of res.events) {
          const key = textOf(ev.kv.key);
          if (ev.type === 'Delete') this.entries.delete(key);
          else this.entries.set(key, textOf(ev.kv.value));
          this.revision = Math.max(this.revision ?? 0, Number(ev.kv.mod_revision));
        }
        this.publish();
      });
      // lost stream: etcd3 would resume by itself; we re-list instead, so one path handles every gap
      w.on('disconnected', (err: Error) => {
        if (gen === this.generation) this.markDown(err, 'watch lost');
      });
      // cancelled by etcd, e.g. "mvcc: required revision has been compacted"
      w.on('error', (err: Error) => {
        if (gen !== this.generation) return;
        this.generation++;
        void this.cancelled(err, startRevision);
      });
      try {
        await this.withTimeout(created);
      } catch (e) {
        if (gen !== this.generation) return; // the error handler above took over
        throw e;
      }
      if (gen !== this.generation || this.stopped) return;
    }
  }

  /**
   * etcd cancelled a watch. etcd 3.4 gives no cancel_reason for a compacted
   * start revision (newer ones say "mvcc: required revision has been
   * compacted"), so a read at that revision tells which it was. Either way: re-list.
   */
  private async cancelled(err: Error, startRevision: number): Promise<void> {
    let why = /compacted/.test(err.message) ? 'compacted' : 'watch cancelled';
    if (why !== 'compacted')
      why = await this.client!.get(RESOURCES_PREFIX).revision(startRevision).exec().then(
        () => why,
        (e: Error) => (/compacted/.test(e.message) ? 'compacted' : why),
      );
    this.opts.log.warn({ event: 'datastore-watch-cancelled', why, error: err.message, startRevision });
    await this.resync(why);
  }

  /** Detaches the watchers without waiting: etcd may already have dropped a cancelled one, and its end never comes. */
  private async dropWatchers(): Promise<void> {
    const ws = this.watchers;
    this.watchers = [];
    for (const w of ws) {
      w.removeAllListeners();
      w.on('error', () => undefined);
      void w.cancel().catch(() => undefined);
    }
  }

  /** Runs the model over the key set; publishes only a changed result. */
  private publish(): void {
    const desired = desiredFromResources(resourcesFromEntries(this.entries, this.nodeName), this.nodeName);
    const text = JSON.stringify(desired);
    this.current = desired;
    if (text === this.published) return;
    this.published = text;
    for (const r of desired.supplied.rejected) this.opts.log.warn({ event: 'datastore-resource-rejected', key: r.key, error: r.error });
    this.opts.onDesired(desired);
  }

  private markUp(): void {
    this.connected = true;
    this.unreachableSince = undefined;
    this.lastError = undefined;
    this.delayMs = this.backoff.initialMs;
  }

  /** Keeps everything as it is, records why, and schedules a re-list. */
  private markDown(err: unknown, why: string): void {
    const message = (err as Error)?.message ?? String(err);
    if (this.connected || this.unreachableSince === undefined) {
      this.unreachableSince = new Date();
      this.opts.log.warn({ event: 'datastore-unreachable', why, error: message, keptKeys: this.entries.size });
    }
    this.connected = false;
    this.lastError = message;
    this.generation++;
    void this.dropWatchers();
    clearTimeout(this.retryTimer);
    const delay = this.delayMs * (0.8 + Math.random() * 0.4);
    this.delayMs = Math.min(this.delayMs * 2, this.backoff.maxMs);
    this.retryTimer = setTimeout(() => void this.resync('reconnect'), delay);
  }
}
