import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { createLogger } from '@boarding/logger/logger';
import { createTestDatabase, type TestDatabase } from '@boarding/testing/database';
import { createTestTopic, produce, type TestMessage, type TestTopic } from '@boarding/testing/kafka';
import { groupLag, waitForNoLag } from './catch-up';
import { createIngestConsumer } from './ingest-consumer';
import { createIngestMetrics } from './metrics';
import { type ReplayDayResult, type ReplayProgress, reingestDay } from './replay-range';

const quiet = createLogger('test', { destination: new Writable({ write: (_c, _e, done) => done() }) });
const DAY = '2020-11-20';
const at = (local: string) => Date.parse(`${local}+03:00`);

function tap(
  validatorId: string,
  seq: number,
  tappedAt: number,
  uploadedAt: number,
  card = '0400000000000001',
) {
  const value = JSON.stringify({
    schema: 'tap.v1',
    validatorId,
    seq,
    cardNo: card,
    tappedAt: new Date(tappedAt).toISOString(),
    mode: 'BUS',
    lineCode: '202',
    vehicleId: '35-ESH-3041',
    stopCode: null,
    result: 'ACCEPTED',
    rejectReason: null,
  });
  return { key: validatorId, value, timestamp: uploadedAt };
}

// The Kafka timestamp is the upload time; messages are produced in upload order, as the device
// gateway does, so the by-timestamp offset lookup sees the log a real topic would have.
const FIRST_PASS: TestMessage[] = [
  // A tap of the day before, uploaded that day: before the window, never read by the replay.
  tap('BUS-7-1', 1, at('2020-11-19T22:00:00'), at('2020-11-19T23:00:00')),
  // Stamped 00:05 of D by a clock 8 minutes fast, uploaded 23:57 of D-1: a tap of D all the same.
  tap('BUS-4-1', 1, at('2020-11-20T00:05:00'), at('2020-11-19T23:57:00')),
  // A late tap of D-1 uploaded on D: inside the window, another day.
  tap('BUS-6-1', 1, at('2020-11-19T22:00:00'), at('2020-11-20T01:00:00')),
  tap('BUS-1-1', 1, at('2020-11-20T08:00:00'), at('2020-11-20T08:01:00')),
  tap('BUS-1-1', 2, at('2020-11-20T08:10:00'), at('2020-11-20T08:11:00')),
  tap('BUS-1-1', 3, at('2020-11-20T08:20:00'), at('2020-11-20T08:21:00')),
  tap('BUS-1-1', 4, at('2020-11-20T08:30:00'), at('2020-11-20T08:31:00')),
  tap('BUS-2-1', 1, at('2020-11-20T09:00:00'), at('2020-11-20T09:01:00')),
  tap('BUS-2-1', 2, at('2020-11-20T09:10:00'), at('2020-11-20T09:11:00')),
  // Seq 2 of BUS-1-1 uploaded a second time: a duplicate.
  tap('BUS-1-1', 2, at('2020-11-20T08:10:00'), at('2020-11-20T12:00:00')),
  { key: 'BUS-5-1', value: '{"schema": "tap.v1", "validatorId": ', timestamp: at('2020-11-20T13:00:00') },
  tap('BUS-2-1', 3, at('2020-11-20T23:50:00'), at('2020-11-21T00:01:00')),
  {
    key: 'BUS-1-1',
    value: JSON.stringify({
      schema: 'heartbeat.v1',
      validatorId: 'BUS-1-1',
      lastSeq: 4,
      at: '2020-11-21T00:05:00.000+03:00',
    }),
    timestamp: at('2020-11-21T00:05:00'),
  },
];
// Uploaded after the ingest stopped: never stored until the replay.
const ADDED = [tap('BUS-3-1', 1, at('2020-11-20T15:00:00'), at('2020-11-21T03:00:00'))];
// Uploaded after the window (end of D + 7 days): a tap of a later day, never read by the replay.
const AFTER_WINDOW = [tap('BUS-8-1', 1, at('2020-11-28T10:00:00'), at('2020-11-28T10:00:30'))];

