import { Counter, Gauge, Registry } from 'prom-client';

export type OutboxLagReading = { unsent: number; oldestCreatedAt: Date | null };

/**
 * The status relay's Prometheus metrics, on a registry of its own. The outbox gauges read
 * PostgreSQL at scrape time (one read shared by both), so every relay process, the standby too,
 * reports the same truth: a growing `oldest_seconds` means nothing is publishing.
 */
export function createStatusRelayMetrics(options: {
  outboxLag: () => Promise<OutboxLagReading>;
  now?: () => number;
}) {
  const now = options.now ?? Date.now;
  const registry = new Registry();
  // Both gauges are collected in one scrape: they share the reading in flight.
  let reading: Promise<OutboxLagReading | undefined> | undefined;
  const readLag = () => {
    reading ??= options
      .outboxLag()
      // The database away: keep the last values rather than failing /metrics.
      .catch(() => undefined)
      .finally(() => {
        reading = undefined;
      });
    return reading;
  };
  const metrics = {
    registry,
    unsent: new Gauge({
      name: 'boarding_status_outbox_unsent',
      help: 'card status changes committed but not yet published to the status topic',
      registers: [registry],
      async collect() {
        const lag = await readLag();
        if (lag) this.set(lag.unsent);
      },
    }),
    oldestSeconds: new Gauge({
      name: 'boarding_status_outbox_oldest_seconds',
      help: 'age of the oldest unpublished card status change (0 when none)',
      registers: [registry],
      async collect() {
        const lag = await readLag();
        if (lag)
          this.set(lag.oldestCreatedAt ? Math.max(0, (now() - lag.oldestCreatedAt.getTime()) / 1000) : 0);
      },
    }),
    published: new Counter({
      name: 'boarding_status_published_total',
      help: 'card status messages this process published to the status topic (at least once)',
      registers: [registry],
    }),
    refreshRuns: new Counter({
      name: 'boarding_hes_refresh_runs_total',
      help: 'HES status refresh tries by outcome: completed, retrying (failed, another try scheduled), failed (for good)',
      labelNames: ['outcome'] as const,
      registers: [registry],
    }),
    refreshChecked: new Counter({
      name: 'boarding_hes_refresh_checked_total',
      help: 'live matches whose HES status the refresh asked',
      registers: [registry],
    }),
    refreshChanged: new Counter({
      name: 'boarding_hes_refresh_changed_total',
      help: 'matches whose stored HES status the refresh changed (each audited HES_STATUS_CHANGED)',
      registers: [registry],
    }),
    refreshMismatched: new Counter({
      name: 'boarding_hes_refresh_mismatched_total',
      help: 'live matches whose HES code the service says no longer belongs to the TC',
      registers: [registry],
    }),
    refreshLastSuccess: new Gauge({
      name: 'boarding_hes_refresh_last_success_timestamp_seconds',
      help: 'when a HES status refresh last completed, Unix time',
      registers: [registry],
    }),
  };
  // Every outcome exists as a series from the start: increase() cannot see the first increment of
  // a series born at 1, and the alert on failed refreshes would never fire.
  for (const outcome of ['completed', 'retrying', 'failed']) metrics.refreshRuns.inc({ outcome }, 0);
  return metrics;
}
export type StatusRelayMetrics = ReturnType<typeof createStatusRelayMetrics>;
