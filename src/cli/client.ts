// The HTTP API as the command line calls it: global fetch (Node 20), JSON in
// and out, the bearer token when given, and failures sorted into the two kinds
// scripts care about: the daemon answered with an error (ApiError, exit 1) or
// could not be reached at all (UnreachableError, exit 3).

export const DEFAULT_API_URL = 'http://127.0.0.1:9179';

/** The daemon answered 4xx/5xx; `error` and `message` come from its JSON body. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    message: string,
    readonly details: readonly string[] = [],
  ) {
    super(message);
  }
}

/** No answer: connection refused, DNS failure, timeout. */
export class UnreachableError extends Error {}

export interface ApiClientOptions {
  readonly baseUrl: string;
  readonly token?: string;
  readonly fetch?: typeof fetch;
  readonly timeoutMs?: number;
}

export interface ApiClient {
  get<T>(path: string, query?: Record<string, string | number | boolean | undefined>): Promise<T>;
  send<T>(method: 'POST' | 'DELETE', path: string, body?: unknown): Promise<T>;
}

/** Encodes one path segment: "10.0.0.0/8" -> "10.0.0.0%2F8" (DESIGN.md: the prefix is URL-encoded). */
export const segment = (text: string) => encodeURIComponent(text);

export function apiClient(opts: ApiClientOptions): ApiClient {
  const doFetch = opts.fetch ?? fetch;
  const base = opts.baseUrl.replace(/\/+$/, '');
  const timeoutMs = opts.timeoutMs ?? 15_000;

  async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (opts.token) headers.authorization = `Bearer ${opts.token}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    let res: Response;
    try {
      res = await doFetch(`${base}${path}`, {
        method,
        headers,
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (err) {
      throw new UnreachableError(`cannot reach the daemon at ${base}: ${describeFetchError(err)}`);
    }
    const text = await res.text();
    let json: unknown;
    try {
      json = text === '' ? undefined : JSON.parse(text);
    } catch {
      json = undefined;
    }
    if (!res.ok) {
      const e = (json ?? {}) as { error?: string; message?: string; errors?: string[] };
      throw new ApiError(res.status, e.error ?? `http-${res.status}`, e.message ?? (text.slice(0, 200) || res.statusText), e.errors ?? []);
    }
    return json as T;
  }

  return {
    get: (path, query = {}) => {
      const qs = new URLSearchParams();
      for (const [k, v] of Object.entries(query)) if (v !== undefined) qs.set(k, String(v));
      const q = qs.toString();
      return request('GET', q ? `${path}?${q}` : path);
    },
    send: (method, path, body) => request(method, path, body),
  };
}

function describeFetchError(err: unknown): string {
  const e = err as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e.name === 'TimeoutError') return 'timed out';
  return e.cause?.code ?? e.cause?.message ?? e.message ?? String(err);
}
