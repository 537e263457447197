import { createTestDatabase, type TestDatabase } from '@boarding/testing/database';
import { dayStatsBeforeRows, withFileRows } from './manifest';

describe('day stats and completeness (SPEC §4 manifest, §5)', () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase('export_stats');
    await db.pool.query("select ensure_boardings_partition('2020-11-20')");
    const tap = (v: string, seq: number, result = 'ACCEPTED') =>
      db.pool.query(
        `insert into boardings (service_day, validator_id, seq, card_no, tapped_at, mode, line_code, vehicle_id, stop_code,
                                result, reject_reason, match_id, kafka_partition, kafka_offset, kafka_timestamp)
         values ('2020-11-20', $1, $2, '0400000000000001', '2020-11-20T08:00:00+03:00', 'BUS', '1', 'V', null, $3,
                 case when $3 = 'REJECTED' then 'OTHER' end, null, 0, $2, '2020-11-20T08:01:00+03:00')`,
        [v, seq, result],
      );
    // A: 1..3, heartbeat after midnight → complete. B: 10, 11, 14, 17 → gaps [12,13] and [15,16].
    // C: 5..6, no heartbeat past the day → awaiting upload. D: 1..2, a tap on the next day → complete.
    for (const s of [1, 2, 3]) await tap('A', s);
    for (const s of [10, 11, 14, 17]) await tap('B', s, s === 17 ? 'REJECTED' : 'ACCEPTED');
    for (const s of [5, 6]) await tap('C', s);
    for (const s of [1, 2]) await tap('D', s);
    await db.pool.query(
      `insert into validator_days (validator_id, service_day, min_seq, max_seq, tap_count, last_tapped_at) values
         ('A', '2020-11-20', 1, 3, 3, now()), ('B', '2020-11-20', 10, 17, 4, now()), ('C', '2020-11-20', 5, 6, 2, now()),
         ('D', '2020-11-20', 1, 2, 2, now()), ('D', '2020-11-21', 3, 3, 1, now())`,
    );
    await db.pool.query(
      `insert into validator_heartbeats (validator_id, last_seq, at) values
         ('A', 3, '2020-11-21T00:05:00+03:00'), ('C', 6, '2020-11-20T23:00:00+03:00')`,
    );
    await db.pool.query(
      `insert into duplicate_taps (topic, kafka_partition, kafka_offset, validator_id, seq, service_day)
       values ('t', 0, 100, 'A', 1, '2020-11-20')`,
    );
  });

  afterAll(async () => {
    await db.drop();
  });

  it('counts the day and names the validators with gaps and those not yet uploaded past the day', async () => {
    const client = await db.pool.connect();
    try {
      // The fixture's taps (offsets 1..17 of partition 0) were written by hand, with no tap_keys
      // records, and the duplicate sits at offset 100: so offsets 1..99 have no record of topic t.
      expect(withFileRows(await dayStatsBeforeRows(client, '2020-11-20', 't'), 7)).toEqual({
        tapsStored: 11,
        accepted: 10,
        rejected: 1,
        matched: 7,
        unmatched: 4,
        duplicatesDropped: 1,
        deadLettered: 0,
        validatorsSeen: 4,
        validatorsComplete: 2,
        validatorsWithGaps: [
          {
            validatorId: 'B',
            missing: [
              [12, 13],
              [15, 16],
            ],
          },
        ],
        validatorsAwaitingUpload: ['C'],
        offsetsUnaccounted: 99,
        // Not checked here (no Kafka reading given); no validator seen in the week before.
        ingestBehind: null,
        validatorsExpected: 0,
        validatorsSilent: [],
      });
    } finally {
      client.release();
    }
  });
});
