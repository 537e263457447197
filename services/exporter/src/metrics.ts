import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { ExportDayJobResult } from './jobs/export-day';
import { RETENTION_JOB } from './jobs/retention';

/** How an export-day run ended, as `observeDelivery` records it: the job's outcome, or FAILED. */
export type DeliveryRunOutcome = ExportDayJobResult['outcome'] | 'FAILED';

/** Why a nightly export was delivered at its deadline with the day still incomplete (SPEC §5). */
export const INCOMPLETE_REASONS = ['deadline-gaps', 'ingest-behind'] as const;
export type IncompleteReason = (typeof INCOMPLETE_REASONS)[number];

/**
 * The exporter's Prometheus metrics, on a registry of its own. `failingDays` reads the queue
 * (Redis) at scrape time, so every exporter process reports the same, shared truth. The alert
 * rules in infra/prometheus/alerts.yml are written against these names: rename one there too
 * (a unit test beside the rules fails on a name no registry has).
 */
export function createExporterMetrics(options: {
  failingDays: () => Promise<number>;
  /**
   * Start (Unix s) of the latest day whose nightly export ended DELIVERED or UNCHANGED, read from
   * the ledger at scrape time (null: none yet), so every exporter process — and one restarted
   * since — reports the same truth. Absent: the gauge stays as set by the process.
   */
  lastNightlyDay?: () => Promise<number | null>;
  /** When a retention run last completed (Unix s), read from `retention_runs` at scrape time; null: never. */
  lastRetention?: () => Promise<number | null>;
}) {
  const registry = new Registry();
  const metrics = {
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
      // Not `job`: Prometheus keeps that for the scrape job (it would become `exported_job`).
      labelNames: ['name'] as const,
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
      help: 'start (00:00 Europe/Istanbul, Unix time) of the latest service day whose nightly export ended delivered or unchanged (from the delivery ledger)',
      registers: [registry],
      async collect() {
        if (!options.lastNightlyDay) return;
        // The database away: keep the last value rather than failing /metrics.
        const seconds = await options.lastNightlyDay().catch(() => undefined);
        if (seconds !== undefined && seconds !== null) this.set(seconds);
      },
    }),
    rechecks: new Counter({
      name: 'boarding_export_completeness_rechecks_total',
      help: 'times a nightly export found its day incomplete before the deadline and slept',
      registers: [registry],
    }),
    // Fed by observeDelivery() after every export-day run. Buckets from 1 s (an unchanged day)
    // to 30 min (a full day built, encrypted fields decrypted, uploaded over a slow link).
    deliverySeconds: new Histogram({
      name: 'boarding_delivery_duration_seconds',
      help: 'wall time of one export-day run (build, compare, deliver), by outcome: DELIVERED, REDELIVERED, UNCHANGED, SKIPPED, FAILED …',
      labelNames: ['outcome'] as const,
      buckets: [1, 2, 5, 10, 30, 60, 120, 300, 600, 900, 1200, 1800],
      registers: [registry],
    }),
    deliveredBytes: new Counter({
      name: 'boarding_delivery_bytes_total',
      help: 'bytes of the day files delivered to the receiver (DELIVERED and REDELIVERED runs only)',
      registers: [registry],
    }),
    deliveredRows: new Counter({
      name: 'boarding_delivery_rows_total',
      help: 'rows of the day files delivered to the receiver (DELIVERED and REDELIVERED runs only)',
      registers: [registry],
    }),
    ingestBehind: new Gauge({
      name: 'boarding_export_ingest_behind_messages',
      help: 'messages of the taps topic stamped before the end of the day being exported (plus the 10-minute drift allowance) that the ingest group had not read at the last completeness check; 0 when caught up, -1 when the lag could not be read (Kafka away)',
      registers: [registry],
    }),
    deliveredIncomplete: new Counter({
      name: 'boarding_export_delivered_incomplete_total',
      help: 'nightly exports delivered at their deadline with the day still incomplete, by reason: deadline-gaps (validators with gaps or not uploaded past the day), ingest-behind (the ingest group had not read the day)',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    silentRatio: new Gauge({
      name: 'boarding_export_silent_validators_ratio',
      help: 'share of the expected fleet (validators with taps in the 7 days before D) silent on the last nightly day D: no taps and no heartbeat past its end',
      registers: [registry],
    }),
    silentFleetAlerts: new Counter({
      name: 'boarding_export_silent_fleet_alerts_total',
      help: 'nightly days on which more than EXPORT_SILENT_ALERT_RATIO of the expected fleet was silent (SPEC §5 alert)',
      registers: [registry],
    }),
    schedulerRecreated: new Counter({
      name: 'boarding_export_scheduler_recreated_total',
      help: 'times the periodic check found the nightly job scheduler missing in Redis (Redis lost its data) and re-created it',
      registers: [registry],
    }),
    retentionLastCompleted: new Gauge({
      name: 'boarding_retention_last_completed_timestamp_seconds',
      help: 'when a retention run (SPEC §11, nightly job or CLI, not a dry run) last completed, Unix time; 0 when none ever did',
      registers: [registry],
      async collect() {
        if (!options.lastRetention) return;
        // A scrape while PostgreSQL is away keeps the last value rather than failing /metrics.
        const at = await options.lastRetention().catch(() => undefined);
        if (at !== undefined) this.set(at ?? 0);
      },
    }),
    missedNights: new Counter({
      name: 'boarding_export_missed_nights_total',
      help: 'nightly firings that had not run (exporter down, or Redis lost the scheduler) and were caught up at start',
      registers: [registry],
    }),
  };
  // Every reason exists as a series from the start: Prometheus's increase() cannot see the first
  // increment of a series that is born at 1, and the alert on it would never fire.
  for (const reason of INCOMPLETE_REASONS) metrics.deliveredIncomplete.inc({ reason }, 0);
  metrics.jobs.inc({ name: RETENTION_JOB, status: 'failed' }, 0);
  return metrics;
}

export type ExporterMetrics = ReturnType<typeof createExporterMetrics>;

/** What one export-day run did, for observeDelivery. */
export type DeliveryObservation = {
  outcome: DeliveryRunOutcome;
  /** Wall time of the run, seconds. */
  seconds: number;
  /** Size of the delivered file; null or absent when nothing was delivered. */
  bytes?: number | null;
  /** Data rows of the delivered file; null or absent when nothing was delivered. */
  rows?: number | null;
};

/**
 * Record one export-day run: its duration by outcome, and what reached the receiver. Bytes and
 * rows count only runs that delivered (DELIVERED, REDELIVERED), so an UNCHANGED re-check or a
 * failed try never inflates them. Never throws: a bad number is dropped, not a failed job.
 */
export function observeDelivery(metrics: ExporterMetrics, run: DeliveryObservation): void {
  if (isCount(run.seconds)) metrics.deliverySeconds.observe({ outcome: run.outcome }, run.seconds);
  if (run.outcome !== 'DELIVERED' && run.outcome !== 'REDELIVERED') return;
  if (isCount(run.bytes)) metrics.deliveredBytes.inc(run.bytes);
  if (isCount(run.rows)) metrics.deliveredRows.inc(run.rows);
}

function isCount(n: number | null | undefined): n is number {
  return typeof n === 'number' && Number.isFinite(n) && n >= 0;
}
