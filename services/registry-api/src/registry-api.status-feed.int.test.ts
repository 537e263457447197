import { randomUUID } from 'node:crypto';
import { InMemoryHesVerifier } from '@boarding/hes/in-memory-verifier';
import { createKafka } from '@boarding/kafka/client';
import { ShutdownRegistry } from '@boarding/lifecycle/shutdown';
import { createLogger } from '@boarding/logger/logger';
import { createApiKey } from '@boarding/registry/verbs/create-api-key';
import { CardStatusValue } from '@boarding/status-feed/card-status-message';
import { createTestDatabase, type TestDatabase } from '@boarding/testing/database';
import { testEnv } from '@boarding/testing/env';
import { createKeyringForTests } from '@boarding/testing/keyring';
import { RegistryApiEnv } from './env';
import { createRegistryApiService } from './registry-api';
import { bearer } from './registry-api.test-helpers';

const PERSON = { tc: '17291716060', hes: 'AB12CD34E9', card: '0E0000000001' };

// SPEC §10 / issue 14 "done when": a card matched through the API is ALLOWED on the feed, published
// by the relay the registry API runs itself when Kafka is configured.
describe('registry API service with Kafka: the card status relay runs in it', () => {
  let database: TestDatabase;
  const topic = `test.card.status.${randomUUID()}`;
  const logger = createLogger('registry-api-status-test', { level: 'silent' });
  const shutdown = new ShutdownRegistry(logger);

  beforeAll(async () => {
    database = await createTestDatabase('regapi_status_feed');
  });
  afterAll(async () => {
    await shutdown.stop();
    const admin = createKafka({ brokers: testEnv().KAFKA_BROKERS, clientId: 'test' }).admin();
    await admin.connect();
    await admin.deleteTopics({ topics: [topic] }).catch(() => undefined);
    await admin.disconnect();
    await database.drop();
  });

  it('publishes the matched card ALLOWED on card.status.v1 (created compacted by the API)', async () => {
    const env = RegistryApiEnv.parse({
      DATABASE_URL: database.url,
      HES_SERVICE_URL: 'http://127.0.0.1:9',
      REGISTRY_API_PORT: '0',
      KAFKA_BROKERS: testEnv().KAFKA_BROKERS.join(','),
      STATUS_TOPIC: topic,
      STATUS_TOPIC_PARTITIONS: '2',
    });
    const service = createRegistryApiService(env, logger, shutdown, {
      keyring: createKeyringForTests(),
      hes: new InMemoryHesVerifier([{ tcKimlikNo: PERSON.tc, hesCode: PERSON.hes, status: 'RISKLESS' }]),
    });
    await service.start();
    const { key } = await createApiKey({
      ctx: { db: database.db, actor: { id: 'test', channel: 'ADMIN' } },
      input: { channel: 'WEB' },
    });
    const res = await service.app.inject({
      method: 'POST',
      url: '/v1/matches',
      headers: bearer(key),
      payload: { cardNo: PERSON.card, tcKimlikNo: PERSON.tc, hesCode: PERSON.hes, cardKind: 'PERSONAL' },
    });
    expect(res.statusCode).toBe(201);

    const kafka = createKafka({ brokers: testEnv().KAFKA_BROKERS, clientId: 'test' });
    const consumer = kafka.consumer({ groupId: `test-${randomUUID()}` });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const seen: { key: string; value: CardStatusValue }[] = [];
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('no card status within 20 s')), 20_000);
      void consumer.run({
        eachMessage: async ({ message }) => {
          seen.push({
            key: message.key?.toString() ?? '',
            value: CardStatusValue.parse(JSON.parse(message.value?.toString() ?? '')),
          });
          clearTimeout(timer);
          resolve();
        },
      });
    });
    await consumer.disconnect();
    expect(seen).toEqual([
      {
        key: PERSON.card,
        value: {
          schema: 'card-status.v1',
          cardNo: PERSON.card,
          status: 'ALLOWED',
          since: expect.any(String),
          version: 1,
        },
      },
    ]);
    expect(service.publisher?.relay.active).toBe(true);
    const admin = kafka.admin();
    await admin.connect();
    const { resources } = await admin.describeConfigs({
      includeSynonyms: false,
      resources: [{ type: 2, name: topic, configNames: ['cleanup.policy'] }],
    });
    await admin.disconnect();
    expect(resources[0]?.configEntries[0]?.configValue).toBe('compact');
  });
});
