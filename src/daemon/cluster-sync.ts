// The cluster datastore in the running daemon (DESIGN.md, Cluster datastores):
// the file is the base, the datastore backend (src/cluster/) supplies the
// rest, and every change reaches the daemon through its ordinary reload, the
// path a SIGHUP takes: the file is re-read, the latest desired state merged
// onto it (cluster/merge.ts), the result validated by the config loader, and
// the reload plan applied (untouched peers keep their sessions, removed
// BGPPeers get Cease / Peer De-configured). Changes are applied one at a
// time; a burst while one applies collapses into one more reload.
// Start: the daemon waits for a first list; when the datastore does not
// answer within 10 s it starts on the file alone if that is a whole config,
// else it keeps waiting (logging why every 10 s). An unreachable datastore
// later changes nothing: the backend keeps its last state, readiness says
// "datastore unreachable since ...".

import { readFile } from 'node:fs/promises';
import { parseDocument } from 'yaml';
import { Value } from '@sinclair/typebox/value';
import type { LevelWithSilent } from 'pino';
import type { ApiCluster } from '../api/cluster-schema.js';
import type { DatastoreBackend } from '../cluster/backend.js';
import { mergeOverlay } from '../cluster/merge.js';
import type { ClusterDesired, ClusterOverlay } from '../cluster/model.js';
import { loadConfigFile, parseConfig, type ConfigError, type ConfigResult, type ParseOptions } from '../config/load.js';
import { DatastoreSchema, type BgpConfig, type DatastoreConfig } from '../config/schema.js';
import type { Logger } from '../lib/log.js';

const EMPTY: ClusterOverlay = { neighbors: [], originate: [], ipPools: [], serviceCidrs: [] };
const START_WAIT_MS = 10_000;

export type ApplyConfig = (config: BgpConfig) => Promise<{ ok: true; changes: readonly string[] } | { ok: false; errors: readonly string[] }>;

export interface ClusterSyncOptions {
  readonly configPath: string;
  readonly datastore: DatastoreConfig;
  readonly logger: Logger;
  /** The backend for the datastore (datastoreBackend() loads the one its type names). */
  readonly backend: (onDesired: (d: ClusterDesired) => void) => DatastoreBackend;
}

export class ClusterSync {
  readonly logger: Logger;
  private readonly backend: DatastoreBackend;
  private apply: ApplyConfig | undefined;
  private applying: Promise<void> = Promise.resolve();
  private pending = false;
  private applied: ApiCluster['applied'];
  private firstResolve: (() => void) | undefined;
  private readonly first: Promise<void>;

  constructor(private readonly opts: ClusterSyncOptions) {
    this.logger = opts.logger;
    this.first = new Promise((resolve) => (this.firstResolve = resolve));
    const onDesired = () => {
      this.firstResolve?.();
      this.changed();
    };
    this.backend = opts.backend(onDesired);
  }

  start(): void {
    this.backend.start();
  }

  async stop(): Promise<void> {
    this.apply = undefined;
    await this.backend.stop();
  }

  /** Resolves true once a first list succeeded, false after `ms`. */
  async synced(ms: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const r = await Promise.race([this.first.then(() => true), new Promise<boolean>((res) => (timer = setTimeout(() => res(false), ms)))]);
    clearTimeout(timer);
    return r;
  }

  /** The file merged with the latest desired state, validated like a file. Never throws. */
  async load(): Promise<ConfigResult> {
    const raw = await readRaw(this.opts.configPath);
    if (raw === undefined) return loadConfigFile(this.opts.configPath); // its own errors, with lines
    const merged = mergeOverlay(raw, this.backend.desired()?.overlay ?? EMPTY);
    return parseConfig(JSON.stringify(merged), this.opts.configPath);
  }

  /** From now on each datastore change is applied through `apply` (the daemon's reload). */
  attach(apply: ApplyConfig): void {
    this.apply = apply;
    // a change between the start-up load and now would otherwise wait for the next one;
    // with nothing new the plan is empty and nothing is touched
    this.changed();
  }

