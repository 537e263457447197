import { DatabaseEnv, IngestGroupEnv, KafkaEnv } from '@boarding/config/env';
import { DEFAULT_MAX_TAP_AGE_DAYS } from '@boarding/contracts/time';
import { z } from 'zod';

export const IngestEnv = DatabaseEnv.extend(KafkaEnv.shape)
  .extend(IngestGroupEnv.shape)
  .extend({
    // SPEC §2: a tap more than this many days before its Kafka timestamp is dead-lettered.
    MAX_TAP_AGE_DAYS: z.coerce.number().int().min(1).max(365).default(DEFAULT_MAX_TAP_AGE_DAYS),
    // Partitions one process works on at once, each batch in its own transaction.
    INGEST_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(4),
    // Messages per PostgreSQL transaction.
    INGEST_CHUNK_SIZE: z.coerce.number().int().min(1).max(50000).default(5000),
    // How long the group waits for a silent member before giving its partitions to others: after a
    // crash (kill -9) its partitions stand still this long. Broker minimum is 6000.
    INGEST_SESSION_TIMEOUT_MS: z.coerce.number().int().min(6000).max(300000).default(30000),
    // A partition with lag whose committed offset has not moved for this long is stalled: /readyz
    // answers 503 naming it, ingest_stalled_partitions says so, and --until-caught-up fails.
    INGEST_STALL_SECONDS: z.coerce.number().int().min(5).max(86400).default(120),
    // Address /healthz, /readyz and /metrics listen on: loopback unless set (0.0.0.0 in a container,
    // where the platform's probes and Prometheus come from outside).
    INGEST_HOST: z.string().min(1).default('127.0.0.1'),
    // Port of /healthz, /readyz and /metrics.
    INGEST_PORT: z.coerce.number().int().min(0).max(65535).default(9101),
  });
export type IngestEnv = z.infer<typeof IngestEnv>;
