import { refreshValidatorDays } from '@boarding/db/bulk/validator-days';
import { finishAttempt, recordAttempt, reserveVersion, startAttempt } from '@boarding/delivery/ledger';
import type { IngestBehind } from '@boarding/export/manifest';
import type { Pool } from 'pg';

/**
 * A simulated week, Monday 2020-11-16 to Sunday 2020-11-22, small enough to write out what the
 * pages must show. Ten validators V-01…V-10; each taps 300 times a weekday, 200 on Saturday, 150
 * on Sunday, seq continuing from 1000 × the day's index; 80 % of the taps (seq mod 10 < 8)
 * matched at ingest; a morning peak around 08:30 and an evening one around 17:40.
 *
 * - Wed 11-18: V-03 lacks seq 2100–2104 (a gap): 2,995 taps, 9 of 10 validators complete.
 * - Thu 11-19: 2 duplicates; v2 delivered after v1 (late taps).
 * - Fri 11-20: 3 dead letters (INVALID_JSON 2, SEQ_CONFLICT 1); v1 delivered, then a try of v2 FAILED.
 * - Sat 11-21: v1 built while the ingest was 120 messages behind.
 * - Every version is confirmed at 03:41 the night after its day (v2 a night later).
 * - Sun 11-22: V-07…V-10 silent (their heartbeats stop before the day ends): 900 taps, and the
 *   manifest lists 4 of 10 silent.
 */
export const WEEK = [
  '2020-11-16',
  '2020-11-17',
  '2020-11-18',
  '2020-11-19',
  '2020-11-20',
  '2020-11-21',
  '2020-11-22',
] as const;

const tapsPerValidator = (i: number) => (i < 5 ? 300 : i === 5 ? 200 : 150);
const activeValidators = (i: number) => (i === 6 ? 6 : 10);

export async function seedWeek(pool: Pool): Promise<void> {
  const q = (sql: string, params: unknown[] = []) => pool.query(sql, params);
  for (const [i, day] of WEEK.entries()) {
    await q('select ensure_boardings_partition($1::date)', [day]);
    // s: the tap's number of the day (1…n). h1, h2: two fixed pseudo-random fractions of it.
    await q(
      `insert into boardings (service_day, validator_id, seq, card_no, tapped_at, mode, line_code, vehicle_id, stop_code,
                              result, reject_reason, match_id, kafka_partition, kafka_offset, kafka_timestamp)
       select $1::date, v.id, $2 * 1000 + s, lpad(to_hex(s * 7 + v.n), 16, '0'), t.at, 'BUS', '202', '35-ESH-3041', null,
              case when s % 17 = 0 then 'REJECTED' else 'ACCEPTED' end,
              case when s % 17 = 0 then 'HES_RISKY' end,
              case when s % 10 < 8 then 1 end, 0, $2 * 100000 + v.n * 1000 + s, t.at
       from (select n, 'V-' || lpad(n::text, 2, '0') as id from generate_series(1, $4::int) n) v,
            generate_series(1, $3::int) s,
            lateral (select ((s * 7919 + v.n * 104729) % 1000) / 1000.0 as h1,
                            ((s * 6007 + v.n * 7727) % 1000) / 1000.0 as h2) h,
            lateral (select ($1::date)::timestamp at time zone 'Europe/Istanbul' + interval '1 second' * floor(60 *
              case s % 3 when 0 then 360 + h.h1 * 1020
                         when 1 then 420 + (h.h1 + h.h2) * 90
                         else 960 + (h.h1 + h.h2) * 100 end) as at) t
       where not (v.id = 'V-03' and $1::date = '2020-11-18' and s between 100 and 104)`,
      [day, i, tapsPerValidator(i), activeValidators(i)],
    );
    await refreshValidatorDays(pool, day);
  }
  await q(
    `insert into validator_heartbeats (validator_id, last_seq, at)
     select 'V-' || lpad(n::text, 2, '0'), case when n <= 6 then 6150 else 5200 end,
            case when n <= 6 then '2020-11-23T00:10:00+03:00'::timestamptz else '2020-11-22T00:05:00+03:00' end
     from generate_series(1, 10) n`,
  );
  for (const offset of [1, 2]) {
    await q(
      `insert into duplicate_taps (topic, kafka_partition, kafka_offset, validator_id, seq, service_day)
       values ('taps', 0, $1, 'V-01', 3001, '2020-11-19')`,
      [900000 + offset],
    );
  }
  for (const [offset, reason] of [
    [1, 'INVALID_JSON'],
    [2, 'INVALID_JSON'],
    [3, 'SEQ_CONFLICT'],
  ] as const) {
    await q(
      `insert into dead_letters (topic, kafka_partition, kafka_offset, kafka_timestamp, message_key, raw_value, reason,
                                 detail, validator_id, seq, service_day)
       values ('taps', 1, $1, '2020-11-20T12:00:00+03:00', null, null, $2, 'seeded', null, null, '2020-11-20')`,
      [800000 + offset, reason],
    );
  }
  for (const day of WEEK) {
    await deliver(
      pool,
      day,
      1,
      day === '2020-11-21' ? { messages: 120, oldestUnreadAt: '2020-11-21T20:58:00.000Z' } : undefined,
    );
  }
  await deliver(pool, '2020-11-19', 2);
  await recordAttempt(pool, {
    serviceDay: '2020-11-20',
    version: 2,
    fileName: 'BINIS_ESHOT_20201120_v2.csv',
    sha256: 'f'.repeat(64),
    attempt: 1,
    outcome: 'FAILED',
    trigger: 'late-window',
    target: 'sftp://ministry@127.0.0.1:2222/incoming',
    errorCode: 'ECONNREFUSED',
    error: 'connect ECONNREFUSED <script>alert(1)</script>',
    startedAt: new Date('2020-11-22T03:31:00+03:00'),
  });
  // Confirmed the night after each day, as the nightly export does (finishAttempt stamps now()).
  await q(
    `update export_versions set delivered_at = (service_day + 1)::timestamp at time zone 'Europe/Istanbul'
                                             + interval '3 hours 41 minutes' + (version - 1) * interval '1 day'`,
  );
  await q(
    `update delivery_attempts set finished_at = (service_day + 1)::timestamp at time zone 'Europe/Istanbul'
                                               + interval '3 hours 41 minutes' + (version - 1) * interval '1 day'`,
  );
}

