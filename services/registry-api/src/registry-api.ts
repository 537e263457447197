import { ConfigError } from '@boarding/config/env';
import { createDb, type Db } from '@boarding/db/client';
import type { Keyring } from '@boarding/encryption/keyring';
import type { HesVerifier } from '@boarding/hes/verifier';
import type { ShutdownRegistry } from '@boarding/lifecycle/shutdown';
import { withTimeout } from '@boarding/lifecycle/time-limit';
import type { Logger } from '@boarding/logger/logger';
import { createOpsServer, errorCode } from '@boarding/ops-http/ops-server';
import { type ApiClient, authenticateApiKey } from '@boarding/registry/verbs/authenticate-api-key';
import { createStatusPublisher, type StatusPublisher } from '@boarding/status-feed/status-publisher';
import { sql } from 'drizzle-orm';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Counter, collectDefaultMetrics, Histogram, Registry } from 'prom-client';
import { ApiError, installErrorHandling } from './api-error';
import type { RegistryApiEnv } from './env';
import { buildOpenApiDocument } from './openapi';
import { registerPages } from './pages/pages';
import { createRateLimiters, type RateLimits } from './rate-limit';
import type { RouteDefinition, RouteDeps } from './route-definition';
import { ROUTES } from './routes';
import { runRoute } from './run-route';

// A database that holds the connection open but never answers must not hang /readyz: a check that
// is late counts as not ready (pg's pool bounds the connect, not a query on an open connection).
const READY_TIMEOUT_MS = 2000;

/**
 * The API's pool. No query waits without end: the server cancels a statement after
 * `statement_timeout` (57014, transient: 503 DATABASE_UNAVAILABLE); a server that stops answering
 * at all is given up by the client after `query_timeout` (also 503). Either way the citizen gets
 * an answer to retry instead of a request that never ends.
 */
export const REGISTRY_API_POOL = { statement_timeout: 5_000, query_timeout: 8_000 } as const;

export type RegistryApiOptions = {
  db: Db;
  keyring: Keyring;
  logger: Logger;
  bodyLimitBytes: number;
  /** The Ministry's HES service: the HTTP client in main.ts, the in-memory twin in tests. */
  hes: HesVerifier;
  rateLimits: RateLimits;
  now?: () => Date;
  /** The Turkish pages (pages/): the deployment's WEB key for `/`, and Secure on the device cookie. */
  pages?: { webPageKey?: string; cookieSecure?: boolean };
};

/**
 * The registry API as a fastify instance, not listening: /healthz, /readyz, /metrics (the ops
 * server every service has), /openapi.json and the /v1 routes. Tests inject into it.
 */
export function createRegistryApi(options: RegistryApiOptions): FastifyInstance {
  const { db, logger } = options;
  const metrics = new Registry();
  collectDefaultMetrics({ register: metrics });
  // Labels are the route *pattern* and the status: never a URL, which could hold a card number.
  const requests = new Counter({
    name: 'registry_api_requests_total',
    help: 'Requests answered, by route pattern, method and status',
    labelNames: ['route', 'method', 'status'],
    registers: [metrics],
  });
  const duration = new Histogram({
    name: 'registry_api_request_seconds',
    help: 'Time to answer, by route pattern',
    labelNames: ['route'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [metrics],
  });
  const app = createOpsServer({
    registry: metrics,
    ready: async () => {
      try {
        await withTimeout(READY_TIMEOUT_MS, db.execute(sql`select 1`), () =>
          Object.assign(new Error('postgres did not answer'), { code: 'TIMEOUT' }),
        );
        return { ready: true };
      } catch (err) {
        return { ready: false, detail: { postgres: errorCode(err) } };
      }
    },
  });
  installErrorHandling(app, (entry, message) => logger.error(entry, message));
  // JSON only: fastify would hand a text/plain body to the schema as a string (a 400 that hides
  // the real mistake); without the parser it is 415.
  app.removeContentTypeParser('text/plain');
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    requests.inc({ route, method: request.method, status: String(reply.statusCode) });
    duration.observe({ route }, reply.elapsedTime / 1000);
  });

  const document = buildOpenApiDocument(ROUTES);
  app.get('/openapi.json', async () => document);

  const now = options.now ?? (() => new Date());
  const deps: RouteDeps = {
    db,
    keyring: options.keyring,
    now,
    hes: options.hes,
    limits: createRateLimiters(options.rateLimits, { db, keyring: options.keyring }, now),
  };
  for (const route of ROUTES) mountRoute(app, route, deps, options.bodyLimitBytes);
  registerPages(app, deps, {
    webPageKey: options.pages?.webPageKey,
    cookieSecure: options.pages?.cookieSecure ?? false,
    bodyLimitBytes: options.bodyLimitBytes,
    log: (entry, message) => logger.error(entry, message),
  });
  return app;
}

