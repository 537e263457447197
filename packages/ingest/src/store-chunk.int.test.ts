import { Writable } from 'node:stream';
import { MAX_CLOCK_AHEAD_MS } from '@boarding/contracts/time';
import { createLogger } from '@boarding/logger/logger';
import { createTestDatabase, type TestDatabase } from '@boarding/testing/database';
import { tapJson } from '@boarding/testing/taps';
import type { IngestMessage } from './classify';
import { type ChunkStoreContext, storeMessages } from './store-chunk';

const quiet = createLogger('test', { destination: new Writable({ write: (_c, _e, done) => done() }) });
const REFUSED_CARD = 'DEADBEEFDEAD0002';

let offset = 0;
function tap(day: string, seq: number, cardNo = `04${String(seq).padStart(14, '0')}`): IngestMessage {
  const at = Date.parse(`${day}T10:00:00.000+03:00`) + seq;
  const value = tapJson({ validatorId: 'BUS-1-1', seq, cardNo, tappedAt: at, stopCode: null, lineCode: '1' });
  return {
    partition: 0,
    offset: offset++,
    timestamp: at + 1000,
    key: Buffer.from('BUS-1-1'),
    value: Buffer.from(value),
  };
}

describe('storing a chunk (the ingest and replay write path)', () => {
  let db: TestDatabase;
  let retries = 0;
  let ctx: ChunkStoreContext;
  const hooks = { heartbeat: async () => undefined };

  beforeAll(async () => {
    db = await createTestDatabase('store_chunk');
    await db.pool.query(
      `alter table boardings add constraint refuse_card check (card_no <> '${REFUSED_CARD}')`,
    );
    ctx = {
      pool: db.pool,
      topic: 'validator.taps.v1',
      logger: quiet,
      classify: { topic: 'validator.taps.v1', maxFutureMs: MAX_CLOCK_AHEAD_MS, maxAgeMs: 7 * 86_400_000 },
      retries: { inc: () => retries++ },
    };
  });

  afterAll(async () => {
    await db.drop();
  });

  beforeEach(() => {
    retries = 0;
  });

  it('dead-letters only the message the database refuses, stores the rest, and leaves no phantom partition behind', async () => {
    // The refused tap is the first of a new day: the day's partition is created in the
    // transaction that fails. The next chunk of that day must find it created again, not
    // believe in the rolled-back one (the incident: every retry then failed, forever).
    const first = [tap('2020-12-01', 1, REFUSED_CARD), tap('2020-12-01', 2), tap('2020-12-01', 3)];
    const r1 = await storeMessages(ctx, first, hooks);
    expect(r1).toMatchObject({ stored: 2, deadLettered: { STORE_REJECTED: 1 } });
    const r2 = await storeMessages(ctx, [tap('2020-12-01', 4)], hooks);
    expect(r2.stored).toBe(1);
    expect(retries).toBe(0);
    const letters = await db.pool.query<{ offset: string; detail: string }>(
      `select kafka_offset as offset, detail from dead_letters where reason = 'STORE_REJECTED'`,
    );
    expect(letters.rows).toEqual([
      { offset: String(first[0]?.offset), detail: expect.stringMatching(/^23514 .*refuse_card/) },
    ]);
  });

  it('retries an error that is not the data’s fault (a missing table) until it clears, dead-lettering nothing', async () => {
    await db.pool.query('alter table duplicate_taps rename to duplicate_taps_away');
    const back = new Promise((r) => setTimeout(r, 1500)).then(() =>
      db.pool.query('alter table duplicate_taps_away rename to duplicate_taps'),
    );
    const again = tap('2020-12-01', 2);
    const result = await storeMessages(ctx, [tap('2020-12-01', 5), { ...again, offset: offset++ }], hooks);
    await back;
    expect(result).toMatchObject({ stored: 1, duplicates: 1, deadLettered: {} });
    expect(retries).toBeGreaterThan(0);
  });

  it('forgets a partition that was dropped behind its back (retention) and creates it again', async () => {
    await storeMessages(ctx, [tap('2020-12-02', 10)], hooks);
    await db.pool.query('drop table boardings_20201202');
    const result = await storeMessages(ctx, [tap('2020-12-02', 11)], hooks);
    expect(result.stored).toBe(1);
    expect(retries).toBe(1);
  });
  it('reports a chunk stored again from its records, as judging it again would, and writes nothing', async () => {
    const original = tap('2020-12-03', 20);
    const heartbeatAt = Date.parse('2020-12-03T11:00:00.000+03:00');
    const chunk: IngestMessage[] = [
      original,
      tap('2020-12-03', 21),
      { ...original, offset: offset++ },
      // seq 20 again with another card: a reset counter.
      { ...tap('2020-12-03', 20, '0499999999999999'), offset: offset++ },
      { ...original, offset: offset++, value: Buffer.from('{not json') },
      {
        partition: 0,
        offset: offset++,
        timestamp: heartbeatAt,
        key: Buffer.from('BUS-1-1'),
        value: Buffer.from(
          JSON.stringify({
            schema: 'heartbeat.v1',
            validatorId: 'BUS-1-1',
            lastSeq: 21,
            at: '2020-12-03T11:00:00.000+03:00',
          }),
        ),
      },
    ];
    const first = await storeMessages(ctx, chunk, hooks);
    expect(first).toMatchObject({
      stored: 2,
      duplicates: 1,
      alreadyStored: 0,
      deadLettered: { SEQ_CONFLICT: 1, INVALID_JSON: 1 },
      heartbeats: 1,
    });
    const rows = async () =>
      (
        await db.pool.query<{ n: string }>(
          `select (select count(*) from tap_keys) + (select count(*) from boardings) + (select count(*) from duplicate_taps)
                + (select count(*) from dead_letters) + (select count(*) from heartbeat_log) as n`,
        )
      ).rows[0]?.n;
    const before = await rows();
    const again = await storeMessages(ctx, chunk, hooks);
    expect(again).toEqual({
      stored: 0,
      matched: 0,
      duplicates: 1,
      alreadyStored: 2,
      deadLettered: { SEQ_CONFLICT: 1, INVALID_JSON: 1 },
      heartbeats: 1,
      days: [],
      partitionsEnsured: [],
    });
    expect(await rows()).toBe(before);

    // One message without its record: the chunk is judged in full, the rest already stored.
    const longer = [...chunk, tap('2020-12-03', 22)];
    expect(await storeMessages(ctx, longer, hooks)).toMatchObject({
      stored: 1,
      duplicates: 1,
      alreadyStored: 2,
      deadLettered: { SEQ_CONFLICT: 1, INVALID_JSON: 1 },
      heartbeats: 1,
    });
  });
  it('stores text fields byte for byte, whatever array-literal syntax they hold', async () => {
    const at = Date.parse('2020-12-04T10:00:00.000+03:00');
    const texts = [
      { seq: 30, lineCode: 'a"b\\c', vehicleId: 'NULL', stopCode: '{x,y}' },
      { seq: 31, lineCode: ' 😀 ', vehicleId: null, stopCode: 'null' },
      { seq: 32, lineCode: '\\', vehicleId: '"', stopCode: null },
    ];
    const chunk: IngestMessage[] = texts.map((t) => ({
      partition: 0,
      offset: offset++,
      timestamp: at + 1000,
      key: Buffer.from('BUS-1-1'),
      value: Buffer.from(
        tapJson({ validatorId: 'BUS-1-1', cardNo: '0400000000000030', tappedAt: at + t.seq, ...t }),
      ),
    }));
    expect(await storeMessages(ctx, chunk, hooks)).toMatchObject({ stored: 3, deadLettered: {} });
    const { rows } = await db.pool.query(
      `select seq::int, line_code as "lineCode", vehicle_id as "vehicleId", stop_code as "stopCode"
       from boardings where service_day = '2020-12-04' order by seq`,
    );
    expect(rows).toEqual(texts);
  });

  it('stores every instant to the millisecond, at the ends of the years the contract allows', async () => {
    // Instants reach PostgreSQL as epoch milliseconds, turned into timestamptz by the statement.
    const instants = ['2000-01-01T00:00:00.001Z', '2020-11-18T05:59:59.123Z', '2099-12-31T20:59:59.999Z'];
    const messages = instants.map((iso, i): IngestMessage => {
      const at = Date.parse(iso);
      const value = tapJson({
        validatorId: 'BUS-9-9',
        seq: 900 + i,
        cardNo: '0400000000000900',
        tappedAt: at,
      });
      return { partition: 0, offset: offset++, timestamp: at + 1, key: null, value: Buffer.from(value) };
    });
    const r = await storeMessages(ctx, messages, hooks);
    expect(r.stored).toBe(3);
    const stored = await db.pool.query<{ at: string; ts: string; day: string }>(
      `select to_char(tapped_at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US') as at,
              to_char(kafka_timestamp at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US') as ts,
              to_char(service_day, 'YYYY-MM-DD') as day
       from boardings where validator_id = 'BUS-9-9' order by seq`,
    );
    expect(stored.rows).toEqual([
      { at: '2000-01-01T00:00:00.001000', ts: '2000-01-01T00:00:00.002000', day: '2000-01-01' },
      { at: '2020-11-18T05:59:59.123000', ts: '2020-11-18T05:59:59.124000', day: '2020-11-18' },
      { at: '2099-12-31T20:59:59.999000', ts: '2099-12-31T21:00:00.000000', day: '2099-12-31' },
    ]);
    const keys = await db.pool.query<{ at: string }>(
      `select (extract(epoch from tapped_at) * 1000)::text as at from tap_keys where validator_id = 'BUS-9-9' order by seq`,
    );
    expect(keys.rows.map((k) => Number(k.at))).toEqual(instants.map((iso) => Date.parse(iso)));
  });

  it('judges each tap against the first arrival of its key, in the chunk or stored before, and counts only new taps in validator_days', async () => {
    const t40 = tap('2020-12-05', 40);
    const t41 = tap('2020-12-05', 41);
    expect(await storeMessages(ctx, [t40, t41], hooks)).toMatchObject({ stored: 2, days: ['2020-12-05'] });
    const t42 = tap('2020-12-05', 42);
    const chunk: IngestMessage[] = [
      t42,
      { ...t42, offset: offset++ }, // same key, card and instant: duplicate of the one above
      { ...tap('2020-12-05', 42, '0488888888888888'), offset: offset++ }, // same key, other card: conflict
      { ...t40, offset: offset++ }, // duplicate of the tap stored before
      { ...tap('2020-12-05', 41, '0477777777777777'), offset: offset++ }, // conflict with the tap stored before
      t41, // the very message stored before: already stored
    ];
    expect(await storeMessages(ctx, chunk, hooks)).toMatchObject({
      stored: 1,
      duplicates: 2,
      alreadyStored: 1,
      deadLettered: { SEQ_CONFLICT: 2 },
      days: ['2020-12-05'],
    });
    const letters = await db.pool.query<{ offset: string; detail: string }>(
      `select kafka_offset::text as offset, detail from dead_letters where reason = 'SEQ_CONFLICT' and service_day = '2020-12-05' order by kafka_offset`,
    );
    expect(letters.rows).toEqual([
      {
        offset: String(chunk[2]?.offset),
        detail: `seq 42 of BUS-1-1 is already stored with another card or instant (offset 0/${t42.offset})`,
      },
      {
        offset: String(chunk[4]?.offset),
        detail: `seq 41 of BUS-1-1 is already stored with another card or instant (offset 0/${t41.offset})`,
      },
    ]);
    const dups = await db.pool.query<{ offset: string }>(
      `select kafka_offset::text as offset from duplicate_taps where service_day = '2020-12-05' order by kafka_offset`,
    );
    expect(dups.rows.map((r) => r.offset)).toEqual([String(chunk[1]?.offset), String(chunk[3]?.offset)]);
    const vd = await db.pool.query(
      `select min_seq::int, max_seq::int, tap_count::int,
              to_char(last_tapped_at at time zone 'UTC', 'HH24:MI:SS.MS') as last
       from validator_days where validator_id = 'BUS-1-1' and service_day = '2020-12-05'`,
    );
    expect(vd.rows).toEqual([{ min_seq: 40, max_seq: 42, tap_count: 3, last: '07:00:00.042' }]);
  });
});
