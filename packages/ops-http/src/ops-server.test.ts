import { Counter, Registry } from 'prom-client';
import { createOpsServer } from './ops-server';

describe('ops server', () => {
  const registry = new Registry();
  new Counter({ name: 'things_total', help: 'things', registers: [registry] }).inc(3);

  it('answers healthz and metrics', async () => {
    const app = createOpsServer({ registry, ready: async () => ({ ready: true }) });
    expect((await app.inject({ url: '/healthz' })).json()).toEqual({ status: 'ok' });
    const metrics = await app.inject({ url: '/metrics' });
    expect(metrics.body).toContain('things_total 3');
  });

  it('answers readyz 503 READY_CHECK_TIMEOUT when the checks do not answer in time (a hung server)', async () => {
    const app = createOpsServer({
      registry,
      ready: () => new Promise(() => undefined),
      readyTimeoutMs: 30,
    });
    const res = await app.inject({ url: '/readyz' });
    expect(res.statusCode).toBe(503);
    expect(res.json()).toEqual({ status: 'not ready', error: 'READY_CHECK_TIMEOUT' });
    const ok = createOpsServer({ registry, ready: async () => ({ ready: true, detail: { lag: 0 } }) });
    expect((await ok.inject({ url: '/readyz' })).json()).toEqual({ status: 'ready', lag: 0 });
  });

  describe('extra metrics', () => {
    const ready = async () => ({ ready: true });
    const queueText = [
      '# HELP bullmq_job_count Number of jobs in the queue by state',
      '# TYPE bullmq_job_count gauge',
      'bullmq_job_count{queue="q", state="waiting"} 2',
    ].join('\n');

    it('appends the extra text after the registry, on a line of its own', async () => {
      const app = createOpsServer({ registry, ready, extraMetrics: async () => queueText });
      const res = await app.inject({ url: '/metrics' });
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-type']).toBe(registry.contentType);
      expect(res.body).toBe(`${await registry.metrics()}${queueText}\n`);
    });

    it('serves the registry without it, and says why, when the extra text fails', async () => {
      const app = createOpsServer({
        registry,
        ready,
        extraMetrics: async () =>
          Promise.reject(Object.assign(new Error('redis://:pw@host'), { code: 'ECONNREFUSED' })),
      });
      const res = await app.inject({ url: '/metrics' });
      expect(res.statusCode).toBe(200);
      expect(res.body).toBe(`${await registry.metrics()}# extra metrics skipped: ECONNREFUSED\n`);
      expect(res.body).not.toContain('pw@host');
    });

    it('does not wait for extra text that never comes (a dependency away): skipped after the timeout', async () => {
      const app = createOpsServer({
        registry,
        ready,
        extraMetrics: () => new Promise<string>(() => undefined),
        extraMetricsTimeoutMs: 50,
      });
      const started = Date.now();
      const res = await app.inject({ url: '/metrics' });
      expect(Date.now() - started).toBeLessThan(2000);
      expect(res.statusCode).toBe(200);
      expect(res.body).toContain('things_total 3');
      expect(res.body).toContain('# extra metrics skipped: TIMEOUT');
      expect(res.body).not.toContain('bullmq_job_count');
    });

    it('treats a synchronous throw like a failure, not a 500', async () => {
      const app = createOpsServer({
        registry,
        ready,
        extraMetrics: () => {
          throw new Error('not connected');
        },
      });
      const res = await app.inject({ url: '/metrics' });
      expect(res.statusCode).toBe(200);
      expect(res.body).toContain('things_total 3');
      expect(res.body).toContain('# extra metrics skipped: CHECK_FAILED');
    });
  });

  it('is not ready (503) while a dependency is down, and says which', async () => {
    const app = createOpsServer({
      registry,
      ready: async () => ({ ready: false, detail: { postgres: 'ECONNREFUSED' } }),
    });
    const res = await app.inject({ url: '/readyz' });
    expect(res.statusCode).toBe(503);
    expect(res.json()).toEqual({ status: 'not ready', postgres: 'ECONNREFUSED' });
  });

  it('is not ready when the readiness check itself throws', async () => {
    const app = createOpsServer({ registry, ready: async () => Promise.reject(new Error('boom')) });
    expect((await app.inject({ url: '/readyz' })).statusCode).toBe(503);
  });

  it('never answers with the error text of a failed check, only its code', async () => {
    const leak = 'connect ECONNREFUSED postgres://boarding:s3cret@10.0.0.5:5432/boarding';
    const app = createOpsServer({
      registry,
      ready: async () => Promise.reject(Object.assign(new Error(leak), { code: 'ECONNREFUSED' })),
    });
    const res = await app.inject({ url: '/readyz' });
    expect(res.statusCode).toBe(503);
    expect(res.json()).toEqual({ status: 'not ready', error: 'ECONNREFUSED' });
    expect(res.body).not.toContain('s3cret');
    const noCode = createOpsServer({ registry, ready: async () => Promise.reject(new Error(leak)) });
    expect((await noCode.inject({ url: '/readyz' })).json()).toEqual({
      status: 'not ready',
      error: 'CHECK_FAILED',
    });
  });
});
