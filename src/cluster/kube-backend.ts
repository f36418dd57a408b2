// The Kubernetes ("KDD") backend for Calico's datastore (STYLE.md §12b:
// list, watch, resync into the pure model). One reflector per kind
// (kube-objects.ts KUBE_PATHS): a paginated list (limit 500, so no one JSON
// parse is large), each page applied in loop-turn slices, then a watch from
// the list's resourceVersion with bookmarks. The held objects are the
// model's resources, converted once as they arrive; an event that changes
// nothing the model reads (a Node's heartbeat) is dropped there. Only this
// node's BlockAffinities are held (others' blocks arrive over BGP, as with
// confd); of the rest only the names are kept, to know whether the cluster
// uses Calico IPAM at all (datastore.blocks absent).
//
// Failure is never a withdrawal (same rules as the etcd backend):
// - the watch ends (the server's timeout) -> re-watch from the last
//   resourceVersion at once;
// - 410 Gone (a Status "Expired", as an ERROR event or an HTTP answer) ->
//   re-list that kind; the model runs over the new set and only a changed
//   result is published, so the daemon applies only the difference;
// - anything else (server down, cut stream, 5xx, 403) -> the last state
//   stays, status() says "unreachable since", and that kind retries with
//   jittered exponential backoff (1 s doubling to 30 s) from its last
//   resourceVersion.
// Secrets (BGPPeer password, nodeMeshPassword) are watched by name in
// datastore.secretsNamespace while a resource names them (kube-secrets.ts);
// the first publish waits for their first list; a Secret that cannot be read
// while the server is down keeps its last value.

import type { DatastoreConfig } from '../config/schema.js';
import type { Logger } from '../lib/log.js';
import { loopTurns } from '../lib/loop-turns.js';
import { datastoreNodeName, type DatastoreBackend, type DatastoreStatus } from './backend.js';
import type { ClusterResources, Rejected } from './etcd-keys.js';
import { KubeApiError, KubeClient, inClusterConnection, kubeconfigConnection, type KubeConnection, type WatchEvent } from './kube-client.js';
import { affinityFromKube, affinityNode, crdFromKube, KUBE_PATHS, nodeFromKube, objectName, type KubeKind, type KubeNode } from './kube-objects.js';
import { KubeSecrets } from './kube-secrets.js';
import { desiredFromResources, type ClusterDesired } from './model.js';
import type { BlockAffinity, Resource } from './resources.js';

const KINDS: readonly KubeKind[] = ['Node', 'BGPConfiguration', 'BGPPeer', 'IPPool', 'BGPFilter', 'BlockAffinity'];
const PAGE = 500;
const SLICE_MS = 4;
const PLURAL: Record<KubeKind, string> = { Node: 'nodes', BGPConfiguration: 'bgpconfigurations', BGPPeer: 'bgppeers', IPPool: 'ippools', BGPFilter: 'bgpfilters', BlockAffinity: 'blockaffinities' };

type Held = { readonly value: Resource | KubeNode | BlockAffinity; readonly text: string };

export interface KubeBackendOptions {
  readonly config: DatastoreConfig;
  readonly onDesired: (desired: ClusterDesired) => void;
  readonly log: Logger;
  /** The connection; default from datastore.kubeconfig or the in-cluster service account. */
  readonly connection?: KubeConnection;
  readonly backoff?: { readonly initialMs: number; readonly maxMs: number };
  /** Waits `ms` (tests pass a faster clock and record the delays). */
  readonly delay?: (ms: number) => Promise<void>;
  readonly requestTimeoutMs?: number;
  readonly watchTimeoutSeconds?: number;
}

/** The connection a config names; throws an Error naming datastore.kubeconfig. */
export const kubeConnectionOf = (c: DatastoreConfig): KubeConnection => (c.kubeconfig !== undefined ? kubeconfigConnection(c.kubeconfig) : inClusterConnection());

class Reflector {
  held = new Map<string, Held>();
  rejected = new Map<string, string>();
  /** For BlockAffinity: every object's name (ours or not). */
  names = new Set<string>();
  rv: string | undefined;
  listed = false;
  down = false;
  delayMs: number;
  watch: { abort(): void } | undefined;
  /** A Status the watch sent as an ERROR event (410 Gone: re-list). */
  watchError: KubeApiError | undefined;
  constructor(
    readonly kind: KubeKind,
    initialMs: number,
  ) {
    this.delayMs = initialMs;
  }
}

