// The HTTP API (DESIGN.md, "The contract"): fastify, JSON with TypeBox schemas,
// built without listening (STYLE.md §12) so tests drive it with inject().
// Route groups are encapsulated plugins under routes/. Every error leaves as
// a 4xx/5xx with `{error, message}`; a bad request is rejected before it
// reaches the core, so it never affects routing state. startApi() is what
// the daemon calls: it binds `api.listen` and returns a close function.

import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyInstance } from 'fastify';
import type { Logger } from '../lib/log.js';
import { configFormats } from '../config/formats.js';
import type { BgpConfig } from '../config/schema.js';
import { parseListen, writeGuard } from './auth.js';
import type { ApiDeps } from './deps.js';
import { createMetrics, type BgpMetrics, type MetricsOptions } from './metrics.js';
import { clusterRoutes } from './routes/cluster.js';
import { bfdRoutes } from './routes/bfd.js';
import { controlRoutes } from './routes/control.js';
import { healthRoutes } from './routes/health.js';
import { metricsRoutes } from './routes/metrics.js';
import { readRoutes } from './routes/read.js';

export interface ApiOptions {
  /** `api.listen` ("127.0.0.1:9179", "[::]:9179", "none"): decides whether writes need the token. Default loopback. */
  readonly listen?: string;
  /** `api.token` (the config loader has already read `api.tokenFile` into it). */
  readonly token?: string;
  readonly logger?: Logger;
  /** Share one metrics registry (e.g. the daemon's); else buildApi creates one. */
  readonly metrics?: BgpMetrics;
  readonly metricsOptions?: MetricsOptions;
}

/** Builds the API without listening. The instance owns a metrics registry unless one was given. */
export async function buildApi(deps: ApiDeps, opts: ApiOptions = {}): Promise<FastifyInstance> {
  const listen = parseListen(opts.listen ?? '127.0.0.1:9179');
  const guard = writeGuard(listen?.host, opts.token);
  const app: FastifyInstance = Fastify({
    ...(opts.logger ? { loggerInstance: opts.logger as FastifyBaseLogger } : {}),
    // Requests are not logged one by one; errors and refused writes are.
    logController: new LogController({ disableRequestLogging: true }),
    // Bodies are tiny ({prefix, communities}); refuse anything larger early.
    bodyLimit: 64 * 1024,
    ajv: {
      customOptions: { coerceTypes: 'array', removeAdditional: false, useDefaults: true, allErrors: false },
      // The config schema's string formats ('ip', 'ipv4', 'prefix'), same parsers as the config loader.
      plugins: [addConfigFormats as never],
    },
  });

  const metrics = opts.metrics ?? createMetrics(deps, opts.metricsOptions);
  if (!opts.metrics) app.addHook('onClose', async () => metrics.close());

  app.setErrorHandler((err: FastifyError, request, reply) => {
    if (err.validation) return reply.code(400).send({ error: 'bad-request', message: `${err.validationContext ?? 'request'} ${err.validation[0]?.instancePath ?? ''}: ${err.validation[0]?.message ?? err.message}`.replace(/ :/, ':') });
    const status = err.statusCode ?? 500;
    if (status < 500) return reply.code(status).send({ error: errorName(status), message: err.message });
    request.log.error({ event: 'api-error', err, url: request.url }, 'API handler failed');
    return reply.code(500).send({ error: 'internal', message: 'internal error; see the daemon log' });
  });
  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send({ error: 'not-found', message: `no route ${request.method} ${request.url.split('?')[0]}` }),
  );

  await app.register(healthRoutes, { deps });
  await app.register(metricsRoutes, { registry: metrics.registry });
  await app.register(readRoutes, { deps, prefix: '/api/v1' });
  await app.register(clusterRoutes, { deps, prefix: '/api/v1' });
  await app.register(bfdRoutes, { deps, prefix: '/api/v1' });
  await app.register(controlRoutes, { deps, guard, prefix: '/api/v1' });
  return app;
}

/** An ajv plugin: the config schema's string formats, with the config loader's own parsers. */
function addConfigFormats(ajv: { addFormat(name: string, check: (text: string) => boolean): unknown }) {
  for (const [name, check] of Object.entries(configFormats)) ajv.addFormat(name, check);
  return ajv;
}

function errorName(status: number): string {
  switch (status) {
    case 400: return 'bad-request';
    case 401: return 'unauthorized';
    case 404: return 'not-found';
    case 405: return 'method-not-allowed';
    case 409: return 'conflict';
    case 413: return 'payload-too-large';
    case 415: return 'unsupported-media-type';
    default: return status < 500 ? 'bad-request' : 'internal';
  }
}

export interface RunningApi {
  readonly app: FastifyInstance;
  /** The bound address, e.g. "http://127.0.0.1:9179". */
  readonly url: string;
  close(): Promise<void>;
}

/** Builds and binds the API per `config.api`; undefined when `api.listen` is "none". */
export async function startApi(
  deps: ApiDeps,
  api: BgpConfig['api'],
  opts: Omit<ApiOptions, 'listen' | 'token'> = {},
): Promise<RunningApi | undefined> {
  const listen = parseListen(api.listen);
  if (!listen) return undefined;
  const app = await buildApi(deps, { ...opts, listen: api.listen, token: api.token });
  try {
    await app.listen({ host: listen.host, port: listen.port });
  } catch (err) {
    await app.close();
    throw err;
  }
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : listen.port;
  const host = listen.host.includes(':') ? `[${listen.host}]` : listen.host;
  return { app, url: `http://${host}:${port}`, close: () => app.close() };
}