/** Run the real ingest consumer until its group has no lag, then stop it. */
async function ingestAll(db: TestDatabase, topic: TestTopic, groupId: string): Promise<void> {
  const consumer = createIngestConsumer({
    kafka: topic.kafka,
    pool: db.pool,
    topic: topic.topic,
    groupId,
    logger: quiet,
    metrics: createIngestMetrics(),
    maxTapAgeDays: 7,
    concurrency: 2,
    chunkSize: 4,
    sessionTimeoutMs: 6000,
  });
  const admin = topic.kafka.admin();
  await admin.connect();
  try {
    await consumer.start();
    await waitForNoLag({
      lag: () => groupLag(admin, groupId, topic.topic),
      intervalMs: 100,
      timeoutMs: 60000,
    });
  } finally {
    await consumer.stop();
    await admin.disconnect();
  }
}

/**
 * Taps lost as a restore from an older backup would lose them: gone from the idempotency
 * ledger and from boardings, and the per-validator progress consistent with what is left.
 */
async function lose(db: TestDatabase, taps: [string, number][]): Promise<void> {
  const validators = [...new Set(taps.map(([v]) => v))];
  const client = await db.pool.connect();
  try {
    await client.query('begin');
    for (const [v, seq] of taps) {
      await client.query('delete from tap_keys where validator_id = $1 and seq = $2', [v, seq]);
      await client.query('delete from boardings where validator_id = $1 and seq = $2', [v, seq]);
    }
    await client.query('delete from validator_days where validator_id = any($1)', [validators]);
    await client.query(
      `insert into validator_days (validator_id, service_day, min_seq, max_seq, tap_count, last_tapped_at)
       select validator_id, service_day, min(seq), max(seq), count(*), max(tapped_at)
       from boardings where validator_id = any($1) group by validator_id, service_day`,
      [validators],
    );
    await client.query('commit');
  } finally {
    client.release();
  }
}

async function stored(db: TestDatabase) {
  const { rows } = await db.pool.query<{ v: string; seq: string; day: string }>(
    `select validator_id as v, seq, service_day::text as day from boardings order by validator_id, seq`,
  );
  return rows.map((r) => `${r.v}#${r.seq}@${r.day}`);
}

