import { VALIDATOR_TAPS_TOPIC } from '@boarding/contracts/tap';
import { parseExpression } from 'cron-parser';
import { z } from 'zod';
import { readStackEnv } from './stack-env';

/** A setting is missing or malformed. The message names variables, never their values. */
export class ConfigError extends Error {
  readonly code = 'CONFIG_INVALID';
  readonly retryable = false;
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/**
 * The environment a command sees: `.local/stack.env`, then the process environment, then
 * `overrides` (a test or a benchmark pointing one service at its own database or topic).
 */
export function environmentWith(overrides: Record<string, string> = {}): Record<string, string | undefined> {
  return { ...readStackEnv(), ...process.env, ...overrides };
}

/**
 * Parse a service's environment once, at start. Variables set in the process environment win;
 * the rest come from `.local/stack.env` (the local stack), so a developer never exports anything.
 */
export function loadEnv<S extends z.ZodObject>(
  schema: S,
  source: Record<string, string | undefined> = environmentWith(),
): z.infer<S> {
  const result = schema.safeParse(source);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => {
    const name = issue.path.join('.') || '(environment)';
    const present = source[String(issue.path[0])] !== undefined;
    return present ? `${name}: ${issue.message}` : `${name} is not set (${issue.message})`;
  });
  throw new ConfigError(problems);
}

/** A URL setting whose scheme is one of `protocols` (`['http:', 'https:']`). */
export const url = (protocols: string[]) =>
  z.string().refine(
    (v) => {
      try {
        return protocols.includes(new URL(v).protocol);
      } catch {
        return false;
      }
    },
    { message: `must be a URL (${protocols.join(' or ')})` },
  );

export const DatabaseEnv = z.object({
  DATABASE_URL: url(['postgres:', 'postgresql:']),
});
export type DatabaseEnv = z.infer<typeof DatabaseEnv>;

export const RedisEnv = z.object({
  REDIS_URL: url(['redis:', 'rediss:']),
});
export type RedisEnv = z.infer<typeof RedisEnv>;

/** A yes/no setting: `true`/`false`, `1`/`0`, `yes`/`no` (anything else is a clear error). */
export const EnvFlag = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

export const KafkaEnv = z.object({
  // Comma-separated host:port list. Use 127.0.0.1, not localhost: kafkajs may try ::1 first.
  KAFKA_BROKERS: z
    .string()
    .regex(/^[^,\s]+:\d+(,[^,\s]+:\d+)*$/, 'must be host:port[,host:port…]')
    .transform((v) => v.split(',')),
  KAFKA_CLIENT_ID: z.string().min(1).default('boarding'),
  KAFKA_TAPS_TOPIC: z.string().min(1).default(VALIDATOR_TAPS_TOPIC),
});
export type KafkaEnv = z.infer<typeof KafkaEnv>;

/** The ingest's consumer group: the ingest reads with it, the exporter reads its lag (SPEC §5 gate). */
export const IngestGroupEnv = z.object({
  // Consumer group: every ingest process of one deployment shares it and splits the partitions.
  INGEST_GROUP_ID: z.string().min(1).default('boarding-ingest'),
});
export type IngestGroupEnv = z.infer<typeof IngestGroupEnv>;

/** A duration in whole milliseconds, at least 1 (a limit of 0 would mean none). */
const positiveMs = z.coerce
  .number()
  .int()
  .min(1)
  .max(24 * 3_600_000);

export const SftpEnv = z.object({
  SFTP_HOST: z.string().min(1),
  SFTP_PORT: z.coerce.number().int().min(1).max(65535).default(22),
  SFTP_USER: z.string().min(1),
  // Path of the private key file; the key itself is never put in the environment or the repo.
  SFTP_PRIVATE_KEY_PATH: z.string().min(1),
  // The receiver's host key fingerprint as `ssh-keygen -lf` prints it (SHA256:base64). Pinned:
  // a server presenting any other key is refused before a byte is sent.
  SFTP_HOST_KEY_SHA256: z
    .string()
    .regex(/^SHA256:[A-Za-z0-9+/]{43}$/, 'must look like SHA256:<43 base64 chars>'),
  // Directory on the receiver where files are delivered.
  SFTP_REMOTE_DIR: z.string().min(1).default('/incoming'),
  // The time limits below are optional: unset, @boarding/sftp's defaults apply (10 s, 5 s × 3, 30 s).
  // Connect, SSH handshake, authentication and opening SFTP must all be done within this.
  SFTP_READY_TIMEOUT_MS: positiveMs.optional(),
  // An SSH keepalive every this many ms once connected, to notice a connection gone silent.
  SFTP_KEEPALIVE_INTERVAL_MS: positiveMs.optional(),
  // Keepalives unanswered in a row before such a connection is dropped.
  SFTP_KEEPALIVE_COUNT_MAX: z.coerce.number().int().min(1).max(100).optional(),
  // Limit of one SFTP operation (list, stat, rename, delete); an upload fails after this long
  // without progress. Past it the connection is closed and the try fails SFTP_TIMEOUT (retried).
  SFTP_TIMEOUT_MS: positiveMs.optional(),
});
export type SftpEnv = z.infer<typeof SftpEnv>;

/**
 * A cron pattern of 5 or 6 fields that the cron parser BullMQ uses can read: `99 x * * *` is a
 * clear configuration error naming the variable at start, not a parser error from inside a job
 * scheduler (on every scheduler check).
 */
export const CronPattern = z
  .string()
  .trim()
  .regex(/^\S+(\s+\S+){4,5}$/, 'must be a cron pattern of 5 or 6 fields')
  .refine((pattern) => {
    try {
      parseExpression(pattern);
      return true;
    } catch {
      return false;
    }
  }, 'must be a valid cron pattern, e.g. "30 3 * * *"');
