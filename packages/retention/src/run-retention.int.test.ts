import { lstat, mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTestDatabase, type TestDatabase } from '@boarding/testing/database';
import type { Pool } from 'pg';
import { lastCompletedRetention } from './last-run';
import { RetentionBusyError, type RetentionCounts, runRetention } from './run-retention';

// Today is 2026-12-06 in Istanbul. RETENTION_DAYS 180: 2026-06-09 is exactly 180 days old and
// stays, 2026-06-08 (181) goes. 30 days (raw bytes, files): 2026-11-06 stays, 2026-11-05 goes.
const NOW = new Date('2026-12-06T12:00:00+03:00');
const SETTINGS = { retentionDays: 180, exportKeepDays: 30, deadLetterRawDays: 30 };
const OLD = '2026-06-08';
const KEPT = '2026-06-09';
const RAW_OLD = '2026-11-05';
const RAW_KEPT = '2026-11-06';
const CARD = '0412345678901234';

let seq = 0;
let offset = 0;

/** n taps of `day` stored as the ingest stores them: a row in boardings and its tap key. */
async function storeTaps(pool: Pool, day: string, n: number, partition = true): Promise<void> {
  if (partition) await pool.query('select ensure_boardings_partition($1::date)', [day]);
  for (let i = 0; i < n; i++) {
    seq++;
    offset++;
    const at = `${day}T10:00:00.${String(i).padStart(3, '0')}+03:00`;
    await pool.query(
      `insert into boardings (service_day, validator_id, seq, card_no, tapped_at, mode, line_code, result,
                              kafka_partition, kafka_offset, kafka_timestamp)
       values ($1, 'BUS-1-1', $2, $3, $4, 'BUS', '202', 'ACCEPTED', 0, $5, $4)`,
      [day, seq, CARD, at, offset],
    );
    await pool.query(
      `insert into tap_keys (validator_id, seq, service_day, card_no, tapped_at, topic, kafka_partition, kafka_offset)
       values ('BUS-1-1', $1, $2, $3, $4, 'validator.taps.v1', 0, $5)`,
      [seq, day, CARD, at, offset],
    );
  }
  await pool.query(
    `insert into validator_days (validator_id, service_day, min_seq, max_seq, tap_count, last_tapped_at)
     values ('BUS-1-1', $1, $2, $3, $4, $5) on conflict do nothing`,
    [day, seq - n + 1, seq, n, `${day}T10:00:00+03:00`],
  );
}

async function storeOthers(pool: Pool, day: string): Promise<void> {
  offset++;
  await pool.query(
    `insert into duplicate_taps (topic, kafka_partition, kafka_offset, validator_id, seq, service_day)
     values ('validator.taps.v1', 0, $1, 'BUS-1-1', 1, $2)`,
    [offset, day],
  );
  offset++;
  await pool.query(
    `insert into dead_letters (topic, kafka_partition, kafka_offset, kafka_timestamp, message_key, raw_value,
                               reason, detail, validator_id, seq, service_day)
     values ('validator.taps.v1', 0, $1, $2, 'BUS-1-1'::bytea, $3, 'SCHEMA_INVALID', 'mode: invalid', 'BUS-1-1', 1, $4)`,
    [offset, `${day}T10:00:00+03:00`, Buffer.from(`{"cardNo":"${CARD}","mode":"ROCKET"}`), day],
  );
  offset++;
  await pool.query(
    `insert into heartbeat_log (topic, kafka_partition, kafka_offset, kafka_timestamp, validator_id, last_seq, at, service_day)
     values ('validator.taps.v1', 0, $1, $2, 'BUS-1-1', 1, $2, $3)`,
    [offset, `${day}T10:00:00+03:00`, day],
  );
}

