import { withTimeout } from '@boarding/lifecycle/time-limit';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';

/** How long /metrics waits for `extraMetrics` before serving the registry without it. */
export const EXTRA_METRICS_TIMEOUT_MS = 2000;

/**
 * How long /readyz waits for the service's checks: a dependency that accepts connections but does
 * not answer (a hung server) is "not ready" (`READY_CHECK_TIMEOUT`), not a request that hangs.
 */
export const READY_TIMEOUT_MS = 5000;

/**
 * The operations endpoints every service has: /healthz (the process is alive), /readyz (its
 * dependencies answer, within `readyTimeoutMs`: 503 otherwise) and /metrics (Prometheus).
 * Created apart from listen() so tests can inject requests without a port.
 *
 * `extraMetrics`: Prometheus text from outside the registry (BullMQ's own queue counts),
 * appended to /metrics. It is bounded by `extraMetricsTimeoutMs` and skipped when it fails or
 * is late: the registry's metrics (and the alerts built on them) must not go dark because the
 * dependency the extra text comes from is away.
 */
export function createOpsServer(options: {
  registry: Registry;
  ready: () => Promise<{ ready: boolean; detail?: Record<string, unknown> }>;
  extraMetrics?: () => Promise<string>;
  extraMetricsTimeoutMs?: number;
  readyTimeoutMs?: number;
}): FastifyInstance {
  const app = Fastify({ logger: false });
  app.get('/healthz', async () => ({ status: 'ok' }));
  app.get('/readyz', async (_req, reply) => {
    // Never the error's text: it can hold a connection string, a host or a query. Its code
    // (ECONNREFUSED, 57P03, KAFKA_TOPIC_MISSING …) says enough; the service's log has the rest.
    const checks = Promise.resolve().then(options.ready);
    const late = () => Object.assign(new Error('late'), { code: 'READY_CHECK_TIMEOUT' });
    const state = await withTimeout(options.readyTimeoutMs ?? READY_TIMEOUT_MS, checks, late).catch(
      (err: unknown) => ({ ready: false, detail: { error: errorCode(err) } }),
    );
    return reply
      .code(state.ready ? 200 : 503)
      .send({ status: state.ready ? 'ready' : 'not ready', ...state.detail });
  });
  app.get('/metrics', async (_req, reply) => {
    const { extraMetrics } = options;
    const [own, extra] = await Promise.all([
      options.registry.metrics(),
      extraMetrics === undefined
        ? undefined
        : readExtra(extraMetrics, options.extraMetricsTimeoutMs ?? EXTRA_METRICS_TIMEOUT_MS),
    ]);
    const separator = extra && own !== '' && !own.endsWith('\n') ? '\n' : '';
    return reply
      .header('content-type', options.registry.contentType)
      .send(`${own}${separator}${extra ?? ''}`);
  });
  return app;
}

/**
 * The extra text, newline-terminated, or a comment line naming why it is missing (Prometheus
 * ignores comments; a human reading /metrics sees why the queue counts are not there).
 */
async function readExtra(extraMetrics: () => Promise<string>, timeoutMs: number): Promise<string> {
  const late = () => Object.assign(new Error('late'), { code: 'TIMEOUT' });
  try {
    // Promise.resolve().then: a synchronous throw of extraMetrics is a skip too, not a 500.
    const text = await withTimeout(timeoutMs, Promise.resolve().then(extraMetrics), late);
    return text === '' || text.endsWith('\n') ? text : `${text}\n`;
  } catch (err) {
    return `# extra metrics skipped: ${errorCode(err)}\n`;
  }
}

/** A short, safe name for why a check failed: the error's code if it has a plain one. */
export function errorCode(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[A-Za-z0-9_.-]{1,64}$/.test(code) ? code : 'CHECK_FAILED';
}
