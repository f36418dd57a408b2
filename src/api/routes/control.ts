// Write endpoints under /api/v1: originate and withdraw a prefix, reset a
// peer (hard: Cease / Administrative Reset, RFC 4486 §4; soft: RFC 2918
// ROUTE-REFRESH in, re-advertise out), administratively shut it down with an
// RFC 9003 shutdown communication and enable it again, reload the config.
// A peer is named by its address or its description (read.ts resolvePeer).
// The API only asks the core (ApiDeps) to act. Every route here is a write,
// so the plugin's onRequest hook applies the bearer-token guard (auth.ts).

import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import type { WriteGuard } from '../auth.js';
import type { ActionError, ActionResult, ApiDeps } from '../deps.js';
import {
  ActionResponseSchema,
  AnnounceBodySchema,
  ErrorSchema,
  PeerParamsSchema,
  PrefixParamsSchema,
  ReloadResponseSchema,
  ResetBodySchema,
  ShutdownBodySchema,
} from '../schemas.js';
import { badRequest, parsePrefixOrAddress, resolvePeer } from './read.js';

const STATUS: Record<ActionError, number> = { 'not-found': 404, conflict: 409, invalid: 400, unavailable: 503 };

function reply(res: FastifyReply, result: ActionResult) {
  if (result.ok) return res.code(200).send(result.detail === undefined ? { ok: true } : { ok: true, detail: result.detail });
  return res.code(STATUS[result.error]).send({ error: result.error, message: result.message });
}

export const controlRoutes: FastifyPluginAsync<{ deps: ApiDeps; guard: WriteGuard }> = async (app, { deps, guard }) => {
  app.addHook('onRequest', async (req, res) => {
    const verdict = guard.check(req.headers.authorization);
    if (!verdict.ok) {
      req.log.warn({ event: 'api-unauthorized', method: req.method, url: req.url, remote: req.ip }, verdict.message);
      return res.code(401).header('www-authenticate', 'Bearer').send({ error: 'unauthorized', message: verdict.message });
    }
  });
  // A POST without a body means "no options".
  app.addHook('preValidation', async (req) => {
    if (req.body === undefined || req.body === null) req.body = {};
  });

  const errors = { 400: ErrorSchema, 401: ErrorSchema, 404: ErrorSchema, 409: ErrorSchema, 503: ErrorSchema };
  const action = { 200: ActionResponseSchema, ...errors };

  app.post<{ Body: { prefix: string; communities?: string[] } }>(
    '/announcements',
    { schema: { body: AnnounceBodySchema, response: action } },
    async (req, res) => {
      const parsed = parsePrefixOrAddress(req.body.prefix);
      if (!parsed.ok || parsed.host) return badRequest(res, `prefix: ${parsed.ok ? `"${req.body.prefix}" is an address; write the prefix (${parsed.prefix})` : parsed.message}`);
      return reply(res, await deps.announce(parsed.prefix, req.body.communities ?? []));
    },
  );

  app.delete<{ Params: { prefix: string } }>(
    '/announcements/:prefix',
    { schema: { params: PrefixParamsSchema, response: action } },
    async (req, res) => {
      const parsed = parsePrefixOrAddress(req.params.prefix);
      if (!parsed.ok || parsed.host) return badRequest(res, `prefix: ${parsed.ok ? `"${req.params.prefix}" is an address, not a prefix` : parsed.message}`);
      return reply(res, await deps.withdraw(parsed.prefix));
    },
  );

  app.post<{ Params: { address: string }; Body: { soft?: 'in' | 'out' } }>(
    '/peers/:address/reset',
    { schema: { params: PeerParamsSchema, body: ResetBodySchema, response: action } },
    async (req, res) => {
      const peer = await resolvePeer(deps, req.params.address);
      return peer.ok ? reply(res, await deps.resetPeer(peer.address, req.body.soft)) : res.code(404).send({ error: 'not-found', message: peer.message });
    },
  );

  app.post<{ Params: { address: string }; Body: { message?: string } }>(
    '/peers/:address/shutdown',
    { schema: { params: PeerParamsSchema, body: ShutdownBodySchema, response: action } },
    async (req, res) => {
      const message = req.body.message;
      // RFC 9003 §2: the length octet counts UTF-8 bytes, at most 255.
      if (message !== undefined && Buffer.byteLength(message, 'utf8') > 255)
        return badRequest(res, 'message: the shutdown communication is limited to 255 octets of UTF-8 (RFC 9003)');
      const peer = await resolvePeer(deps, req.params.address);
      if (!peer.ok) return res.code(404).send({ error: 'not-found', message: peer.message });
      return reply(res, await deps.shutdownPeer(peer.address, message));
    },
  );

  app.post<{ Params: { address: string } }>(
    '/peers/:address/enable',
    { schema: { params: PeerParamsSchema, response: action } },
    async (req, res) => {
      const peer = await resolvePeer(deps, req.params.address);
      return peer.ok ? reply(res, await deps.enablePeer(peer.address)) : res.code(404).send({ error: 'not-found', message: peer.message });
    },
  );

  app.post('/config/reload', { schema: { response: { 200: ReloadResponseSchema, 422: ErrorSchema, ...errors } } }, async (_req, res) => {
    const result = await deps.reloadConfig();
    if (result.ok) return result.changes === undefined ? { ok: true as const } : { ok: true as const, changes: [...result.changes] };
    return res.code(422).send({ error: 'config-invalid', message: 'config reload rejected; the running config is unchanged', errors: [...result.errors] });
  });
};
