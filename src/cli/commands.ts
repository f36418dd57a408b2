// The command line's API subcommands (DESIGN.md, "The contract": bgp-ts
// peers|routes|explain|announce|withdraw|reset ... --api URL). Each is a row
// in the CLI's command table (src/cli.ts) that calls the HTTP API through
// client.ts and prints a human table (tables.ts) or, with --json, the API's
// own JSON. Failures map to the exit codes in EXIT: the API's 4xx/5xx -> 1,
// bad arguments -> 2, no daemon answering -> 3.

import { parseArgs } from 'node:util';
import type { CliIo } from './io.js';
import { ApiError, apiClient, DEFAULT_API_URL, segment, UnreachableError, type ApiClient } from './client.js';
import type { ApiExplain, ApiFib, ApiPeer, ApiRoute, ApiStatus, RoutePage } from '../api/schemas.js';
import type { ApiCluster } from '../api/cluster-schema.js';
import { formatCluster } from './cluster-table.js';
import { formatExplain, formatFib, formatPeer, formatPeers, formatRoutes, formatStatus } from './tables.js';
import { formatExplainAttributes, formatRouteDetail } from './route-detail.js';
import { formatBfd } from './bfd-table.js';
import type { ApiBfdList } from '../api/bfd-schemas.js';

/** Exit codes scripts can rely on (printed by `bgp-ts --help`). */
export const EXIT = { ok: 0, failure: 1, usage: 2, unreachable: 3 } as const;

export class UsageError extends Error {}

export interface Command {
  /** One or two words: "daemon", "config check". */
  readonly name: string;
  readonly args: string;
  readonly summary: string;
  /** Talks to the HTTP API (takes --api, --token, --json). */
  readonly api?: boolean;
  run(argv: string[], io: CliIo): Promise<number>;
}

export type OptionSpec = Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }>;

/** Parses one subcommand's options; `positionals` is the exact count wanted, or [min, max]. */
export function parse(argv: string[], options: OptionSpec, positionals: number | readonly [number, number]) {
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const [min, max] = typeof positionals === 'number' ? [positionals, positionals] : positionals;
  const n = parsed.positionals.length;
  if (n > max) throw new UsageError(`unexpected argument "${parsed.positionals[max]}"`);
  if (n < min) throw new UsageError(`expected ${min === max ? min : `at least ${min}`} argument(s)`);
  return parsed;
}

export const API_OPTIONS_HELP = [
  'API commands take:',
  `  --api URL     the daemon's API (default ${DEFAULT_API_URL}, or env BGP_TS_API)`,
  '  --token T     bearer token for writes when the API is bound beyond loopback (or env BGP_TS_TOKEN)',
  "  --json        print the API's JSON instead of a table",
  '',
].join('\n');

const API_OPTIONS: OptionSpec = { api: { type: 'string' }, token: { type: 'string' }, json: { type: 'boolean' } };

interface Ctx {
  readonly client: ApiClient;
  readonly json: boolean;
  readonly positionals: string[];
  readonly values: Record<string, string | boolean | (string | boolean)[] | undefined>;
  readonly io: CliIo;
}

/** Wraps a handler with option parsing, the API client and the exit-code mapping. */
function apiCommand(
  name: string,
  args: string,
  summary: string,
  options: OptionSpec,
  positionals: number | readonly [number, number],
  handler: (ctx: Ctx) => Promise<void>,
): Command {
  return {
    name,
    args: `${args}${args ? ' ' : ''}[--json]`.trim(),
    summary,
    api: true,
    run: async (argv, io) => {
      const { values, positionals: pos } = parse(argv, { ...API_OPTIONS, ...options }, positionals);
      const env = io.env ?? process.env;
      const baseUrl = (values.api as string | undefined) ?? env.BGP_TS_API ?? DEFAULT_API_URL;
      if (!/^https?:\/\/[^/]+/.test(baseUrl)) throw new UsageError(`--api must be an http(s) URL, got "${baseUrl}"`);
      const token = (values.token as string | undefined) ?? env.BGP_TS_TOKEN;
      const client = apiClient({ baseUrl, ...(token ? { token } : {}), ...(io.fetch ? { fetch: io.fetch } : {}) });
      try {
        await handler({ client, json: values.json === true, positionals: pos, values, io });
        return EXIT.ok;
      } catch (err) {
        if (err instanceof UnreachableError) {
          io.err(`bgp-ts ${name}: ${err.message}\n`);
          return EXIT.unreachable;
        }
        if (err instanceof ApiError) {
          io.err(`bgp-ts ${name}: ${err.message} (HTTP ${err.status} ${err.error})\n`);
          for (const line of err.details) io.err(`  ${line}\n`);
          return EXIT.failure;
        }
        throw err;
      }
    },
  };
}

