// A lean Kubernetes API client: the three calls the datastore makes (a
// paginated list, a watch stream, a get) over node:https, plus where the
// connection comes from: the in-cluster service account
// (KUBERNETES_SERVICE_HOST/PORT, /var/run/secrets/kubernetes.io/serviceaccount/
// {token,ca.crt}) or a kubeconfig file (current context: server, CA, token,
// tokenFile or client certificate). The token file is re-read on every
// request: bound service-account tokens rotate under a running pod.
// Errors the API sends are `Status` objects; they come back as KubeApiError
// with its code and reason (410 Gone: "Expired").
// A watch is newline-delimited JSON: one {type, object} per line, type
// ADDED, MODIFIED, DELETED, BOOKMARK or ERROR (whose object is a Status).
//
// Why not @kubernetes/client-node: its 1.x line pulls in ~40 packages
// (node-fetch, openid-client, ws, jsonpath, ...) for what is here ~200 lines;
// its informer stops on any error but 410 and would need restarting from
// outside; and it hands each list over as one parsed array, where the backend
// wants pages it can apply in loop-turn slices.

import { readFileSync } from 'node:fs';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { dirname, isAbsolute, join } from 'node:path';
import { parse as parseYaml } from 'yaml';

export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

export interface KubeConnection {
  /** https://host:port (or http:// for a test server). */
  readonly server: string;
  readonly ca?: Buffer;
  readonly cert?: Buffer;
  readonly key?: Buffer;
  readonly insecureSkipTlsVerify?: boolean;
  /** A fixed bearer token, or a file to read it from at each request. */
  readonly token?: string;
  readonly tokenFile?: string;
}

