import { createExporterMetrics, type ExporterMetrics, observeDelivery } from './metrics';

const fresh = () => createExporterMetrics({ failingDays: async () => 0 });

async function value(metric: { get(): Promise<{ values: { value: number }[] }> }): Promise<number> {
  return (await metric.get()).values[0]?.value ?? 0;
}

async function durationCount(metrics: ExporterMetrics, outcome: string): Promise<number> {
  const { values } = await metrics.deliverySeconds.get();
  return (
    values.find(
      (v) => v.metricName === 'boarding_delivery_duration_seconds_count' && v.labels.outcome === outcome,
    )?.value ?? 0
  );
}

describe('exporter metrics', () => {
  it('counts bytes and rows of delivered and re-delivered runs, and times every run by outcome', async () => {
    const metrics = fresh();
    observeDelivery(metrics, { outcome: 'DELIVERED', seconds: 42, bytes: 1000, rows: 10 });
    observeDelivery(metrics, { outcome: 'REDELIVERED', seconds: 3, bytes: 500, rows: 5 });
    observeDelivery(metrics, { outcome: 'UNCHANGED', seconds: 2, bytes: 999, rows: 99 });
    observeDelivery(metrics, { outcome: 'FAILED', seconds: 600 });
    observeDelivery(metrics, { outcome: 'SKIPPED', seconds: 0.1, bytes: null, rows: null });

    expect(await value(metrics.deliveredBytes)).toBe(1500);
    expect(await value(metrics.deliveredRows)).toBe(15);
    expect(await durationCount(metrics, 'DELIVERED')).toBe(1);
    expect(await durationCount(metrics, 'UNCHANGED')).toBe(1);
    expect(await durationCount(metrics, 'FAILED')).toBe(1);
    const text = await metrics.registry.metrics();
    expect(text).toContain('boarding_delivery_duration_seconds_bucket{le="60",outcome="DELIVERED"} 1');
    expect(text).toContain('boarding_delivery_duration_seconds_bucket{le="30",outcome="DELIVERED"} 0');
    expect(text).toContain('boarding_delivery_duration_seconds_bucket{le="1800",outcome="FAILED"} 1');
  });

  it('drops a negative or non-finite number instead of throwing out of the job', async () => {
    const metrics = fresh();
    expect(() =>
      observeDelivery(metrics, { outcome: 'DELIVERED', seconds: Number.NaN, bytes: -1, rows: Infinity }),
    ).not.toThrow();
    expect(await value(metrics.deliveredBytes)).toBe(0);
    expect(await value(metrics.deliveredRows)).toBe(0);
    expect(await durationCount(metrics, 'DELIVERED')).toBe(0);
  });

  it('exports every incomplete reason at 0 from the start, so the first one can raise an alert', async () => {
    const text = await fresh().registry.metrics();
    expect(text).toContain('boarding_export_delivered_incomplete_total{reason="deadline-gaps"} 0');
    expect(text).toContain('boarding_export_delivered_incomplete_total{reason="ingest-behind"} 0');
  });

  it('registers the gauges and counters the alert rules read, each with its help text', async () => {
    const metrics = fresh();
    const names = metrics.registry.getMetricsAsArray().map((m) => m.name);
    expect(names).toEqual(
      expect.arrayContaining([
        'boarding_export_last_nightly_day_seconds',
        'boarding_export_failing_days',
        'boarding_export_ingest_behind_messages',
        'boarding_export_delivered_incomplete_total',
        'boarding_export_silent_validators_ratio',
        'boarding_export_silent_fleet_alerts_total',
        'boarding_export_scheduler_recreated_total',
        'boarding_export_missed_nights_total',
        'boarding_delivery_duration_seconds',
        'boarding_delivery_bytes_total',
        'boarding_delivery_rows_total',
      ]),
    );
    const text = await metrics.registry.metrics();
    for (const name of names) expect(text).toMatch(new RegExp(`^# HELP ${name} \\S`, 'm'));
  });

  it('reports when retention last completed, 0 before any run, and keeps it when PostgreSQL is away', async () => {
    let answer: () => Promise<number | null> = async () => null;
    const metrics = createExporterMetrics({ failingDays: async () => 0, lastRetention: () => answer() });
    expect(await metrics.registry.metrics()).toContain(
      'boarding_retention_last_completed_timestamp_seconds 0',
    );
    answer = async () => 1_764_990_000.5;
    expect(await metrics.registry.metrics()).toContain(
      'boarding_retention_last_completed_timestamp_seconds 1764990000.5',
    );
    answer = async () => Promise.reject(new Error('postgres away'));
    expect(await metrics.registry.metrics()).toContain(
      'boarding_retention_last_completed_timestamp_seconds 1764990000.5',
    );
    // The failed-retention series exists before the first failure, so increase() sees the first.
    expect(await metrics.registry.metrics()).toContain(
      'boarding_export_jobs_total{name="retention",status="failed"} 0',
    );
  });

  it('keeps the last failing-days value when the queue does not answer at scrape time', async () => {
    let answer: () => Promise<number> = async () => 2;
    const metrics = createExporterMetrics({ failingDays: () => answer() });
    expect(await metrics.registry.metrics()).toContain('boarding_export_failing_days 2');
    answer = async () => Promise.reject(new Error('redis away'));
    expect(await metrics.registry.metrics()).toContain('boarding_export_failing_days 2');
  });
});
