import { CronPattern, DatabaseEnv, KafkaEnv, RedisEnv } from '@boarding/config/env';
import { isTimeZone } from '@boarding/contracts/time';
import { HesEnv } from '@boarding/hes/hes-env';
import { MAX_STATUS_BATCH } from '@boarding/hes/verifier';
import { CARD_STATUS_TOPIC } from '@boarding/status-feed/card-status-message';
import { z } from 'zod';

// Queue names and prefixes become parts of Redis keys, where BullMQ uses ':' as the separator.
const redisKeyPart = z
  .string()
  .regex(/^[A-Za-z0-9._-]{1,64}$/, 'must be 1–64 characters of A-Z a-z 0-9 . _ -');

/**
 * The status relay's settings. The PII keys come from PII_KEY_FILE or PII_KEYS… (loadKeyring):
 * the refresh decrypts each live match's TC and HES code to ask the HES service.
 */
export const StatusRelayEnv = DatabaseEnv.extend(RedisEnv.shape)
  .extend(KafkaEnv.shape)
  // The HES service (SPEC §9): HES_SERVICE_URL (required), timeout, retries, circuit breaker. This
  // process has its own client and breaker: a refresh that finds the service away never opens the
  // registry API's breaker. A batch of 1,000 may need a longer HES_TIMEOUT_MS than a kiosk's one check.
  .extend(HesEnv.shape)
  .extend({
    // The compacted topic the validators read (SPEC §10); tests give each run its own.
    STATUS_TOPIC: z.string().min(1).default(CARD_STATUS_TOPIC),
    // Partitions when this process creates the topic (an existing topic is only checked).
    STATUS_TOPIC_PARTITIONS: z.coerce.number().int().min(1).max(256).default(6),
    // When the HES status refresh runs (SPEC §10: hourly by default), read in HES_REFRESH_TZ.
    HES_REFRESH_CRON: CronPattern.default('0 * * * *'),
    // Zone of HES_REFRESH_CRON; matters only for a pattern with hours or days in it.
    HES_REFRESH_TZ: z
      .string()
      .refine(isTimeZone, 'must be an IANA time zone such as Europe/Istanbul')
      .default('Europe/Istanbul'),
    // Live matches per HES request and per transaction; the HES contract takes at most 1,000.
    HES_REFRESH_BATCH_SIZE: z.coerce.number().int().min(1).max(MAX_STATUS_BATCH).default(1000),
    // A refresh still running after this long is stopped (its HES request aborted) and retried;
    // below the hourly interval, so two firings never run side by side.
    HES_REFRESH_TIMEOUT_MS: z.coerce
      .number()
      .int()
      .min(1000)
      .max(86_400_000)
      .default(45 * 60_000),
    // Queue of the refresh job, shared by every status-relay process of one deployment.
    STATUS_RELAY_QUEUE: redisKeyPart.default('boarding-status'),
    // Redis key prefix of the queue: tests give each run its own, so runs never see each other's jobs.
    STATUS_RELAY_QUEUE_PREFIX: redisKeyPart.default('bull'),
    // Address of /healthz, /readyz, /metrics: loopback unless set. 9101–9103 are the ingest's, the
    // exporter's and the registry API's.
    STATUS_RELAY_HOST: z.string().min(1).default('127.0.0.1'),
    STATUS_RELAY_PORT: z.coerce.number().int().min(0).max(65535).default(9104),
  });
export type StatusRelayEnv = z.infer<typeof StatusRelayEnv>;
