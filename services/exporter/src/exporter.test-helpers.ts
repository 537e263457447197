import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { environmentWith, loadEnv } from '@boarding/config/env';
import type { Keyring } from '@boarding/encryption/keyring';
import { ShutdownRegistry } from '@boarding/lifecycle/shutdown';
import { createLogger } from '@boarding/logger/logger';
import { matchCard } from '@boarding/registry/verbs/match-card';
import { createTestDatabase, type TestDatabase } from '@boarding/testing/database';
import { createKeyringForTests } from '@boarding/testing/keyring';
import { createTestSftpDir, type TestSftpDir } from '@boarding/testing/sftp';
import { Redis } from 'ioredis';
import { ExporterEnv } from './env';
import { createExporterService, type ExporterDeps, type ExporterService } from './exporter-service';

/** A personal card the tests match (its TC and HES appear in expected rows). */
export const PERSONAL_CARD = {
  cardNo: '0400000000000A01',
  cardKind: 'PERSONAL',
  tcKimlikNo: '10000000146',
  hesCode: 'ABCD1234X9',
} as const;

/** An anonymous (hamiline) card with the same number, for tests that match it instead. */
export const ANONYMOUS_CARD = {
  cardNo: '0400000000000A01',
  cardKind: 'ANONYMOUS',
  tcKimlikNo: '17291716060',
  hesCode: 'ZZZZ9999Q1',
} as const;

/** Times a service found its nightly day incomplete and slept (its rechecks counter). */
export async function rechecks(service: ExporterService): Promise<number> {
  return (await service.metrics.rechecks.get()).values[0]?.value ?? 0;
}

/** One pino line as written (JSON), for assertions on what was logged. */
export type LogLine = { level: number; msg: string } & Record<string, unknown>;

/**
 * What one integration test needs, private to it: a migrated database, an SFTP directory (when
 * asked), a BullMQ prefix of its own, an export directory and the test keyring. Services made by
 * `createService` share all of it (two exporters of one deployment) and log into `logs`.
 */
export type ExporterRig = {
  env: ExporterEnv;
  db: TestDatabase;
  sftp: TestSftpDir | undefined;
  keyring: Keyring;
  logs: LogLine[];
  createService(options?: { deps?: ExporterDeps; overrides?: Record<string, string> }): ExporterService;
  teardown(): Promise<void>;
};

export async function createExporterRig(
  label: string,
  options: { sftp: boolean; overrides?: Record<string, string> },
): Promise<ExporterRig> {
  const db = await createTestDatabase(`exporter_${label}`);
  const sftp = options.sftp ? await createTestSftpDir(`exporter-${label}`) : undefined;
  const outDir = await mkdtemp(join(tmpdir(), `exporter-${label}-`));
  const prefix = `test-exporter-${label}-${randomBytes(4).toString('hex')}`;
  const keyring = createKeyringForTests();
  const logs: LogLine[] = [];
  const overrides: Record<string, string> = {
    DATABASE_URL: db.url,
    EXPORT_QUEUE_PREFIX: prefix,
    EXPORT_DIR: outDir,
    EXPORTER_PORT: '0',
    // Fast failures: tests never wait out production backoffs.
    EXPORT_JOB_BACKOFF_MS: '50',
    DELIVERY_BACKOFF_MS: '10',
    DELIVERY_BACKOFF_MAX_MS: '50',
    ...(sftp ? { SFTP_REMOTE_DIR: sftp.remoteDir } : {}),
    ...options.overrides,
  };
  const env = loadEnv(ExporterEnv, environmentWith(overrides));
  const registries: ShutdownRegistry[] = [];
  const logger = createLogger('exporter', {
    level: 'info',
    destination: { write: (line: string) => void logs.push(JSON.parse(line) as LogLine) },
  });

  return {
    env,
    db,
    sftp,
    keyring,
    logs,
    createService(serviceOptions = {}) {
      const shutdown = new ShutdownRegistry(logger, 20000);
      registries.push(shutdown);
      const serviceEnv = serviceOptions.overrides
        ? loadEnv(ExporterEnv, environmentWith({ ...overrides, ...serviceOptions.overrides }))
        : env;
      // The ingest gate reads a Kafka group's lag: by default a twin that says "caught up", so a
      // test sees its own seeded days only; a gate test passes `ingestBehind: undefined` (the real one).
      return createExporterService(serviceEnv, logger, shutdown, {
        keyring,
        ingestBehind: async () => ({ messages: 0, oldestUnreadAt: null }),
        ...serviceOptions.deps,
      });
    },
    async teardown() {
      for (const r of registries) await r.stop().catch(() => undefined);
      await removeRedisKeys(env.REDIS_URL, prefix);
      await db.drop();
      await sftp?.remove();
      await rm(outDir, { recursive: true, force: true });
    },
  };
}

