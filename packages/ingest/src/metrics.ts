import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/** The ingest's Prometheus metrics, on a registry of its own (one per consumer instance). */
export function createIngestMetrics() {
  const registry = new Registry();
  const metrics = {
    registry,
    consumed: new Counter({
      name: 'ingest_messages_consumed_total',
      help: 'Kafka messages this process stored a chunk of (per process; ingest_run_records is exact across restarts)',
      registers: [registry],
    }),
    stored: new Counter({ name: 'ingest_taps_stored_total', help: 'new taps stored', registers: [registry] }),
    matched: new Counter({
      name: 'ingest_taps_matched_total',
      help: 'stored taps with a match at tappedAt',
      registers: [registry],
    }),
    duplicates: new Counter({
      name: 'ingest_duplicates_total',
      help: 'repeats of a stored tap',
      registers: [registry],
    }),
    alreadyStored: new Counter({
      name: 'ingest_already_stored_total',
      help: 'messages whose tap was already stored from this very message (replay or retried batch)',
      registers: [registry],
    }),
    deadLettered: new Counter({
      name: 'ingest_dead_lettered_total',
      help: 'messages recorded in the dead-letter store',
      labelNames: ['reason'],
      registers: [registry],
    }),
    heartbeats: new Counter({
      name: 'ingest_heartbeats_total',
      help: 'validator heartbeats',
      registers: [registry],
    }),
    retries: new Counter({
      name: 'ingest_batch_retries_total',
      help: 'batches retried after a database error',
      registers: [registry],
    }),
    lag: new Gauge({
      name: 'ingest_consumer_lag',
      help: 'messages behind the end of the topic',
      registers: [registry],
    }),
    stalledPartitions: new Gauge({
      name: 'ingest_stalled_partitions',
      help: 'partitions with lag whose committed offset has not moved for INGEST_STALL_SECONDS (-1: lag unreadable that long)',
      registers: [registry],
    }),
    runRecords: new Gauge({
      name: 'ingest_run_records',
      help: 'records of the offsets the group committed since this process started, by kind (from the per-offset records: exact across consumer restarts and rebalances)',
      labelNames: ['kind', 'reason'],
      registers: [registry],
    }),
    runOffsetsUnaccounted: new Gauge({
      name: 'ingest_run_offsets_unaccounted',
      help: 'offsets committed since this process started that have no record (should be 0)',
      registers: [registry],
    }),
    batchSeconds: new Histogram({
      name: 'ingest_batch_duration_seconds',
      help: 'time to classify and store one batch, commit included',
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
  };
  return metrics;
}

export type IngestMetrics = ReturnType<typeof createIngestMetrics>;
