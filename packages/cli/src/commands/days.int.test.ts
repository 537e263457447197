import type { DaySummary } from '@boarding/day/summarize-days';
import { finishAttempt, recordAttempt, reserveVersion, startAttempt } from '@boarding/delivery/ledger';
import { createTestDatabase, type TestDatabase } from '@boarding/testing/database';
import { registerDays } from './days';
import { runCommand } from './run-command.test-helpers';

const boarding = (db: TestDatabase, args: string[], env: Record<string, string> = {}) =>
  runCommand(registerDays, args, { DATABASE_URL: db.url, ...env });

const manifest = (day: string, stats: Record<string, unknown>) =>
  JSON.stringify({ serviceDay: day, version: 1, stats });

const version = (day: string, rows: number, stats: Record<string, unknown>) => ({
  serviceDay: day,
  version: 1,
  fileName: `BINIS_ESHOT_${day.replaceAll('-', '')}_v1.csv`,
  contentSha256: 'c'.repeat(64),
  sha256: 'c'.repeat(64),
  bytes: 100,
  rows,
  supersedes: null,
  manifestJson: manifest(day, stats),
});

const attempt = (day: string) => ({
  serviceDay: day,
  version: 1,
  fileName: `BINIS_ESHOT_${day.replaceAll('-', '')}_v1.csv`,
  sha256: 'c'.repeat(64),
  attempt: 1,
  trigger: 'nightly',
  target: 'sftp://ministry@127.0.0.1:2222/incoming',
  startedAt: new Date(`${day}T00:30:00Z`),
});

