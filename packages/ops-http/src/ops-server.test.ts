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