export class KubeBackend implements DatastoreBackend {
  private readonly client: KubeClient;
  private readonly reflectors: Reflector[];
  private readonly nodeName: string;
  private readonly namespace: string;
  private readonly backoff: { readonly initialMs: number; readonly maxMs: number };
  private readonly delay: (ms: number) => Promise<void>;
  private readonly secrets: KubeSecrets;
  private current: ClusterDesired | undefined;
  private published = '';
  private publishQueued = false;
  private loggedRejections = new Set<string>();
  private stopped = false;
  private wake: (() => void)[] = [];
  private unreachableSince: Date | undefined;
  private lastError: string | undefined;
  private lastSync: Date | undefined;
  private lastResyncMs: number | undefined;
  private lastResync: string | undefined;
  private resyncs = 0;
  private revision: number | undefined;
  private readonly t0 = performance.now();

  /** Throws an Error naming datastore.kubeconfig when the connection cannot be set up. */
  constructor(private readonly opts: KubeBackendOptions) {
    this.client = new KubeClient(opts.connection ?? kubeConnectionOf(opts.config), opts.requestTimeoutMs ?? 10_000);
    this.nodeName = datastoreNodeName(opts.config);
    this.namespace = opts.config.secretsNamespace ?? 'kube-system';
    this.backoff = opts.backoff ?? { initialMs: 1000, maxMs: 30_000 };
    this.delay = opts.delay ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
    this.reflectors = KINDS.map((k) => new Reflector(k, this.backoff.initialMs));
    this.secrets = new KubeSecrets({
      client: this.client,
      namespace: this.namespace,
      log: opts.log,
      backoff: this.backoff,
      delay: this.delay,
      ...(opts.watchTimeoutSeconds !== undefined && { watchTimeoutSeconds: opts.watchTimeoutSeconds }),
      onChange: () => this.publishSoon(),
    });
  }

  start(): void {
    for (const r of this.reflectors) void this.run(r);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.secrets.stop();
    for (const r of this.reflectors) r.watch?.abort();
    for (const w of this.wake.splice(0)) w();
  }

  desired(): ClusterDesired | undefined {
    return this.current;
  }

  status(): DatastoreStatus {
    const connected = this.reflectors.every((r) => r.listed && !r.down);
    return {
      type: 'kubernetes',
      endpoints: [this.client.server],
      nodeName: this.nodeName,
      connected,
      ...(!connected && this.unreachableSince && { unreachableSince: this.unreachableSince }),
      ...(!connected && this.lastError !== undefined && { lastError: this.lastError }),
      ...(this.revision !== undefined && { revision: this.revision }),
      ...(this.lastSync && { lastSync: this.lastSync }),
      resyncs: this.resyncs,
      ...(this.lastResyncMs !== undefined && { lastResyncMs: this.lastResyncMs }),
      ...(this.lastResync !== undefined && { lastResync: this.lastResync }),
      keys: this.reflectors.reduce((n, r) => n + r.held.size + r.rejected.size, 0) + this.secrets.secrets.size,
    };
  }

  /** One kind's loop: list, watch, re-watch, re-list on 410, back off on anything else. */
  private async run(r: Reflector): Promise<void> {
    let why = 'start';
    while (!this.stopped) {
      try {
        if (r.rv === undefined) {
          await this.list(r, why);
          this.up(r);
        }
        const started = performance.now();
        await this.watchOnce(r);
        if (this.stopped) return;
        // a watch the server ended after its timeout: re-watch at once; one that ended at
        // once, again and again, is a server in trouble: back off
        if (performance.now() - started < 1000) await this.pause(r);
        else r.delayMs = this.backoff.initialMs;
      } catch (e) {
        if (this.stopped) return;
        if (e instanceof KubeApiError && e.code === 410) {
          this.opts.log.warn({ event: 'datastore-watch-cancelled', kind: r.kind, why: 'expired', error: e.message, resourceVersion: r.rv });
          r.rv = undefined;
          why = 'expired (410 Gone)';
          continue;
        }
        this.markDown(r, e);
        why = 'reconnect';
        await this.pause(r);
      }
    }
  }

  private async pause(r: Reflector): Promise<void> {
    const ms = r.delayMs * (0.8 + Math.random() * 0.4);
    r.delayMs = Math.min(r.delayMs * 2, this.backoff.maxMs);
    await new Promise<void>((resolve) => {
      this.wake.push(resolve);
      void this.delay(ms).then(resolve);
    });
  }