describe('reingestDay (the re-read half of boarding replay)', () => {
  let db: TestDatabase;
  let topic: TestTopic;
  const ingestGroup = `ingest-${randomUUID()}`;
  let committedBefore: unknown;
  let first: ReplayDayResult;
  const progress: ReplayProgress[] = [];

  const replay = () =>
    reingestDay({
      kafka: topic.kafka,
      pool: db.pool,
      topic: topic.topic,
      day: DAY,
      maxTapAgeDays: 7,
      chunkSize: 3,
      logger: quiet,
      concurrency: 2,
      onProgress: (p) => progress.push(p),
    });

  const committed = async () => {
    const admin = topic.kafka.admin();
    await admin.connect();
    try {
      return await admin.fetchOffsets({ groupId: ingestGroup, topics: [topic.topic] });
    } finally {
      await admin.disconnect();
    }
  };

  beforeAll(async () => {
    db = await createTestDatabase('replay');
    topic = await createTestTopic(3);
    await produce(topic.kafka, topic.topic, FIRST_PASS);
    await ingestAll(db, topic, ingestGroup);
    await produce(topic.kafka, topic.topic, ADDED);
    await produce(topic.kafka, topic.topic, AFTER_WINDOW);
    // Lost: one tap in the middle of BUS-1-1, all of BUS-2-1, the late tap of D-1 inside the
    // window, and the tap of D-1 uploaded before the window (which the replay must not bring back).
    await lose(db, [
      ['BUS-1-1', 3],
      ['BUS-2-1', 1],
      ['BUS-2-1', 2],
      ['BUS-2-1', 3],
      ['BUS-6-1', 1],
      ['BUS-7-1', 1],
    ]);
    committedBefore = await committed();
    first = await replay();
  });

  afterAll(async () => {
    await topic.drop();
    await db.drop();
  });

  it('stores again exactly the lost and the never-ingested taps inside the window', async () => {
    expect(await stored(db)).toEqual([
      'BUS-1-1#1@2020-11-20',
      'BUS-1-1#2@2020-11-20',
      'BUS-1-1#3@2020-11-20',
      'BUS-1-1#4@2020-11-20',
      'BUS-2-1#1@2020-11-20',
      'BUS-2-1#2@2020-11-20',
      'BUS-2-1#3@2020-11-20',
      'BUS-3-1#1@2020-11-20',
      'BUS-4-1#1@2020-11-20',
      'BUS-6-1#1@2020-11-19',
    ]);
  });

  it('counts what it read and what it did with it', () => {
    expect(first).toMatchObject({
      day: DAY,
      topic: topic.topic,
      // 13 messages of the first pass (BUS-7-1's is before the window) + the added tap.
      messagesRead: 13,
      // Every tap of D read, the duplicate upload included; not BUS-6-1 (D-1) nor the bad JSON.
      tapsOfDay: 10,
      // BUS-1-1#3, BUS-2-1#1..3, BUS-3-1#1.
      storedOfDay: 5,
      // … and BUS-6-1#1 of the day before.
      stored: 6,
      matched: 0,
      // BUS-1-1#1, #2, #4 and BUS-4-1#1 were still stored from these very messages.
      alreadyStored: 4,
      duplicates: 1,
      deadLettered: { INVALID_JSON: 1 },
      heartbeats: 1,
      retries: 0,
    });
  });

  it('reads from 23:50 of the day before (clock drift allowance) to the end of D + MAX_TAP_AGE_DAYS', () => {
    expect(new Date(first.window.fromMs).toISOString()).toBe('2020-11-19T20:50:00.000Z');
    expect(first.window.toMs === null ? null : new Date(first.window.toMs).toISOString()).toBe(
      '2020-11-27T21:00:00.000Z',
    );
    const size = first.window.partitions.reduce((a, p) => a + p.to - p.from, 0);
    expect(size).toBe(13);
  });

  it('keeps validator progress, dead letters and duplicates counted once', async () => {
    const { rows } = await db.pool.query(
      `select validator_id, service_day::text as day, min_seq::int as min, max_seq::int as max, tap_count::int as n
       from validator_days order by validator_id`,
    );
    expect(rows).toEqual([
      { validator_id: 'BUS-1-1', day: DAY, min: 1, max: 4, n: 4 },
      { validator_id: 'BUS-2-1', day: DAY, min: 1, max: 3, n: 3 },
      { validator_id: 'BUS-3-1', day: DAY, min: 1, max: 1, n: 1 },
      { validator_id: 'BUS-4-1', day: DAY, min: 1, max: 1, n: 1 },
      { validator_id: 'BUS-6-1', day: '2020-11-19', min: 1, max: 1, n: 1 },
    ]);
    const counts = await db.pool.query(
      `select (select count(*) from dead_letters)::int as letters, (select count(*) from duplicate_taps)::int as dups`,
    );
    expect(counts.rows[0]).toEqual({ letters: 1, dups: 1 });
  });

  it("leaves the ingest group's committed offsets as they were", async () => {
    expect(await committed()).toEqual(committedBefore);
  });

  it('reports progress up to the whole window, every partition done', () => {
    const last = progress[progress.length - 1];
    const partitions = first.window.partitions.filter((p) => p.to > p.from).length;
    expect(last).toEqual({ read: 13, total: 13, stored: 6, partitionsDone: partitions, partitions });
  });

  it('changes nothing when run again, and says so', async () => {
    const before = await stored(db);
    const again = await replay();
    expect(again).toMatchObject({
      messagesRead: 13,
      tapsOfDay: 10,
      storedOfDay: 0,
      stored: 0,
      alreadyStored: 10,
      duplicates: 1,
      deadLettered: { INVALID_JSON: 1 },
    });
    expect(await stored(db)).toEqual(before);
  });
});