  view(): ApiCluster {
    const s = this.backend.status();
    return {
      type: s.type,
      endpoints: [...s.endpoints],
      nodeName: s.nodeName,
      connected: s.connected,
      ...(s.unreachableSince && { unreachableSince: s.unreachableSince.toISOString() }),
      ...(s.lastError !== undefined && { lastError: s.lastError }),
      ...(s.revision !== undefined && { revision: s.revision }),
      ...(s.lastSync && { lastSync: s.lastSync.toISOString() }),
      resyncs: s.resyncs,
      ...(s.lastResync !== undefined && { lastResync: s.lastResync }),
      ...(s.lastResyncMs !== undefined && { lastResyncMs: Math.round(s.lastResyncMs * 10) / 10 }),
      keys: s.keys,
      ...(this.applied && { applied: this.applied }),
      ...(this.backend.desired() && { supplied: this.backend.desired()!.supplied as unknown as Record<string, unknown> }),
    };
  }

  /** /readyz reasons: the datastore never listed, or lost (serving the last known state). */
  readyReasons(): string[] {
    const s = this.backend.status();
    if (s.resyncs === 0) return [`datastore ${s.endpoints.join(', ')} not listed yet${s.lastError ? `: ${s.lastError}` : ''}`];
    if (!s.connected) return [`datastore unreachable since ${(s.unreachableSince ?? new Date()).toISOString()} (${s.lastError ?? 'no answer'}); serving the last known state`];
    return [];
  }

  private changed(): void {
    if (this.apply === undefined) return;
    if (this.pending) return;
    this.pending = true;
    this.applying = this.applying.then(async () => {
      this.pending = false;
      const apply = this.apply;
      if (apply === undefined) return;
      const loaded = await this.load();
      const at = new Date().toISOString();
      if (!loaded.ok) {
        const errors = loaded.errors.map((e) => `${e.path || '(top level)'}: ${e.message}`);
        this.applied = { ok: false, at, changes: [], errors };
        this.logger.error({ event: 'cluster-apply-rejected', errors }, 'datastore change not applied: the merged config is invalid; keeping the running config');
        return;
      }
      try {
        const r = await apply(loaded.config);
        this.applied = r.ok ? { ok: true, at, changes: [...r.changes] } : { ok: false, at, changes: [], errors: [...r.errors] };
        if (r.ok) this.logger.info({ event: 'cluster-applied', changes: r.changes }, `datastore change applied: ${r.changes.length} change(s)`);
      } catch (err) {
        this.applied = { ok: false, at, changes: [], errors: [(err as Error).message] };
        this.logger.error({ event: 'cluster-apply-failed', err: (err as Error).message }, 'datastore change failed to apply');
      }
    });
  }
}

/**
 * The datastore's backend, loaded only when a config names a datastore: etcd3
 * (gRPC, protobufjs and the etcd protos) costs ~30 MB of RSS and ~170 ms of
 * start-up that a daemon on the file alone, or on the Kubernetes API, never uses.
 */
async function datastoreBackend(datastore: DatastoreConfig, logger: Logger): Promise<ClusterSyncOptions['backend']> {
  if (datastore.type === 'kubernetes') {
    const { KubeBackend } = await import('../cluster/kube-backend.js');
    return (onDesired) => new KubeBackend({ config: datastore, log: logger, onDesired });
  }
  const { EtcdBackend } = await import('../cluster/etcd-backend.js');
  return (onDesired) => new EtcdBackend({ config: datastore, log: logger, onDesired });
}

async function readRaw(path: string): Promise<Record<string, unknown> | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
  const doc = parseDocument(text, { uniqueKeys: true });
  if (doc.errors.length > 0) return undefined;
  const raw = doc.toJS({ maxAliasCount: 100 }) as unknown;
  return typeof raw === 'object' && raw !== null && !Array.isArray(raw) ? (raw as Record<string, unknown>) : undefined;
}

export interface DatastoreStart {
  readonly cluster: ClusterSync;
  readonly loaded: ConfigResult;
}

/**
 * For `bgp-ts daemon`: undefined when the file has no `datastore` key (the
 * ordinary file path applies). Else starts the backend, waits for the first
 * list as described above, and returns the merged config. A bad `datastore`
 * key comes back as config errors naming it.
 */
