// GET /api/v1/cluster: where the node's cluster config comes from and what it
// supplied. 404 when the daemon runs without a `datastore` key.

import type { FastifyPluginAsync } from 'fastify';
import type { ApiDeps } from '../deps.js';
import { ClusterSchema } from '../cluster-schema.js';
import { ErrorSchema } from '../schemas.js';

export const clusterRoutes: FastifyPluginAsync<{ deps: ApiDeps }> = async (app, { deps }) => {
  app.get('/cluster', { schema: { response: { 200: ClusterSchema, 404: ErrorSchema } } }, async (_req, reply) => {
    const view = await deps.cluster?.();
    if (view === undefined) return reply.code(404).send({ error: 'not-found', message: 'no datastore configured (config key datastore)' });
    return view;
  });
};
