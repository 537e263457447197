import { randomUUID } from 'node:crypto';
import { Writable } from 'node:stream';
import { environmentWith, loadEnv } from '@boarding/config/env';
import { createIngestService } from '@boarding/ingest/ingest-service';
import { IngestEnv } from '@boarding/ingest/settings';
import { ShutdownRegistry } from '@boarding/lifecycle/shutdown';
import { createLogger } from '@boarding/logger/logger';
import { matchCard } from '@boarding/registry/verbs/match-card';
import { createTestDatabase, type TestDatabase } from '@boarding/testing/database';
import { createTestTopic, produce, type TestMessage, type TestTopic } from '@boarding/testing/kafka';
import { createKeyringForTests } from '@boarding/testing/keyring';

const quiet = createLogger('test', { destination: new Writable({ write: (_c, _e, done) => done() }) });

// A service day: 2020-11-20 in Istanbul is 2020-11-19T21:00Z .. 2020-11-20T21:00Z.
const T0 = Date.parse('2020-11-20T08:00:00.000+03:00');

function tap(
  validatorId: string,
  seq: number,
  cardNo: string,
  at: number,
  extra: Record<string, unknown> = {},
) {
  return JSON.stringify({
    schema: 'tap.v1',
    validatorId,
    seq,
    cardNo,
    tappedAt: new Date(at).toISOString().replace('Z', '+00:00'),
    mode: 'BUS',
    lineCode: '202',
    vehicleId: '35-ESH-3041',
    stopCode: '10345',
    result: 'ACCEPTED',
    rejectReason: null,
    ...extra,
  });
}

async function runUntilCaughtUp(
  db: TestDatabase,
  topic: TestTopic,
  groupId = `g-${randomUUID()}`,
): Promise<void> {
  const env = loadEnv(
    IngestEnv,
    environmentWith({
      DATABASE_URL: db.url,
      KAFKA_TAPS_TOPIC: topic.topic,
      INGEST_GROUP_ID: groupId,
      INGEST_CHUNK_SIZE: '7',
    }),
  );
  const shutdown = new ShutdownRegistry(quiet);
  const service = createIngestService(env, quiet, shutdown);
  await service.start({ http: false });
  try {
    await service.untilCaughtUp({ intervalMs: 500, timeoutMs: 60000 });
  } finally {
    await shutdown.stop();
  }
}

