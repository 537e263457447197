import { randomUUID } from 'node:crypto';
import { createKafka } from '@boarding/kafka/client';
import { createLogger } from '@boarding/logger/logger';
import { matchCard } from '@boarding/registry/verbs/match-card';
import { unmatchCard } from '@boarding/registry/verbs/unmatch-card';
import { testEnv } from '@boarding/testing/env';
import type { Kafka, Producer } from 'kafkajs';
import { CardStatusValue } from './card-status-message';
import { outboxLag } from './outbox';
import { createStatusFixture, type StatusFixture } from './status-fixture.test-helpers';
import { createStatusRelay, type StatusRelay } from './status-relay';
import { ensureStatusTopic } from './status-topic';

const silent = createLogger('status-relay-test', { level: 'silent' });

/** Every message of the topic so far, as [cardNo, status, version]. */
async function readTopic(kafka: Kafka, topic: string, expected: number): Promise<[string, string, number][]> {
  const consumer = kafka.consumer({ groupId: `test-${randomUUID()}` });
  const seen: [string, string, number][] = [];
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const done = new Promise<void>((resolve) => {
    void consumer.run({
      eachMessage: async ({ message }) => {
        const value = CardStatusValue.parse(JSON.parse(message.value?.toString() ?? ''));
        expect(message.key?.toString()).toBe(value.cardNo);
        seen.push([value.cardNo, value.status, value.version]);
        if (seen.length >= expected) resolve();
      },
    });
  });
  await Promise.race([done, new Promise((r) => setTimeout(r, 15_000))]);
  // A moment more, so a duplicate beyond the expected count would show.
  await new Promise((r) => setTimeout(r, 500));
  await consumer.disconnect();
  return seen;
}

describe('status relay: outbox → card.status.v1', () => {
  let f: StatusFixture;
  let kafka: Kafka;
  let producer: Producer;
  const topic = `test.card.status.${randomUUID()}`;
  const relays: StatusRelay[] = [];
  const relay = () => {
    const r = createStatusRelay({
      pool: f.database.pool,
      db: f.database.db,
      producer,
      logger: silent,
      topic,
      pollMs: 100,
      lockRetryMs: 100,
    });
    relays.push(r);
    return r;
  };

  beforeAll(async () => {
    f = await createStatusFixture('status_feed_relay');
    kafka = createKafka({ brokers: testEnv().KAFKA_BROKERS, clientId: 'test' });
    const admin = kafka.admin();
    await admin.connect();
    try {
      expect(await ensureStatusTopic(admin, { topic, partitions: 3 })).toEqual({ topic, created: true });
      expect(await ensureStatusTopic(admin, { topic })).toEqual({ topic, created: false });
      const { resources } = await admin.describeConfigs({
        includeSynonyms: false,
        resources: [{ type: 2, name: topic, configNames: ['cleanup.policy'] }],
      });
      expect(resources[0]?.configEntries[0]?.configValue).toBe('compact');
    } finally {
      await admin.disconnect();
    }
    producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
  });
  afterAll(async () => {
    for (const r of relays) await r.stop();
    await producer.disconnect();
    const admin = kafka.admin();
    await admin.connect();
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin.disconnect();
    await f.close();
  });

  it('publishes changes committed while no relay ran (a crash after commit), once per version, and one relay at a time', async () => {
    const a = f.identity();
    const b = f.identity();
    // Committed with no relay running: the crash between commit and publish.
    await matchCard({
      ctx: f.ctx(),
      input: { cardNo: a.cardNo, cardKind: 'PERSONAL', tcKimlikNo: a.tc, hesCode: a.hes },
    });
    await matchCard({
      ctx: f.ctx(),
      input: { cardNo: b.cardNo, cardKind: 'PERSONAL', tcKimlikNo: b.tc, hesCode: b.hes, hesStatus: 'RISKY' },
    });
    await unmatchCard({ ctx: f.ctx(), input: { cardNo: a.cardNo } });
    expect((await outboxLag(f.database.db)).unsent).toBe(3);

    const first = relay();
    const second = relay();
    first.start();
    await new Promise((r) => setTimeout(r, 300));
    second.start();
    await new Promise((r) => setTimeout(r, 300));
    expect([first.active, second.active]).toEqual([true, false]);

    const seen = await readTopic(kafka, topic, 3);
    expect(seen.sort()).toEqual(
      [
        [a.cardNo, 'ALLOWED', 1],
        [a.cardNo, 'NOT_MATCHED', 2],
        [b.cardNo, 'HES_RISKY', 1],
      ].sort(),
    );
    expect(await outboxLag(f.database.db)).toEqual({ unsent: 0, oldestCreatedAt: null });

    // The active relay stops (its lock goes with it): the standby takes over and publishes the next change.
    await first.stop();
    await new Promise((r) => setTimeout(r, 400));
    expect(second.active).toBe(true);
    await unmatchCard({ ctx: f.ctx(), input: { cardNo: b.cardNo } });
    const after = await readTopic(kafka, topic, 4);
    expect(after.filter(([card]) => card === b.cardNo)).toEqual([
      [b.cardNo, 'HES_RISKY', 1],
      [b.cardNo, 'NOT_MATCHED', 2],
    ]);
    expect(after).toHaveLength(4);
  });

  it('keeps publishing while its clock sweep fails', async () => {
    for (const r of relays) await r.stop();
    const c = f.identity();
    await matchCard({
      ctx: f.ctx(),
      input: { cardNo: c.cardNo, cardKind: 'PERSONAL', tcKimlikNo: c.tc, hesCode: c.hes },
    });
    // The sweep's recompute is gone (as a statement timeout on a big first window would fail it).
    await f.database.pool.query(
      'alter function card_status_recompute(bigint[]) rename to card_status_recompute_off',
    );
    try {
      relay().start();
      const seen = await readTopic(kafka, topic, 5);
      expect(seen.filter(([card]) => card === c.cardNo)).toEqual([[c.cardNo, 'ALLOWED', 1]]);
      expect((await outboxLag(f.database.db)).unsent).toBe(0);
    } finally {
      await f.database.pool.query(
        'alter function card_status_recompute_off(bigint[]) rename to card_status_recompute',
      );
    }
  });
});
