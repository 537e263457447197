import { DatabaseEnv, IngestGroupEnv, KafkaEnv, RedisEnv, SftpEnv } from '@boarding/config/env';
import { createDb } from '@boarding/db/client';
import type { Keyring } from '@boarding/encryption/keyring';
import { PiiKeyEnv } from '@boarding/encryption/load-keyring';
import { createKafka } from '@boarding/kafka/client';
import { withTimeout } from '@boarding/lifecycle/time-limit';
import { sftpSettingsFromEnv } from '@boarding/sftp/connect';
import type { z } from 'zod';
import { CHECK_LIMIT_MS, type Check, notChecked } from './check';
import { checkIngestGroup, checkKafka, checkTapsTopic } from './kafka';
import { checkPiiKeyCheck, checkPiiKeyring } from './pii-keys';
import { checkMigrations, checkPostgres } from './postgres';
import { redact, secretValues } from './redact';
import { checkRedis } from './redis';
import { type ServiceSettings, type SettingsSource, settingChecks } from './setting-checks';
import { checkSftp } from './sftp';

export const SERVICE_NAMES = ['ingest', 'exporter', 'registry-api', 'status-relay'] as const;
export type ServiceName = (typeof SERVICE_NAMES)[number];

type Dependency = 'postgres' | 'redis' | 'kafka' | 'taps' | 'sftp' | 'pii';

/**
 * What each service reaches at start or in its work. The registry API reaches Kafka only when
 * KAFKA_BROKERS is set (its status relay); `taps` is the taps topic and the ingest group's lag
 * (the exporter reads it for SPEC §5's gate); `pii` is the keyring and its check in the database.
 */
export const SERVICE_NEEDS: Record<ServiceName, readonly Dependency[]> = {
  ingest: ['postgres', 'kafka', 'taps'],
  exporter: ['postgres', 'redis', 'kafka', 'taps', 'sftp', 'pii'],
  'registry-api': ['postgres', 'pii'],
  'status-relay': ['postgres', 'redis', 'kafka', 'pii'],
};

export type DoctorReport = { ok: boolean; services: ServiceName[]; checks: Check[] };

export type DoctorOptions = {
  /** Each service's env schema (`services/<name>/src/env.ts`, the ingest's `@boarding/ingest/settings`). */
  schemas: Record<ServiceName, z.ZodObject>;
  source: SettingsSource;
  /** One service's needs only; all four by default. */
  only?: ServiceName;
  /** Time limit of each check. */
  limitMs?: number;
};

/**
 * Every check `boarding doctor` makes, in a fixed order: the settings file, each setting of the
 * chosen services, then each dependency they reach. Independent dependencies are checked side by
 * side; a check that needs another's success (migrations after PostgreSQL) says it was not run.
 * Nothing is written but the PII key check's first record, as a service's start would write it.
 */
export async function runDoctor(options: DoctorOptions): Promise<DoctorReport> {
  const { source } = options;
  const limitMs = options.limitMs ?? CHECK_LIMIT_MS;
  const services = options.only ? [options.only] : [...SERVICE_NAMES];
  const env = { ...source.stackEnv, ...source.processEnv };
  const needs = new Set<Dependency>(services.flatMap((s) => SERVICE_NEEDS[s]));
  if (services.includes('registry-api') && env.KAFKA_BROKERS !== undefined) needs.add('kafka');

  const settings: ServiceSettings[] = services.flatMap((service) => [
    { service, schema: options.schemas[service] },
    ...(SERVICE_NEEDS[service].includes('pii') ? [{ service, schema: PiiKeyEnv }] : []),
  ]);
  const fileCheck: Check = {
    name: 'settings file',
    ok: true,
    detail:
      Object.keys(source.stackEnv).length > 0
        ? `${source.stackEnvPath}: ${Object.keys(source.stackEnv).length} settings, used where the environment sets none`
        : `none at ${source.stackEnvPath}: settings come from the environment only`,
  };

  const pii = needs.has('pii') ? checkPiiKeyring(env) : undefined;
  const [pg, redis, kafka, sftp] = await Promise.all([
    needs.has('postgres') ? postgresChecks(env, pii?.keyring, limitMs) : { checks: [], keyCheck: undefined },
    needs.has('redis') ? redisChecks(env, limitMs) : [],
    needs.has('kafka') ? kafkaChecks(env, needs.has('taps'), limitMs) : [],
    needs.has('sftp') ? sftpChecks(env, limitMs) : [],
  ]);
  const keyChecks = pii
    ? [
        pii.check,
        pg.keyCheck ??
          notChecked('pii key check', pii.keyring ? 'PostgreSQL not reached' : 'the keyring did not load'),
      ]
    : [];
  const checks = [
    fileCheck,
    ...settingChecks(settings, source),
    ...pg.checks,
    ...redis,
    ...kafka,
    ...sftp,
    ...keyChecks,
  ];
  // Defence in depth: whatever a client put in a message, no secret of the environment is printed.
  const secrets = secretValues(env);
  const clean = checks.map((c) => ({
    ...c,
    detail: redact(c.detail, secrets),
    ...(c.fix !== undefined ? { fix: redact(c.fix, secrets) } : {}),
  }));
  return { ok: clean.every((c) => c.ok), services, checks: clean };
}

