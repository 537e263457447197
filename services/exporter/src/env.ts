import {
  CronPattern,
  DatabaseEnv,
  EnvFlag,
  IngestGroupEnv,
  KafkaEnv,
  RedisEnv,
  SftpEnv,
} from '@boarding/config/env';
import { isTimeZone } from '@boarding/contracts/time';
import { ExportEnv } from '@boarding/export/settings';
import { RetentionEnv } from '@boarding/retention/settings';
import { z } from 'zod';

// Queue names and prefixes become parts of Redis keys, where BullMQ uses ':' as the separator.
const redisKeyPart = z
  .string()
  .regex(/^[A-Za-z0-9._-]{1,64}$/, 'must be 1–64 characters of A-Z a-z 0-9 . _ -');

export const ExporterEnv = DatabaseEnv.extend(RedisEnv.shape)
  .extend(SftpEnv.shape)
  .extend(KafkaEnv.shape)
  .extend(IngestGroupEnv.shape)
  .extend(ExportEnv.shape)
  // RETENTION_DAYS, EXPORT_KEEP_DAYS, DEAD_LETTER_RAW_DAYS (SPEC §11), shared with `boarding retention run`.
  .extend(RetentionEnv.shape)
  .extend({
    // SPEC §5: more than this share of the expected fleet (validators with taps in the 7 days
    // before D) silent on D raises an alert; silent validators never hold the export back.
    EXPORT_SILENT_ALERT_RATIO: z.coerce.number().min(0).max(1).default(0.2),
    // When the nightly export of D−1 fires (SPEC §5), read in EXPORT_TZ.
    EXPORT_CRON: CronPattern.default('30 3 * * *'),
    // When the nightly retention job runs (SPEC §11), read in EXPORT_TZ: after the nightly export
    // has built D−1, so a detach never waits long on the export's snapshot.
    RETENTION_CRON: CronPattern.default('0 4 * * *'),
    // Zone of the cron and of "yesterday". Keep it the service-day zone (SPEC §2: Europe/Istanbul),
    // or the nightly job would pick a day that is not the one that just ended.
    EXPORT_TZ: z
      .string()
      .refine(isTimeZone, 'must be an IANA time zone such as Europe/Istanbul')
      .default('Europe/Istanbul'),
    // Local time (EXPORT_TZ) on the morning after D until which the nightly export of D waits for
    // every validator to be complete; after it, D is delivered as it is, gaps named in the manifest.
    EXPORT_DEADLINE: z
      .string()
      .regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'must be HH:mm (24-hour)')
      .default('06:00'),
    // Pause between completeness checks while waiting for the deadline. Fractions are accepted so
    // tests can re-check within a second.
    EXPORT_RECHECK_MINUTES: z.coerce.number().positive().max(240).default(10),
    // Days before D re-exported every night (late taps, registry corrections): a new version only
    // if the content changed (SPEC §5).
    LATE_WINDOW_DAYS: z.coerce.number().int().min(0).max(60).default(7),
    // How often a scheduling process checks that the nightly job scheduler is still in Redis (a
    // Redis that lost its data has none), re-creating it and catching up the nights it missed.
    EXPORT_SCHEDULER_CHECK_SECONDS: z.coerce.number().positive().max(86400).default(300),
    // Queue shared by every exporter process of one deployment (scheduler, producers, workers).
    EXPORT_QUEUE: redisKeyPart.default('boarding-export'),
    // Redis key prefix of the queue: tests give each run its own, so runs never see each other's jobs.
    EXPORT_QUEUE_PREFIX: redisKeyPart.default('bull'),
    // Job tries (the first included) before a day is failed for good and alerted; each try already
    // retries the delivery DELIVERY_ATTEMPTS times.
    EXPORT_JOB_ATTEMPTS: z.coerce.number().int().min(1).max(20).default(4),
    // Wait before the second job try, doubled after each failure (BullMQ exponential backoff).
    EXPORT_JOB_BACKOFF_MS: z.coerce.number().int().min(0).max(3600000).default(60000),
    // A try still running after this long is stopped: its signal aborts the delivery (the SFTP
    // connection is closed) and any wait for the day's lock, and it fails JOB_TIMEOUT (retried).
    EXPORT_JOB_TIMEOUT_MS: z.coerce.number().int().min(1000).max(86400000).default(3600000),
    // Jobs one process runs at once. Each export holds two PostgreSQL connections and writes a
    // file; waiting for completeness holds nothing (the job sleeps in Redis).
    EXPORTER_CONCURRENCY: z.coerce.number().int().min(1).max(16).default(2),
    // Port of /healthz, /readyz, /metrics and /board.
    // Address of /healthz, /readyz, /metrics (and Bull Board): loopback unless set.
    EXPORTER_HOST: z.string().min(1).default('127.0.0.1'),
    EXPORTER_PORT: z.coerce.number().int().min(0).max(65535).default(9102),
    // Bull Board (/board) is mounted only when set: send it as `Authorization: Bearer <token>` or as
    // the password of HTTP Basic. The board can retry and remove jobs, hence a long secret.
    EXPORTER_BOARD_TOKEN: z.string().min(24, 'must be at least 24 characters').optional(),
    // Bull Board can retry, promote and remove jobs: off unless an operator turns it on; read-only
    // by default, so a leaked board token can look but not change what is delivered.
    EXPORTER_BOARD_WRITE: EnvFlag.default(false),
  });
export type ExporterEnv = z.infer<typeof ExporterEnv>;
