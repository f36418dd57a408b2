// GET /api/v1/bfd: every BFD session (RFC 5880 asynchronous mode, RFC 5881
// single hop) with its state, diagnostic, negotiated intervals, detection time
// and counters, plus the datagrams dropped by reason. An empty list when no
// peer runs BFD.

import type { FastifyPluginAsync } from 'fastify';
import type { ApiDeps } from '../deps.js';
import { BfdListSchema } from '../bfd-schemas.js';
import { ErrorSchema } from '../schemas.js';

export const bfdRoutes: FastifyPluginAsync<{ deps: ApiDeps }> = async (app, { deps }) => {
  app.get('/bfd', { schema: { response: { 200: BfdListSchema, 500: ErrorSchema } } }, async () => {
    const list = await deps.bfd?.();
    const sessions = [...(list?.sessions ?? [])].sort((a, b) => a.peer.localeCompare(b.peer));
    const dropped = Object.fromEntries(Object.entries(list?.dropped ?? {}).filter((e): e is [string, number] => e[1] !== undefined));
    return { sessions, received: list?.received ?? 0, dropped };
  });
};