export class KubeApiError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The in-cluster connection; throws naming what is missing. */
export function inClusterConnection(env: NodeJS.ProcessEnv = process.env, dir = SERVICE_ACCOUNT_DIR): KubeConnection {
  const host = env['KUBERNETES_SERVICE_HOST'];
  const port = env['KUBERNETES_SERVICE_PORT'] ?? '443';
  if (!host) throw new Error('datastore.kubeconfig: not set and KUBERNETES_SERVICE_HOST is not in the environment (not in a pod): set datastore.kubeconfig');
  let ca: Buffer;
  try {
    ca = readFileSync(join(dir, 'ca.crt'));
  } catch (e) {
    throw new Error(`datastore.kubeconfig: not set and the service account's ${join(dir, 'ca.crt')} is unreadable: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return { server: `https://${host.includes(':') ? `[${host}]` : host}:${port}`, ca, tokenFile: join(dir, 'token') };
}

/** The current context of a kubeconfig file; throws an Error naming datastore.kubeconfig and the field. */
export function kubeconfigConnection(path: string, read: (p: string) => Buffer = (p) => readFileSync(p)): KubeConnection {
  const bad = (what: string) => new Error(`datastore.kubeconfig: ${path}: ${what}`);
  let doc: unknown;
  try {
    doc = parseYaml(read(path).toString('utf8'));
  } catch (e) {
    throw bad((e as NodeJS.ErrnoException).code ?? (e as Error).message);
  }
  if (!isObj(doc)) throw bad('not a kubeconfig (a YAML mapping)');
  const named = (list: string, name: unknown, field: string): Obj => {
    const entries = Array.isArray(doc[list]) ? (doc[list] as unknown[]) : [];
    const e = entries.find((x) => isObj(x) && x['name'] === name);
    const v = isObj(e) ? e[field] : undefined;
    if (!isObj(v)) throw bad(`${list}: no entry named ${JSON.stringify(name)}`);
    return v;
  };
  if (typeof doc['current-context'] !== 'string' || doc['current-context'] === '') throw bad('current-context: not set (kubectl config use-context NAME)');
  const context = named('contexts', doc['current-context'], 'context');
  const cluster = named('clusters', context['cluster'], 'cluster');
  const user = context['user'] === undefined ? {} : named('users', context['user'], 'user');
  const base = dirname(path);
  const file = (p: unknown) => {
    if (typeof p !== 'string') return undefined;
    const full = isAbsolute(p) ? p : join(base, p);
    try {
      return read(full);
    } catch (e) {
      throw bad(`cannot read ${full}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
  };
  const data = (p: unknown) => (typeof p === 'string' ? Buffer.from(p, 'base64') : undefined);
  const server = cluster['server'];
  if (typeof server !== 'string' || !/^https?:\/\/[^/]+/.test(server)) throw bad(`clusters: server must be an http(s) URL, got ${JSON.stringify(server)}`);
  if (user['exec'] !== undefined || user['auth-provider'] !== undefined) throw bad('users: exec and auth-provider credentials are not supported; use a token, tokenFile or client certificate');
  const ca = data(cluster['certificate-authority-data']) ?? file(cluster['certificate-authority']);
  const cert = data(user['client-certificate-data']) ?? file(user['client-certificate']);
  const key = data(user['client-key-data']) ?? file(user['client-key']);
  const tokenFile = typeof user['tokenFile'] === 'string' ? (isAbsolute(user['tokenFile']) ? user['tokenFile'] : join(base, user['tokenFile'])) : undefined;
  return {
    server: server.replace(/\/$/, ''),
    ...(ca && { ca }),
    ...(cert && { cert }),
    ...(key && { key }),
    ...(cluster['insecure-skip-tls-verify'] === true && { insecureSkipTlsVerify: true }),
    ...(typeof user['token'] === 'string' && { token: user['token'] }),
    ...(tokenFile && { tokenFile }),
  };
}

export interface WatchEvent {
  readonly type: 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';
  readonly object: Obj;
}

export interface WatchHandle {
  /** Resolves when the stream ends (the server closed it: a timeout) or rejects when it broke. */
  readonly done: Promise<void>;
  abort(): void;
}

export class KubeClient {
  constructor(
    private readonly conn: KubeConnection,
    private readonly timeoutMs = 10_000,
  ) {}

  get server(): string {
    return this.conn.server;
  }

  /** GET a path; resolves with the parsed body of a 2xx, rejects with KubeApiError for a Status. */
  async get(path: string): Promise<Obj> {
    const res = await this.open(path, this.timeoutMs);
    const body = await readAll(res);
    let json: unknown;
    try {
      json = JSON.parse(body);
    } catch {
      throw new KubeApiError(res.statusCode ?? 0, 'BadResponse', `${path}: HTTP ${res.statusCode}: the body is not JSON`);
    }
    if ((res.statusCode ?? 0) >= 300 || (isObj(json) && json['kind'] === 'Status' && json['status'] === 'Failure')) throw statusError(path, res.statusCode ?? 0, json);
    if (!isObj(json)) throw new KubeApiError(res.statusCode ?? 0, 'BadResponse', `${path}: the body is not a JSON object`);
    return json;
  }

  /** A watch from `resourceVersion`, with bookmarks; each event goes to `onEvent` in order. */
  watch(path: string, resourceVersion: string, onEvent: (e: WatchEvent) => void, timeoutSeconds = 300): WatchHandle {
    const q = `watch=1&resourceVersion=${encodeURIComponent(resourceVersion)}&allowWatchBookmarks=true&timeoutSeconds=${timeoutSeconds}`;
    let req: { destroy(e?: Error): void } | undefined;
    let aborted = false;
    const done = new Promise<void>((resolve, reject) => {
      this.open(`${path}${path.includes('?') ? '&' : '?'}${q}`, 0, (r) => (req = r)).then((res) => {
        if ((res.statusCode ?? 0) >= 300) {
          void readAll(res).then((body) => reject(statusError(path, res.statusCode ?? 0, tryJson(body))), reject);
          return;
        }
        res.setEncoding('utf8');
        let buf = '';
        res.on('data', (chunk: string) => {
          buf += chunk;
          let nl: number;
          while (!aborted && (nl = buf.indexOf('\n')) >= 0) {
            const line = buf.slice(0, nl).trim();
            buf = buf.slice(nl + 1);
            if (line === '') continue;
            const ev = tryJson(line);
            if (!isObj(ev) || typeof ev['type'] !== 'string' || !isObj(ev['object'])) {
              res.destroy(new Error(`${path}: watch sent a line that is not an event`));
              return;
            }
            onEvent(ev as unknown as WatchEvent);
          }
        });
        res.on('end', () => resolve());
        res.on('error', reject);
        res.on('aborted', () => reject(new Error(`${path}: watch stream cut`)));
        res.on('close', () => (res.complete ? resolve() : reject(new Error(`${path}: watch stream cut`))));
      }, reject);
    });
    return {
      done,
      abort: () => {
        aborted = true;
        req?.destroy();
      },
    };
  }

  private open(path: string, timeoutMs: number, onRequest?: (r: { destroy(e?: Error): void }) => void): Promise<IncomingMessage> {
    const url = new URL(this.conn.server + path);
    let token = this.conn.token;
    if (this.conn.tokenFile !== undefined) {
      try {
        token = readFileSync(this.conn.tokenFile, 'utf8').trim();
      } catch (e) {
        return Promise.reject(new Error(`cannot read the token file ${this.conn.tokenFile}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`));
      }
    }
    const https = url.protocol === 'https:';
    const options = {
      method: 'GET',
      headers: { Accept: 'application/json', ...(token && { Authorization: `Bearer ${token}` }) },
      ...(https && { ca: this.conn.ca, cert: this.conn.cert, key: this.conn.key, rejectUnauthorized: !this.conn.insecureSkipTlsVerify }),
    };
    return new Promise((resolve, reject) => {
      const req = (https ? httpsRequest : httpRequest)(url, options, resolve);
      onRequest?.(req);
      req.on('error', reject);
      req.on('socket', (s) => s.setKeepAlive(true, 10_000));
      if (timeoutMs > 0) req.setTimeout(timeoutMs, () => req.destroy(new Error(`${path}: no answer within ${timeoutMs} ms`)));
      req.end();
    });
  }
}

function tryJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function readAll(res: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    res.on('data', (c: Buffer) => chunks.push(c));
    res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    res.on('error', reject);
  });
}

/** A Status object (or whatever came) as an error naming the path, code and reason. */
export function statusError(path: string, httpCode: number, body: unknown): KubeApiError {
  const s = isObj(body) ? body : {};
  const code = typeof s['code'] === 'number' ? s['code'] : httpCode;
  const reason = typeof s['reason'] === 'string' ? s['reason'] : 'Unknown';
  const message = typeof s['message'] === 'string' ? s['message'] : `HTTP ${httpCode}`;
  return new KubeApiError(code, reason, `${path}: ${code} ${reason}: ${message}`);
}