/** Version `version` of `day` delivered as the exporter records it, its manifest stating the day as stored now. */
async function deliver(pool: Pool, day: string, version: number, ingestBehind?: IngestBehind): Promise<void> {
  const { rows } = await pool.query<{ taps: number; matched: number }>(
    `select count(*)::int as taps, count(match_id)::int as matched from boardings where service_day = $1::date`,
    [day],
  );
  const taps = rows[0]?.taps ?? 0;
  const matched = rows[0]?.matched ?? 0;
  const silent = day === '2020-11-22' ? ['V-07', 'V-08', 'V-09', 'V-10'] : [];
  const file = `BINIS_ESHOT_${day.replaceAll('-', '')}_v${version}.csv`;
  const sha256 = `${version}${day.replaceAll('-', '')}`.padEnd(64, 'a');
  const manifest = {
    serviceDay: day,
    version,
    file,
    bytes: 100 * matched,
    sha256,
    rows: matched,
    generatedAt: `${day}T00:30:00.000Z`,
    supersedes: version === 1 ? null : version - 1,
    stats: {
      tapsStored: taps,
      matched,
      unmatched: taps - matched,
      validatorsWithGaps: [],
      validatorsAwaitingUpload: [],
      ingestBehind: ingestBehind ?? { messages: 0, oldestUnreadAt: null },
      validatorsExpected: 10,
      validatorsSilent: silent,
    },
  };
  const v = {
    serviceDay: day,
    version,
    fileName: file,
    contentSha256: sha256,
    sha256,
    bytes: manifest.bytes,
    rows: matched,
    supersedes: manifest.supersedes,
    manifestJson: JSON.stringify(manifest),
  };
  await reserveVersion(pool, v);
  const id = await startAttempt(pool, {
    serviceDay: day,
    version,
    fileName: file,
    sha256,
    attempt: 1,
    trigger: version === 1 ? 'nightly' : 'late-window',
    target: 'sftp://ministry@127.0.0.1:2222/incoming',
    startedAt: new Date(`${day}T00:30:00.000Z`),
  });
  await finishAttempt(pool, id, { outcome: 'DELIVERED', errorCode: null, error: null }, v);
}