/**
 * Order of checks: the key (401), its channel (403), then the request (400): a caller without
 * the right key learns nothing about what a valid request looks like.
 */
function mountRoute(app: FastifyInstance, route: RouteDefinition, deps: RouteDeps, bodyLimit: number): void {
  app.route({
    method: route.method,
    url: route.url,
    bodyLimit,
    handler: async (request, reply) => {
      const client = await authenticate(request, deps);
      const result = await runRoute(route, { client, body: request.body, params: request.params }, deps);
      reply.code(route.status ?? 200);
      return result;
    },
  });
}

// A key is ~60 characters; anything much longer is not one and is not hashed or looked up.
const BEARER = /^Bearer ([!-~]{1,128})$/;

async function authenticate(request: FastifyRequest, deps: RouteDeps): Promise<ApiClient> {
  const header = request.headers.authorization;
  const key = typeof header === 'string' ? BEARER.exec(header)?.[1] : undefined;
  if (key === undefined) {
    throw new ApiError(401, 'UNAUTHENTICATED', 'send an API key as Authorization: Bearer <key>');
  }
  const client = await authenticateApiKey({ ctx: { db: deps.db }, key });
  // One answer for unknown, wrong and revoked keys: nothing to learn by probing.
  if (client === null) throw new ApiError(401, 'UNAUTHENTICATED', 'unknown or revoked API key');
  return client;
}

/**
 * The service: its pool, the API, the card status relay when Kafka is configured, and their
 * teardown. Registered in start order, stopped in reverse: the HTTP server (stop intake; fastify's
 * close waits for requests in flight) → the status relay (its batch in flight acknowledged, its
 * lock released for a standby) → the PostgreSQL pool.
 */
export function createRegistryApiService(
  env: RegistryApiEnv,
  logger: Logger,
  shutdown: ShutdownRegistry,
  clients: { keyring: Keyring; hes: HesVerifier },
): { app: FastifyInstance; publisher: StatusPublisher | null; start: () => Promise<void> } {
  const { db, pool } = createDb({ url: env.DATABASE_URL, pool: REGISTRY_API_POOL });
  shutdown.register('postgres pool', () => pool.end());
  const app = createRegistryApi({
    db,
    keyring: clients.keyring,
    logger,
    bodyLimitBytes: env.REGISTRY_API_BODY_LIMIT_BYTES,
    hes: clients.hes,
    rateLimits: {
      perKeyPerMinute: env.REGISTRY_API_RATE_PER_KEY_PER_MINUTE,
      perTcPerHour: env.REGISTRY_API_RATE_PER_TC_PER_HOUR,
    },
    pages: { webPageKey: env.REGISTRY_API_WEB_PAGE_KEY, cookieSecure: env.REGISTRY_API_COOKIE_SECURE },
  });
  const brokers = env.KAFKA_BROKERS;
  const publisher =
    brokers === undefined
      ? null
      : createStatusPublisher({
          pool,
          db,
          brokers,
          clientId: `${env.KAFKA_CLIENT_ID}-registry-api`,
          logger,
          topic: env.STATUS_TOPIC,
          partitions: env.STATUS_TOPIC_PARTITIONS,
        });
  if (publisher) shutdown.register('status relay', () => publisher.stop());
  shutdown.register('http server', () => app.close());
  return {
    app,
    publisher,
    start: async () => {
      // A page key that is unknown, revoked or not a WEB key is refused at start, once, rather than
      // answering every visit to / with 503 and a log line (it is still checked on every use, so
      // revoking it later stops the page at once).
      const pageKey = env.REGISTRY_API_WEB_PAGE_KEY;
      if (pageKey !== undefined) {
        const client = await authenticateApiKey({ ctx: { db }, key: pageKey });
        if (client?.channel !== 'WEB') {
          throw new ConfigError([
            'REGISTRY_API_WEB_PAGE_KEY: not a valid, unrevoked WEB key (boarding apikey list)',
          ]);
        }
      }
      const address = await app.listen({ host: env.REGISTRY_API_HOST, port: env.REGISTRY_API_PORT });
      logger.info({ address }, 'registry API listening');
      if (publisher) publisher.startInBackground();
      else logger.info('status relay not run here (KAFKA_BROKERS unset): run boarding serve status-relay');
    },
  };
}
