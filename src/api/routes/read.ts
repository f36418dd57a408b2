// Read-only endpoints under /api/v1: status, peers, routes (filtered and
// paginated for a million-route table), the decision explained for one
// prefix, the FIB, and the running config with secrets masked. Text the
// user typed (prefixes, addresses) is checked and canonicalised here (RFC 5952
// for IPv6, RFC 4632 §3.1 host bits clear) before the core sees it; a peer
// may be named by its address or its description (resolvePeer).

import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import { canonicalIp, maskedPrefix } from '../../config/formats.js';
import { prefixFamily, prefixParse, prefixToString } from '../../lib/prefix.js';
import type { ApiDeps } from '../deps.js';
import {
  ConfigResponseSchema,
  ErrorSchema,
  ExplainSchema,
  FibQuerySchema,
  FibSchema,
  PeerListSchema,
  PeerParamsSchema,
  PeerSchema,
  PrefixParamsSchema,
  RoutePageSchema,
  RoutesQuerySchema,
  ROUTES_DEFAULT_LIMIT,
  StatusSchema,
  type FibQuery,
  type RoutesQuery,
} from '../schemas.js';

/** Keys whose values never leave the daemon. */
const SECRET_KEYS = new Set(['password', 'token']);
export const MASK = '********';

/** A deep copy of the config with every `password` and `token` value replaced by MASK. */
export function maskSecrets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(maskSecrets);
  if (value === null || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = SECRET_KEYS.has(k) && v !== undefined ? MASK : maskSecrets(v);
  return out;
}

export type ParsedPrefix = { ok: true; prefix: string; host: boolean } | { ok: false; message: string };

/** A prefix ("10.244.1.0/26") or a bare address (as a host prefix, host: true), canonicalised. */
export function parsePrefixOrAddress(text: string): ParsedPrefix {
  if (!text.includes('/')) {
    const addr = canonicalIp(text);
    if (addr === undefined) return { ok: false, message: `"${text}" is neither a prefix nor an address` };
    return { ok: true, prefix: `${addr}/${addr.includes(':') ? 128 : 32}`, host: true };
  }
  const key = prefixParse(text);
  if (key !== undefined) return { ok: true, prefix: prefixToString(key), host: false };
  const meant = maskedPrefix(text);
  return { ok: false, message: meant ? `"${text}" has host bits set; did you mean ${meant}?` : `"${text}" is not a prefix` };
}

export type ResolvedPeer = { ok: true; address: string } | { ok: false; message: string };

/**
 * A peer named by its address (any RFC 5952 spelling) or by its description,
 * as `bgp-ts peers` shows it. A description two peers share is refused.
 */
export async function resolvePeer(deps: ApiDeps, text: string): Promise<ResolvedPeer> {
  const address = canonicalIp(text);
  if (address !== undefined) return { ok: true, address };
  const named = (await deps.peers()).filter((p) => p.description === text);
  if (named.length === 1) return { ok: true, address: named[0]!.address };
  if (named.length > 1) return { ok: false, message: `"${text}" names ${named.length} peers (${named.map((p) => p.address).join(', ')}); give the address` };
  return { ok: false, message: `no peer "${text}": neither an address nor the description of a peer` };
}

export function badRequest(reply: FastifyReply, message: string) {
  return reply.code(400).send({ error: 'bad-request', message });
}

export const readRoutes: FastifyPluginAsync<{ deps: ApiDeps }> = async (app, { deps }) => {
  const errors = { 400: ErrorSchema, 404: ErrorSchema };

  app.get('/status', { schema: { response: { 200: StatusSchema } } }, async () => deps.status());

  app.get('/peers', { schema: { response: { 200: PeerListSchema } } }, async () => ({ peers: await deps.peers() }));

  app.get<{ Params: { address: string } }>(
    '/peers/:address',
    { schema: { params: PeerParamsSchema, response: { 200: PeerSchema, ...errors } } },
    async (req, reply) => {
      const resolved = await resolvePeer(deps, req.params.address);
      if (!resolved.ok) return reply.code(404).send({ error: 'not-found', message: resolved.message });
      const peer = await deps.peer(resolved.address);
      if (!peer) return reply.code(404).send({ error: 'not-found', message: `no peer ${resolved.address}` });
      return peer;
    },
  );

  app.get<{ Querystring: RoutesQuery }>(
    '/routes',
    { schema: { querystring: RoutesQuerySchema, response: { 200: RoutePageSchema, ...errors } } },
    async (req, reply) => {
      const q = { ...req.query, limit: req.query.limit ?? ROUTES_DEFAULT_LIMIT };
      if (q.prefix !== undefined) {
        const parsed = parsePrefixOrAddress(q.prefix);
        if (!parsed.ok) return badRequest(reply, `prefix: ${parsed.message}`);
        q.prefix = parsed.prefix;
        q.match ??= parsed.host ? 'longest' : 'exact';
        const family = prefixFamily(prefixParse(parsed.prefix)!);
        if (q.family !== undefined && q.family !== family) return badRequest(reply, `prefix ${parsed.prefix} is not ${q.family}`);
      } else if (q.match !== undefined) {
        return badRequest(reply, 'match needs a prefix');
      }
      if (q.peer !== undefined && q.peer !== 'local') {
        const peer = canonicalIp(q.peer);
        if (peer === undefined) return badRequest(reply, `peer: "${q.peer}" is not an address (or "local")`);
        q.peer = peer;
      }
      return deps.routes(q);
    },
  );

  app.get<{ Params: { prefix: string } }>(
    '/routes/:prefix/explain',
    { schema: { params: PrefixParamsSchema, response: { 200: ExplainSchema, ...errors } } },
    async (req, reply) => {
      const parsed = parsePrefixOrAddress(req.params.prefix);
      if (!parsed.ok || parsed.host) return badRequest(reply, `prefix: ${parsed.ok ? `"${req.params.prefix}" is an address; give a prefix such as ${parsed.prefix} (URL-encode the "/" as %2F)` : parsed.message}`);
      const result = await deps.explain(parsed.prefix);
      if (!result) return reply.code(404).send({ error: 'not-found', message: `no path for ${parsed.prefix}` });
      return result;
    },
  );

  app.get<{ Querystring: FibQuery }>(
    '/fib',
    { schema: { querystring: FibQuerySchema, response: { 200: FibSchema, ...errors } } },
    async (req) => deps.fib({ ...req.query, limit: req.query.limit ?? ROUTES_DEFAULT_LIMIT }),
  );

  app.get('/config', { schema: { response: { 200: ConfigResponseSchema } } }, async () => maskSecrets(await deps.config()));
};