async function removeRedisKeys(url: string, prefix: string): Promise<void> {
  const redis = new Redis(url);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      if (keys.length > 0) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    await redis.quit();
  }
}

/** A tap of the day as the ingest would have stored it (the file needs only these columns). */
export type SeedTap = {
  validatorId: string;
  seq: number;
  cardNo: string;
  /** ISO with offset. */
  at: string;
  result?: 'ACCEPTED' | 'REJECTED';
  rejectReason?: string | null;
};

/**
 * Store taps of `day` in boardings and keep validator_days as the ingest does (first and last
 * seq, count), which is what completeness reads.
 */
export async function seedTaps(db: TestDatabase, day: string, taps: SeedTap[]): Promise<void> {
  await db.pool.query('select ensure_boardings_partition($1::date)', [day]);
  for (const t of taps) {
    await db.pool.query(
      `insert into boardings (service_day, validator_id, seq, card_no, tapped_at, mode, line_code, vehicle_id, stop_code,
                              result, reject_reason, match_id, kafka_partition, kafka_offset, kafka_timestamp)
       values ($1::date, $2, $3, $4, $5, 'BUS', '202', '35-ESH-3041', null, $6, $7, null, 0, $3, $5)`,
      [day, t.validatorId, t.seq, t.cardNo, t.at, t.result ?? 'ACCEPTED', t.rejectReason ?? null],
    );
    await db.pool.query(
      `insert into validator_days (validator_id, service_day, min_seq, max_seq, tap_count, last_tapped_at)
       values ($1, $2::date, $3, $3, 1, $4)
       on conflict (validator_id, service_day) do update set
         min_seq = least(validator_days.min_seq, excluded.min_seq),
         max_seq = greatest(validator_days.max_seq, excluded.max_seq),
         tap_count = validator_days.tap_count + 1,
         last_tapped_at = greatest(validator_days.last_tapped_at, excluded.last_tapped_at)`,
      [t.validatorId, day, t.seq, t.at],
    );
  }
}

/** A heartbeat: the validator has recorded every seq up to lastSeq at `at` (kept newest, as the ingest does). */
export async function seedHeartbeat(db: TestDatabase, validatorId: string, lastSeq: number, at: string) {
  await db.pool.query(
    `insert into validator_heartbeats (validator_id, last_seq, at) values ($1, $2, $3)
     on conflict (validator_id) do update set
       last_seq = greatest(validator_heartbeats.last_seq, excluded.last_seq),
       at = greatest(validator_heartbeats.at, excluded.at)`,
    [validatorId, lastSeq, at],
  );
}

/** Match a card from long before any test day, with the TC and HES the expected rows name. */
export async function seedMatch(
  db: TestDatabase,
  keyring: Keyring,
  match: { cardNo: string; cardKind: 'PERSONAL' | 'ANONYMOUS'; tcKimlikNo: string; hesCode: string },
): Promise<void> {
  await matchCard({
    ctx: { db: db.db, keyring, actor: { id: 'test', channel: 'WEB' } },
    input: { ...match, at: '2020-01-01T00:00:00Z' },
  });
}

/** Poll until `check` holds (it may throw while waiting); fail after timeoutMs. */
export async function eventually<T>(check: () => Promise<T>, timeoutMs = 20000): Promise<T> {
  const giveUp = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (err) {
      if (Date.now() > giveUp) throw err;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

/** The delivery ledger of a day as rows a test can compare. */
export async function ledgerRows(db: TestDatabase, day: string) {
  const { rows } = await db.pool.query<{
    version: number;
    attempt: number;
    outcome: string;
    trigger: string;
    error_code: string | null;
    error: string | null;
  }>(
    `select version, attempt, outcome, trigger, error_code, error from delivery_attempts
     where service_day = $1::date order by id`,
    [day],
  );
  return rows;
}
