import type { DayReport } from '@boarding/day/describe-day';
import { finishAttempt, recordAttempt, reserveVersion, startAttempt } from '@boarding/delivery/ledger';
import { createTestDatabase, type TestDatabase } from '@boarding/testing/database';
import { registerDay } from './day';
import { runCommand } from './run-command.test-helpers';

/** `boarding …` in-process against the test database, stdout and stderr captured. */
const boarding = (db: TestDatabase, args: string[]) =>
  runCommand(registerDay, args, { DATABASE_URL: db.url });

const DAY = '2020-11-20';

describe('boarding day show', () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase('day_show');
    const q = (sql: string, params: unknown[] = []) => db.pool.query(sql, params);
    await q(
      "select ensure_boardings_partition(d::date) from unnest(array['2020-11-20', '2020-11-21', '2020-11-22']) d",
    );
    const tap = (day: string, v: string, seq: number, at: string, matchId: number | null, rejected = false) =>
      q(
        `insert into boardings (service_day, validator_id, seq, card_no, tapped_at, mode, line_code, vehicle_id, stop_code,
                                result, reject_reason, match_id, kafka_partition, kafka_offset, kafka_timestamp)
         values ($1, $2, $3, '0400000000000A01', $4, 'BUS', '202', '35-ESH-3041', null, $5, $6, $7, 0, $3, $4)`,
        [day, v, seq, at, rejected ? 'REJECTED' : 'ACCEPTED', rejected ? 'HES_RISKY' : null, matchId],
      );
    // BUS-1-1: 1..3, and a heartbeat after midnight: complete.
    await tap(DAY, 'BUS-1-1', 1, '2020-11-20T08:00:00+03:00', 11);
    await tap(DAY, 'BUS-1-1', 2, '2020-11-20T08:05:00+03:00', 12, true);
    await tap(DAY, 'BUS-1-1', 3, '2020-11-20T08:10:00+03:00', null);
    // BUS-2-1: 5, 8, 9 (6 and 7 missing), then a tap of the next day.
    await tap(DAY, 'BUS-2-1', 5, '2020-11-20T09:00:00+03:00', null);
    await tap(DAY, 'BUS-2-1', 8, '2020-11-20T09:30:00+03:00', 11);
    await tap(DAY, 'BUS-2-1', 9, '2020-11-20T09:40:00+03:00', null);
    await tap('2020-11-21', 'BUS-2-1', 10, '2020-11-21T07:00:00+03:00', null);
    // MET-1-1: gap-free, but nothing shows it uploaded past the day.
    await tap(DAY, 'MET-1-1', 100, '2020-11-20T23:59:59.999+03:00', 13);
    // 2020-11-22: 22 validators, each missing seq 2.
    for (let i = 0; i < 22; i++) {
      const v = `GAP-${String(i).padStart(2, '0')}`;
      await tap('2020-11-22', v, 1, '2020-11-22T10:00:00+03:00', null);
      await tap('2020-11-22', v, 3, '2020-11-22T10:10:00+03:00', null);
    }
    // Progress as the ingest keeps it.
    await q(
      `insert into validator_days (validator_id, service_day, min_seq, max_seq, tap_count, last_tapped_at)
       select validator_id, service_day, min(seq), max(seq), count(*), max(tapped_at) from boardings
       group by validator_id, service_day`,
    );
    await q(
      "insert into validator_heartbeats (validator_id, last_seq, at) values ('BUS-1-1', 3, '2020-11-21T00:05:00+03:00')",
    );
    const dup = (offset: number, day: string) =>
      q(
        `insert into duplicate_taps (topic, kafka_partition, kafka_offset, validator_id, seq, service_day)
         values ('t', 0, $1, 'BUS-1-1', 1, $2)`,
        [offset, day],
      );
    await dup(500, DAY);
    await dup(501, DAY);
    await dup(502, '2020-11-21');
    const letter = (offset: number, reason: string, day: string) =>
      q(
        `insert into dead_letters (topic, kafka_partition, kafka_offset, kafka_timestamp, message_key, raw_value, reason, detail,
                                   validator_id, seq, service_day)
         values ('t', 1, $1, '2020-11-20T12:00:00+03:00', null, null, $2, 'test', null, null, $3)`,
        [offset, reason, day],
      );
    await letter(600, 'INVALID_JSON', DAY);
    await letter(601, 'SEQ_CONFLICT', DAY);
    await letter(602, 'INVALID_JSON', DAY);
    await letter(603, 'TAP_TOO_OLD', '2020-11-21');
    // The ledger: v1 failed once then went through; v2 superseded it.
    const attempt = {
      serviceDay: DAY,
      fileName: 'BINIS_ESHOT_20201120_v1.csv',
      sha256: 'a'.repeat(64),
      trigger: 'nightly',
      target: 'sftp://ministry@127.0.0.1:2222/incoming',
      startedAt: new Date('2020-11-21T03:30:00+03:00'),
    };
    const version = (v: number, rows: number, sha: string) => ({
      serviceDay: DAY,
      version: v,
      fileName: `BINIS_ESHOT_20201120_v${v}.csv`,
      contentSha256: sha,
      sha256: sha,
      bytes: 1000 + rows,
      rows,
      supersedes: v === 1 ? null : v - 1,
      manifestJson: '{}',
    });
    await recordAttempt(db.pool, {
      ...attempt,
      version: 1,
      attempt: 1,
      outcome: 'FAILED',
      errorCode: 'SFTP_UNREACHABLE',
      error: 'connect ECONNREFUSED 127.0.0.1:2222',
    });
    // As delivery records them: the version reserved, the try IN_FLIGHT, then DELIVERED.
    const delivered = async (v: ReturnType<typeof version>, a: Parameters<typeof startAttempt>[1]) => {
      await reserveVersion(db.pool, v);
      const id = await startAttempt(db.pool, a);
      await finishAttempt(db.pool, id, { outcome: 'DELIVERED', errorCode: null, error: null }, v);
    };
    await delivered(version(1, 3, 'a'.repeat(64)), { ...attempt, version: 1, attempt: 2 });
    await delivered(version(2, 4, 'b'.repeat(64)), {
      ...attempt,
      fileName: 'BINIS_ESHOT_20201120_v2.csv',
      sha256: 'b'.repeat(64),
      trigger: 'late-window',
      version: 2,
      attempt: 1,
    });
  });

  afterAll(async () => {
    await db.drop();
  });

  it('prints what is known of the day as one JSON object', async () => {
    const { stdout } = await boarding(db, ['day', 'show', DAY, '--json']);
    expect(stdout.trim().split('\n')).toHaveLength(1);
    const report = JSON.parse(stdout) as DayReport;
    expect(report.day).toBe(DAY);
    expect(report.taps).toEqual({
      stored: 7,
      accepted: 6,
      rejected: 1,
      matchedAtIngest: 4,
      unmatchedAtIngest: 3,
    });
    expect(report.duplicates).toBe(2);
    expect(report.deadLetters).toEqual({ total: 3, byReason: { INVALID_JSON: 2, SEQ_CONFLICT: 1 } });
    expect(report.completeness).toEqual({
      validatorsSeen: 3,
      validatorsComplete: 1,
      validatorsWithGaps: 1,
      validatorsAwaitingUpload: 1,
      gaps: [{ validatorId: 'BUS-2-1', missing: [[6, 7]] }],
      awaitingUpload: ['MET-1-1'],
    });
    const iso = expect.stringMatching(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    expect(report.versions).toEqual([
      {
        version: 1,
        file: 'BINIS_ESHOT_20201120_v1.csv',
        rows: 3,
        bytes: 1003,
        sha256: 'a'.repeat(64),
        supersedes: null,
        state: 'DELIVERED',
        deliveredAt: iso,
      },
      {
        version: 2,
        file: 'BINIS_ESHOT_20201120_v2.csv',
        rows: 4,
        bytes: 1004,
        sha256: 'b'.repeat(64),
        supersedes: 1,
        state: 'DELIVERED',
        deliveredAt: iso,
      },
    ]);
    const target = 'sftp://ministry@127.0.0.1:2222/incoming';
    expect(report.attempts).toEqual([
      {
        finishedAt: iso,
        version: 2,
        attempt: 1,
        outcome: 'DELIVERED',
        trigger: 'late-window',
        target,
        sha256: 'b'.repeat(64),
        errorCode: null,
        error: null,
      },
      {
        finishedAt: iso,
        version: 1,
        attempt: 2,
        outcome: 'DELIVERED',
        trigger: 'nightly',
        target,
        sha256: 'a'.repeat(64),
        errorCode: null,
        error: null,
      },
      {
        finishedAt: iso,
        version: 1,
        attempt: 1,
        outcome: 'FAILED',
        trigger: 'nightly',
        target,
        sha256: 'a'.repeat(64),
        errorCode: 'SFTP_UNREACHABLE',
        error: 'connect ECONNREFUSED 127.0.0.1:2222',
      },
    ]);
  });

  it('lists the first 20 validators with gaps and counts them all', async () => {
    const report = JSON.parse(
      (await boarding(db, ['day', 'show', '2020-11-22', '--json'])).stdout,
    ) as DayReport;
    expect(report.completeness.validatorsWithGaps).toBe(22);
    expect(report.completeness.gaps).toHaveLength(20);
    expect(report.completeness.gaps[0]).toEqual({ validatorId: 'GAP-00', missing: [[2, 2]] });
    expect(report.completeness.gaps[19]?.validatorId).toBe('GAP-19');
    expect(report.versions).toEqual([]);
  });

  it('prints a human summary with tables', async () => {
    const { stdout } = await boarding(db, ['day', 'show', DAY]);
    expect(stdout).toContain(
      'taps stored: 7 (6 accepted, 1 rejected); matched at ingest: 4, unmatched: 3; duplicates: 2',
    );
    expect(stdout).toContain('dead letters: 3 (INVALID_JSON 2, SEQ_CONFLICT 1)');
    expect(stdout).toContain('validators: 3 seen, 1 complete, 1 with gaps, 1 not yet uploaded past the day');
    expect(stdout).toMatch(/│ BUS-2-1 +│ 6-7 +│/);
    expect(stdout).toMatch(/│ v2 +│ BINIS_ESHOT_20201120_v2\.csv │ 4 +│ b{16} │ v1 +│/);
    expect(stdout).toMatch(/│ v1 +│ 1 +│ FAILED +│ nightly +│ SFTP_UNREACHABLE connect ECONNREFUSED/);
    const gaps = (await boarding(db, ['day', 'show', '2020-11-22'])).stdout;
    expect(gaps).toContain('validators with gaps (first 20 of 22)');
    expect(gaps).toContain('versions delivered: none yet');
    expect(gaps).toContain('delivery attempts: none recorded');
  });

  it('says the day is empty rather than failing', async () => {
    const report = JSON.parse(
      (await boarding(db, ['day', 'show', '2020-11-25', '--json'])).stdout,
    ) as DayReport;
    expect(report.taps).toEqual({
      stored: 0,
      accepted: 0,
      rejected: 0,
      matchedAtIngest: 0,
      unmatchedAtIngest: 0,
    });
    expect(report.completeness.validatorsSeen).toBe(0);
    expect(report.deadLetters).toEqual({ total: 0, byReason: {} });
  });

  it('refuses a day that is not a date', async () => {
    await expect(boarding(db, ['day', 'show', '2020-02-30'])).rejects.toThrow(
      'day must be a date as YYYY-MM-DD, got "2020-02-30"',
    );
  });
});
