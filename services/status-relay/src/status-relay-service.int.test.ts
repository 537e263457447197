import { randomBytes, randomUUID } from 'node:crypto';
import { environmentWith, loadEnv } from '@boarding/config/env';
import { InMemoryHesVerifier } from '@boarding/hes/in-memory-verifier';
import { createKafka } from '@boarding/kafka/client';
import { ShutdownRegistry } from '@boarding/lifecycle/shutdown';
import { createLogger } from '@boarding/logger/logger';
import { matchCard } from '@boarding/registry/verbs/match-card';
import { CardStatusValue } from '@boarding/status-feed/card-status-message';
import { createTestDatabase, type TestDatabase } from '@boarding/testing/database';
import { createKeyringForTests } from '@boarding/testing/keyring';
import { Redis } from 'ioredis';
import type { Consumer, Kafka } from 'kafkajs';
import { StatusRelayEnv } from './env';
import { HES_REFRESH_SCHEDULER_ID } from './hes-refresh-job';
import { createStatusRelayService, type StatusRelayService } from './status-relay-service';

// Two holders, matched RISKLESS through the API's path; the second turns risky at the Ministry.
const STEADY = { cardNo: '0400000000000B01', tcKimlikNo: '17291716060', hesCode: 'ABCD1234X9' };
const TURNS = { cardNo: '0400000000000B02', tcKimlikNo: '10000000146', hesCode: 'EFGH5678Y1' };

type Seen = [cardNo: string, status: string, version: number];

