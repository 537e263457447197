import Fastify, { type FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';

/**
 * The operations endpoints every service has: /healthz (the process is alive), /readyz (its
 * dependencies answer: 503 otherwise) and /metrics (Prometheus). Created apart from listen()
 * so tests can inject requests without a port.
 */
export function createOpsServer(options: {
  registry: Registry;
  ready: () => Promise<{ ready: boolean; detail?: Record<string, unknown> }>;
}): FastifyInstance {
  const app = Fastify({ logger: false });
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    // Never the error's text: it can hold a connection string, a host or a query. Its code
    // (ECONNREFUSED, 57P03, KAFKA_TOPIC_MISSING …) says enough; the service's log has the rest.
    const state = await options.ready().catch((err: unknown) => ({
      ready: false,
      detail: { error: errorCode(err) },
    }));
    return reply
      .code(state.ready ? 200 : 503)
      .send({ status: state.ready ? 'ready' : 'not ready', ...state.detail });
  });
  app.get('/metrics', async (_req, reply) =>
    reply.header('content-type', options.registry.contentType).send(await options.registry.metrics()),
  );
  return app;
}

/** A short, safe name for why a check failed: the error's code if it has a plain one. */
export function errorCode(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[A-Za-z0-9_.-]{1,64}$/.test(code) ? code : 'CHECK_FAILED';
}