const unusable = (variable: string) => `${variable} is missing or invalid (see setting ${variable})`;

/** Closing a client whose server hung must not hang the doctor either. */
async function closeWithin(limitMs: number, close: () => Promise<unknown>): Promise<void> {
  await withTimeout(limitMs, close(), () => new Error('close timed out')).catch(() => undefined);
}

/** PostgreSQL, then its migrations, then (given a keyring) the key check, which needs both. */
async function postgresChecks(
  env: Record<string, string | undefined>,
  keyring: Keyring | undefined,
  limitMs: number,
): Promise<{ checks: Check[]; keyCheck?: Check | undefined }> {
  const parsed = DatabaseEnv.safeParse(env);
  if (!parsed.success) {
    return {
      checks: [notChecked('postgres', unusable('DATABASE_URL'), 'set DATABASE_URL (see its setting line)')],
    };
  }
  const url = parsed.data.DATABASE_URL;
  const { pool } = createDb({ url, pool: { max: 2, connectionTimeoutMillis: limitMs } });
  try {
    const reached = await checkPostgres(pool, url, limitMs);
    if (!reached.ok) return { checks: [reached, notChecked('migrations', 'PostgreSQL not reached')] };
    const migrations = await checkMigrations(pool, limitMs);
    if (!keyring) return { checks: [reached, migrations] };
    const keyCheck = migrations.ok
      ? await checkPiiKeyCheck(pool, keyring, limitMs)
      : notChecked('pii key check', 'migrations not all applied', 'run `boarding migrate`');
    return { checks: [reached, migrations], keyCheck };
  } finally {
    await closeWithin(limitMs, () => pool.end());
  }
}

async function redisChecks(env: Record<string, string | undefined>, limitMs: number): Promise<Check[]> {
  const parsed = RedisEnv.safeParse(env);
  if (!parsed.success)
    return [notChecked('redis', unusable('REDIS_URL'), 'set REDIS_URL (see its setting line)')];
  return [await checkRedis(parsed.data.REDIS_URL, limitMs)];
}

async function kafkaChecks(
  env: Record<string, string | undefined>,
  taps: boolean,
  limitMs: number,
): Promise<Check[]> {
  const parsed = KafkaEnv.extend(IngestGroupEnv.shape).safeParse(env);
  if (!parsed.success) {
    return [notChecked('kafka', unusable('KAFKA_BROKERS'), 'set KAFKA_BROKERS (see its setting line)')];
  }
  const { KAFKA_BROKERS, KAFKA_CLIENT_ID, KAFKA_TAPS_TOPIC, INGEST_GROUP_ID } = parsed.data;
  const admin = createKafka({
    brokers: KAFKA_BROKERS,
    clientId: `${KAFKA_CLIENT_ID}-doctor`,
    // One retry, short connect: a broker that is away is a failed check within seconds.
    config: {
      connectionTimeout: 3000,
      requestTimeout: limitMs,
      retry: { retries: 1, initialRetryTime: 200 },
    },
  }).admin();
  try {
    const reached = await checkKafka(admin, KAFKA_BROKERS, limitMs);
    if (!taps) return [reached];
    if (!reached.ok) {
      return [
        reached,
        notChecked('taps topic', 'Kafka not reached'),
        notChecked('consumer group', 'Kafka not reached'),
      ];
    }
    const topic = await checkTapsTopic(admin, KAFKA_TAPS_TOPIC, limitMs);
    const group = await checkIngestGroup(admin, INGEST_GROUP_ID, KAFKA_TAPS_TOPIC, limitMs);
    return [reached, topic, group];
  } finally {
    await closeWithin(limitMs, () => admin.disconnect());
  }
}

async function sftpChecks(env: Record<string, string | undefined>, limitMs: number): Promise<Check[]> {
  const parsed = SftpEnv.safeParse(env);
  if (!parsed.success) {
    const names = [...new Set(parsed.error.issues.map((i) => String(i.path[0])))].join(', ');
    return [notChecked('sftp', `${names} missing or invalid (see the setting lines)`, `set ${names}`)];
  }
  return [await checkSftp(sftpSettingsFromEnv(parsed.data), limitMs)];
}
