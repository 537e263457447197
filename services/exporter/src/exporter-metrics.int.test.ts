import { InMemoryTransport } from '@boarding/delivery/memory-transport';
import { createExporterRig, type ExporterRig } from './exporter.test-helpers';

// One Prometheus sample line as BullMQ writes it: bullmq_job_count{queue="q", state="waiting"} 1
function jobCount(body: string, queue: string, state: string): number | undefined {
  const line = body
    .split('\n')
    .find(
      (l) =>
        l.startsWith('bullmq_job_count{') && l.includes(`queue="${queue}"`) && l.includes(`state="${state}"`),
    );
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

describe('exporter: /metrics', () => {
  let rig: ExporterRig;

  beforeAll(async () => {
    rig = await createExporterRig('metrics', { sftp: false });
  });
  afterAll(async () => {
    await rig.teardown();
  });

  it("serves BullMQ's queue counts beside its own metrics: a queued day counts as waiting", async () => {
    // No worker: the day's job stays waiting, as it would while every exporter is busy or down.
    const service = rig.createService({ deps: { transport: new InMemoryTransport() } });
    const queue = rig.env.EXPORT_QUEUE;
    // Until its Redis connection is up the service skips the queue counts (see the next test).
    await service.queue.waitUntilReady();
    const before = await service.ops.inject({ url: '/metrics' });
    expect(before.statusCode).toBe(200);
    expect(before.body).toContain('# TYPE bullmq_job_count gauge');
    expect(jobCount(before.body, queue, 'waiting')).toBe(0);

    await service.enqueueDay({
      day: '2020-11-20',
      trigger: 'manual',
      waitForCompleteness: false,
      deadline: null,
    });

    const after = await service.ops.inject({ url: '/metrics' });
    expect(after.statusCode).toBe(200);
    expect(jobCount(after.body, queue, 'waiting')).toBe(1);
    expect(jobCount(after.body, queue, 'active')).toBe(0);
    expect(jobCount(after.body, queue, 'failed')).toBe(0);
    // The registry's own metrics are still there, and the text is one valid exposition: each
    // metric family announced once.
    expect(after.body).toContain('boarding_export_failing_days 0');
    expect(after.body).toContain('# TYPE boarding_delivery_duration_seconds histogram');
    const types = after.body.split('\n').filter((l) => l.startsWith('# TYPE '));
    expect(new Set(types).size).toBe(types.length);
  });

  it('still answers /metrics (its own metrics, no queue counts) when Redis is away, without waiting for it', async () => {
    const service = rig.createService({
      deps: { transport: new InMemoryTransport() },
      overrides: { REDIS_URL: 'redis://127.0.0.1:1' },
    });
    const started = Date.now();
    const res = await service.ops.inject({ url: '/metrics' });
    expect(res.statusCode).toBe(200);
    // The failing-days gauge waits up to its own 2 s bound; the queue counts are not even asked.
    expect(Date.now() - started).toBeLessThan(5000);
    expect(res.body).toContain('# TYPE boarding_export_failing_days gauge');
    expect(res.body).toContain('# extra metrics skipped: REDIS_NOT_READY');
    expect(res.body).not.toContain('bullmq_job_count{');
    expect(res.body).not.toContain('127.0.0.1');
  });
});
