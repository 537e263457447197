import { randomUUID } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { environmentWith, loadEnv } from '@boarding/config/env';
import { createIngestService, type RunSummary } from '@boarding/ingest/ingest-service';
import { IngestEnv } from '@boarding/ingest/settings';
import { ShutdownRegistry } from '@boarding/lifecycle/shutdown';
import { createLogger } from '@boarding/logger/logger';
import { generateDay } from '@boarding/simulator/day';
import { createTestDatabase, type TestDatabase } from '@boarding/testing/database';
import {
  createTestTopic,
  produce,
  type TestTopic,
  untilEveryMemberHoldsPartitions,
} from '@boarding/testing/kafka';
import { importSimulatedRegistry } from './ingest.test-helpers';

const quiet = createLogger('test', { destination: new Writable({ write: (_c, _e, done) => done() }) });

describe('a simulated faulty day, ingested by two processes of one group', () => {
  let db: TestDatabase;
  let topic: TestTopic;
  let dir: string;

  beforeAll(async () => {
    db = await createTestDatabase('ingest_day');
    topic = await createTestTopic(6);
    dir = await mkdtemp(join(tmpdir(), 'ingest-day-'));
  });

  afterAll(async () => {
    await topic.drop();
    await db.drop();
    await rm(dir, { recursive: true, force: true });
  });

  it('accounts for every message: stored once, a duplicate, or a dead letter with its reason', async () => {
    const { messages, registryRows, truth } = generateDay({ day: '2020-11-20', taps: 6000, seed: 5 });
    await importSimulatedRegistry(db, dir, registryRows);

    const groupId = `day-${randomUUID()}`;
    const env = loadEnv(
      IngestEnv,
      environmentWith({
        DATABASE_URL: db.url,
        KAFKA_TAPS_TOPIC: topic.topic,
        INGEST_GROUP_ID: groupId,
        INGEST_CHUNK_SIZE: '400',
        INGEST_SESSION_TIMEOUT_MS: '6000',
      }),
    );
    const consumedBy = [0, 0];
    const shutdowns = [new ShutdownRegistry(quiet), new ShutdownRegistry(quiet)];
    const services = shutdowns.map((s, i) =>
      createIngestService(env, quiet, s, {
        onChunk: (r) => {
          consumedBy[i] = (consumedBy[i] ?? 0) + r.consumed;
        },
        // The first counts the run's matched taps reading by reading, the second only when asked.
        summary: i === 0,
      }),
    );
    await Promise.all(services.map((s) => s.start({ http: false })));
    let summary: RunSummary | undefined;
    let askedAtTheEnd: RunSummary | undefined;
    try {
      // The day goes on the topic only once both processes hold partitions, so both take part.
      await untilEveryMemberHoldsPartitions(topic.kafka, groupId, 2);
      await produce(
        topic.kafka,
        topic.topic,
        messages.map((m) => ({ key: m.key, value: m.value, timestamp: Number(m.timestamp) })),
      );
      await services[0]?.untilCaughtUp({ intervalMs: 250, timeoutMs: 150000 });
      // The run's summary, kept reading by reading while the day was stored (the matched taps
      // too), counts the whole group's work: what the tables say below.
      summary = await services[0]?.summary();
      askedAtTheEnd = await services[1]?.summary();
    } finally {
      await Promise.all(shutdowns.map((s) => s.stop()));
    }

    const { rows } = await db.pool.query<Record<string, number>>(
      `select (select count(*) from boardings)::int as stored,
              (select count(*) from boardings where match_id is not null)::int as matched,
              (select count(*) from duplicate_taps)::int as duplicates,
              (select count(*) from dead_letters)::int as dead_lettered,
              (select count(*) from (select validator_id, seq from boardings group by 1, 2 having count(*) > 1) d)::int as doubled`,
    );
    const got = rows[0];
    const byReason = await db.pool.query<{ reason: string; n: number }>(
      'select reason, count(*)::int as n from dead_letters group by reason',
    );
    const expectedLetters = Object.fromEntries(
      Object.entries(truth.expected.deadLettered).filter(([, n]) => n > 0),
    );
    expect(Object.fromEntries(byReason.rows.map((r) => [r.reason, r.n]))).toEqual(expectedLetters);
    expect(got).toEqual({
      stored: truth.expected.stored,
      matched: truth.expected.matched,
      duplicates: truth.expected.duplicates,
      dead_lettered: Object.values(truth.expected.deadLettered).reduce((a, b) => a + b, 0),
      doubled: 0,
    });
    expect(summary).toMatchObject({
      messages: truth.messages,
      taps: truth.expected.stored,
      matched: truth.expected.matched,
      duplicates: truth.expected.duplicates,
      heartbeats: truth.heartbeats,
      unaccounted: 0,
      doubled: 0,
    });
    expect(askedAtTheEnd).toEqual(summary);
    // Every produced message is accounted for exactly once.
    expect((got?.stored ?? 0) + (got?.duplicates ?? 0) + (got?.dead_lettered ?? 0) + truth.heartbeats).toBe(
      truth.messages,
    );
    // Both processes took part.
    expect(consumedBy.every((n) => n > 0)).toBe(true);
  });
});
