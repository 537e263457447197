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
    const state = await options.ready().catch((err: unknown) => ({
      ready: false,
      detail: { error: (err as Error).message },
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