describe('ingest of validator taps (SPEC §2)', () => {
  let db: TestDatabase;
  let topic: TestTopic;

  beforeAll(async () => {
    db = await createTestDatabase('ingest');
    topic = await createTestTopic(3);
    const ctx = {
      db: db.db,
      keyring: createKeyringForTests(),
      actor: { id: 'test', channel: 'WEB' as const },
    };
    await matchCard({
      ctx,
      input: {
        cardNo: '0400000000000001',
        cardKind: 'PERSONAL',
        tcKimlikNo: '10000000146',
        hesCode: 'ABCD1234X9',
        at: new Date(T0 - 86_400_000),
      },
    });
    const ts = T0 + 60_000;
    const messages: TestMessage[] = [
      { key: 'BUS-1-1', value: tap('BUS-1-1', 1, '0400000000000001', T0), timestamp: ts },
      { key: 'BUS-1-1', value: tap('BUS-1-1', 2, '0400000000000002', T0 + 1000), timestamp: ts },
      // exact duplicate of seq 1: a second upload
      { key: 'BUS-1-1', value: tap('BUS-1-1', 1, '0400000000000001', T0), timestamp: ts + 5000 },
      // seq 2 again with another card: a reset counter
      { key: 'BUS-1-1', value: tap('BUS-1-1', 2, '0400000000000003', T0 + 2000), timestamp: ts + 6000 },
      // tappedAt 11 minutes after the upload: clock drift
      { key: 'BUS-2-1', value: tap('BUS-2-1', 7, '0400000000000001', ts + 11 * 60_000), timestamp: ts },
      // tappedAt 8 days before the upload
      { key: 'BUS-2-1', value: tap('BUS-2-1', 8, '0400000000000001', T0 - 8 * 86_400_000), timestamp: ts },
      { key: 'BUS-3-1', value: '{"schema": "tap.v1", "validatorId": ', timestamp: ts },
      { key: 'BUS-3-1', value: JSON.stringify({ schema: 'tap.v9', validatorId: 'BUS-3-1' }), timestamp: ts },
      { key: 'BUS-3-1', value: Buffer.alloc(17 * 1024, 0x20), timestamp: ts },
      {
        key: 'BUS-1-1',
        value: JSON.stringify({
          schema: 'heartbeat.v1',
          validatorId: 'BUS-1-1',
          lastSeq: 2,
          at: '2020-11-21T00:05:00.000+03:00',
        }),
        timestamp: Date.parse('2020-11-21T00:05:00+03:00'),
      },
    ];
    await produce(topic.kafka, topic.topic, messages);
  });

  afterAll(async () => {
    await topic.drop();
    await db.drop();
  });

  // One ingest run over the hand-written messages above; each test reads what one rule did.
  beforeAll(async () => {
    await runUntilCaughtUp(db, topic);
  });

  it('stores a valid tap once, with the match in force at tappedAt', async () => {
    const { rows } = await db.pool.query(
      'select validator_id, seq, card_no, service_day::text as day, match_id is not null as matched from boardings order by validator_id, seq',
    );
    expect(rows).toEqual([
      { validator_id: 'BUS-1-1', seq: '1', card_no: '0400000000000001', day: '2020-11-20', matched: true },
      { validator_id: 'BUS-1-1', seq: '2', card_no: '0400000000000002', day: '2020-11-20', matched: false },
    ]);
  });

  it('counts an exact repeat (same seq, card and instant) as a duplicate, stored once', async () => {
    const { rows } = await db.pool.query(
      'select validator_id, seq, service_day::text as day from duplicate_taps',
    );
    expect(rows).toEqual([{ validator_id: 'BUS-1-1', seq: '1', day: '2020-11-20' }]);
  });

  it('dead-letters a tap whose seq was reused with another card (SEQ_CONFLICT), keeping the first', async () => {
    const { rows } = await letters('SEQ_CONFLICT');
    expect(rows).toEqual([
      { validator_id: 'BUS-1-1', seq: '2', detail: expect.stringContaining('already stored') },
    ]);
    const kept = await db.pool.query(
      "select card_no from boardings where validator_id = 'BUS-1-1' and seq = 2",
    );
    expect(kept.rows).toEqual([{ card_no: '0400000000000002' }]);
  });

  it('dead-letters a tap more than 10 minutes after its message timestamp (CLOCK_DRIFT_FUTURE)', async () => {
    expect((await letters('CLOCK_DRIFT_FUTURE')).rows).toEqual([
      { validator_id: 'BUS-2-1', seq: '7', detail: 'tappedAt is 11 min after the message timestamp' },
    ]);
  });

  it('dead-letters a tap more than MAX_TAP_AGE_DAYS before its message timestamp (TAP_TOO_OLD)', async () => {
    expect((await letters('TAP_TOO_OLD')).rows).toEqual([
      { validator_id: 'BUS-2-1', seq: '8', detail: expect.stringMatching(/^tappedAt is 8\.\d days before/) },
    ]);
  });

  it('dead-letters bad JSON, an unknown schema and an oversized value with their raw bytes and coordinates', async () => {
    const { rows } = await db.pool.query(
      `select reason, length(raw_value)::int as bytes, kafka_partition is not null as has_partition, kafka_offset >= 0 as has_offset
       from dead_letters where reason in ('INVALID_JSON', 'UNKNOWN_SCHEMA', 'OVERSIZED') order by reason`,
    );
    expect(rows).toEqual([
      { reason: 'INVALID_JSON', bytes: 36, has_partition: true, has_offset: true },
      { reason: 'OVERSIZED', bytes: 17 * 1024, has_partition: true, has_offset: true },
      { reason: 'UNKNOWN_SCHEMA', bytes: 43, has_partition: true, has_offset: true },
    ]);
  });

  it('keeps validator progress and the newest heartbeat', async () => {
    const progress = await db.pool.query(
      'select validator_id, min_seq, max_seq, tap_count from validator_days',
    );
    expect(progress.rows).toEqual([{ validator_id: 'BUS-1-1', min_seq: '1', max_seq: '2', tap_count: '2' }]);
    const hb = await db.pool.query('select validator_id, last_seq from validator_heartbeats');
    expect(hb.rows).toEqual([{ validator_id: 'BUS-1-1', last_seq: '2' }]);
  });

  it('changes nothing when the whole topic is replayed by another group', async () => {
    await runUntilCaughtUp(db, topic);
    const counts = await db.pool.query(
      `select (select count(*) from boardings)::int as taps, (select count(*) from dead_letters)::int as letters,
              (select count(*) from duplicate_taps)::int as dups, (select tap_count from validator_days)::int as n`,
    );
    expect(counts.rows[0]).toEqual({ taps: 2, letters: 6, dups: 1, n: 2 });
  });

  const letters = (reason: string) =>
    db.pool.query('select validator_id, seq, detail from dead_letters where reason = $1', [reason]);
});