export async function openDatastoreConfig(configPath: string, makeLogger: (level: LevelWithSilent) => Logger): Promise<DatastoreStart | { readonly loaded: ConfigResult; readonly cluster?: undefined } | undefined> {
  const raw = await readRaw(configPath);
  if (raw?.['datastore'] === undefined) return undefined;
  const ds = raw['datastore'];
  const bad = (message: string, path = 'datastore'): { loaded: ConfigResult } => ({ loaded: { ok: false, errors: [{ path, message }], warnings: [] } });
  if (!Value.Check(DatastoreSchema, ds)) {
    const checked = await loadConfigFile(configPath); // names the datastore key's errors with lines
    return { loaded: checked.ok ? bad('invalid datastore settings').loaded : checked };
  }
  const level = (raw['log'] as { level?: LevelWithSilent } | undefined)?.level ?? 'info';
  const logger = makeLogger(level);
  let cluster: ClusterSync;
  const backend = await datastoreBackend(ds, logger);
  try {
    cluster = new ClusterSync({ configPath, datastore: ds, logger, backend });
  } catch (err) {
    return bad((err as Error).message.replace(/^datastore\.?/, '').trim() || 'invalid', (err as Error).message.match(/^(datastore\.\w+)/)?.[1] ?? 'datastore');
  }
  cluster.start();
  for (;;) {
    if (await cluster.synced(START_WAIT_MS)) return { cluster, loaded: await cluster.load() };
    const alone = await cluster.load();
    if (alone.ok) {
      logger.warn({ event: 'datastore-not-synced', reasons: cluster.readyReasons() }, 'datastore not listed yet; starting on the config file alone');
      return { cluster, loaded: alone };
    }
    logger.warn({ event: 'datastore-not-synced', reasons: cluster.readyReasons() }, 'waiting for the datastore: the config file alone is not a whole config');
  }
}

/** `bgp-ts config check FILE --datastore`: one list, the merged config, and what the datastore supplied. */
export async function checkWithDatastore(configPath: string, logger: Logger, timeoutMs = 10_000): Promise<{ loaded: ConfigResult; view?: ApiCluster }> {
  const raw = await readRaw(configPath);
  const ds = raw?.['datastore'];
  if (ds === undefined || !Value.Check(DatastoreSchema, ds)) {
    const loaded = await loadConfigFile(configPath);
    return { loaded: loaded.ok ? { ok: false, errors: [{ path: 'datastore', message: 'missing: --datastore needs a datastore key in the file' }], warnings: [] } : loaded };
  }
  let cluster: ClusterSync;
  const backend = await datastoreBackend(ds, logger);
  try {
    cluster = new ClusterSync({ configPath, datastore: ds, logger, backend });
  } catch (err) {
    return { loaded: { ok: false, errors: [{ path: 'datastore', message: (err as Error).message }], warnings: [] } };
  }
  cluster.start();
  try {
    if (!(await cluster.synced(timeoutMs))) {
      return { loaded: { ok: false, errors: [{ path: 'datastore', message: cluster.readyReasons().join('; ') || 'no answer' }], warnings: [] }, view: cluster.view() };
    }
    return { loaded: await cluster.load(), view: cluster.view() };
  } finally {
    await cluster.stop();
  }
}

/**
 * `bgp-ts config check FILE` for a file with a `datastore` key: routerId and
 * asn may come from the datastore, so when the file leaves them out they are
 * checked with stand-ins and reported as a warning; everything else is
 * validated as usual. Undefined for a file without a datastore key.
 */
export async function checkDatastoreFile(configPath: string, opts: ParseOptions = {}): Promise<ConfigResult | undefined> {
  const raw = await readRaw(configPath);
  if (raw?.['datastore'] === undefined) return undefined;
  const missing = (['routerId', 'asn'] as const).filter((k) => raw[k] === undefined);
  if (missing.length === 0) return loadConfigFile(configPath, opts);
  const standIn = { ...raw, ...(raw['routerId'] === undefined && { routerId: '192.0.2.1' }), ...(raw['asn'] === undefined && { asn: 64512 }) };
  const r = parseConfig(JSON.stringify(standIn), configPath, opts);
  const note = { path: missing.join(', '), message: 'not in the file: supplied by the datastore at start (see them with --datastore)' };
  // the stand-in text is JSON on one line: its line numbers say nothing about the file
  const noLine = (es: readonly ConfigError[]) => es.map(({ path, message }) => ({ path, message }));
  return r.ok ? { ...r, warnings: [note, ...noLine(r.warnings)] } : { ...r, errors: noLine(r.errors), warnings: [note, ...noLine(r.warnings)] };
}
