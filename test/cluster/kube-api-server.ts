// A fake Kubernetes API server for the Kubernetes datastore's tests: real
// HTTP on 127.0.0.1 speaking the list/watch protocol the way kube-apiserver
// does (no Kubernetes API server can be installed on these machines):
// - bearer-token auth on every request, 401 as a Status object otherwise;
// - GET <collection>?limit=&continue= : a List with metadata.resourceVersion
//   (one snapshot across its pages) and metadata.continue; an expired
//   continue token is 410 Gone (reason Expired);
// - GET <collection>?watch=1&resourceVersion=N&allowWatchBookmarks=true&
//   timeoutSeconds=S : newline-delimited {type, object} events after N
//   (ADDED, MODIFIED, DELETED), BOOKMARK events carrying only
//   metadata.resourceVersion, the stream closed after S seconds; a version
//   older than the compacted history is an ERROR event whose object is a
//   Status 410 "too old resource version", as kube-apiserver sends it;
// - GET <collection>/<name> : one object, 404 NotFound as a Status;
// - fieldSelector=metadata.name=<name> narrows a list or a watch to one
//   object (how a client watches one Secret it may only read by name);
// - every object gets metadata.resourceVersion from one counter (etcd's
//   revision), like the real server.
// Test controls: put/remove objects, compact history, cut every watch,
// stop and restart on the same port (a server that is down), fail the next
// requests to a path with a given Status code. It listens on 127.0.0.1, or on
// a unix socket for a daemon in a network namespace (through a forwarder
// there, test/interop/cluster-kube.test.ts).

import { rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

type Obj = Record<string, unknown>;
type Event = { rv: number; collection: string; type: 'ADDED' | 'MODIFIED' | 'DELETED'; object: Obj };

export interface RequestRecord {
  readonly path: string;
  readonly query: Record<string, string>;
  readonly authorized: boolean;
}

const status = (code: number, reason: string, message: string) => ({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code });
const LIST_KIND: Record<string, string> = { nodes: 'NodeList', secrets: 'SecretList' };

export class KubeApiServer {
  readonly token = 'test-token-' + Math.random().toString(36).slice(2);
  readonly requests: RequestRecord[] = [];
  private server: Server | undefined;
  private sockets = new Set<Socket>();
  private port = 0;
  private rv = 1000;
  private compactedRv = 0;
  private readonly store = new Map<string, Map<string, Obj>>();
  private events: Event[] = [];
  private watches = new Set<{ res: ServerResponse; collection: string; name?: string; timer: NodeJS.Timeout; bookmark: NodeJS.Timeout }>();
  private snapshots = new Map<string, { rv: number; items: Obj[] }>();
  private failures: { prefix: string; code: number; left: number }[] = [];

  /** `socketPath`: listen on a unix socket instead of 127.0.0.1 (a namespace reaches it through a forwarder). */
  constructor(
    private readonly bookmarkMs = 500,
    private readonly socketPath?: string,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<void> {
    this.server = createServer((req, res) => this.handle(req, res));
    this.server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    if (this.socketPath !== undefined) {
      rmSync(this.socketPath, { force: true });
      await new Promise<void>((resolve) => this.server!.listen(this.socketPath, resolve));
      return;
    }
    await new Promise<void>((resolve) => this.server!.listen(this.port, '127.0.0.1', resolve));
    this.port = (this.server.address() as AddressInfo).port;
  }

  /** Down: every connection dropped, nothing listening (restart with start(), same port). */
  async stop(): Promise<void> {
    this.cutWatches();
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    this.server = undefined;
  }

  /** Creates or replaces an object (ADDED or MODIFIED), stamping its resourceVersion. */
  put(collection: string, object: Obj): string {
    const items = this.collection(collection);
    const name = (object['metadata'] as Obj)['name'] as string;
    const rv = String(++this.rv);
    const stored = structuredClone(object);
    (stored['metadata'] as Obj)['resourceVersion'] = rv;
    const type = items.has(name) ? 'MODIFIED' : 'ADDED';
    items.set(name, stored);
    this.emit({ rv: this.rv, collection, type, object: stored });
    return rv;
  }

  remove(collection: string, name: string): void {
    const items = this.collection(collection);
    const old = items.get(name);
    if (old === undefined) return;
    items.delete(name);
    const object = structuredClone(old);
    (object['metadata'] as Obj)['resourceVersion'] = String(++this.rv);
    this.emit({ rv: this.rv, collection, type: 'DELETED', object });
  }

  get(collection: string, name: string): Obj | undefined {
    return this.store.get(collection)?.get(name);
  }

  /** Forgets the event history: a watch from an older version gets 410 Gone. */
  compact(): void {
    this.compactedRv = this.rv;
    this.events = [];
    this.snapshots.clear();
  }

  /** Ends every open watch stream mid-way (the connection reset, not a clean end). */
  cutWatches(): void {
    for (const w of this.watches) {
      clearTimeout(w.timer);
      clearInterval(w.bookmark);
      w.res.socket?.destroy();
    }
    this.watches.clear();
  }

  /** The next `times` requests whose path starts with `prefix` answer with a Status of `code`. */
  fail(prefix: string, code: number, times = 1): void {
    this.failures.push({ prefix, code, left: times });
  }

  /** Writes `line` as it is into every open watch of `collection` (a broken server or proxy). */
  sendRaw(collection: string, line: string): void {
    for (const w of this.watches) if (w.collection === collection) w.res.write(line + '\n');
  }

  openWatches(collection?: string): number {
    return [...this.watches].filter((w) => collection === undefined || w.collection === collection).length;
  }

  private collection(c: string): Map<string, Obj> {
    let m = this.store.get(c);
    if (m === undefined) this.store.set(c, (m = new Map()));
    return m;
  }

  private emit(e: Event): void {
    this.events.push(e);
    for (const w of this.watches) if (w.collection === e.collection && (w.name === undefined || w.name === (e.object['metadata'] as Obj)['name'])) w.res.write(JSON.stringify({ type: e.type, object: e.object }) + '\n');
  }

  private send(res: ServerResponse, code: number, body: unknown): void {
    res.writeHead(code, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify(body));
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://x');
    const query = Object.fromEntries(url.searchParams);
    const authorized = req.headers.authorization === `Bearer ${this.token}`;
    this.requests.push({ path: url.pathname, query, authorized });
    if (!authorized) return this.send(res, 401, status(401, 'Unauthorized', 'Unauthorized'));
    if (req.method !== 'GET') return this.send(res, 405, status(405, 'MethodNotAllowed', `${req.method} is not supported here`));
    const f = this.failures.find((x) => url.pathname.startsWith(x.prefix) && x.left > 0);
    if (f) {
      f.left--;
      return this.send(res, f.code, status(f.code, f.code === 403 ? 'Forbidden' : 'InternalError', `injected failure ${f.code}`));
    }
    // a collection is a known prefix; /<collection>/<name> is one object
    const path = url.pathname.replace(/\/$/, '');
    if (this.store.has(path) || /\/(nodes|bgpconfigurations|bgppeers|ippools|bgpfilters|blockaffinities|secrets)$/.test(path)) {
      return query['watch'] === '1' || query['watch'] === 'true' ? this.watch(path, query, res) : this.list(path, query, res);
    }
    const slash = path.lastIndexOf('/');
    const obj = this.store.get(path.slice(0, slash))?.get(decodeURIComponent(path.slice(slash + 1)));
    if (obj === undefined) return this.send(res, 404, status(404, 'NotFound', `"${path.slice(slash + 1)}" not found`));
    this.send(res, 200, obj);
  }

  /** fieldSelector=metadata.name=X (or ==X): the one name a list or watch is narrowed to. */
  private static selectedName(query: Record<string, string>): string | undefined {
    const m = /^metadata\.name==?(.+)$/.exec(query['fieldSelector'] ?? '');
    return m?.[1];
  }

  private list(collection: string, query: Record<string, string>, res: ServerResponse): void {
    const limit = Number(query['limit'] ?? 0);
    let snap: { rv: number; items: Obj[] };
    let offset = 0;
    if (query['continue']) {
      const [key, off] = query['continue'].split(':');
      const s = this.snapshots.get(key!);
      if (s === undefined) return this.send(res, 410, status(410, 'Expired', 'The provided continue parameter is too old to display a consistent list result.'));
      snap = s;
      offset = Number(off);
    } else {
      const only = KubeApiServer.selectedName(query);
      const items = [...this.collection(collection).values()]
        .filter((o) => only === undefined || (o['metadata'] as Obj)['name'] === only)
        .sort((a, b) => ((a['metadata'] as Obj)['name'] as string).localeCompare((b['metadata'] as Obj)['name'] as string));
      snap = { rv: this.rv, items };
    }
    const page = limit > 0 ? snap.items.slice(offset, offset + limit) : snap.items.slice(offset);
    const more = limit > 0 && offset + limit < snap.items.length;
    let cont: string | undefined;
    if (more) {
      const key = Math.random().toString(36).slice(2);
      this.snapshots.set(key, snap);
      cont = `${key}:${offset + limit}`;
    }
    const core = collection.startsWith('/api/');
    const plural = collection.slice(collection.lastIndexOf('/') + 1);
    const kind = LIST_KIND[plural] ?? `${page[0]?.['kind'] ?? 'Unknown'}List`;
    this.send(res, 200, {
      kind,
      apiVersion: core ? 'v1' : 'crd.projectcalico.org/v1',
      metadata: { resourceVersion: String(snap.rv), ...(cont && { continue: cont, remainingItemCount: snap.items.length - offset - limit }) },
      // the API leaves kind and apiVersion out of core list items (kubectl adds them back)
      items: core ? page.map(({ kind: _k, apiVersion: _a, ...rest }) => rest) : page,
    });
  }

  private watch(collection: string, query: Record<string, string>, res: ServerResponse): void {
    res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' });
    const from = Number(query['resourceVersion'] ?? this.rv);
    if (from < this.compactedRv) {
      res.end(JSON.stringify({ type: 'ERROR', object: status(410, 'Expired', `too old resource version: ${from} (${this.compactedRv})`) }) + '\n');
      return;
    }
    const only = KubeApiServer.selectedName(query);
    for (const e of this.events) if (e.collection === collection && e.rv > from && (only === undefined || (e.object['metadata'] as Obj)['name'] === only)) res.write(JSON.stringify({ type: e.type, object: e.object }) + '\n');
    const seconds = Number(query['timeoutSeconds'] ?? 1800);
    const w = {
      res,
      collection,
      ...(only !== undefined && { name: only }),
      timer: setTimeout(() => {
        this.watches.delete(w);
        clearInterval(w.bookmark);
        res.end();
      }, seconds * 1000),
      bookmark: setInterval(() => {
        if (query['allowWatchBookmarks'] === 'true')
          res.write(JSON.stringify({ type: 'BOOKMARK', object: { kind: 'Bookmark', apiVersion: 'v1', metadata: { resourceVersion: String(this.rv) } } }) + '\n');
      }, this.bookmarkMs),
    };
    this.watches.add(w);
    res.on('close', () => {
      clearTimeout(w.timer);
      clearInterval(w.bookmark);
      this.watches.delete(w);
    });
  }
}