describe('boarding days list', () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase('days_list');
    const q = (sql: string, params: unknown[] = []) => db.pool.query(sql, params);
    await q("select ensure_boardings_partition(d::date) from unnest(array['2020-11-20', '2020-11-21']) d");
    const tap = (day: string, v: string, seq: number, at: string, matchId: number | null) =>
      q(
        `insert into boardings (service_day, validator_id, seq, card_no, tapped_at, mode, line_code, vehicle_id, stop_code,
                                result, reject_reason, match_id, kafka_partition, kafka_offset, kafka_timestamp)
         values ($1, $2, $3, '0400000000000A01', $4, 'BUS', '202', null, null, 'ACCEPTED', null, $5, 0, $3, $4)`,
        [day, v, seq, at, matchId],
      );
    // 11-20: BUS-1 1..3 (a heartbeat after midnight: complete), BUS-2 5, 8, 9 (a gap); 4 of 6 matched.
    await tap('2020-11-20', 'BUS-1', 1, '2020-11-20T08:00:00+03:00', 11);
    await tap('2020-11-20', 'BUS-1', 2, '2020-11-20T08:05:00+03:00', 12);
    await tap('2020-11-20', 'BUS-1', 3, '2020-11-20T08:10:00+03:00', 11);
    await tap('2020-11-20', 'BUS-2', 5, '2020-11-20T09:00:00+03:00', null);
    await tap('2020-11-20', 'BUS-2', 8, '2020-11-20T09:30:00+03:00', 11);
    await tap('2020-11-20', 'BUS-2', 9, '2020-11-20T09:40:00+03:00', null);
    // 11-21: one tap of BUS-2, nothing after it; BUS-1 silent.
    await tap('2020-11-21', 'BUS-2', 10, '2020-11-21T07:00:00+03:00', null);
    await q(
      `insert into validator_days (validator_id, service_day, min_seq, max_seq, tap_count, last_tapped_at)
       select validator_id, service_day, min(seq), max(seq), count(*), max(tapped_at) from boardings
       group by validator_id, service_day`,
    );
    await q(
      "insert into validator_heartbeats (validator_id, last_seq, at) values ('BUS-1', 3, '2020-11-21T00:05:00+03:00')",
    );
    await q(
      `insert into duplicate_taps (topic, kafka_partition, kafka_offset, validator_id, seq, service_day)
       values ('t', 0, 500, 'BUS-1', 1, '2020-11-20')`,
    );
    await q(
      `insert into dead_letters (topic, kafka_partition, kafka_offset, kafka_timestamp, message_key, raw_value, reason, detail,
                                 validator_id, seq, service_day)
       values ('t', 1, 600, '2020-11-20T12:00:00+03:00', null, null, 'INVALID_JSON', 'test', null, null, '2020-11-20')`,
    );
    // 11-20: v1 delivered, the ingest caught up, nobody silent.
    const v20 = version('2020-11-20', 4, {
      tapsStored: 6,
      matched: 4,
      ingestBehind: { messages: 0, oldestUnreadAt: null },
      validatorsExpected: 2,
      validatorsSilent: [],
    });
    await reserveVersion(db.pool, v20);
    const id20 = await startAttempt(db.pool, attempt('2020-11-20'));
    await finishAttempt(db.pool, id20, { outcome: 'DELIVERED', errorCode: null, error: null }, v20);
    await q(
      "update export_versions set delivered_at = '2020-11-21T03:41:00+03:00' where service_day = '2020-11-20'",
    );
    // 11-21: v1's upload started and failed midway (it may be at the receiver: IN_FLIGHT); the lag
    // was not read; 1 of the 2 validators of the week before silent.
    const v21 = version('2020-11-21', 0, {
      tapsStored: 1,
      matched: 0,
      ingestBehind: null,
      validatorsExpected: 2,
      validatorsSilent: ['BUS-1'],
    });
    await reserveVersion(db.pool, v21);
    await recordAttempt(db.pool, {
      ...attempt('2020-11-21'),
      outcome: 'FAILED',
      errorCode: 'SFTP_UNREACHABLE',
      error: 'connect ECONNREFUSED',
    });
  });

  afterAll(async () => {
    await db.drop();
  });

  it('prints the summary of every day of the range as one JSON array, newest first', async () => {
    const { stdout } = await boarding(db, [
      'days',
      'list',
      '--from',
      '2020-11-20',
      '--to',
      '2020-11-22',
      '--json',
    ]);
    expect(stdout.trim().split('\n')).toHaveLength(1);
    const days = JSON.parse(stdout) as DaySummary[];
    expect(days).toEqual([
      {
        day: '2020-11-22',
        taps: 0,
        matchedPercent: null,
        deadLetters: 0,
        duplicates: 0,
        validatorsSeen: 0,
        validatorsComplete: 0,
        completePercent: null,
        ingestBehind: null,
        latestVersion: null,
        deliveredAt: null,
        failedAttempts: 0,
        alerts: [],
      },
      {
        day: '2020-11-21',
        taps: 1,
        matchedPercent: 0,
        deadLetters: 0,
        duplicates: 0,
        validatorsSeen: 1,
        validatorsComplete: 0,
        completePercent: 0,
        ingestBehind: null,
        latestVersion: { version: 1, state: 'IN_FLIGHT', rows: 0 },
        deliveredAt: null,
        failedAttempts: 1,
        alerts: [
          { code: 'SILENT_FLEET', message: '1 of 2 validators of the week before silent (over 20 %)' },
          { code: 'DELIVERY_FAILING', message: 'the newest delivery try failed' },
        ],
      },
      {
        day: '2020-11-20',
        taps: 6,
        matchedPercent: 66.7,
        deadLetters: 1,
        duplicates: 1,
        validatorsSeen: 2,
        validatorsComplete: 1,
        completePercent: 50,
        ingestBehind: { messages: 0, oldestUnreadAt: null },
        latestVersion: { version: 1, state: 'DELIVERED', rows: 4 },
        deliveredAt: '2020-11-21T00:41:00.000Z',
        failedAttempts: 0,
        alerts: [],
      },
    ]);
  });

  it('flags a silent fleet by EXPORT_SILENT_ALERT_RATIO, as the exporter does', async () => {
    const { stdout } = await boarding(
      db,
      ['days', 'list', '--from', '2020-11-21', '--to', '2020-11-21', '--json'],
      { EXPORT_SILENT_ALERT_RATIO: '0.5' },
    );
    const [day] = JSON.parse(stdout) as DaySummary[];
    expect(day?.alerts.map((a) => a.code)).toEqual(['DELIVERY_FAILING']);
  });

  it('prints the table a person reads', async () => {
    const { stdout } = await boarding(db, ['days', 'list', '--from', '2020-11-20', '--to', '2020-11-22']);
    expect(stdout).toMatch(
      /│ 2020-11-20 │ 6 +│ 66\.7 % +│ 1 +│ 50\.0 % +│ 0 +│ v1 +│ 2020-11-21T00:41:00Z │ - +│/,
    );
    expect(stdout).toMatch(
      /│ 2020-11-21 │ 1 +│ 0\.0 % +│ 0 +│ 0\.0 % +│ not checked +│ v1 \(in flight\) +│ - +│ SILENT_FLEET, DELIVERY_FAILING │/,
    );
    expect(stdout).toMatch(/│ 2020-11-22 │ 0 +│ - +│ 0 +│ - +│ - +│ - +│ - +│ - +│/);
    expect(stdout).toContain('3 day(s), 1 with alerts: boarding day show D for one day');
  });

  it('takes --to alone as the 30 days ending there', async () => {
    const days = JSON.parse(
      (await boarding(db, ['days', 'list', '--to', '2020-11-21', '--json'])).stdout,
    ) as DaySummary[];
    expect(days).toHaveLength(30);
    expect([days[0]?.day, days[29]?.day]).toEqual(['2020-11-21', '2020-10-23']);
  });

  it.each([
    [['--from', '2020-11-22', '--to', '2020-11-20'], '--from (2020-11-22) is after --to (2020-11-20)'],
    [['--from', '2020-02-30'], '--from must be a date as YYYY-MM-DD, got "2020-02-30"'],
    [['--from', '2019-01-01', '--to', '2020-11-20'], 'a range is at most 366 days long'],
  ])('refuses %j', async (args, message) => {
    await expect(boarding(db, ['days', 'list', ...args])).rejects.toThrow(message);
  });
});