const print = (ctx: Ctx, body: unknown, human: () => string) => ctx.io.out(ctx.json ? `${JSON.stringify(body, null, 2)}\n` : human());
const done = (ctx: Ctx, body: { ok: true; detail?: string }, what: string) => print(ctx, body, () => `${what}${body.detail ? `: ${body.detail}` : ''}\n`);
const str = (v: unknown) => v as string | undefined;

function positiveInt(text: string | undefined, option: string): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`${option} must be a positive integer`);
  return n;
}

function oneOf<T extends string>(text: string | undefined, option: string, allowed: readonly T[]): T | undefined {
  if (text === undefined) return undefined;
  if (!(allowed as readonly string[]).includes(text)) throw new UsageError(`${option} must be one of ${allowed.join(', ')}`);
  return text as T;
}

/** Largest page the API serves (schemas.ts ROUTES_MAX_LIMIT); the CLI follows cursors. */
const PAGE = 1000;

export const API_COMMANDS: readonly Command[] = [
  apiCommand('status', '', 'router ID, AS, uptime, version, peer/route/FIB counts', {}, 0, async (ctx) => {
    const s = await ctx.client.get<ApiStatus>('/api/v1/status');
    print(ctx, s, () => formatStatus(s));
  }),
  apiCommand('peers', '', 'every peer: name, address, ASN, state, uptime, prefixes rx/acc/adv, last error', {}, 0, async (ctx) => {
    const { peers } = await ctx.client.get<{ peers: ApiPeer[] }>('/api/v1/peers');
    print(ctx, { peers }, () => formatPeers(peers));
  }),
  apiCommand('bfd', '', 'BFD sessions: peer, state, diagnostic, uptime, negotiated tx/rx, detection time, flaps', {}, 0, async (ctx) => {
    const list = await ctx.client.get<ApiBfdList>('/api/v1/bfd');
    print(ctx, list, () => formatBfd(list));
  }),
  apiCommand('peer', 'ADDRESS|NAME', 'one peer in detail (by address or description): capabilities, hold and restart timers, last NOTIFICATION, counters', {}, 1, async (ctx) => {
    const p = await ctx.client.get<ApiPeer>(`/api/v1/peers/${segment(ctx.positionals[0]!)}`);
    print(ctx, p, () => formatPeer(p));
  }),
  apiCommand(
    'routes',
    '[PREFIX|ADDRESS] [--family F] [--peer P] [--best] [--match exact|longest|subnets] [--limit N] [--detail]',
    'paths in the RIB; an ADDRESS finds the longest match; follows pages up to --limit; --detail: every attribute',
    { family: { type: 'string' }, peer: { type: 'string' }, best: { type: 'boolean' }, match: { type: 'string' }, limit: { type: 'string' }, detail: { type: 'boolean' } },
    [0, 1],
    async (ctx) => {
      const limit = positiveInt(str(ctx.values.limit), '--limit') ?? Infinity;
      const family = oneOf(str(ctx.values.family), '--family', ['ipv4-unicast', 'ipv6-unicast']);
      const match = oneOf(str(ctx.values.match), '--match', ['exact', 'longest', 'subnets']);
      const routes: ApiRoute[] = [];
      let cursor: string | undefined;
      do {
        const page: RoutePage = await ctx.client.get<RoutePage>('/api/v1/routes', {
          prefix: ctx.positionals[0],
          match,
          family,
          peer: str(ctx.values.peer),
          best: ctx.values.best === true ? true : undefined,
          cursor,
          limit: Math.min(PAGE, limit - routes.length),
        });
        routes.push(...page.routes);
        cursor = page.nextCursor;
      } while (cursor !== undefined && routes.length < limit);
      const text = ctx.values.detail === true ? formatRouteDetail : formatRoutes;
      print(ctx, cursor === undefined ? { routes } : { routes, nextCursor: cursor }, () => text(routes) + (cursor ? `(more routes; raise --limit)\n` : ''));
    },
  ),
  apiCommand('explain', 'PREFIX', 'every candidate path for PREFIX and the decision step that chose the best, in words', {}, 1, async (ctx) => {
    const e = await ctx.client.get<ApiExplain>(`/api/v1/routes/${segment(ctx.positionals[0]!)}/explain`);
    print(ctx, e, () => formatExplain(e) + formatExplainAttributes(e));
  }),
  apiCommand(
    'fib',
    '[--state installed|pending|failed|would-install] [--limit N] [--cursor C]',
    'kernel routes: installed, pending and failed (in dry run: would-install)',
    { state: { type: 'string' }, limit: { type: 'string' }, cursor: { type: 'string' } },
    0,
    async (ctx) => {
      const f = await ctx.client.get<ApiFib>('/api/v1/fib', {
        state: oneOf(str(ctx.values.state), '--state', ['installed', 'pending', 'failed', 'would-install']),
        limit: positiveInt(str(ctx.values.limit), '--limit'),
        cursor: str(ctx.values.cursor),
      });
      print(ctx, f, () => formatFib(f));
    },
  ),
  apiCommand(
    'announce',
    'PREFIX [--community C]...',
    'originate PREFIX (communities "aa:nn" or large "aa:nn:mm")',
    { community: { type: 'string', multiple: true } },
    1,
    async (ctx) => {
      const communities = (ctx.values.community as string[] | undefined) ?? [];
      const body = await ctx.client.send<{ ok: true; detail?: string }>('POST', '/api/v1/announcements', {
        prefix: ctx.positionals[0],
        ...(communities.length ? { communities } : {}),
      });
      done(ctx, body, `announced ${ctx.positionals[0]}`);
    },
  ),
  apiCommand('withdraw', 'PREFIX', 'withdraw a prefix announced through the API', {}, 1, async (ctx) => {
    const body = await ctx.client.send<{ ok: true; detail?: string }>('DELETE', `/api/v1/announcements/${segment(ctx.positionals[0]!)}`);
    done(ctx, body, `withdrew ${ctx.positionals[0]}`);
  }),
  apiCommand(
    'reset',
    'PEER [--soft in|out]',
    'reset a session (Cease / Administrative Reset), or soft-refresh it: in (re-run import policy over the kept Adj-RIB-In) or out (re-send our routes)',
    { soft: { type: 'string' } },
    1,
    async (ctx) => {
      const soft = oneOf(str(ctx.values.soft), '--soft', ['in', 'out']);
      const body = await ctx.client.send<{ ok: true; detail?: string }>('POST', `/api/v1/peers/${segment(ctx.positionals[0]!)}/reset`, soft ? { soft } : {});
      done(ctx, body, soft ? `soft reset ${soft} ${ctx.positionals[0]}` : `reset ${ctx.positionals[0]}`);
    },
  ),
  apiCommand(
    'shutdown',
    'PEER [--message TEXT]',
    'administratively shut a peer down (RFC 9003 message, up to 255 octets); it stays down until enabled',
    { message: { type: 'string', short: 'm' } },
    1,
    async (ctx) => {
      const message = str(ctx.values.message);
      const body = await ctx.client.send<{ ok: true; detail?: string }>('POST', `/api/v1/peers/${segment(ctx.positionals[0]!)}/shutdown`, message ? { message } : {});
      done(ctx, body, `shut down ${ctx.positionals[0]}`);
    },
  ),
  apiCommand('enable', 'PEER', 'enable a peer shut down by `bgp-ts shutdown`', {}, 1, async (ctx) => {
    const body = await ctx.client.send<{ ok: true; detail?: string }>('POST', `/api/v1/peers/${segment(ctx.positionals[0]!)}/enable`);
    done(ctx, body, `enabled ${ctx.positionals[0]}`);
  }),
  apiCommand('config reload', '', "re-read the daemon's config file (like SIGHUP); prints the changes or the errors", {}, 0, async (ctx) => {
    const body = await ctx.client.send<{ ok: true; changes?: string[] }>('POST', '/api/v1/config/reload');
    print(ctx, body, () => `config reloaded${body.changes?.length ? `:\n${body.changes.map((c) => `  ${c}\n`).join('')}` : ' (no changes)\n'}`);
  }),
  apiCommand('cluster', '', 'the cluster datastore: connected or unreachable since, revision, and what it supplied (node, blocks, pools, mesh, BGPPeers)', {}, 0, async (ctx) => {
    const c = await ctx.client.get<ApiCluster>('/api/v1/cluster');
    print(ctx, c, () => formatCluster(c));
  }),
];