  /** Lists every page, converts in slices, then swaps the kind's set in. */
  private async list(r: Reflector, why: string): Promise<void> {
    const t0 = performance.now();
    const held = new Map<string, Held>();
    const rejected = new Map<string, string>();
    const names = new Set<string>();
    let cont: string | undefined;
    let rv = '';
    do {
      const page = await this.client.get(`${KUBE_PATHS[r.kind]}?limit=${PAGE}${cont ? `&continue=${encodeURIComponent(cont)}` : ''}`);
      const meta = (page['metadata'] ?? {}) as { resourceVersion?: string; continue?: string };
      const items = Array.isArray(page['items']) ? (page['items'] as unknown[]) : [];
      let i = 0;
      await loopTurns.sliced((deadline) => {
        for (; i < items.length; i++) {
          if ((i & 63) === 0 && performance.now() >= deadline) return false;
          this.convert(r.kind, items[i], held, rejected, names);
        }
        return true;
      }, SLICE_MS);
      rv = meta.resourceVersion ?? rv;
      cont = meta.continue || undefined;
    } while (cont !== undefined && !this.stopped);
    r.held = held;
    r.rejected = rejected;
    r.names = names;
    r.rv = rv;
    this.noteRv(rv);
    const first = !r.listed;
    r.listed = true;
    const ms = performance.now() - t0;
    this.opts.log.info({ event: 'datastore-synced', kind: r.kind, why, resourceVersion: rv, objects: held.size, rejected: rejected.size, ms: Math.round(ms) });
    if (this.reflectors.every((x) => x.listed)) {
      if (first && this.resyncs === 0) this.lastResyncMs = performance.now() - this.t0;
      else this.lastResyncMs = ms;
      this.resyncs++;
      this.lastSync = new Date();
      this.lastResync = first && this.resyncs === 1 ? 'start' : `${PLURAL[r.kind]}: ${why}`;
      await this.secrets.want(this.secretNames());
      this.publishSoon();
    }
  }

  /** One object into a kind's set (or its rejections); the name goes into `names` for BlockAffinity. */
  private convert(kind: KubeKind, o: unknown, held: Map<string, Held>, rejected: Map<string, string>, names?: Set<string>): void {
    const name = objectName(o);
    if (name === undefined) {
      this.opts.log.warn({ event: 'datastore-resource-rejected', key: `${PLURAL[kind]}/?`, error: 'metadata.name: required' });
      return;
    }
    held.delete(name);
    rejected.delete(name);
    if (kind === 'BlockAffinity') {
      names?.add(name);
      // another node's: not decoded (most are); one that names no node is decoded to say why
      const owner = affinityNode(o);
      if (owner !== undefined && owner !== this.nodeName) return;
    }
    const d = kind === 'Node' ? nodeFromKube(o) : kind === 'BlockAffinity' ? affinityFromKube(o) : crdFromKube(kind, o);
    if (d.ok) held.set(name, { value: d.value, text: JSON.stringify(d.value) });
    else rejected.set(name, d.error);
  }

  private async watchOnce(r: Reflector): Promise<void> {
    const h = this.client.watch(KUBE_PATHS[r.kind], r.rv!, (e) => this.onEvent(r, e), this.opts.watchTimeoutSeconds ?? 240 + Math.floor(Math.random() * 120));
    r.watch = h;
    r.watchError = undefined;
    try {
      await h.done;
    } catch (e) {
      if (r.watchError === undefined) throw e;
    } finally {
      r.watch = undefined;
    }
    if (r.watchError !== undefined) throw r.watchError;
  }

  private onEvent(r: Reflector, e: WatchEvent): void {
    const rv = (e.object['metadata'] as { resourceVersion?: string } | undefined)?.resourceVersion;
    if (e.type === 'ERROR') {
      const s = e.object as { code?: number; reason?: string; message?: string };
      r.watchError = new KubeApiError(s.code ?? 0, s.reason ?? 'Unknown', `${KUBE_PATHS[r.kind]}: watch: ${s.code} ${s.reason}: ${s.message}`);
      r.watch?.abort();
      return;
    }
    if (r.down) this.up(r);
    if (rv !== undefined) {
      r.rv = rv;
      this.noteRv(rv);
    }
    if (e.type === 'BOOKMARK') return;
    const name = objectName(e.object);
    if (name === undefined) return;
    const before = r.held.get(name)?.text ?? r.rejected.get(name);
    if (e.type === 'DELETED') {
      r.held.delete(name);
      r.rejected.delete(name);
      r.names.delete(name);
    } else this.convert(r.kind, e.object, r.held, r.rejected, r.names);
    const after = r.held.get(name)?.text ?? r.rejected.get(name);
    if (before !== after || r.kind === 'BlockAffinity') this.publishSoon();
  }

