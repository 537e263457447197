import { countMatchedTaps } from '@boarding/db/bulk/offset-records';
import { createTestDatabase, type TestDatabase } from '@boarding/testing/database';
import type { PoolClient } from 'pg';

/**
 * The ingest counts the matched taps of what was committed since its last reading, every second
 * and in each process. That must walk the offset index and probe `boardings` by primary key: as
 * a plain join, once `tap_keys` had statistics, PostgreSQL hashed the whole of `tap_keys` and of
 * the day's `boardings` to count a second's worth (0.5 s a reading on a 1 M-tap day). Read off
 * PostgreSQL's own sequential scan counters around the call, on tables analysed as autovacuum
 * leaves them during a run.
 */
describe('countMatchedTaps', () => {
  let db: TestDatabase;
  const DAY = '2020-11-20';
  const PARTITIONS = 12;
  const PER_PARTITION = 25_000;

  beforeAll(async () => {
    db = await createTestDatabase('offset_records');
    await db.pool.query(`select ensure_boardings_partition('${DAY}')`);
    // Offset n of partition p is tap n of validator V-p; every third tap matched.
    await db.pool.query(`
      insert into tap_keys (topic, validator_id, seq, service_day, card_no, tapped_at, kafka_partition, kafka_offset)
        select 't', 'V-' || p, n, '${DAY}', '0400000000000001', timestamptz '${DAY} 06:00+03' + n * interval '1 ms', p, n
        from generate_series(0, ${PARTITIONS - 1}) p, generate_series(0, ${PER_PARTITION - 1}) n;
      insert into boardings (service_day, validator_id, seq, card_no, tapped_at, mode, line_code, result,
                             match_id, kafka_partition, kafka_offset, kafka_timestamp)
        select service_day, validator_id, seq, card_no, tapped_at, 'BUS', '1', 'ACCEPTED',
               case when seq % 3 = 0 then 1 end, kafka_partition, kafka_offset, tapped_at
        from tap_keys`);
    await db.pool.query('analyze tap_keys, boardings');
  }, 60_000);

  afterAll(async () => {
    await db.drop();
  });

  /** Sequential scans of the two tables while `work` runs on one connection (flushed and read there). */
  async function seqScansDuring<T>(work: (client: PoolClient) => Promise<T>) {
    const client = await db.pool.connect();
    const read = async () => {
      await client.query('select pg_stat_force_next_flush()');
      await client.query('select pg_stat_clear_snapshot()');
      const { rows } = await client.query<{ scans: string }>(
        `select coalesce(sum(seq_scan), 0) as scans from pg_stat_user_tables
         where relname in ('tap_keys', 'boardings_${DAY.replaceAll('-', '')}')`,
      );
      return Number(rows[0]?.scans);
    };
    try {
      const before = await read();
      const result = await work(client);
      return { result, seqScans: (await read()) - before };
    } finally {
      client.release();
    }
  }

  it("counts a second's offsets of every partition with index probes, not scans of whole tables", async () => {
    // 4,000 offsets of each partition, [10,000, 14,000): 1,333 matched in each.
    const ranges = Array.from({ length: PARTITIONS }, (_, partition) => ({
      partition,
      from: 10_000,
      to: 14_000,
    }));
    const { result, seqScans } = await seqScansDuring((client) => countMatchedTaps(client, 't', ranges));
    expect(result).toBe(PARTITIONS * 1333);
    expect(seqScans).toBe(0);
  });

  it('counts only the ranges asked for, of the topic asked for', async () => {
    expect(await countMatchedTaps(db.pool, 't', [{ partition: 3, from: 0, to: 3 }])).toBe(1);
    expect(await countMatchedTaps(db.pool, 't', [{ partition: 3, from: 3, to: 3 }])).toBe(0);
    expect(await countMatchedTaps(db.pool, 'other', [{ partition: 3, from: 0, to: 3000 }])).toBe(0);
  });
});
