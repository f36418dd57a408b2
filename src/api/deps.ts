// What the HTTP API asks of the daemon core: plain functions returning plain
// data (STYLE.md §12). The API never touches the RIB, the sessions or the FIB
// itself; it asks the core to act and reports what the core answers. The
// daemon (src/daemon/api-adapter.ts) implements this; tests implement it with a fake that
// records calls. Any function may return a value or a promise of one.
//
// Metric sources are pull-based: metrics.ts reads them when Prometheus
// scrapes, so the daemon keeps plain counters and never pushes per change.

import type { BgpConfig } from '../config/schema.js';
import type { ApiBfdList } from './bfd-schemas.js';
import type {
  ApiExplain,
  ApiFib,
  ApiPeer,
  ApiStatus,
  Family,
  FibQuery,
  ReadyReport,
  RoutePage,
  RoutesQuery,
} from './schemas.js';

export type { ApiExplain, ApiFib, ApiPeer, ApiStatus, Family, FibQuery, ReadyReport, RoutePage, RoutesQuery };
export type { ApiNotification, ApiRoute, MessageType } from './schemas.js';

import type { ApiCluster } from './cluster-schema.js';

type MaybePromise<T> = T | Promise<T>;

/** Why the core refused a control request; the API maps each to an HTTP status. */
export type ActionError =
  | 'not-found' // 404: no such peer / announcement
  | 'conflict' // 409: e.g. withdrawing a prefix the config originates
  | 'invalid' // 400: the core rejected the arguments
  | 'unavailable'; // 503: the core cannot act now (starting, stopping)

export type ActionResult =
  | { readonly ok: true; readonly detail?: string }
  | { readonly ok: false; readonly error: ActionError; readonly message: string };

export type ReloadResult =
  | { readonly ok: true; readonly changes?: readonly string[] }
  | { readonly ok: false; readonly errors: readonly string[] };

/** RIB figures for metrics (rib_*). */
export interface RibStats {
  /** Loc-RIB prefixes with a best path, per family. */
  readonly routes: Readonly<Record<Family, number>>;
  /** Candidate paths (all Adj-RIB-In entries), per family. */
  readonly paths: Readonly<Record<Family, number>>;
  /** Cumulative count of best-path changes since start. */
  readonly bestPathChanges: number;
  /** Interned attribute sets alive (STYLE.md §6). */
  readonly attributeSets: number;
}

export type FibOp = 'add' | 'replace' | 'delete';
export type FibResult = 'ok' | 'error';

/** FIB figures for metrics (fib_*); all counters cumulative since start. */
export interface FibStats {
  readonly installed: number;
  readonly operations: readonly { readonly op: FibOp; readonly result: FibResult; readonly count: number }[];
  readonly failures: number;
  readonly driftRepairs: number;
  readonly queueDepth: number;
  /**
   * Durations (seconds) of reconcile passes finished since the last call; the
   * metrics module feeds them into a histogram at scrape time, so the daemon
   * hands each one over exactly once.
   */
  drainReconcileDurations(): readonly number[];
}

export interface ApiDeps {
  status(): MaybePromise<ApiStatus>;
  peers(): MaybePromise<readonly ApiPeer[]>;
  /** Undefined when no such peer (address in canonical RFC 5952 text). */
  peer(address: string): MaybePromise<ApiPeer | undefined>;
  /** One page of routes; `query.limit` is always set (validated, defaulted). */
  routes(query: RoutesQuery & { limit: number }): MaybePromise<RoutePage>;
  /** Undefined when the prefix has no candidate path. */
  explain(prefix: string): MaybePromise<ApiExplain | undefined>;
  fib(query: FibQuery & { limit: number }): MaybePromise<ApiFib>;
  /** The running config; the API masks secrets (password, token) itself. */
  config(): MaybePromise<BgpConfig>;

  /** Originate a prefix (canonical text, host bits clear) with optional communities. */
  announce(prefix: string, communities: readonly string[]): MaybePromise<ActionResult>;
  withdraw(prefix: string): MaybePromise<ActionResult>;
  /** Hard reset (Cease / Administrative Reset, RFC 4486) or soft refresh (RFC 2918 in, re-send out). */
  resetPeer(address: string, soft?: 'in' | 'out'): MaybePromise<ActionResult>;
  /** Cease / Administrative Shutdown with an RFC 9003 communication; the peer stays down until enabled. */
  shutdownPeer(address: string, message?: string): MaybePromise<ActionResult>;
  enablePeer(address: string): MaybePromise<ActionResult>;
  /** Re-read the config file and apply it (the same path as SIGHUP). */
  reloadConfig(): MaybePromise<ReloadResult>;

  /** The cluster datastore's state and what it supplied; absent/undefined without a `datastore` key. */
  cluster?(): MaybePromise<ApiCluster | undefined>;

  /** Config loaded, FIB reconciled, configured peers Established or within their grace period. */
  ready(): MaybePromise<ReadyReport>;

  ribStats(): RibStats;
  fibStats(): FibStats;
  /** BFD sessions (GET /api/v1/bfd, bfd_* metrics); absent or undefined when no peer runs BFD. */
  bfd?(): MaybePromise<ApiBfdList | undefined>;
}
