// Liveness and readiness for Kubernetes probes and load balancers.
// /healthz answers 200 while the process serves HTTP at all; /readyz asks the
// core whether the config is loaded, the FIB reconciled and every configured
// peer Established or still within its grace period, and answers 200 or 503
// with the reasons it is not ready. A FIB in dry run does not hold readiness
// back (it is asked for, or the process is unprivileged) but is said in `notes`.

import type { FastifyPluginAsync } from 'fastify';
import type { ApiDeps } from '../deps.js';
import { ErrorSchema, HealthSchema, ReadySchema } from '../schemas.js';

export const healthRoutes: FastifyPluginAsync<{ deps: ApiDeps }> = async (app, { deps }) => {
  const started = Date.now();

  app.get('/healthz', { schema: { response: { 200: HealthSchema } } }, async () => ({
    status: 'ok' as const,
    uptimeSeconds: Math.round((Date.now() - started) / 1000),
  }));

  app.get('/readyz', { schema: { response: { 200: ReadySchema, 503: ReadySchema, 500: ErrorSchema } } }, async (_req, reply) => {
    const report = await deps.ready();
    const fib = deps.fibStats();
    const notes = [...(report.notes ?? []), ...(fib.mode === 'dry-run' ? [`the FIB is in dry run (${fib.reason ?? 'asked for'}): kernel routes are not written`] : [])];
    return reply.code(report.ready ? 200 : 503).send({ ...report, ...(notes.length > 0 ? { notes } : {}) });
  });
};
