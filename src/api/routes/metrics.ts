// GET /metrics: the daemon's own prom-client Registry in the Prometheus text
// exposition format (version 0.0.4). The series themselves are defined and
// pulled in ../metrics.ts.

import type { FastifyPluginAsync } from 'fastify';
import type { Registry } from 'prom-client';

export const metricsRoutes: FastifyPluginAsync<{ registry: Registry }> = async (app, { registry }) => {
  app.get('/metrics', async (_req, reply) => {
    const text = await registry.metrics();
    return reply.type(registry.contentType).send(text);
  });
};