describe('status-relay service: registry changes and the HES refresh reach card.status.v1', () => {
  let db: TestDatabase;
  let kafka: Kafka;
  let consumer: Consumer;
  let service: StatusRelayService;
  let shutdown: ShutdownRegistry;
  const keyring = createKeyringForTests();
  const hes = new InMemoryHesVerifier([
    { ...STEADY, status: 'RISKLESS' },
    { ...TURNS, status: 'RISKLESS' },
  ]);
  const topic = `test.card.status.${randomUUID()}`;
  const prefix = `test-status-relay-${randomBytes(4).toString('hex')}`;
  const seen: Seen[] = [];
  const ctx = () => ({ db: db.db, keyring, actor: { id: 'test', channel: 'WEB' as const } });

  async function until(what: string, check: () => boolean, ms = 10_000): Promise<void> {
    const giveUp = Date.now() + ms;
    while (!check()) {
      if (Date.now() > giveUp) throw new Error(`${what}: not within ${ms} ms (seen ${JSON.stringify(seen)})`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  beforeAll(async () => {
    db = await createTestDatabase('status_relay_service');
    const env = loadEnv(
      StatusRelayEnv,
      environmentWith({
        DATABASE_URL: db.url,
        STATUS_TOPIC: topic,
        STATUS_TOPIC_PARTITIONS: '2',
        STATUS_RELAY_QUEUE_PREFIX: prefix,
        STATUS_RELAY_PORT: '0',
        // The twin answers; the client this URL would configure is never made.
        HES_SERVICE_URL: 'http://127.0.0.1:9',
        HES_REFRESH_BATCH_SIZE: '1',
      }),
    );
    shutdown = new ShutdownRegistry(createLogger('status-relay-test', { level: 'silent' }), 20_000);
    service = createStatusRelayService(env, createLogger('status-relay', { level: 'silent' }), shutdown, {
      keyring,
      hes,
    });
    await service.start({ http: false });

    kafka = createKafka({ brokers: env.KAFKA_BROKERS, clientId: 'test' });
    consumer = kafka.consumer({ groupId: `test-${randomUUID()}` });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        const value = CardStatusValue.parse(JSON.parse(message.value?.toString() ?? ''));
        expect(message.key?.toString()).toBe(value.cardNo);
        seen.push([value.cardNo, value.status, value.version]);
      },
    });
  });

  afterAll(async () => {
    await consumer?.disconnect();
    await shutdown?.stop();
    const admin = kafka?.admin();
    if (admin) {
      await admin.connect();
      await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
      await admin.disconnect();
    }
    await removeRedisKeys(prefix);
    await db?.drop();
  });

  it('creates the topic compacted and schedules the refresh hourly', async () => {
    const admin = kafka.admin();
    await admin.connect();
    try {
      const { resources } = await admin.describeConfigs({
        includeSynonyms: false,
        resources: [{ type: 2, name: topic, configNames: ['cleanup.policy'] }],
      });
      expect(resources[0]?.configEntries[0]?.configValue).toBe('compact');
    } finally {
      await admin.disconnect();
    }
    expect(await service.queue.getJobScheduler(HES_REFRESH_SCHEDULER_ID)).toMatchObject({
      pattern: '0 * * * *',
      tz: 'Europe/Istanbul',
    });
  });

  it('publishes a registry change within seconds of its commit', async () => {
    for (const holder of [STEADY, TURNS]) {
      await matchCard({
        ctx: ctx(),
        input: { ...holder, cardKind: 'PERSONAL', hesStatus: 'RISKLESS' },
      });
    }
    await until('both cards ALLOWED on the topic', () => seen.length >= 2, 5_000);
    expect([...seen].sort()).toEqual([
      [STEADY.cardNo, 'ALLOWED', 1],
      [TURNS.cardNo, 'ALLOWED', 1],
    ]);
  });

  it('refreshes HES statuses on demand: the holder turned risky is published HES_RISKY', async () => {
    expect(hes.setStatus(TURNS.hesCode, 'RISKY')).toBe(true);
    const jobId = await service.refreshNow();
    const outcome = await service.waitForRefresh(jobId, { timeoutMs: 20_000 });
    expect(outcome).toEqual({
      state: 'completed',
      result: { checked: 2, changed: 1, risky: 1, riskless: 1, mismatched: 0, superseded: 0, batches: 2 },
    });
    await until('the risky card on the topic', () => seen.length >= 3, 5_000);
    expect(seen[2]).toEqual([TURNS.cardNo, 'HES_RISKY', 2]);

    // Nothing changed since: a second refresh publishes nothing.
    const again = await service.waitForRefresh(await service.refreshNow(), { timeoutMs: 20_000 });
    expect(again).toMatchObject({ state: 'completed', result: { changed: 0 } });
    await new Promise((r) => setTimeout(r, 1_000));
    expect(seen).toHaveLength(3);
  });

  it('reports postgres, kafka and redis on /readyz and the outbox and refresh on /metrics', async () => {
    const ready = await service.ops.inject({ url: '/readyz' });
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toEqual({
      status: 'ready',
      postgres: 'ok',
      kafka: 'ok',
      redis: 'ok',
      relay: 'active',
    });
    const metrics = (await service.ops.inject({ url: '/metrics' })).body;
    expect(metrics).toMatch(/^boarding_status_outbox_unsent 0$/m);
    expect(metrics).toMatch(/^boarding_status_outbox_oldest_seconds 0$/m);
    expect(metrics).toMatch(/^boarding_status_published_total 3$/m);
    expect(metrics).toMatch(/^boarding_hes_refresh_changed_total 1$/m);
    expect(metrics).toMatch(/^boarding_hes_refresh_checked_total 4$/m);
    expect(metrics).toMatch(/^boarding_hes_refresh_runs_total\{outcome="completed"\} 2$/m);
  });

  it('retries a refresh that found the HES service away, changing nothing', async () => {
    hes.setAvailable(false);
    const jobId = await service.refreshNow();
    const giveUp = Date.now() + 10_000;
    // The first try fails; the job waits out its backoff (a minute) as delayed.
    while ((await service.queue.getJobState(jobId)) !== 'delayed') {
      if (Date.now() > giveUp) throw new Error('the failed refresh was not delayed for a retry');
      await new Promise((r) => setTimeout(r, 50));
    }
    const metrics = (await service.ops.inject({ url: '/metrics' })).body;
    expect(metrics).toMatch(/^boarding_hes_refresh_runs_total\{outcome="retrying"\} 1$/m);
    expect(seen).toHaveLength(3);
    await (await service.queue.getJob(jobId))?.remove();
    hes.setAvailable(true);
  });
});

async function removeRedisKeys(prefix: string): Promise<void> {
  const redis = new Redis(loadEnv(StatusRelayEnv.pick({ REDIS_URL: true })).REDIS_URL);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      if (keys.length > 0) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
  } finally {
    await redis.quit();
  }
}
