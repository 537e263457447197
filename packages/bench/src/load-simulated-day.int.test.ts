import { VALIDATOR_TAPS_TOPIC } from '@boarding/contracts/tap';
import { DEFAULT_MAX_TAP_AGE_DAYS } from '@boarding/contracts/time';
import { storeTapBatch } from '@boarding/db/bulk/tap-store';
import { withTransaction } from '@boarding/db/transaction';
import { classifyBatch, type IngestMessage } from '@boarding/ingest/classify';
import { classifyOptionsFor } from '@boarding/ingest/ingest-consumer';
import { type DayPlan, planDay } from '@boarding/simulator/day';
import { createTestDatabase, type TestDatabase } from '@boarding/testing/database';
import type { Pool } from 'pg';
import { finishLoad, loadTaps } from './load-simulated-day';

const TOPIC = VALIDATOR_TAPS_TOPIC;
const CHUNK = 500;

/**
 * The day as the ingest stores it: the same messages, in the same order and with the same
 * coordinates as the bench gives them (one partition, offset = position), classified and
 * stored chunk by chunk through the ingest's own write path.
 */
async function ingestTheDay(pool: Pool, plan: DayPlan): Promise<void> {
  const options = classifyOptionsFor(TOPIC, DEFAULT_MAX_TAP_AGE_DAYS);
  let chunk: IngestMessage[] = [];
  const store = async () => {
    const classified = classifyBatch(chunk, options);
    await withTransaction(pool, (client) => storeTapBatch(client, { topic: TOPIC, ...classified }));
    chunk = [];
  };
  let offset = 0;
  for (const m of plan.messages()) {
    chunk.push({
      partition: 0,
      offset: offset++,
      timestamp: Number(m.timestamp),
      key: Buffer.from(m.key),
      value: Buffer.from(m.value),
    });
    if (chunk.length >= CHUNK) await store();
  }
  await store();
}

const QUERIES = {
  boardings: `select concat_ws('|', service_day, validator_id, seq, card_no, tapped_at, mode, line_code, vehicle_id,
                               stop_code, result, reject_reason, match_id, kafka_partition, kafka_offset, kafka_timestamp) as line
                from boardings order by validator_id, seq`,
  validatorDays: `select concat_ws('|', validator_id, service_day, min_seq, max_seq, tap_count, last_tapped_at) as line
                    from validator_days order by validator_id, service_day`,
  heartbeats: `select concat_ws('|', validator_id, last_seq, at) as line from validator_heartbeats order by validator_id`,
};

async function snapshot(pool: Pool): Promise<Record<keyof typeof QUERIES, string[]>> {
  const read = async (sql: string) => (await pool.query<{ line: string }>(sql)).rows.map((r) => r.line);
  return {
    boardings: await read(QUERIES.boardings),
    validatorDays: await read(QUERIES.validatorDays),
    heartbeats: await read(QUERIES.heartbeats),
  };
}

describe('a simulated day loaded by the bench', () => {
  const plan = planDay({ day: '2020-11-20', taps: 3000, seed: 7 });
  let bench: TestDatabase;
  let ingest: TestDatabase;

  beforeAll(async () => {
    [bench, ingest] = await Promise.all([
      createTestDatabase('bench_load_day'),
      createTestDatabase('bench_load_day_ingest'),
    ]);
  });

  afterAll(async () => {
    await Promise.all([bench?.drop(), ingest?.drop()]);
  });

  it('leaves the boardings, validator_days and heartbeats the ingest leaves from the same messages', async () => {
    // No registry in either database: match_id is null on both sides, so whole rows compare.
    const loaded = await loadTaps(bench.pool, plan);
    await finishLoad(bench.pool, plan.truth.day);
    await ingestTheDay(ingest.pool, plan);

    expect(loaded.rows).toBe(plan.truth.expected.stored);
    const [fromBench, fromIngest] = await Promise.all([snapshot(bench.pool), snapshot(ingest.pool)]);
    expect(fromBench.boardings).toHaveLength(plan.truth.expected.stored);
    expect(fromBench.validatorDays.length).toBeGreaterThan(0);
    expect(fromBench.heartbeats.length).toBeGreaterThan(0);
    expect(fromBench).toEqual(fromIngest);
  });

  it('derives validator_days again without counting a tap twice', async () => {
    const before = await snapshot(bench.pool);
    await finishLoad(bench.pool, plan.truth.day);
    expect((await snapshot(bench.pool)).validatorDays).toEqual(before.validatorDays);
  });
});
