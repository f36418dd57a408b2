// The Secrets the Kubernetes datastore's resources name (BGPPeer
// password.secretKeyRef, BGPConfiguration nodeMeshPassword), each one watched
// by name in datastore.secretsNamespace: a list and a watch with
// fieldSelector=metadata.name=<name>, which the API server authorizes against
// a Role's resourceNames (get, list, watch on those names, nothing else in
// the namespace). A rotated Secret applies at once; no Secret is polled.
// - not there (an empty list, or deleted): absent; the model rejects what
//   names it and the reason is logged;
// - not granted (403) or a bad Secret: absent, logged, retried with backoff;
// - 410 Gone: re-listed; the server away (any other failure): the last value
//   stays and the name retries with jittered exponential backoff.

import type { Logger } from '../lib/log.js';
import { KubeApiError, type KubeClient, type WatchEvent } from './kube-client.js';
import { objectName, secretFromKube } from './kube-objects.js';

type Secret = ReadonlyMap<string, string>;

interface SecretWatch {
  readonly name: string;
  rv: string | undefined;
  stopped: boolean;
  delayMs: number;
  watch: { abort(): void } | undefined;
  /** Once per state: the last thing logged about this Secret. */
  said: string | undefined;
}

export interface KubeSecretsOptions {
  readonly client: KubeClient;
  readonly namespace: string;
  readonly log: Logger;
  readonly backoff: { readonly initialMs: number; readonly maxMs: number };
  readonly delay: (ms: number) => Promise<void>;
  readonly watchTimeoutSeconds?: number;
  /** A Secret's value changed, appeared or went away. */
  readonly onChange: () => void;
}

export class KubeSecrets {
  private readonly watched = new Map<string, SecretWatch>();
  private readonly values = new Map<string, Secret>();
  private readonly texts = new Map<string, string>();
  private readonly wake = new Set<() => void>();

  constructor(private readonly o: KubeSecretsOptions) {}

  /** Every watched Secret's data that could be read, by name. */
  get secrets(): ReadonlyMap<string, Secret> {
    return this.values;
  }

  /** Watches exactly `names`; resolves once each newly watched name's first list has answered or failed. */
  want(names: ReadonlySet<string>): Promise<void> {
    for (const [name, w] of this.watched)
      if (!names.has(name)) {
        w.stopped = true;
        w.watch?.abort();
        this.watched.delete(name);
        this.set(name, undefined);
      }
    const first: Promise<void>[] = [];
    for (const name of names) {
      if (this.watched.has(name)) continue;
      const w: SecretWatch = { name, rv: undefined, stopped: false, delayMs: this.o.backoff.initialMs, watch: undefined, said: undefined };
      this.watched.set(name, w);
      first.push(new Promise((resolve) => void this.run(w, resolve)));
    }
    return Promise.all(first).then(() => undefined);
  }

  stop(): void {
    for (const w of this.watched.values()) {
      w.stopped = true;
      w.watch?.abort();
    }
    this.watched.clear();
    for (const f of this.wake) f();
  }

  private get base(): string {
    return `/api/v1/namespaces/${encodeURIComponent(this.o.namespace)}/secrets`;
  }

  private async run(w: SecretWatch, listed: () => void): Promise<void> {
    const path = `${this.base}?fieldSelector=${encodeURIComponent(`metadata.name=${w.name}`)}`;
    while (!w.stopped) {
      try {
        if (w.rv === undefined) {
          const list = await this.o.client.get(path);
          if (w.stopped) break;
          const items = Array.isArray(list['items']) ? (list['items'] as unknown[]) : [];
          this.apply(w, items.find((i) => objectName(i) === w.name));
          w.rv = (list['metadata'] as { resourceVersion?: string } | undefined)?.resourceVersion ?? '';
          w.delayMs = this.o.backoff.initialMs;
          listed();
        }
        const started = performance.now();
        await this.watchOnce(w, path);
        if (w.stopped) break;
        if (performance.now() - started < 1000) await this.pause(w);
      } catch (e) {
        listed();
        if (w.stopped) break;
        if (e instanceof KubeApiError && e.code === 410) {
          w.rv = undefined;
          continue;
        }
        if (e instanceof KubeApiError && (e.code === 403 || e.code === 404)) {
          // not granted: the model rejects what names it, with this reason logged
          this.say(w, e.message);
          this.set(w.name, undefined);
          w.rv = undefined;
        } // else the server is away: the last value stays
        await this.pause(w);
      }
    }
    listed();
  }

  private async watchOnce(w: SecretWatch, path: string): Promise<void> {
    let error: KubeApiError | undefined;
    const h = this.o.client.watch(
      path,
      w.rv!,
      (e: WatchEvent) => {
        if (e.type === 'ERROR') {
          const s = e.object as { code?: number; reason?: string; message?: string };
          error = new KubeApiError(s.code ?? 0, s.reason ?? 'Unknown', `${this.base}/${w.name}: watch: ${s.code} ${s.reason}: ${s.message}`);
          h.abort();
          return;
        }
        const rv = (e.object['metadata'] as { resourceVersion?: string } | undefined)?.resourceVersion;
        if (rv !== undefined) w.rv = rv;
        if (e.type === 'BOOKMARK' || objectName(e.object) !== w.name) return;
        this.apply(w, e.type === 'DELETED' ? undefined : e.object);
      },
      this.o.watchTimeoutSeconds ?? 240 + Math.floor(Math.random() * 120),
    );
    w.watch = h;
    try {
      await h.done;
    } catch (e) {
      if (error === undefined) throw e;
    } finally {
      w.watch = undefined;
    }
    if (error !== undefined) throw error;
  }

  /** The Secret object as listed or watched (undefined: not there). */
  private apply(w: SecretWatch, o: unknown): void {
    if (o === undefined) {
      this.say(w, `${this.o.namespace}/${w.name}: not found`);
      this.set(w.name, undefined);
      return;
    }
    const d = secretFromKube(o);
    if (!d.ok) {
      if (w.said !== d.error) this.o.log.warn({ event: 'datastore-resource-rejected', key: `secrets/${this.o.namespace}/${w.name}`, error: d.error });
      w.said = d.error;
      this.set(w.name, undefined);
      return;
    }
    w.said = undefined;
    this.set(w.name, d.value);
  }

  private say(w: SecretWatch, error: string): void {
    if (w.said === error) return;
    w.said = error;
    this.o.log.warn({ event: 'datastore-secret-unreadable', secret: `${this.o.namespace}/${w.name}`, error });
  }

  private set(name: string, value: Secret | undefined): void {
    const text = value === undefined ? undefined : JSON.stringify([...value]);
    if (this.texts.get(name) === text) return;
    if (value === undefined) {
      this.values.delete(name);
      this.texts.delete(name);
    } else {
      this.values.set(name, value);
      this.texts.set(name, text!);
    }
    this.o.onChange();
  }

  private async pause(w: SecretWatch): Promise<void> {
    const ms = w.delayMs * (0.8 + Math.random() * 0.4);
    w.delayMs = Math.min(w.delayMs * 2, this.o.backoff.maxMs);
    await new Promise<void>((resolve) => {
      this.wake.add(resolve);
      void this.o.delay(ms).then(() => {
        this.wake.delete(resolve);
        resolve();
      });
    });
  }
}
