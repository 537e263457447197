import { Counter, Gauge, Registry } from 'prom-client';

/**
 * The exporter's Prometheus metrics, on a registry of its own. `failingDays` reads the queue
 * (Redis) at scrape time, so every exporter process reports the same, shared truth.
 */
export function createExporterMetrics(options: { failingDays: () => Promise<number> }) {
  const registry = new Registry();
  return {
    registry,
    jobs: new Counter({
      name: 'boarding_export_jobs_total',
      help: 'job tries by job name and end: completed, retrying (failed, another try scheduled), failed (for good)',
      labelNames: ['name', 'status'] as const,
      registers: [registry],
    }),
    days: new Counter({
      name: 'boarding_export_days_total',
      help: 'export-day runs by outcome: DELIVERED, REDELIVERED, UNCHANGED, SKIPPED',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
    alerts: new Counter({
      name: 'boarding_export_alerts_total',
      help: 'jobs failed for good (SPEC §5 alert): the day is retried the next night',
      labelNames: ['job'] as const,
      registers: [registry],
    }),
    failingDays: new Gauge({
      name: 'boarding_export_failing_days',
      help: 'days whose latest export job failed for good (from the queue, shared by all exporters)',
      registers: [registry],
      async collect() {
        // A scrape while Redis is away keeps the last value rather than failing /metrics.
        const n = await options.failingDays().catch(() => undefined);
        if (n !== undefined) this.set(n);
      },
    }),
    lastSuccess: new Gauge({
      name: 'boarding_export_last_success_timestamp_seconds',
      help: 'when an export-day job last completed (any outcome but a failure), Unix time',
      registers: [registry],
    }),
    // What an alert on "D−1 not delivered by 06:30" needs: moves only when the nightly export of
    // D−1 ends well, never on a late-window re-check (those succeed even while D−1 fails).
    nightlyLastDay: new Gauge({
      name: 'boarding_export_last_nightly_day_seconds',
      help: 'start (00:00 Europe/Istanbul, Unix time) of the latest service day whose nightly export ended delivered or unchanged',
      registers: [registry],
    }),
    rechecks: new Counter({
      name: 'boarding_export_completeness_rechecks_total',
      help: 'times a nightly export found its day incomplete before the deadline and slept',
      registers: [registry],
    }),
  };
}

export type ExporterMetrics = ReturnType<typeof createExporterMetrics>;