  private noteRv(rv: string): void {
    const n = Number(rv);
    if (Number.isSafeInteger(n)) this.revision = Math.max(this.revision ?? 0, n);
  }

  private up(r: Reflector): void {
    r.down = false;
    r.delayMs = this.backoff.initialMs;
    if (this.reflectors.every((x) => !x.down)) this.unreachableSince = undefined;
  }

  private markDown(r: Reflector, err: unknown): void {
    const message = (err as Error)?.message ?? String(err);
    if (this.unreachableSince === undefined) {
      this.unreachableSince = new Date();
      this.opts.log.warn({ event: 'datastore-unreachable', kind: r.kind, error: message, keptKeys: this.status().keys });
    }
    r.down = true;
    this.lastError = message;
  }

  private secretNames(): Set<string> {
    const out = new Set<string>();
    for (const r of this.reflectors) {
      if (r.kind !== 'BGPPeer' && r.kind !== 'BGPConfiguration') continue;
      for (const { value } of r.held.values()) for (const n of this.secretNamesOf(value as Resource)) out.add(n);
    }
    return out;
  }

  private secretNamesOf(v: Resource | undefined): string[] {
    if (v?.kind === 'BGPPeer' && v.password) return [v.password.name];
    if (v?.kind === 'BGPConfiguration' && v.name === 'default' && v.nodeMeshPassword) return [v.nodeMeshPassword.name];
    return [];
  }

  /** Runs the model once for a burst of events (next turn), after every kind's first list. */
  private publishSoon(): void {
    if (this.publishQueued || !this.reflectors.every((r) => r.listed)) return;
    this.publishQueued = true;
    setImmediate(() => {
      this.publishQueued = false;
      if (this.stopped) return;
      // starts and stops watches as resources name Secrets; a newly named one is listed
      // first, so a peer is not published as rejected for a Secret about to arrive
      void this.secrets.want(this.secretNames()).then(() => {
        if (!this.stopped) this.publish();
      });
    });
  }

  private resources(): ClusterResources {
    const by = (k: KubeKind) => this.reflectors.find((r) => r.kind === k)!;
    const map = <T>(k: KubeKind, f: (v: Held['value']) => T) => new Map([...by(k).held].map(([n, h]) => [n, f(h.value)]));
    const nodes = map('Node', (v) => (v as KubeNode).resource);
    const aff = by('BlockAffinity');
    const mode = this.opts.config.blocks ?? (aff.names.size > 0 ? 'calico-ipam' : 'node-pod-cidr');
    const self = by('Node').held.get(this.nodeName)?.value as KubeNode | undefined;
    const affinities: BlockAffinity[] =
      mode === 'calico-ipam' ? [...aff.held.values()].map((h) => h.value as BlockAffinity) : (self?.podCIDRs ?? []).map((cidr) => ({ node: this.nodeName, cidr, state: 'confirmed', deleted: false }));
    const rejected: Rejected[] = [];
    for (const r of this.reflectors) for (const [name, error] of r.rejected) rejected.push({ key: `${PLURAL[r.kind]}/${name}`, error });
    return {
      nodes,
      bgpConfigurations: map('BGPConfiguration', (v) => v) as ClusterResources['bgpConfigurations'],
      bgpPeers: map('BGPPeer', (v) => v) as ClusterResources['bgpPeers'],
      ipPools: map('IPPool', (v) => v) as ClusterResources['ipPools'],
      bgpFilters: map('BGPFilter', (v) => v) as ClusterResources['bgpFilters'],
      affinities,
      rejected,
      secrets: this.secrets.secrets,
    };
  }

  /** Runs the model over the held set; publishes only a changed result. */
  private publish(): void {
    const desired = desiredFromResources(this.resources(), this.nodeName);
    const text = JSON.stringify(desired);
    this.current = desired;
    if (text === this.published) return;
    this.published = text;
    // a rejection is logged when it appears, not on every publish
    const now = new Set(desired.supplied.rejected.map((r) => `${r.key}\n${r.error}`));
    for (const r of desired.supplied.rejected) if (!this.loggedRejections.has(`${r.key}\n${r.error}`)) this.opts.log.warn({ event: 'datastore-resource-rejected', key: r.key, error: r.error });
    this.loggedRejections = now;
    this.opts.onDesired(desired);
  }
}