async function leaveDetachPending(pool: Pool, partition: string): Promise<void> {
  const reader = await pool.connect();
  const detacher = await pool.connect();
  try {
    await reader.query('begin');
    await reader.query('select count(*) from boardings');
    const { rows } = await detacher.query<{ pid: number }>('select pg_backend_pid() as pid');
    const detaching = detacher.query(`alter table boardings detach partition ${partition} concurrently`).then(
      () => null,
      (err: unknown) => err,
    );
    for (;;) {
      const pending = await pool.query(
        `select inhdetachpending as p from pg_inherits where inhrelid = $1::regclass`,
        [partition],
      );
      if (pending.rows[0]?.p === true) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    await pool.query('select pg_cancel_backend($1)', [rows[0]?.pid]);
    expect(await detaching).toMatchObject({ code: '57014' });
    await reader.query('commit');
  } finally {
    reader.release();
    detacher.release();
  }
}

type Snapshot = Record<string, unknown>;

async function snapshot(pool: Pool, dir: string): Promise<Snapshot> {
  const q = async (sql: string) => (await pool.query(sql)).rows;
  return {
    boardings: await q('select service_day::text, count(*)::int from boardings group by 1 order by 1'),
    tapKeys: await q('select service_day::text, count(*)::int from tap_keys group by 1 order by 1'),
    duplicates: await q('select service_day::text, count(*)::int from duplicate_taps group by 1 order by 1'),
    deadLetters: await q(
      `select service_day::text, raw_value is not null as raw, message_key is not null as key
       from dead_letters order by 1`,
    ),
    heartbeats: await q('select service_day::text, count(*)::int from heartbeat_log group by 1 order by 1'),
    validatorDays: await q('select service_day::text, tap_count::int from validator_days order by 1'),
    tables: await q(
      `select relname from pg_class where relname like 'boardings%' and relkind in ('r', 'p') order by 1`,
    ),
    files: (await readdir(dir)).sort(),
  };
}

describe('retention (SPEC §11)', () => {
  let db: TestDatabase;
  let dir: string;

  beforeAll(async () => {
    db = await createTestDatabase('retention');
    dir = await mkdtemp(join(tmpdir(), 'retention-'));
    await storeTaps(db.pool, '2026-06-07', 2);
    await storeTaps(db.pool, OLD, 3);
    await storeTaps(db.pool, KEPT, 4);
    await storeTaps(db.pool, RAW_OLD, 1);
    // A run that stopped after detaching 2026-06-06 left its table behind: the next run finishes it.
    await storeTaps(db.pool, '2026-06-06', 2);
    await db.pool.query('alter table boardings detach partition boardings_20260606');
    // One stopped in the middle of DETACH CONCURRENTLY (cancelled while a reader held the table)
    // left 2026-06-05 attached with its detach pending: the next run finalizes it.
    await storeTaps(db.pool, '2026-06-05', 1);
    await leaveDetachPending(db.pool, 'boardings_20260605');
    for (const day of [OLD, KEPT, RAW_OLD, RAW_KEPT]) await storeOthers(db.pool, day);

    const files = {
      'BINIS_ESHOT_20261105_v1.csv': 'old',
      'BINIS_ESHOT_20261105_v1.manifest.json': '{}',
      'BINIS_ESHOT_20261105_v2.csv.gz': 'old gz',
      'BINIS_IZBAN_20200101_v1.csv': 'another operator, long ago',
      'BINIS_ESHOT_20261106_v1.csv': 'kept',
      'BINIS_ESHOT_20261106_v1.manifest.json': '{}',
      // Not delivered copies: never touched, however old their names look.
      'BINIS_ESHOT_20200101_v1.csv.bak': 'a copy someone made',
      '.build-2020-01-01-abcd1234.csv': 'a build in progress',
      'notes.txt': 'operator notes',
    };
    for (const [name, body] of Object.entries(files)) await writeFile(join(dir, name), body);
    await mkdir(join(dir, 'BINIS_ESHOT_20200102_v1.csv'));
    await symlink(join(dir, 'notes.txt'), join(dir, 'BINIS_ESHOT_20200103_v1.csv'));
  });

  afterAll(async () => {
    await db?.drop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const ctx = (dryRun: boolean) => ({
    pool: db.pool,
    exportDir: dir,
    settings: SETTINGS,
    now: () => NOW,
    dryRun,
    source: 'cli' as const,
  });

  const expected: RetentionCounts = {
    // 2026-06-05 (detach pending), 2026-06-06 (detached), 2026-06-07, 2026-06-08: 1 + 2 + 2 + 3
    // taps, each with its tap key.
    taps: 8,
    dayPartitions: 4,
    tapKeys: 8,
    duplicates: 1,
    deadLetters: 1,
    // 2026-06-09 and 2026-11-05 lose their bytes; 2026-11-06 keeps them.
    deadLetterRaw: 2,
    heartbeats: 1,
    // Three copies of 2026-11-05 and the other operator's file of 2020.
    files: 4,
    fileBytes: 3 + 2 + 6 + 'another operator, long ago'.length,
  };

  it('a dry run deletes nothing, counts what a run would delete, and is recorded as a dry run', async () => {
    expect(await lastCompletedRetention(db.pool)).toBeNull();
    const before = await snapshot(db.pool, dir);
    const report = await runRetention(ctx(true));
    expect(report.counts).toEqual(expected);
    expect(report.cutoffs).toEqual({
      tapsBefore: KEPT,
      deadLetterRawBefore: RAW_KEPT,
      filesBefore: RAW_KEPT,
    });
    expect(await snapshot(db.pool, dir)).toEqual(before);
    const { rows } = await db.pool.query('select dry_run, outcome from retention_runs where id = $1', [
      report.runId,
    ]);
    expect(rows).toEqual([{ dry_run: true, outcome: 'COMPLETED' }]);
    // A dry run deleted nothing: it is not a retention run for the alert that data is kept too long.
    expect(await lastCompletedRetention(db.pool)).toBeNull();
  });

  it('refuses to run beside another run', async () => {
    const other = await db.pool.connect();
    try {
      await other.query(`select pg_advisory_lock(hashtext('boarding_retention'))`);
      await expect(runRetention(ctx(false))).rejects.toBeInstanceOf(RetentionBusyError);
      await other.query(`select pg_advisory_unlock(hashtext('boarding_retention'))`);
    } finally {
      other.release();
    }
  });

  it('deletes each kind older than its age, nothing younger, and reports the dry run’s counts', async () => {
    const report = await runRetention(ctx(false));
    expect(report.counts).toEqual(expected);
    const after = await snapshot(db.pool, dir);
    expect(after.boardings).toEqual([
      { service_day: KEPT, count: 4 },
      { service_day: RAW_OLD, count: 1 },
    ]);
    expect(after.tapKeys).toEqual(after.boardings);
    expect(after.tables).toEqual([
      { relname: 'boardings' },
      { relname: 'boardings_20260609' },
      { relname: 'boardings_20261105' },
    ]);
    expect(after.duplicates).toEqual([
      { service_day: KEPT, count: 1 },
      { service_day: RAW_OLD, count: 1 },
      { service_day: RAW_KEPT, count: 1 },
    ]);
    expect(after.deadLetters).toEqual([
      { service_day: KEPT, raw: false, key: false },
      { service_day: RAW_OLD, raw: false, key: false },
      { service_day: RAW_KEPT, raw: true, key: true },
    ]);
    expect(after.heartbeats).toEqual([
      { service_day: KEPT, count: 1 },
      { service_day: RAW_OLD, count: 1 },
      { service_day: RAW_KEPT, count: 1 },
    ]);
    // Per-validator ranges and counts hold no personal data: kept for every day.
    expect(after.validatorDays).toEqual([
      { service_day: '2026-06-05', tap_count: 1 },
      { service_day: '2026-06-06', tap_count: 2 },
      { service_day: '2026-06-07', tap_count: 2 },
      { service_day: OLD, tap_count: 3 },
      { service_day: KEPT, tap_count: 4 },
      { service_day: RAW_OLD, tap_count: 1 },
    ]);
    expect(after.files).toEqual([
      '.build-2020-01-01-abcd1234.csv',
      'BINIS_ESHOT_20200101_v1.csv.bak',
      'BINIS_ESHOT_20200102_v1.csv',
      'BINIS_ESHOT_20200103_v1.csv',
      'BINIS_ESHOT_20261106_v1.csv',
      'BINIS_ESHOT_20261106_v1.manifest.json',
      'notes.txt',
    ]);
    expect((await lstat(join(dir, 'BINIS_ESHOT_20200102_v1.csv'))).isDirectory()).toBe(true);
    expect((await lstat(join(dir, 'BINIS_ESHOT_20200103_v1.csv'))).isSymbolicLink()).toBe(true);
  });

  it('records the run with counts per kind and cutoff days only, never values', async () => {
    const { rows } = await db.pool.query(
      `select source, dry_run, outcome, taps_before::text, dead_letter_raw_before::text, files_before::text,
              counts, error, finished_at is not null as finished
       from retention_runs where not dry_run`,
    );
    expect(rows).toEqual([
      {
        source: 'cli',
        dry_run: false,
        outcome: 'COMPLETED',
        taps_before: KEPT,
        dead_letter_raw_before: RAW_KEPT,
        files_before: RAW_KEPT,
        counts: expected,
        error: null,
        finished: true,
      },
    ]);
    const all = JSON.stringify((await db.pool.query('select * from retention_runs')).rows);
    expect(all).not.toContain(CARD);
    expect(all).not.toContain('BUS-1-1');
    expect(all).not.toContain('BINIS_');
  });

  it('a second run finds nothing more to delete', async () => {
    const report = await runRetention(ctx(false));
    expect(Object.values(report.counts).every((n) => n === 0)).toBe(true);
    const { rows } = await db.pool.query<{ at: Date }>(
      'select finished_at as at from retention_runs where id = $1',
      [report.runId],
    );
    // The exporter's boarding_retention_last_completed_timestamp_seconds: the newest real run.
    expect(await lastCompletedRetention(db.pool)).toBeCloseTo((rows[0]?.at.getTime() ?? 0) / 1000, 2);
  });
});

describe('retention of a partition that also holds younger days', () => {
  let db: TestDatabase;
  let dir: string;

  beforeAll(async () => {
    db = await createTestDatabase('retention_rows');
    dir = await mkdtemp(join(tmpdir(), 'retention-rows-'));
    await db.pool.query(
      `create table boardings_span partition of boardings for values from ('2026-06-07') to ('2026-06-11')`,
    );
    await storeTaps(db.pool, OLD, 2, false);
    await storeTaps(db.pool, KEPT, 3, false);
  });

  afterAll(async () => {
    await db?.drop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('deletes the older rows and their tap keys, keeps the partition and the younger rows', async () => {
    const ctx = { pool: db.pool, exportDir: join(dir, 'missing'), settings: SETTINGS, now: () => NOW };
    const dry = await runRetention({ ...ctx, dryRun: true, source: 'job' });
    const report = await runRetention({ ...ctx, dryRun: false, source: 'job' });
    expect(report.counts).toMatchObject({ taps: 2, tapKeys: 2, dayPartitions: 0, files: 0 });
    expect(dry.counts).toEqual(report.counts);
    const q = async (sql: string) => (await db.pool.query(sql)).rows;
    expect(await q('select service_day::text, count(*)::int from boardings_span group by 1')).toEqual([
      { service_day: KEPT, count: 3 },
    ]);
    expect(await q('select service_day::text, count(*)::int from tap_keys group by 1')).toEqual([
      { service_day: KEPT, count: 3 },
    ]);
  });
});
